"""The quirky-table collection: loaders, per-column errors, runner and report."""

import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import miwae_impute
from benchmarks import collection
from benchmarks._results import FIELDS, ResultStore
from benchmarks.collection import (
    COLLECTION,
    CollectionSettings,
    column_lines,
    column_ratios,
    load_table,
    render,
)
from benchmarks.datasets import ENV_VAR, standardize
from benchmarks.missingness import make_mask

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
REPO = Path(__file__).resolve().parents[1]

SHAPES = {
    "concrete": (1030, 8),
    "adult-num": (5000, 6),
    "german-num": (1000, 7),
    "wine": (178, 13),
    "diabetes": (442, 10),
    "iris": (150, 4),
    "digits": (1797, 64),
    "synth-smooth": (1000, 8),
    "synth-pointmass": (1000, 8),
    "synth-grid": (1000, 8),
    "synth-outliers": (1000, 8),
    "synth-smalln": (150, 12),
    "synth-lookup": (900, 8),
    # The real tables of shared/datasets/collection, as in MANIFEST.md.
    "autompg": (392, 8),
    "concreteslump": (103, 8),
    "machine": (209, 8),
    "servo": (167, 5),
    "pendulum": (630, 10),
    "stock": (536, 12),
    "forest": (517, 13),
    "solar": (1066, 11),
    "fertility": (100, 10),
    "sml": (4137, 27),
    "phoneme": (5404, 6),
    "pumadyn32nm": (8192, 33),
    "bike": (17379, 18),
}
REAL = tuple(SHAPES)[13:]


@pytest.fixture(scope="module")
def tables():
    return {name: load_table(name, data_home=SHARED) for name in COLLECTION}


# -- loaders ------------------------------------------------------------------------
def test_every_table_is_complete_float64_with_its_column_names(tables):
    assert set(SHAPES) == set(COLLECTION)
    for name, (X, columns) in tables.items():
        assert X.shape == SHAPES[name], name
        assert X.dtype == np.float64 and np.isfinite(X).all(), name
        assert len(columns) == X.shape[1] == len(set(columns)), name
        assert all(isinstance(c, str) for c in columns), name


def test_tables_are_deterministic(tables):
    for name in ("adult-num", "synth-pointmass", "synth-outliers", "synth-lookup"):
        X, columns = load_table(name, data_home=SHARED)
        np.testing.assert_array_equal(X, tables[name].X)
        assert columns == tables[name].columns


def test_real_tables_follow_the_first_thirteen_in_manifest_order():
    assert COLLECTION[:13] == tuple(SHAPES)[:13] and COLLECTION[13:] == REAL


def test_real_tables_are_their_whole_files_with_generic_names(tables):
    folder = SHARED / "collection"
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, filename = line.split()
        assert hashlib.sha256((folder / filename).read_bytes()).hexdigest() == digest
    for name in REAL:
        X, columns = tables[name]
        filename = "phoneme.csv" if name == "phoneme" else f"{name}.csv.gz"
        whole = pd.read_csv(folder / filename, header=None).to_numpy()
        np.testing.assert_array_equal(X, whole, err_msg=name)
        assert columns == [f"x{j}" for j in range(X.shape[1])], name


def test_real_tables_keep_their_quirks(tables):
    def distinct(name):
        return [len(np.unique(c)) for c in tables[name].X.T]

    assert distinct("servo")[:4] == [5, 5, 4, 5]
    assert distinct("solar").count(1) == 1 and max(distinct("solar")) == 8
    assert distinct("sml").count(1) == 4
    assert set(np.unique(tables["phoneme"].X[:, -1])) == {0.0, 1.0}
    assert min(distinct("fertility")) == 2 and max(distinct("fertility")) == 18
    forest = tables["forest"].X
    assert (forest[:, 11] == np.median(forest[:, 11])).mean() > 0.97
    assert distinct("bike")[:3] == [2, 12, 31]


