"""benchmarks.rates: MIWAE against its peers, before and after."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks import __main__ as cli
from benchmarks import rates
from benchmarks._results import FIELDS


def _write(folder, rows):
    folder.mkdir()
    pd.DataFrame(
        [
            {
                **dict.fromkeys(FIELDS, ""),
                "quick": False,
                "method": method,
                "dataset": dataset,
                "seed": seed,
                "mse": mse,
                "fit_impute_seconds": seconds,
                "column_mse": json.dumps(columns) if columns else "",
                "finished_at": "t",
            }
            for method, dataset, seed, mse, seconds, columns in rows
        ],
        columns=[*FIELDS, "column_mse"],
    ).to_csv(folder / "results.csv", index=False)


def test_counts_ties_and_wins_and_names_bad_columns(tmp_path):
    _write(
        tmp_path / "before",
        [
            ("missforest", "a", 0, 1.00, 1.0, [1.0, 1.0]),
            ("mean", "a", 0, 2.00, 0.0, [1.0, 2.0]),
            ("miwae", "a", 0, 1.10, 10.0, [1.0, 1.2]),
            ("knn", "b", 0, 0.50, 1.0, None),
            ("mean", "b", 0, 1.00, 0.0, [1.0]),
            ("miwae", "b", 0, 0.60, 10.0, [0.6]),
            ("miwae", "b", 1, 0.10, 10.0, [0.1]),  # another seed: left out
        ],
    )
    _write(
        tmp_path / "after",
        [
            ("miwae", "a", 0, 1.01, 20.0, [1.5, 1.0]),
            ("miwae", "b", 0, 0.66, 15.0, [0.66]),
        ],
    )
    frame = rates.compare(tmp_path / "before", tmp_path / "after", seeds=[0])
    assert list(frame["dataset"]) == ["a", "b"]
    np.testing.assert_allclose(frame["ratio"], [1.01, 1.32])
    assert list(frame["best_peer"]) == ["missforest", "knn"]
    assert list(frame["bad_columns"]) == ["0: 1.50", ""]
    np.testing.assert_allclose(frame["time_ratio"], [2.0, 1.5])
    markdown = rates.report({0.2: [frame]}, seeds=[0])
    assert "on 0 tables before and 1 after" in markdown
    assert "| a | missforest | 1.000 | 1.100 | 1.010 | **1.01** | 0: 1.50 |" in markdown
    assert "| b | knn | 0.500 | 0.600 | 0.660 | 1.32 |  |" in markdown


def test_the_shared_command_line_reports_it(tmp_path, capsys):
    _write(
        tmp_path / "before",
        [("mean", "a", 0, 1.0, 0.0, None), ("miwae", "a", 0, 1.1, 1.0, None)],
    )
    _write(tmp_path / "after", [("miwae", "a", 0, 0.9, 1.0, None)])
    folders = [str(tmp_path / "before"), str(tmp_path / "after")]
    assert cli.main(["report", "rates", "--seed", "0", "--rate", "0.3", *folders]) == 0
    out = capsys.readouterr().out
    assert "### 30% MCAR, seed 0: 1 tables" in out
    assert "| a | mean | 1.000 | 1.100 | 0.900 | **0.90** |" in out


def test_no_matching_table_is_a_clear_error(tmp_path, capsys):
    _write(tmp_path / "before", [("mean", "a", 0, 1.0, 0.0, None)])
    _write(tmp_path / "after", [("miwae", "a", 0, 0.9, 1.0, None)])
    folders = [str(tmp_path / "before"), str(tmp_path / "after")]
    with pytest.raises(SystemExit):  # no MIWAE before; then no seed 1
        rates.main(["--seed", "0", "--rate", "0.3", *folders])
    assert (
        "no table at rate 0.3 has rows of the peers and MIWAE"
        in capsys.readouterr().err
    )
    _write(tmp_path / "again", [("miwae", "a", 0, 1.1, 1.0, None)])
    joined = f"{folders[0]}+{tmp_path / 'again'}"
    with pytest.raises(SystemExit):
        rates.main(["--seed", "1", "--rate", "0.3", joined, folders[1]])
    assert "at every seed of [1]" in capsys.readouterr().err
    rates.main(["--seed", "0", "--rate", "0.3", joined, folders[1]])  # no error
    assert "1 tables" in capsys.readouterr().out


def test_joined_folders_override_in_order_and_tables_can_be_skipped(tmp_path):
    _write(
        tmp_path / "peers",
        [
            ("missforest", "a", 0, 1.00, 1.0, None),
            ("miwae", "a", 0, 1.50, 10.0, None),  # overridden by "old"
            ("missforest", "b", 0, 1.00, 1.0, None),
            ("miwae", "b", 0, 1.20, 10.0, None),
        ],
    )
    _write(tmp_path / "old", [("miwae", "a", 0, 1.10, 10.0, None)])
    _write(
        tmp_path / "new",
        [("miwae", "a", 0, 1.05, 20.0, None), ("miwae", "b", 0, 1.30, 20.0, None)],
    )
    _write(tmp_path / "rerun", [("miwae", "a", 0, 0.90, 30.0, None)])
    before = f"{tmp_path / 'peers'}+{tmp_path / 'old'}"
    after = f"{tmp_path / 'new'}+{tmp_path / 'rerun'}"
    frame = rates.compare(before, after, seeds=[0])
    np.testing.assert_allclose(frame["before"], [1.10, 1.20])
    np.testing.assert_allclose(frame["after"], [0.90, 1.30])
    frame = rates.compare(before, after, seeds=[0], skip=["b"])
    assert list(frame["dataset"]) == ["a"]


def test_several_seeds_average_and_need_every_seed(tmp_path):
    _write(
        tmp_path / "before",
        [
            ("missforest", "a", 0, 1.00, 1.0, None),
            ("missforest", "a", 1, 0.80, 1.0, None),
            ("mean", "a", 0, 2.00, 0.0, [2.0, 2.0]),
            ("mean", "a", 1, 2.00, 0.0, [2.0, 2.0]),
            ("miwae", "a", 0, 1.20, 10.0, [1.0, 1.0]),
            ("miwae", "a", 1, 0.80, 10.0, [5.0, 1.0]),
            ("missforest", "b", 0, 1.00, 1.0, None),  # no seed 1: b left out
            ("knn", "b", 0, 2.00, 1.0, None),
            ("knn", "b", 1, 2.00, 1.0, None),
            ("miwae", "b", 0, 1.00, 1.0, None),
            ("miwae", "b", 1, 1.00, 1.0, None),
        ],
    )
    frame = rates.compare(tmp_path / "before", tmp_path / "before", seeds=[0, 1])
    assert list(frame["dataset"]) == ["a"]
    np.testing.assert_allclose(
        frame[["peer_mse", "after", "ratio"]], [[0.9, 1.0, 1.0 / 0.9]]
    )
    assert list(frame["bad_columns"]) == ["0: 1.50"]  # (1 + 5) / 2 against 2
    markdown = rates.report({0.3: [frame]}, seeds=[0, 1])
    assert "### 30% MCAR, seeds 0, 1 (mean MSE): 1 tables" in markdown


def test_another_method_after(tmp_path):
    _write(
        tmp_path / "before",
        [
            ("missforest", "a", 0, 1.00, 1.0, None),
            ("miwae", "a", 0, 1.10, 10.0, None),
        ],
    )
    _write(
        tmp_path / "after",
        [
            ("miwae", "a", 0, 2.00, 10.0, None),  # not the method compared
            ("stacking", "a", 0, 0.95, 22.0, None),
        ],
    )
    frame = rates.compare(
        tmp_path / "before", tmp_path / "after", seeds=[0], method="stacking"
    )
    np.testing.assert_allclose(frame["ratio"], [0.95])
    np.testing.assert_allclose(frame["time_ratio"], [2.2])
    markdown = rates.report({0.2: [frame]}, seeds=[0], method="stacking")
    assert "on 0 tables for MIWAE and 1 for stacking" in markdown
    assert (
        "| table | best peer | peer MSE | MIWAE | stacking | stacking / peer"
        in markdown
    )
