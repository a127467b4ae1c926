"""The speed benchmark: FLOP counts, slopes, and the --quick run end to end.

No timing is asserted: the figures depend on the machine and its load. The
tests check that every measurement runs on the real code path and that the
report holds what it promises.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks import speed
from miwae_impute._model import MIWAE

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One ``--quick`` run of the command line: its figures and its REPORT.md."""
    folder = tmp_path_factory.mktemp("speed")
    argv = ["--quick", "--out", str(folder / "out"), "--data-home", str(SHARED)]
    assert speed.main(argv) == 0
    results = json.loads((folder / "out" / "speed.json").read_text())
    return results, (folder / "out" / "REPORT.md").read_text()


def test_training_flops_count_forward_and_twice_for_backward():
    model = MIWAE(n_features=3, latent_dim=2, hidden_layer_sizes=(4,))
    encoder_macs = 3 * 4 + 4 * 6  # p -> 4 -> 3d
    decoder_macs = 2 * 4 + 4 * 9  # d -> 4 -> 3p
    expected = 3 * 2 * 10 * (encoder_macs + 5 * decoder_macs)
    assert speed.training_flops(model, n_rows=10, n_samples=5) == expected


def test_slope_of_a_power_law():
    rows = [{"n": n, "t": 3e-6 * n**2} for n in (1e3, 1e4, 1e5)]
    assert speed._slope(rows, "t") == pytest.approx(2.0)
    assert math.isnan(speed._slope(rows[:1], "t"))


def test_threads_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        speed.main(["--quick", "--threads", "0"])
    assert "--threads" in capsys.readouterr().err


def test_quick_run_times_the_real_training_step(quick_run):
    results, _ = quick_run
    assert results["quick"] is True
    assert results["threads"] == speed.DEFAULT_THREADS
    assert results["defaults"]["K"] == 20
    assert results["gemm_gflops"] > 0
    training = {row["dataset"]: row for row in results["training"]}
    assert set(training) == {"breast", "white"}
    assert training["breast"]["p"] == 30
    assert training["white"]["p"] == 11
    for row in training.values():
        assert row["n_rows"] == speed.QUICK.train_rows
        assert row["steps_per_epoch"] == speed.QUICK.train_rows // 64
        assert row["steps_per_s"] > 0
        assert 0 < row["share_of_peak"] < math.inf


def test_quick_run_profiles_training_and_imputation(quick_run):
    results, _ = quick_run
    for key in ("profile", "profile_imputation"):
        ops = results[key]
        assert ops
        assert [op["self_ms"] for op in ops] == sorted(
            (op["self_ms"] for op in ops), reverse=True
        )
        assert 0 < sum(op["share"] for op in ops) <= 1 + 1e-9
    names = {op["op"] for op in results["profile"]}
    assert any(name in names for name in ("aten::mm", "aten::addmm"))


def test_quick_run_measures_imputation_in_subprocesses(quick_run):
    results, _ = quick_run
    cases = results["imputation"]
    expected = [tuple(case) for case in speed.QUICK.impute_cases]
    assert [(c["dataset"], c["L"], c["n_rows"]) for c in cases] == expected
    for case in cases:
        assert case["rows_per_s"] > 0
        assert case["peak_rss_mib"] >= case["rss_before_mib"] > 0


def test_quick_run_scaling_and_peers(quick_run):
    results, _ = quick_run
    sizes = [row["n"] for row in results["scaling"]]
    assert sizes == list(speed.QUICK.scaling_sizes)
    assert all(math.isfinite(s) for s in results["scaling_slopes"].values())
    peers = results["peers"]
    assert {row["dataset"] for row in peers} == {"white", "breast"}
    assert {row["method"] for row in peers} == {
        "miwae",
        "missforest-style",
        "KNNImputer(k=5)",
        "knn (ours)",
        "mean",
    }
    for row in peers:
        assert math.isfinite(row["mse"]) and row["seconds"] > 0
        if row["method"] == "miwae":
            assert row["time_vs_miwae"] == 1
        if row["method"] == "mean":  # standardised data: about 1
            assert 0.7 < row["mse"] < 1.4