def test_missing_real_table_names_the_expected_path(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    expected = tmp_path / "collection" / "servo.csv.gz"
    with pytest.raises(FileNotFoundError, match="never downloaded") as info:
        load_table("servo")
    assert str(expected) in str(info.value) and ENV_VAR in str(info.value)
    assert "treforevans/uci_datasets" in str(info.value)
    expected.parent.mkdir()
    shutil.copy(SHARED / "collection" / "servo.csv.gz", expected)
    np.testing.assert_array_equal(
        load_table("servo").X, load_table("servo", data_home=SHARED).X
    )


_SERVO = "1,2,3,4,5\n" * 167
_UNREADABLE = "as the 'servo' table, 167 rows x 5 comma-separated numbers"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            gzip.compress(b"1,2,3,4,5\n" * 166),
            "parsed to 166 rows x 5 columns, but the 'servo' table has 167 x 5",
        ),
        (gzip.compress(b"1,2,3,4,5,6\n" * 167), "parsed to 167 rows x 6 columns"),
        (gzip.compress(b"1,2,3,4,\n" * 167), "has empty or non-finite cells"),
        (gzip.compress(_SERVO.replace("5", "a").encode()), _UNREADABLE),
        (gzip.compress(_SERVO.encode())[:-20], _UNREADABLE),  # truncated
        (_SERVO.encode(), _UNREADABLE),  # not gzip-compressed
    ],
)
def test_real_table_of_wrong_shape_is_refused(tmp_path, content, message):
    path = tmp_path / "collection" / "servo.csv.gz"
    path.parent.mkdir()
    path.write_bytes(content)
    pattern = f"{re.escape(str(path))}.*{re.escape(message)}.*Replace it with the copy"
    with pytest.raises(ValueError, match=pattern):
        load_table("servo", data_home=tmp_path)


def test_unknown_table_is_refused():
    with pytest.raises(ValueError, match="Unknown table 'breast'"):
        load_table("breast")


def test_adult_is_a_seeded_subsample_of_the_numeric_columns(tables):
    X, columns = tables["adult-num"]
    assert columns == [
        "age", "fnlwgt", "education-num", "capital-gain", "capital-loss",
        "hours-per-week",
    ]  # fmt: skip
    full = pd.read_csv(SHARED / "adult.csv", header=None, skipinitialspace=True)
    numeric = full[[0, 2, 4, 10, 11, 12]].to_numpy(np.float64)
    rows = np.sort(np.random.default_rng(0).choice(len(full), 5000, replace=False))
    np.testing.assert_array_equal(X, numeric[rows])
    assert ((X[:, 3:5] == 0).mean(axis=0) > 0.9).all()  # capital gain / loss


def test_german_numeric_attributes(tables):
    X, _ = tables["german-num"]
    # First line of german.csv: attributes 2, 5, 8, 11, 13, 16, 18.
    np.testing.assert_array_equal(X[0], [6, 1169, 4, 4, 67, 2, 1])
    assert [len(np.unique(c)) for c in X.T[[2, 3, 5, 6]]] == [4, 4, 4, 2]


def test_scikit_learn_tables_keep_their_quirks(tables):
    diabetes, columns = tables["diabetes"]
    assert columns[1] == "sex" and set(np.unique(diabetes[:, 1])) == {1.0, 2.0}
    assert diabetes[:, 0].min() >= 19  # raw ages, not scaled
    digits = tables["digits"].X
    assert set(np.unique(digits)) <= set(range(17))
    assert (digits.std(axis=0) == 0).sum() >= 3 and (digits == 0).mean() > 0.45


def test_synthetic_quirks_come_one_at_a_time(tables):
    smooth = tables["synth-smooth"].X
    point = tables["synth-pointmass"].X
    zeros = (point[:, :4] == 0).mean(axis=0)
    assert ((zeros > 0.35) & (zeros < 0.75)).all() and np.all(np.diff(zeros) > 0)
    assert (point[:, :4] >= 0).all()
    assert len(np.unique(point[:, 0][point[:, 0] > 0])) > 500  # continuous amount
    np.testing.assert_array_equal(point[:, 4:], smooth[:, 4:])

    grid = tables["synth-grid"].X
    assert [len(np.unique(c)) for c in grid.T] == [3, 4, 5, 6] + [1000] * 4
    np.testing.assert_array_equal(grid[:, 4:], smooth[:, 4:])

    outliers = tables["synth-outliers"].X
    np.testing.assert_array_equal(outliers[:, :3], smooth[:, :3])
    last = outliers[:, 7]
    robust = np.abs(last - np.median(last)) / np.median(np.abs(last - np.median(last)))
    rare = robust > 10
    assert rare.sum() == 10
    z = (last[rare] - last[~rare].mean()) / last[~rare].std()
    assert ((z >= 8) & (z <= 10)).all()
    # The rare rows are shifted in columns 3-6 too, which gives them away.
    shift = outliers[rare, 3:7] - smooth[rare, 3:7]
    np.testing.assert_allclose(shift / smooth[~rare, 3:7].std(axis=0), 2.5, rtol=0.05)


def test_lookup_units_repeat_their_attributes(tables):
    X, columns = tables["synth-lookup"]
    assert columns[:3] == ["unit0", "unit1", "unit2"]
    units = X.reshape(60, 15, 8)
    assert (units[:, :, :3] == units[:, :1, :3]).all()  # constant within a unit
    assert len(np.unique(X[:, :3], axis=0)) == 60
    within = units[:, :, 3:].std(axis=1).mean(axis=0)
    between = units[:, :, 3:].mean(axis=1).std(axis=0)
    assert (within < 0.2 * between).all()


