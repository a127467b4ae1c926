"""The mixed-type benchmark: loaders, masking, scores, calibration, runner, CLI."""

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

import miwae_impute
from benchmarks import datasets, mixed
from benchmarks.collection import load_table
from benchmarks.datasets import load_mixed
from benchmarks.mixed import (
    ModeImputer,
    expected_calibration_error,
    pool_bins,
    reliability_table,
    removal_mask,
    score,
    standardize_numeric,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"

ADULT_NUMERIC = [
    "age", "fnlwgt", "education-num", "capital-gain", "capital-loss",
    "hours-per-week",
]  # fmt: skip


@pytest.fixture(scope="module")
def german():
    return load_mixed("german", data_home=SHARED)


def _toy():
    """4 rows: a numeric column with a NaN, a categorical one with a NaN."""
    return pd.DataFrame(
        {
            "x": [0.0, 1.0, np.nan, 3.0],
            "c": pd.Categorical(["a", "b", "a", None], categories=["a", "b"]),
        }
    )


# -- loaders ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "shape", "missing"),
    [
        ("adult", (5000, 14), {"workclass": 250, "occupation": 250,
                               "native-country": 101}),
        ("adult-full", (32561, 14), {"workclass": 1836, "occupation": 1843,
                                     "native-country": 583}),
        ("german", (1000, 20), {}),
    ],
)  # fmt: skip
def test_mixed_tables_shapes_dtypes_and_missing_cells(name, shape, missing):
    frame = load_mixed(name, data_home=SHARED)
    assert frame.shape == shape
    assert isinstance(frame.index, pd.RangeIndex)
    counts = frame.isna().sum()
    assert counts[counts > 0].to_dict() == missing
    numeric = [c for c in frame.columns if frame[c].dtype == np.float64]
    categorical = [c for c in frame.columns if frame[c].dtype == "category"]
    assert len(numeric) + len(categorical) == shape[1]
    if name.startswith("adult"):
        assert numeric == ADULT_NUMERIC
        assert "income" not in frame.columns
        assert "?" not in set(frame["workclass"].cat.categories)
        assert not frame["sex"].cat.categories.str.startswith(" ").any()
    else:
        assert len(numeric) == 7 and len(categorical) == 13
        assert "credit risk" not in frame.columns


def test_german_first_row_and_levels(german):
    first = german.iloc[0]
    assert first["checking account"] == "A11" and first["foreign worker"] == "A201"
    numeric = german.select_dtypes("number").iloc[0].tolist()
    assert numeric == [6, 1169, 4, 4, 67, 2, 1]  # attributes 2, 5, 8, ...
    assert list(german["checking account"].cat.categories) == [
        "A11", "A12", "A13", "A14",
    ]  # fmt: skip


def test_adult_subsample_is_the_collections_and_levels_are_present():
    frame = load_mixed("adult", data_home=SHARED)
    np.testing.assert_array_equal(
        frame[ADULT_NUMERIC].to_numpy(), load_table("adult-num", data_home=SHARED).X
    )
    for column in frame.select_dtypes("category"):  # no unused level
        assert frame[column].value_counts().min() > 0, column
    with pytest.raises(ValueError, match="Unknown mixed table"):
        load_mixed("adult-num", data_home=SHARED)


def test_german_download_is_the_space_separated_original(monkeypatch, tmp_path):
    # The real download code, with urlopen serving german.data built from the copy.
    payload = (SHARED / "german.csv").read_text().replace(",", " ").encode()
    requested = []

    def fake_urlopen(url, timeout):
        requested.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(datasets.urllib.request, "urlopen", fake_urlopen)
    frame = load_mixed("german", data_home=tmp_path)
    assert requested == [datasets.MIXED_SOURCES["german"].url]
    assert requested[0].endswith("statlog/german/german.data")
    assert (tmp_path / "german.data").is_file()
    pd.testing.assert_frame_equal(frame, load_mixed("german", data_home=SHARED))


# -- protocol -----------------------------------------------------------------------
def test_standardize_numeric_uses_the_non_missing_values():
    frame = standardize_numeric(_toy())
    observed = np.array([0.0, 1.0, 3.0])
    expected = (observed - observed.mean()) / observed.std()
    np.testing.assert_allclose(frame["x"].dropna(), expected)
    assert frame["c"].dtype == "category" and frame["c"].isna().sum() == 1


