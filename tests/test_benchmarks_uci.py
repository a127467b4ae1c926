"""The UCI benchmark runner: protocol, resumable results, reports, CLI."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_info

import miwae_impute
from benchmarks import _runner, uci
from benchmarks._report import PAPER_MSE, markdown_table, mse_table, summarize
from benchmarks._results import ResultStore
from benchmarks.datasets import load_dataset, standardize
from benchmarks.missingness import mcar

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


class _ZeroImputer(BaseEstimator):
    """Imputes 0 (the standardised mean); draws are constants from -3 to 3."""

    def __init__(self, max_iter=100, fail_on_seed=None, random_state=None):
        self.max_iter = max_iter
        self.fail_on_seed = fail_on_seed
        self.random_state = random_state

    def fit_transform(self, X):
        if self.random_state == self.fail_on_seed:
            raise FloatingPointError("diverged")
        self.threads_ = (
            torch.get_num_threads(),
            {pool["num_threads"] for pool in threadpool_info()},
        )
        return np.nan_to_num(X, nan=0.0)

    def sample(self, X, n_imputations):
        return [np.nan_to_num(X, nan=v) for v in np.linspace(-3, 3, n_imputations)]


@pytest.fixture
def stub(monkeypatch):
    """make_imputer returning _ZeroImputer; records the imputers it made."""
    made = []

    def make_imputer(name, **params):
        made.append(_ZeroImputer(**params))
        return made[-1]

    monkeypatch.setattr(miwae_impute, "make_imputer", make_imputer, raising=False)
    return made


def _cli(out, *extra):
    return [
        "--datasets", "breast", "--seeds", "1", "--out", str(out),
        "--data-home", str(SHARED), "--no-progress", *extra,
    ]  # fmt: skip


def test_protocol_mse_and_coverage_are_exact(stub, tmp_path):
    settings = uci.Settings(
        datasets=("breast",), methods=("miwae",), seeds=2, n_imputations=21
    )
    rows, failures, _ = _runner.run_benchmark(settings, tmp_path, progress=False)
    assert failures == []
    X = standardize(load_dataset("breast").X)
    for seed in (0, 1):
        row = rows[rows["seed"] == seed].iloc[0]
        mask = mcar(X.shape, 0.5, seed)
        assert row["n_missing"] == mask.sum()
        assert row["mse"] == pytest.approx(np.mean(X[mask] ** 2))
        # Draws -3, -2.7, ..., 3: the 5th and 95th percentiles are -2.7 and 2.7.
        assert row["coverage90"] == pytest.approx(np.mean(np.abs(X[mask]) <= 2.7))
        assert row["fit_impute_seconds"] >= 0 and row["sample_seconds"] >= 0
    assert [imputer.random_state for imputer in stub] == [0, 1]


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_limits_are_applied_and_recorded(stub, tmp_path, threads):
    before = torch.get_num_threads()
    settings = uci.Settings(
        datasets=("breast",), methods=("mean",), seeds=1, threads=threads
    )
    rows, _, _ = _runner.run_benchmark(settings, tmp_path, progress=False)
    assert stub[0].threads_[0] == threads
    assert stub[0].threads_[1] <= {threads}
    assert rows["threads"].tolist() == [threads]
    assert torch.get_num_threads() == before


def test_quick_budgets_only_touch_known_parameters(stub, tmp_path):
    uci.main(_cli(tmp_path, "--methods", "miwae", "--quick"))
    assert stub[0].max_iter == 2  # L of the quick budget is not a parameter here
    row = pd.read_csv(tmp_path / "results.csv").iloc[0]
    assert json.loads(row["params"]) == {"max_iter": 2}
    assert row["n_imputations"] == 20
    # --param wins over the quick budget.
    uci.main(
        _cli(tmp_path, "--methods", "miwae", "--quick", "--param", "miwae.max_iter=7")
    )
    assert stub[1].max_iter == 7


def test_failed_run_is_reported_and_not_stored(monkeypatch, stub, tmp_path, capsys):
    settings = uci.Settings(
        datasets=("breast",),
        methods=("mean",),
        seeds=2,
        params={"mean": {"fail_on_seed": 1}},
    )
    rows, failures, _ = _runner.run_benchmark(settings, tmp_path, progress=False)
    assert rows["seed"].tolist() == [0]
    assert len(failures) == 1 and "diverged" in failures[0]
    argv = _cli(tmp_path, "--methods", "mean", "--seeds", "2")
    status = uci.main([*argv, "--param", "mean.fail_on_seed=1"])
    assert status == 1
    assert "FAILED mean on breast, seed 1" in capsys.readouterr().err


def test_parse_params():
    assert _runner.parse_params(
        ["miwae.max_iter=10", "miwae.hidden_layer_sizes=(64, 64)", "mvae.device=cuda"],
        uci.METHOD_CHOICES,
    ) == {
        "miwae": {"max_iter": 10, "hidden_layer_sizes": (64, 64)},
        "mvae": {"device": "cuda"},
    }
    for bad in ("max_iter=10", "miwae.max_iter", "svd.rank=3", "pca.random_state=1"):
        with pytest.raises(ValueError, match="--param"):
            _runner.parse_params([bad], uci.METHOD_CHOICES)


def test_mse_table_compares_with_the_paper():
    rows = pd.DataFrame(
        {
            "method": ["miwae", "miwae", "mean"],
            "dataset": ["breast"] * 3,
            "seed": [0, 1, 0],
            "mse": [0.27, 0.29, 1.0],
            "fit_impute_seconds": [1.0, 3.0, 0.001],
            "coverage90": [0.9, 0.8, np.nan],
        }
    )
    table = mse_table(summarize(rows), ["miwae", "mean"], ["breast", "yeast"])
    assert "| miwae | 0.280 (0.014) / 0.280 = 1.00 | – / 0.964 |" in table
    assert "| mean | 1.000 / 1.00 = 1.00 | – / 1.06 |" in table
    assert PAPER_MSE["missforest"]["yeast"] == (1.41, 0.02)


def test_results_with_other_columns_are_refused(tmp_path):
    (tmp_path / "results.csv").write_text("key,method,mse\n")
    with pytest.raises(ValueError, match="new --out"):
        ResultStore(tmp_path / "results.csv")


def test_results_extend_writes_one_header_and_every_row(tmp_path):
    store = ResultStore(tmp_path / "results.csv", fields=("task", "value"))
    store.extend([{"task": 0, "value": 0.5}, {"task": 0, "value": 1.5}])
    store.append({"task": 1, "value": -2.0})
    text = (tmp_path / "results.csv").read_text().splitlines()
    assert text == ["task,value", "0,0.5", "0,1.5", "1,-2.0"]
    with pytest.raises(ValueError, match="new --out"):
        ResultStore(tmp_path / "results.csv", fields=("value", "task"))


def test_quick_breast_run_end_to_end_and_resume(imputer_calls, tmp_path, capsys):
    """The README demo in quick mode, with the real imputers."""
    calls = imputer_calls
    argv = _cli(tmp_path, "--methods", "miwae", "mean", "--quick")
    assert uci.main(argv) == 0
    assert calls == ["miwae", "mean"]
    rows = pd.read_csv(tmp_path / "results.csv").set_index("method")
    assert 0.9 < rows.loc["mean", "mse"] < 1.15
    assert np.isnan(rows.loc["mean", "coverage90"])
    assert 0 < rows.loc["miwae", "mse"] < 1.5
    assert 0 < rows.loc["miwae", "coverage90"] <= 1
    assert (rows["n_rows"] == 569).all() and (rows["threads"] == 1).all()
    printed = capsys.readouterr().out
    assert (
        "| miwae | " in printed and "/ 0.280 = " in printed and "| mean | " in printed
    )
    report = (tmp_path / "table.md").read_text()
    assert "Fit + impute wall time" in report and "Coverage of the 90%" in report
    assert "0.814 here" in report  # calibrated score with 20 draws
    if _has_matplotlib():
        assert (tmp_path / "mse.png").read_bytes()[:4] == b"\x89PNG"

    # A rerun refits nothing and keeps the rows; a new parameter reruns one row.
    assert uci.main(argv) == 0
    assert calls == ["miwae", "mean"]
    assert len(pd.read_csv(tmp_path / "results.csv")) == 2
    assert uci.main([*argv, "--param", "miwae.max_iter=1"]) == 0
    assert calls == ["miwae", "mean", "miwae"]
    assert len(pd.read_csv(tmp_path / "results.csv")) == 3


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_report_only_runs_nothing_and_reports_stored_rows(stub, tmp_path, capsys):
    out = tmp_path / "out"
    uci.main(_cli(out, "--methods", "mean", "--report-only"))
    assert stub == [] and "| mean | – /" in (out / "table.md").read_text()
    uci.main(_cli(out, "--methods", "mean"))
    made = len(stub)
    uci.main(_cli(out, "--methods", "mean", "--report-only"))
    assert len(stub) == made and "| mean | – /" not in (out / "table.md").read_text()


def test_not_miwae_and_the_above_mean_mechanism_are_accepted():
    args = uci.Settings.parser().parse_args(
        ["--methods", "not-miwae", "--mechanism", "above-mean"]
    )
    assert args.methods == ["not-miwae"] and args.mechanism == "above-mean"
    params = _runner.parse_params(["not-miwae.max_iter=3"], uci.METHOD_CHOICES)
    assert params == {"not-miwae": {"max_iter": 3}}
    assert "not-miwae" not in uci.METHODS  # the paper's table stays as it is


def test_markdown_table_has_a_rule_and_a_line_per_row():
    table = markdown_table(["table", "MSE"], [["iris", 0.25], ["wine", "–"]])
    assert table == "| table | MSE |\n|---|---|\n| iris | 0.25 |\n| wine | – |"