# -- per-column errors ------------------------------------------------------------
def test_column_mse_weighted_by_removed_cells_is_the_total():
    rng = np.random.default_rng(1)
    X, X_imputed = rng.normal(size=(2, 50, 4))
    mask = rng.random((50, 4)) < 0.5
    mask[:, 3] = False
    per_column = collection.column_mse(X, X_imputed, mask)
    assert per_column[3] is None
    counts = mask.sum(axis=0)[:3]
    total = np.mean((X - X_imputed)[mask] ** 2)
    assert np.average(per_column[:3], weights=counts) == pytest.approx(total)
    assert per_column[0] == pytest.approx(np.mean((X - X_imputed)[mask[:, 0], 0] ** 2))


def test_column_lines_bold_the_smallest_of_the_ranked_methods():
    means = {"a": [0.5, 0.2], "b": [0.4, None], "c": None, "d": [0.1, 0.1]}
    lines = column_lines([["x", "n"], ["y", "n"]], means, list("abcd"), list("abc"))
    assert lines == [
        ["x", "n", "0.500", "**0.400**", "–", "0.100"],
        ["y", "n", "**0.200**", "–", "–", "0.100"],
    ]
    assert column_lines([["x"]], means, ["a", "d"])[0] == ["x", "0.500", "**0.100**"]


def test_column_ratios_handle_exact_columns():
    ratios = column_ratios([0.0, 0.1, 2.0, 0.5], [0.0, 0.0, 1.0, 1.0])
    assert np.isnan(ratios[0]) and np.isinf(ratios[1])
    np.testing.assert_array_equal(ratios[2:], [2.0, 0.5])


# -- runner, end to end -----------------------------------------------------------
def _cli(out, *extra):
    return [
        "--datasets", "iris", "synth-smalln", "--seeds", "2", "--quick",
        "--out", str(out), "--data-home", str(SHARED), "--no-progress", *extra,
    ]  # fmt: skip


def test_quick_run_end_to_end_resumes_and_reports(imputer_calls, tmp_path, capsys):
    argv = _cli(tmp_path, "--methods", "miwae", "knn", "mean")
    assert collection.main(argv) == 0
    assert len(imputer_calls) == 12
    rows = pd.read_csv(tmp_path / "results.csv")
    assert tuple(rows.columns) == (*FIELDS, "column_mse")
    assert len(rows) == 12 and rows["key"].is_unique
    assert (rows["n_imputations"] == 0).all() and rows["coverage90"].isna().all()
    for row in rows.itertuples():
        X = standardize(load_table(row.dataset).X)
        mask = make_mask("mcar", X, 0.5, row.seed)
        per_column = json.loads(row.column_mse)
        assert len(per_column) == X.shape[1] == row.n_cols
        total = np.average(per_column, weights=mask.sum(axis=0))
        assert total == pytest.approx(row.mse, rel=1e-12)
    mean = rows[rows["method"] == "mean"]
    assert mean["mse"].between(0.85, 1.2).all()
    knn = rows[rows["method"] == "knn"].set_index(["dataset", "seed"])["mse"]
    assert (knn < mean.set_index(["dataset", "seed"])["mse"]).all()

    printed = capsys.readouterr().out
    table = (tmp_path / "table.md").read_text()
    assert table in printed
    assert "| data set | n x p | MIWAE | knn | mean | MIWAE / best peer |" in table
    # knn beats MIWAE's 2-step quick fit and the mean: bold, and the ratio > 1.
    line = next(t for t in table.splitlines() if t.startswith("| iris | 150 x 4 |"))
    cells = line.split(" | ")
    assert cells[3].startswith("**") and not cells[2].startswith("**")
    assert float(cells[-1].rstrip(" |")) > 1
    assert "#### iris (seeds 0, 1)" in table and "| sepal width (cm) |" in table
    assert "| synth-smalln | x" in table  # Table 2 names a worst column

    # A second call runs nothing; a new parameter reruns only its method.
    assert collection.main(argv) == 0
    assert len(imputer_calls) == 12 and len(pd.read_csv(tmp_path / "results.csv")) == 12
    assert collection.main([*argv, "--param", "knn.n_neighbors=3"]) == 0
    assert imputer_calls[12:] == ["knn"] * 4