def test_removal_mask_skips_missing_cells_and_is_seeded(german):
    frame = load_mixed("adult", data_home=SHARED)
    mask = removal_mask(frame, 0.3, 0)
    assert not (mask & frame.isna().to_numpy()).any()  # never a real NaN
    drawn = mixed.mcar(frame.shape, 0.3, 0)
    np.testing.assert_array_equal(mask, drawn & frame.notna().to_numpy())
    assert abs(mask[frame.notna().to_numpy()].mean() - 0.3) < 0.01
    np.testing.assert_array_equal(mask, removal_mask(frame, 0.3, 0))
    assert (mask != removal_mask(frame, 0.3, 1)).any()
    missing = german.mask(removal_mask(german, 0.3, 2))
    assert (missing.dtypes == german.dtypes).all()
    np.testing.assert_array_equal(missing.isna(), removal_mask(german, 0.3, 2))


def test_exactly_the_removed_cells_are_scored():
    truth = _toy()
    mask = np.array([[True, True], [False, False], [False, False], [True, False]])
    # Right on the removed cells, wrong everywhere else: perfect scores.
    imputed = pd.DataFrame(
        {
            "x": [0.0, 99.0, 99.0, 3.0],
            "c": pd.Categorical(["a", "a", "b", "b"], categories=["a", "b"]),
        }
    )
    scores = score(truth, imputed, mask)
    assert scores["mse"] == 0 and scores["pfc"] == 0
    assert scores["n_missing_numeric"] == 2 and scores["n_missing_categorical"] == 1
    # Wrong on the removed cells only.
    imputed = pd.DataFrame(
        {
            "x": [1.0, 1.0, 5.0, 0.0],
            "c": pd.Categorical(["b", "b", "a", "a"], categories=["a", "b"]),
        }
    )
    scores = score(truth, imputed, mask)
    assert scores["mse"] == pytest.approx((1 + 9) / 2)
    assert scores["pfc"] == 1.0
    assert scores["column_error"] == [5.0, 1.0]


def test_pfc_and_column_errors_on_a_hand_made_frame():
    truth = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "c": pd.Categorical(list("aabc")),
            "d": pd.Categorical(list("xyxy")),
        }
    )
    imputed = truth.copy()
    imputed["x"] = [1.5, 2.0, 1.0, 4.0]
    imputed["c"] = pd.Categorical(list("abbc"), categories=["a", "b", "c"])
    mask = np.ones((4, 3), dtype=bool)
    mask[:, 2] = False
    scores = score(truth, imputed, mask)
    assert scores["mse"] == pytest.approx((0.25 + 0 + 4 + 0) / 4)
    assert scores["pfc"] == pytest.approx(1 / 4)  # a->b
    assert scores["column_error"] == [pytest.approx(1.0625), 0.25, None]
    imputed.loc[0, "c"] = np.nan
    with pytest.raises(ValueError, match="still missing"):
        score(truth, imputed, mask)


def test_reliability_table_on_a_hand_made_input():
    truth = pd.DataFrame({"x": [0.0, 0.0, 0.0], "c": pd.Categorical(["a", "b", "b"])})
    proba = {
        "c": pd.DataFrame({"a": [0.95, 0.35, 0.0], "b": [0.05, 0.65, 1.0]}),
    }
    mask = np.array([[True, True], [True, True], [False, False]])  # row 2 not scored
    table = reliability_table(proba, truth, mask)
    assert list(table["bin"]) == list(range(10))
    np.testing.assert_allclose(table["p_low"], np.arange(10) / 10)
    filled = table[table["count"] > 0].set_index("bin")
    # Pairs: (0.95, 1), (0.05, 0), (0.35, 0), (0.65, 1).
    assert filled["count"].to_dict() == {0: 1, 3: 1, 6: 1, 9: 1}
    assert filled["mean_p"].to_dict() == pytest.approx(
        {0: 0.05, 3: 0.35, 6: 0.65, 9: 0.95}
    )
    assert filled["observed"].to_dict() == {0: 0.0, 3: 0.0, 6: 1.0, 9: 1.0}
    assert table["mean_p"].isna().sum() == 6
    ece = expected_calibration_error(table)
    assert ece == pytest.approx((0.05 + 0.35 + 0.35 + 0.05) / 4)
    # Pooled over two identical runs: counts double, means unchanged.
    pooled = pool_bins(pd.concat([table, table]))
    assert pooled["count"].sum() == 8
    assert expected_calibration_error(pooled) == pytest.approx(ece)
    assert reliability_table({}, truth, mask) is None


