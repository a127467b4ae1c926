"""compare_imputers and summarize_comparison: a comparison on the user's table."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from miwae_impute import MeanImputer, compare_imputers, summarize_comparison
from miwae_impute._compare import _copy_gaps


def _table(seed=0, n=120):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "x": z,
            "y": 3.0 * z + 0.1 * rng.normal(size=n),
            "count": rng.integers(0, 9, size=n),  # int64, complete
            "level": pd.Categorical(np.where(z > 0, "high", "low")),
        }
    )
    for column in ("x", "y", "level"):
        frame.loc[rng.random(n) < 0.2, column] = np.nan
    return frame


class _Recorder(TransformerMixin, BaseEstimator):
    """Imputes 0 in numeric columns and remembers the tables it was given."""

    seen = []

    def fit(self, X, y=None):
        _Recorder.seen.append(X.copy())
        return self

    def transform(self, X):
        return X.fillna({c: 0 for c in X.columns if c != "level"})


class _Dropper(_Recorder):
    def transform(self, X):
        return super().transform(X).iloc[:, :-1]


def test_copied_gaps_are_observed_cells_in_the_shape_of_real_ones():
    rng = np.random.default_rng(0)
    missing = rng.random((200, 5)) < 0.3
    missing[:, 4] = False  # a complete column: no gap to copy there
    missing[0] = True  # an empty row is no donor
    patterns = {tuple(row) for row in missing if row.any() and not row.all()}
    hidden = _copy_gaps(missing, np.random.RandomState(0))
    assert hidden.any() and not (hidden & missing).any()
    assert not hidden[:, 4].any()
    assert not (hidden | missing).all(axis=1)[~missing.all(axis=1)].any()
    assert (~(hidden | missing)).any(axis=0)[:4].all()
    for row in np.flatnonzero(hidden.any(axis=1)):
        assert any(np.all(hidden[row] <= np.array(p)) for p in patterns)
    assert hidden.any(axis=1).sum() <= 100  # at most half of the rows


def test_scores_are_the_errors_of_the_hidden_cells():
    frame = _table()
    _Recorder.seen.clear()
    scores = compare_imputers(frame, {"zero": _Recorder()}, n_repeats=2, random_state=0)
    assert list(scores.columns) == [
        "method",
        "repeat",
        "column",
        "metric",
        "score",
        "n_hidden",
        "fit_seconds",
        "transform_seconds",
    ]
    assert set(scores["column"]) == {"x", "y", "level"}  # "count" has no gap
    assert len(_Recorder.seen) == 2
    for repeat, given in enumerate(_Recorder.seen):
        hidden = given.isna().to_numpy() & ~frame.isna().to_numpy()
        rows = scores[scores["repeat"] == repeat].set_index(["column", "metric"])
        for j, column in enumerate(["x", "y"]):
            true = frame[column].to_numpy()[hidden[:, j]]
            sd = np.nanstd(frame[column].to_numpy())
            assert rows.loc[(column, "mse"), "score"] == pytest.approx(
                np.mean((true / sd) ** 2)
            )
            assert rows.loc[(column, "mae"), "score"] == pytest.approx(
                np.mean(np.abs(true / sd))
            )
            assert rows.loc[(column, "mse"), "n_hidden"] == len(true)
        # the recorder leaves the levels missing: all wrong
        assert rows.loc[("level", "pfc"), "score"] == 1.0


def test_default_candidates_and_reproducibility():
    frame = _table()
    imputers = ["pca", "mean", "knn"]
    first = compare_imputers(frame, imputers, random_state=0)
    again = compare_imputers(frame, imputers, random_state=0)
    columns = ["method", "repeat", "column", "metric", "score", "n_hidden"]
    pd.testing.assert_frame_equal(first[columns], again[columns])
    assert set(first["method"]) == set(imputers)
    assert set(first["repeat"]) == {0, 1, 2}
    other = compare_imputers(frame, imputers, random_state=1)
    assert not np.array_equal(first["score"], other["score"])


def test_uniform_hiding_and_a_complete_table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    scores = compare_imputers(X, [MeanImputer()], n_repeats=1, random_state=0)
    hidden = scores.groupby("column")["n_hidden"].first()
    assert hidden.sum() == pytest.approx(0.2 * 300, abs=2)  # the fallback rate
    scores = compare_imputers(
        X, [MeanImputer()], missing_rate=0.5, n_repeats=1, random_state=0
    )
    assert scores.groupby("column")["n_hidden"].first().sum() == 150
    # mean imputation of standardised columns scores about 1
    assert scores.loc[scores["metric"] == "mse", "score"].mean() == pytest.approx(
        1.0, abs=0.3
    )


def test_summary_pools_over_cells_and_names_columns_that_prefer_another():
    rows = []
    for method, x, y in [("a", 0.5, 0.9), ("b", 0.7, 0.5)]:
        for column, score, n in [("x", x, 30), ("y", y, 10)]:
            rows.append(
                {
                    "method": method,
                    "repeat": 0,
                    "column": column,
                    "metric": "mse",
                    "score": score,
                    "n_hidden": n,
                    "fit_seconds": 1.0,
                    "transform_seconds": 0.5,
                }
            )
    summary = summarize_comparison(pd.DataFrame(rows))
    assert summary.best == "a"
    assert summary.by_method.loc["a", "mse"] == pytest.approx((15 + 9) / 40)
    assert summary.by_method.loc["b", "mse"] == pytest.approx((21 + 5) / 40)
    assert summary.by_method.loc["a", "fit_seconds"] == 1.0
    assert list(summary.by_column.columns) == ["a", "b"]
    assert "a imputes best overall" in summary.recommendation
    assert "'y' (b: 0.5 against 0.9)" in summary.recommendation


def test_clear_errors():
    frame = _table()
    with pytest.raises(ValueError, match="Unknown imputer"):
        compare_imputers(frame, ["forest"])
    with pytest.raises(TypeError, match="neither a name nor an estimator"):
        compare_imputers(frame, [42])
    with pytest.raises(ValueError, match="Two imputers are named 'mean'"):
        compare_imputers(frame, ["mean", "mean"])
    with pytest.raises(ValueError, match="empty"):
        compare_imputers(frame, [])
    X = np.array([[1.0, np.nan], [np.nan, 2.0]])
    with pytest.raises(ValueError, match="no observed cell to hide"):
        compare_imputers(X, ["mean"])
    with pytest.raises(ValueError, match="'dropper' returned 3 columns"):
        compare_imputers(frame, {"dropper": _Dropper()}, random_state=0)


def test_dates_are_scored_as_numbers_and_numbers_in_objects_too():
    frame = _table()
    frame["day"] = pd.date_range("2020-01-01", periods=len(frame), freq="D")
    frame["coded"] = frame["x"].astype(object)  # numbers, as the imputers read them
    frame.loc[frame["x"].isna(), ["day", "coded"]] = None
    scores = compare_imputers(frame, ["mean"], n_repeats=1, random_state=0)
    metrics = scores.groupby("column")["metric"].agg(set)
    assert metrics["day"] == {"mse", "mae"} and metrics["coded"] == {"mse", "mae"}
    assert metrics["level"] == {"pfc"}
    day = scores[(scores["column"] == "day") & (scores["metric"] == "mse")]
    assert 0.5 < float(day["score"].iloc[0]) < 2.0  # the mean, about 1 SD off
