"""benchmarks.experiments.linear_models: factor analysis, PPCA and PCA."""

import pandas as pd

from benchmarks._results import FIELDS
from benchmarks.experiments import linear_models


def _write(folder, rows):
    folder.mkdir()
    pd.DataFrame(
        [
            {
                **dict.fromkeys(FIELDS, ""),
                "method": method,
                "dataset": dataset,
                "seed": 0,
                "quick": False,
                "mse": mse,
                "fit_impute_seconds": 1.0,
                "finished_at": finished,
            }
            for method, dataset, mse, finished in rows
        ],
        columns=FIELDS,
    ).to_csv(folder / "results.csv", index=False)


def test_counts_tables_lower_and_higher_and_keeps_the_latest_row(tmp_path):
    _write(
        tmp_path / "peers",
        [("pca", "a", 1.0, "1"), ("pca", "b", 1.0, "1"), ("pca", "c", 1.0, "1")],
    )
    _write(
        tmp_path / "linear",
        [
            ("factor-analysis", "a", 0.5, "1"),
            ("factor-analysis", "b", 2.0, "1"),
            ("factor-analysis", "b", 1.001, "2"),  # the latest row wins
            ("ppca", "a", 0.5, "1"),
            ("ppca", "b", 1.0, "1"),
            # table c has no factor-analysis row: left out
            ("ppca", "c", 1.0, "1"),
        ],
    )
    folders = [tmp_path / "peers", tmp_path / "linear"]
    markdown = linear_models.report([("0.2", folders)], seed=0)
    assert "20% MCAR, seed 0: 2 tables" in markdown
    assert "/ ppca: geometric mean 1.000, lower on 0 tables, higher on 0" in markdown
    assert "/ pca: geometric mean 0.707, lower on 1 tables, higher on 0" in markdown
    assert "| a | **0.500** | **0.500** | 1.000 |" in markdown
    assert "| c |" not in markdown