def test_mode_imputer_keeps_dtypes_and_gives_frequencies():
    frame = _toy()
    imputed, proba = ModeImputer().fit(frame).transform(frame, return_proba=True)
    assert (imputed.dtypes == frame.dtypes).all()
    assert imputed["x"].tolist() == [0.0, 1.0, pytest.approx(4 / 3), 3.0]
    assert imputed["c"].tolist() == ["a", "b", "a", "a"]
    assert list(proba["c"].columns) == ["a", "b"]
    np.testing.assert_allclose(proba["c"], [[2 / 3, 1 / 3]] * 4)


def test_miceforest_peer_keeps_dtypes():
    pytest.importorskip("miceforest")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a b": rng.normal(size=60),
            "c": pd.Categorical(rng.choice(["u", "v"], 60)),
            "x": rng.normal(size=60),
        }
    )
    missing = frame.mask(removal_mask(frame, 0.2, 0))
    imputer = mixed.MiceForestImputer(iterations=1, random_state=0)
    imputed = imputer.fit_transform(missing)
    assert list(imputed.columns) == ["a b", "c", "x"]
    assert (imputed.dtypes == frame.dtypes).all() and not imputed.isna().any().any()


# -- runner, end to end -----------------------------------------------------------
def _cli(out, *extra):
    return [
        "--datasets", "german", "--methods", "mode", "--seeds", "2", "--quick",
        "--out", str(out), "--data-home", str(SHARED), "--no-progress", *extra,
    ]  # fmt: skip


def test_quick_run_with_mode_on_german(tmp_path, capsys):
    assert mixed.main(_cli(tmp_path)) == 0
    rows = pd.read_csv(tmp_path / "results.csv")
    assert tuple(rows.columns) == mixed.MixedSettings.fields
    assert len(rows) == 2 and rows["key"].is_unique
    assert list(rows["seed"]) == [0, 1] and (rows["missing_rate"] == 0.3).all()
    # The peer figures of ANCHORS.md (most frequent level, seeds 0 and 1).
    np.testing.assert_allclose(rows["mse"], [1.016, 0.999], atol=5e-4)
    np.testing.assert_allclose(rows["pfc"], [0.416, 0.409], atol=5e-4)
    german = load_mixed("german", data_home=SHARED)
    for row in rows.itertuples():
        mask = removal_mask(german, 0.3, row.seed)
        assert (
            row.n_missing
            == mask.sum()
            == (row.n_missing_numeric + row.n_missing_categorical)
        )
        errors = json.loads(row.column_error)
        numeric = (german.dtypes != "category").to_numpy()
        weights = mask.sum(axis=0)
        assert np.average(np.array(errors)[numeric], weights=weights[numeric]) == (
            pytest.approx(row.mse)
        )
        assert np.average(np.array(errors)[~numeric], weights=weights[~numeric]) == (
            pytest.approx(row.pfc)
        )
    assert (rows["ece"] < 0.03).all()  # level frequencies are calibrated under MCAR
    bins = pd.read_csv(tmp_path / "reliability.csv")
    assert len(bins) == 20 and set(bins["key"]) == set(rows["key"])
    table = (tmp_path / "table.md").read_text()
    assert table in capsys.readouterr().out
    assert "### MSE on the removed numeric cells (MCAR, 30% missing, seeds 0-1" in table
    assert "| mode | **1.007 (0.012)** |" in table
    assert "| checking account | categorical |" in table
    assert "#### mode: reliability, pooled over seeds" in table
    # A second call runs nothing.
    before = (tmp_path / "results.csv").read_text()
    assert mixed.main(_cli(tmp_path)) == 0
    assert (tmp_path / "results.csv").read_text() == before


