"""benchmarks.mnar: tables gathered from several result folders."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks import mnar
from benchmarks._results import FIELDS


def _write(folder, rows):
    folder.mkdir()
    frame = pd.DataFrame(
        [
            {
                **dict.fromkeys(FIELDS, ""),
                "mechanism": "above-mean",
                "missing_rate": 0.9,
                "quick": False,
                "params": json.dumps(params),
                "method": method,
                "dataset": dataset,
                "seed": seed,
                "mse": mse,
                "finished_at": finished,
                "git_commit": "abc",
            }
            for method, params, dataset, seed, mse, finished in rows
        ],
        columns=FIELDS,
    )
    frame.to_csv(folder / "results.csv", index=False)


@pytest.fixture
def folders(tmp_path):
    _write(
        tmp_path / "base",
        [
            ("miwae", {}, "a", 0, 1.0, "t1"),
            ("miwae", {}, "a", 1, 3.0, "t1"),
            ("missforest", {}, "a", 0, 2.0, "t1"),
            ("mean", {}, "a", 0, 4.0, "t1"),
            ("not-miwae", {}, "a", 0, 9.0, "t0"),  # superseded below
        ],
    )
    high = {"missingness": "self-masking-high"}
    _write(
        tmp_path / "new",
        [
            ("not-miwae", {}, "a", 0, 1.0, "t2"),
            ("not-miwae", high, "a", 0, 0.5, "t2"),
        ],
    )
    return [tmp_path / "base", tmp_path / "new"]


def test_rows_are_labelled_and_the_latest_wins(folders):
    rows = mnar.gather(folders, "above-mean", 0.9)
    labels = set(rows["label"])
    assert "not-miwae (missingness=self-masking-high)" in labels
    only = rows[rows["label"] == "not-miwae"]
    assert only["mse"].tolist() == [1.0]  # the t2 row, not the t0 one
    np.testing.assert_allclose(rows["rmse"], np.sqrt(rows["mse"]))
    assert mnar.gather(folders, "mcar", 0.9).empty
    assert set(mnar.gather(folders, "above-mean", 0.9, seeds=1)["seed"]) == {0}


def test_tables_give_mse_rmse_and_the_ratios(folders):
    markdown = mnar.tables(mnar.gather(folders, "above-mean", 0.9))
    assert "| miwae | 2.000 (1.414) |" in markdown  # MSE 1 and 3 over two seeds
    rmse = (1 + np.sqrt(3)) / 2
    assert f"| miwae | {rmse:.3f}" in markdown
    # not-MIWAE (high) / MIWAE = 0.5 / 2; / the best baseline (missforest) = 0.5 / 2
    assert "| not-miwae (missingness=self-masking-high) / miwae | 0.25 |" in markdown
    assert "| not-miwae / best baseline | 0.50 |" in markdown
    assert "Best baseline per set: a missforest." in markdown


def test_main_writes_its_report_page(folders, tmp_path, capsys):
    argv = [*map(str, folders), "--out", str(tmp_path / "gathered")]
    assert mnar.main(argv) == 0
    page = (tmp_path / "gathered" / "REPORT.md").read_text()
    assert page.startswith("# Gathered table: ABOVE-MEAN, 0.9\n")
    assert "python -m benchmarks.mnar" in page and "commits abc" in page
    assert "| not-miwae / best baseline | 0.50 |" in page
    with pytest.raises(SystemExit):
        mnar.main([*map(str, folders), "--mechanism", "mcar"])


def test_paper_protocol_prints_the_papers_rmse_and_the_ratios(tmp_path):
    ppca = {"decoder": "ppca", "missingness": "self-masking-high"}
    ppca_row = ("not-miwae", ppca, "banknote", 0, 0.57**2 * 1.21, "t1")
    rows = [
        ("mean", {}, "banknote", 0, 1.73**2, "t1"),
        ("not-miwae", {"missingness": "self-masking-high"}, "banknote", 0, 1.0, "t1"),
        ("not-miwae", {"missingness": "self-masking-high"}, "banknote", 1, 0.64, "t1"),
        ("knn", {}, "banknote", 0, 2.0, "t1"),  # not in the paper's table
        ppca_row,
    ]
    _write(tmp_path / "paper", rows)
    frame = pd.read_csv(tmp_path / "paper" / "results.csv")
    frame["mechanism"], frame["missing_rate"] = "paper-above-mean", 1.0
    frame.to_csv(tmp_path / "paper" / "results.csv", index=False)
    gathered = mnar.gather([tmp_path / "paper"], "paper-above-mean", 1.0)
    markdown = mnar.tables(gathered, paper=True)
    # RMSE of the two seeds: (1.0 + 0.8) / 2 = 0.9, against the paper's 0.74.
    high = "not-miwae (missingness=self-masking-high)"
    assert f"| {high} | 0.900 / 0.74 = 1.22 |" in markdown
    assert "| mean | 1.730 / 1.73 = 1.00 |" in markdown
    # The PPCA decoder against the paper's PPCA row: sqrt(1.21) = 1.1 of 0.57.
    ppca_label = "not-miwae (decoder=ppca, missingness=self-masking-high)"
    assert f"| {ppca_label} | 0.627 / 0.57 = 1.10 |" in markdown
    assert f"Mean ratio per method: {high} 1.22, {ppca_label} 1.10, mean 1.00." in (
        markdown
    )
    assert "| knn | " not in markdown.split("/ the not-MIWAE paper")[1]
    assert "the not-MIWAE paper" not in mnar.tables(gathered)


def test_neither_folders_nor_fits_is_an_error(capsys):
    with pytest.raises(SystemExit):
        mnar.main([])
    assert "give result folders, or --sign-grid FILE" in capsys.readouterr().err
