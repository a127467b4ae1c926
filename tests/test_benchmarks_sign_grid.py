"""benchmarks.experiments.sign_grid and its table, benchmarks.mnar.sign_table."""

import json

from benchmarks import mnar
from benchmarks.experiments import sign_grid


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
    table = mnar.sign_table([path])
    lines = table.splitlines()
    assert lines[0] == "| mechanism | rate | a | b | worst | sign right |"
    assert "| above-mean | 0.9 | 0.50 | 1.50 | 1.50 | 75% |" in lines
    assert "| below-mean-all | 0.9 | 0.80 |  | 0.80 | 100% |" in lines
    assert "| mcar | 0.9 | 1.01 |  | 1.01 | 100% |" in lines
    # MCAR is left out of the summary: 2 of 3 fits at or below, 7 of 8 columns
    assert "Self-masking: 3 fits, 67% at or below MIWAE" in table
    assert "sign right on 88% of the masked columns" in table


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


def test_both_commands_print_the_table(tmp_path, capsys):
    rows = [_row("miwae", "a", "above-mean", 1.0)]
    rows.append(_row("not-miwae", "a", "above-mean", 0.5, "self-masking-high"))
    path = tmp_path / "fits.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))
    assert sign_grid.main(["--report", str(path)]) is None
    first = capsys.readouterr().out
    assert "| above-mean | 0.9 | 0.50 | 0.50 | 100% |" in first
    assert mnar.main(["--sign-grid", str(path)]) == 0
    assert capsys.readouterr().out == first