def test_categorical_pairs_per_run_are_the_levels_of_the_removed_cells(tmp_path):
    assert mixed.main(_cli(tmp_path, "--seeds", "1")) == 0
    german = load_mixed("german", data_home=SHARED)
    mask = removal_mask(german, 0.3, 0)
    expected = sum(
        mask[:, j].sum() * german[c].cat.categories.size
        for j, c in enumerate(german.columns)
        if german[c].dtype == "category"
    )
    bins = pd.read_csv(tmp_path / "reliability.csv")
    assert bins["count"].sum() == expected


class _Refuses(BaseEstimator):
    """A package imputer without categorical support."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit_transform(self, X):
        raise ValueError("could not convert string to float: 'A11'")


def test_imputer_refusing_categories_is_skipped(monkeypatch, tmp_path, capsys):
    made = []

    def make_imputer(name, **params):
        made.append(name)
        return _Refuses(**params)

    monkeypatch.setattr(miwae_impute, "make_imputer", make_imputer)
    argv = _cli(tmp_path, "--methods", "knn", "mode")
    assert mixed.main(argv) == 0
    assert made == ["knn"]  # tried once, not on every seed
    rows = pd.read_csv(tmp_path / "results.csv")
    assert set(rows["method"]) == {"mode"}
    err = capsys.readouterr().err
    assert "SKIPPED knn: knn does not impute categorical columns yet" in err
    assert "could not convert string to float" in err


def test_missing_miceforest_is_skipped(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "miceforest", None)  # find_spec: None
    assert mixed.main(_cli(tmp_path, "--methods", "mode", "miceforest")) == 0
    assert set(pd.read_csv(tmp_path / "results.csv")["method"]) == {"mode"}
    assert "miceforest is not installed" in capsys.readouterr().err


def test_failed_peer_is_a_failure(monkeypatch, tmp_path, capsys):
    def broken(self, X, y=None):
        raise ValueError("broken")

    monkeypatch.setattr(ModeImputer, "fit_transform", broken)
    assert mixed.main(_cli(tmp_path, "--seeds", "1")) == 1
    assert "FAILED mode on german, seed 0: ValueError('broken')" in (
        capsys.readouterr().err
    )
    monkeypatch.setattr(ModeImputer, "fit_transform", lambda self, X: X.to_numpy())
    assert mixed.main(_cli(tmp_path, "--seeds", "1")) == 1
    assert "mode changed the table's type, shape or columns" in capsys.readouterr().err


def test_command_line_checks(tmp_path):
    for extra in (["--mechanism", "mar"], ["--n-imputations", "5"]):
        with pytest.raises(SystemExit):
            mixed.main(_cli(tmp_path, *extra))
    args = mixed.MixedSettings.parser().parse_args([])
    assert args.missing_rate == 0.3 and tuple(args.datasets) == ("adult", "german")
    assert tuple(args.methods) == mixed.METHODS


def test_miceforest_gets_the_seed_threads_budget_and_params(monkeypatch, tmp_path):
    made = []

    def fit_transform(self, X, y=None):
        made.append(self.get_params())
        return ModeImputer().fit_transform(X)

    monkeypatch.setattr(mixed.MiceForestImputer, "fit_transform", fit_transform)
    monkeypatch.setattr(mixed.MixedSettings, "unavailable", lambda self, m: {})
    argv = _cli(tmp_path, "--methods", "miceforest", "--seeds", "1", "--threads", "2")
    assert mixed.main(argv) == 0  # --quick: one iteration
    assert mixed.main([*argv, "--param", "miceforest.iterations=3"]) == 0
    assert [(p["iterations"], p["num_threads"], p["random_state"]) for p in made] == [
        (1, 2, 0),
        (3, 2, 0),
    ]
    params = pd.read_csv(tmp_path / "results.csv")["params"].map(json.loads)
    assert list(params) == [
        {"iterations": 1, "num_threads": 2},
        {"iterations": 3, "num_threads": 2},
    ]


def test_report_page_names_its_command(tmp_path):
    argv = _cli(tmp_path / "out", "--seeds", "1")
    for _ in range(2):  # the second call reruns nothing and rewrites the page
        assert mixed.main(argv) == 0
    page = (tmp_path / "out" / "REPORT.md").read_text()
    assert page.startswith("# Mixed-type tables: MCAR, 30% missing, seed 0")
    assert "- command: `python -m benchmarks.mixed --datasets german" in page
    assert "--no-progress" not in page and "threads per run: 1" in page
    assert "### PFC on the removed categorical cells" in page