def test_report_shows_stored_peers_and_compared_rows(imputer_calls, tmp_path, capsys):
    before, after = tmp_path / "before", tmp_path / "after"
    assert collection.main(_cli(before, "--methods", "miwae")) == 0
    assert collection.main(_cli(after, "--methods", "mean")) == 0
    argv = _cli(after, "--methods", "miwae", "--param", "miwae.max_iter=1")
    assert collection.main([*argv, "--compare", str(before)]) == 0
    table = (after / "table.md").read_text()
    header = (
        "| data set | n x p | MIWAE | MIWAE (before) | mean | MIWAE / best peer "
        "| MIWAE (before) / best peer |"
    )
    assert header in table  # mean was stored by the earlier call
    assert "MIWAE (before): 4 rows" in table and '"max_iter": 2' in table
    report_only = [*argv, "--report-only", "--compare", str(before)]
    n_calls = len(imputer_calls)
    assert collection.main([*report_only, "--compare-label", "v0"]) == 0
    assert len(imputer_calls) == n_calls
    assert "MIWAE (v0) / best peer" in (after / "table.md").read_text()
    with pytest.raises(SystemExit):
        collection.main([*argv, "--compare", str(tmp_path / "nowhere")])
    assert "does not exist" in capsys.readouterr().err


def test_failed_run_is_reported_and_skipped(monkeypatch, tmp_path, capsys):
    real = miwae_impute.make_imputer

    def failing(name, **params):
        if name == "knn":
            raise FloatingPointError("diverged")
        return real(name, **params)

    monkeypatch.setattr(miwae_impute, "make_imputer", failing)
    assert collection.main(_cli(tmp_path, "--methods", "knn", "mean")) == 1
    assert set(pd.read_csv(tmp_path / "results.csv")["method"]) == {"mean"}
    assert "FAILED knn on iris, seed 0" in capsys.readouterr().err


def test_report_page_names_its_command(tmp_path):
    argv = _cli(tmp_path / "out", "--methods", "mean")
    for _ in range(2):  # the second call reruns nothing and rewrites the page
        assert collection.main(argv) == 0
    page = (tmp_path / "out" / "REPORT.md").read_text()
    assert page.startswith("# Quirky collection: MCAR, 50% missing, seeds 0-1")
    assert "- command: `python -m benchmarks.collection --datasets iris" in page
    assert "threads per run: 1" in page and "at commits " in page
    assert "### Table 1: total MSE" in page


def test_old_results_stay_readable_and_comparable():
    old = REPO / "benchmarks" / "results" / "uci" / "results.csv"
    rows = ResultStore(old).load()
    assert tuple(rows.columns) == FIELDS and len(rows) > 0
    with pytest.raises(ValueError, match="new --out"):
        ResultStore(old, fields=CollectionSettings.fields)
    settings = CollectionSettings(datasets=("concrete",), seeds=5)
    compare = collection._compare_rows(old.parent, settings)
    assert sorted(compare["seed"]) == [0, 1, 2, 3, 4]
    assert set(compare["method"]) == {"miwae"}


# -- report tables ------------------------------------------------------------------
def _rows(method, dataset, per_column_by_seed):
    return [
        {
            "method": method,
            "dataset": dataset,
            "seed": seed,
            "mse": float(np.mean(per_column)),
            "column_mse": json.dumps(per_column),
            "fit_impute_seconds": 1.0,
            "coverage90": np.nan,
            "n_rows": 10,
            "git_commit": "abc",
            "params": "{}",
        }
        for seed, per_column in enumerate(per_column_by_seed)
    ]


def test_report_tables():
    rows = pd.DataFrame(
        _rows("mean", "a", [[1.0, 1.0], [1.0, 1.0]])
        + _rows("knn", "a", [[0.7, 0.7], [0.7, 0.7]])
        + _rows("miwae", "a", [[0.4, 1.2], [0.6, 1.0]])  # c1: 1.1 / 1.0
        + _rows("mean", "b", [[1.0, 0.0], [1.0, 0.0]])  # b's c1 is constant
        + _rows("knn", "b", [[0.5, 0.0], [0.5, 0.0]])
        + _rows("miwae", "b", [[0.2, 0.0]])
    )
    columns = {"a": ["c0", "c1"], "b": ["d0", "d1"]}
    settings = CollectionSettings(datasets=("a", "b"), methods=("miwae",), seeds=2)
    text = render(settings, rows, columns)
    table1 = text.split("### Table 2")[0]
    assert (
        "| a | 10 x 2 | 0.800 (0.000) | **0.700 (0.000)** | 1.000 (0.000) | 1.14 |"
        in (table1)
    )
    assert "| b | 10 x 2 | **0.100 [1]** | 0.250 (0.000) | 0.500 (0.000) | 0.40 |" in (
        table1
    )
    assert "| a | c1 | 1.10 | 1 of 2 |" in text
    assert "| b | d0 | 0.20 | 0 of 2 |" in text  # constant d1 is not counted
    assert "#### a (seeds 0, 1)" in text and "#### b" not in text
    assert "| c1 | 1.100 | 0.700 | **1.000** | **1.10** |" not in text
    assert "| c1 | 1.100 | **0.700** | 1.000 | **1.10** |" in text
    assert "| c0 | **0.500** | 0.700 | 1.000 | 0.50 |" in text
