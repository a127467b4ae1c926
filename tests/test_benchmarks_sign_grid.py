"""benchmarks.experiments.sign_grid and mask_optimism: the learned direction."""

import json

import numpy as np

from benchmarks.experiments import direction_terms, mask_optimism, sign_grid


def _row(method, dataset, mechanism, mse, chosen=None, columns=2, seed=0):
    row = {
        "method": method,
        "dataset": dataset,
        "mechanism": mechanism,
        "rate": 0.9,
        "seed": seed,
        "mse": mse,
        "n_masked_columns": columns,
    }
    return row | ({"chosen": chosen} if chosen else {})


def test_report_gives_ratios_and_the_share_of_columns_with_the_right_sign(tmp_path):
    rows = [
        _row("miwae", "a", "above-mean", 1.0),
        _row("not-miwae", "a", "above-mean", 0.5, "self-masking-high", columns=3),
        _row("miwae", "b", "above-mean", 2.0),
        _row("not-miwae", "b", "above-mean", 3.0, "self-masking-low", columns=1),
        _row("miwae", "a", "below-mean-all", 1.0),
        _row("not-miwae", "a", "below-mean-all", 9.0, "ignorable", columns=4),
        # the latest line of a fit wins
        _row("not-miwae", "a", "below-mean-all", 0.8, "self-masking-low", columns=4),
        _row("miwae", "a", "mcar", 1.0),
        _row("not-miwae", "a", "mcar", 1.01, "ignorable", columns=4),
        _row("not-miwae", "c", "mcar", 1.0, "ignorable"),  # no MIWAE: left out
    ]
    path = tmp_path / "fits.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))
    table = sign_grid.report([path])
    lines = table.splitlines()
    assert lines[0] == "| mechanism | rate | a | b | worst | sign right |"
    assert "| above-mean | 0.9 | 0.50 | 1.50 | 1.50 | 75% |" in lines
    assert "| below-mean-all | 0.9 | 0.80 |  | 0.80 | 100% |" in lines
    assert "| mcar | 0.9 | 1.01 |  | 1.01 | 100% |" in lines
    # MCAR is left out of the summary: 2 of 3 fits at or below, 7 of 8 columns
    assert "Self-masking: 3 fits, 67% at or below MIWAE" in table
    assert "sign right on 88% of the masked columns" in table


def test_mask_optimism_is_what_cross_fitting_removes():
    """A mask completely at random, and 30 complete noise columns: fitted to
    the same rows they seem to explain it; held out, they do not."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 31))
    mask = np.zeros(X.shape, bool)
    mask[:, 0] = rng.random(300) < 0.3
    at_rates, in_sample, cross_fitted = mask_optimism.mask_fits(X, mask)
    assert in_sample > at_rates + 0.02
    assert cross_fitted < in_sample - 0.02
    assert cross_fitted < at_rates + 0.01


def test_direction_terms_counts_the_wrong_choices_of_each_rule(tmp_path, capsys):
    """Self-masking's margins: on a MAR mask it wins by the whole bounds only
    through its fit of x_o (wrong by that rule alone); on one self-masked
    mask it wins both ways, on another by the whole bounds alone (wrong by
    the mask terms and by both); without a pilot it falls back."""
    rows = [
        {"mask": "servo:mar:0.2", "sm": -2.8, "sm_xo": -1.5, "at_random_xo": -1.8,
         "regression": -1.2, "pilot_shift_z": -5.0},
        {"mask": "red:above-mean:0.3", "sm": -10.4, "sm_xo": -8.8,
         "at_random_xo": -8.9, "regression": -1.7, "pilot_shift_z": 30.0},
        {"mask": "white:above-mean:0.3", "sm": -12.2, "sm_xo": -10.3,
         "at_random_xo": -10.5, "regression": -1.8, "pilot_shift_z": 40.0},
        {"mask": "iris:mar:0.3", "at_random_xo": -2.0, "pilot_shift_z": 1.0},
    ]  # fmt: skip
    path = tmp_path / "terms.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    direction_terms.report([path])
    out = capsys.readouterr().out
    assert "| servo:mar:0.2 | ignorable | -5.0 | +0.200 | -0.100 |" in out
    assert "| red:above-mean:0.3 | self-masking-high | 30.0 | +0.200 | +0.100 |" in out
    assert (
        "| white:above-mean:0.3 | self-masking-high | 40.0 | +0.100 | -0.100 |" in out
    )
    assert "Wrong choices: {'whole': 1, 'mask terms': 1, 'both': 1}" in out


def test_run_appends_a_line_per_fit_and_resumes(tmp_path, monkeypatch):
    calls = []

    def fit(method, X, mechanism, rate, seed):
        calls.append((method, mechanism, rate, seed))
        return {"mse": float(X.shape[1])}

    monkeypatch.setattr(sign_grid, "_fit", fit)
    out = tmp_path / "fits.jsonl"
    argv = ["--datasets", "iris", "--mechanisms", "mar:0.2", "above-mean:0.3"]
    argv += ["--methods", "miwae", "--seeds", "2", "--out", str(out)]
    sign_grid.main(argv)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["mechanism"], r["rate"], r["seed"]) for r in rows] == [
        ("mar", 0.2, 0), ("mar", 0.2, 1), ("above-mean", 0.3, 0), ("above-mean", 0.3, 1)
    ]  # fmt: skip
    assert {r["dataset"] for r in rows} == {"iris"} and rows[0]["mse"] == 4.0
    assert len(calls) == 4
    sign_grid.main([*argv[:-2], "--seeds", "3", "--out", str(out)])  # resumes
    assert len(calls) == 6 and len(out.read_text().splitlines()) == 6