def test_quick_run_writes_the_tables(quick_run):
    _, markdown = quick_run
    assert markdown.startswith("# Speed\n")
    assert "- command: `python -m benchmarks.speed --quick --out" in markdown
    assert "cores," in markdown and "thread(s)" in markdown
    assert "\n\nQUICK MODE (smoke-test budgets" in markdown
    for heading in (
        "### Training throughput",
        "### Where the time goes",
        "### Imputation throughput",
        "### Scaling with n",
        "### Batched training: M fits side by side",
        "### Default fit + transform on the paper's data sets",
        "### Against the peers",
    ):
        assert heading in markdown
    assert "| breast | 30 | 320 |" in markdown
    assert "| synthetic-30 | 10000 | 20 |" in markdown
    assert "| breast | 569 x 30 |" in markdown
    assert "| white | missforest-style |" in markdown
    assert "GFLOP/s" in markdown
    assert "plain port" not in markdown


def test_stored_runs_keep_their_plain_port_columns():
    # Runs before the plain port was dropped: the two columns, and what they are.
    stored = json.loads((RESULTS / "speed-after" / "speed.json").read_text())
    markdown = speed.render(stored)
    assert "| plain port ms/step | speed-up vs plain |" in markdown
    assert "The plain port is the same networks" in markdown
    assert (
        "| breast | 30 | 569 | 20.67 | 48 | 12.2 | 10.8% | 26.95 | 1.3x |" in markdown
    )


def test_quick_run_times_default_fits_on_the_paper_sets(quick_run):
    results, _ = quick_run
    (row,) = results["paper_sets"]
    assert row["dataset"] == "breast" and row["shape"] == [569, 30]
    assert row["seconds"] == pytest.approx(row["fit_s"] + row["transform_s"])
    assert 0 < row["mse"] < 1.5  # one epoch: better than nothing, not trained


def test_quick_run_times_fits_side_by_side(quick_run):
    results, markdown = quick_run
    (row,) = results["batched"]
    assert (row["dataset"], row["epochs"], row["models"]) == ("breast", 1, 2)
    assert all(row[key] > 0 for key in ("one", "in_turn", "side_by_side"))
    assert "| breast | 1 | 2 |" in markdown


def test_skip_and_compare_give_a_before_after_table(quick_run, tmp_path):
    before, _ = quick_run
    before = {**before, "git_commit": "abc1234"}
    before["training"] = [
        {**r, "ms_per_step": 2 * r["ms_per_step"]} for r in before["training"]
    ]
    (tmp_path / "before").mkdir()
    (tmp_path / "before" / "speed.json").write_text(json.dumps(before))
    argv = ["--quick", "--out", str(tmp_path / "after"), "--data-home", str(SHARED)]
    skipped = ["profile", "profile_imputation", "imputation", "scaling", "peers"]
    skipped.append("batched")
    argv += ["--skip", *skipped, "--compare", str(tmp_path / "before")]
    assert speed.main(argv) == 0
    after = json.loads((tmp_path / "after" / "speed.json").read_text())
    assert after["peers"] == [] and after["imputation"] == []
    markdown = (tmp_path / "after" / "REPORT.md").read_text()
    assert "### Before and after" in markdown and "abc1234" in markdown
    assert "### Against the peers" not in markdown
    lines = [line for line in markdown.splitlines() if "training step, breast" in line]
    old = before["training"][0]["ms_per_step"]
    new = after["training"][0]["ms_per_step"]
    assert f"| {old:.2f} | {new:.2f} | {new / old:.2f} |" in lines[0]
    assert any(line.startswith("| MSE, breast |") for line in markdown.splitlines())


def test_transform_means_times_the_inference_case_on_its_missing_cells(
    monkeypatch, capsys
):
    from benchmarks.experiments import transform_means
    from miwae_impute import MIWAEImputer

    shares, transform = [], MIWAEImputer.transform

    def recorded(self, X, *args, **kwargs):
        shares.append(float(np.isnan(X).mean()))
        return transform(self, X, *args, **kwargs)

    monkeypatch.setattr(MIWAEImputer, "transform", recorded)
    transform_means.main(
        ["--threads", "1", "--repeats", "1", "--rows", "16", "--L", "50"]
    )
    assert len(shares) == 3 and min(shares) > 0.3  # the 50% MCAR rows
    assert "same means: True" in capsys.readouterr().out
