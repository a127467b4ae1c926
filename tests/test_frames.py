"""DataFrames in and out: pyarrow-backed columns, round_integers and polars."""

import numpy as np
import pandas as pd
import pytest

from miwae_impute import MeanImputer, MIWAEImputer, PCAImputer

pa = pytest.importorskip("pyarrow")

FAST_MIWAE = dict(max_iter=2, L=20, random_state=0)
IMPUTERS = {
    "mean": lambda **kw: MeanImputer(**kw),
    "pca": lambda **kw: PCAImputer(random_state=0, **kw),  # its rank search draws
    "miwae": lambda **kw: MIWAEImputer(**FAST_MIWAE, **kw),
}


def _arrow_frame(n=40):
    rng = np.random.default_rng(0)
    ints = rng.integers(0, 50, size=n).astype(object)
    floats = rng.normal(size=n).astype(object)
    labels = rng.choice(["a", "b"], size=n).astype(object)
    flags = rng.choice([True, False], size=n).astype(object)
    for column in (ints, floats, labels, flags):
        column[rng.random(n) < 0.25] = None
    return pd.DataFrame(
        {
            "i": pd.array(ints, dtype="int64[pyarrow]"),
            "f": pd.array(floats, dtype="double[pyarrow]"),
            "g": pd.array(rng.normal(size=n), dtype="float[pyarrow]"),
            "s": pd.array(labels, dtype="string[pyarrow]"),
            "b": pd.array(flags, dtype="bool[pyarrow]"),
        },
        index=pd.RangeIndex(100, 100 + n),
    )


def _assert_observed_kept(out, frame):
    for column in frame:
        observed = frame[column].notna().to_numpy()
        expected = frame[column][observed].astype(object).tolist()
        assert out[column][observed].astype(object).tolist() == expected
        assert out[column].notna().all()


@pytest.mark.parametrize("name", sorted(IMPUTERS))
def test_pyarrow_backed_columns_round_trip(name):
    frame = _arrow_frame()
    out = IMPUTERS[name]().fit_transform(frame)
    assert out.index.equals(frame.index)
    expected = frame.dtypes.copy()
    expected["i"] = pd.ArrowDtype(pa.float64())  # an imputed integer is a float
    assert out.dtypes.equals(expected)
    _assert_observed_kept(out, frame)
    assert out["s"].dtype.storage == "pyarrow"


@pytest.mark.parametrize("name", sorted(IMPUTERS))
def test_round_integers_keeps_every_integer_dtype(name):
    frame = _arrow_frame()[["i", "f"]].assign(
        n=pd.array(frame_ints := [1, None, 3, 4] * 10, dtype="Int64"),
        u=np.arange(40, dtype=np.uint8),  # complete: no NaN in a NumPy int
        k=pd.array([7, 9, None, 8] * 10, dtype="Int16"),
    )
    imputer = IMPUTERS[name](round_integers=True)
    out = imputer.fit_transform(frame)
    assert out.dtypes.equals(frame.dtypes)
    _assert_observed_kept(out, frame)
    assert frame_ints[1] is None  # the frame held gaps to round
    default = IMPUTERS[name]().fit_transform(frame)
    assert list(default.dtypes) == [
        pd.ArrowDtype(pa.float64()),
        pd.ArrowDtype(pa.float64()),
        pd.Float64Dtype(),
        np.float64,
        pd.Float64Dtype(),
    ]
    for column in ("i", "n", "k"):  # the default's imputations, rounded
        rounded = np.rint(default[column].to_numpy(float))
        np.testing.assert_array_equal(out[column].to_numpy(float), rounded)


def test_round_integers_rounds_draws_but_not_the_standard_deviation():
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, 3, 4, 6, None] * 10, dtype="Int64"),
            "x": np.linspace(0, 1, 60),
        }
    )
    imputer = MIWAEImputer(**FAST_MIWAE, round_integers=True).fit(frame)
    imputed, std = imputer.transform(frame, return_std=True)
    assert imputed["n"].dtype == "Int64"
    assert (
        std["n"].dtype == pd.Float64Dtype() and (std["n"][frame["n"].isna()] > 0).all()
    )
    for draw in imputer.sample(frame, n_imputations=2):
        assert draw["n"].dtype == "Int64" and draw["n"].notna().all()


def test_rounding_clips_to_the_range_of_the_dtype():
    frame = pd.DataFrame(
        {"k": pd.array([250, 251, None, 252] * 5, dtype="UInt8"), "x": range(20)}
    )
    out = MeanImputer(round_integers=True).fit_transform(frame)
    assert out["k"].dtype == "UInt8" and out["k"].tolist()[2] == 251


def test_round_integers_is_validated():
    with pytest.raises(ValueError, match="round_integers"):
        MeanImputer(round_integers="yes").fit(np.array([[1.0], [np.nan]]))


# -- polars -------------------------------------------------------------------
def _polars_frame():
    pl = pytest.importorskip("polars")
    return pl, pl.DataFrame(
        {
            "x": [1.0, None, 3.0, 4.5] * 10,
            "h": pl.Series([1.5, 2.5, None, 0.5] * 10, dtype=pl.Float32),
            "n": [1, 2, None, 4] * 10,
            "c": ["u", None, "v", "u"] * 10,
            "k": pl.Series(["p", "q", None, "q"] * 10, dtype=pl.Categorical),
            "b": [True, None, False, True] * 10,
            "d": pl.Series([0, 1, None, 3] * 10).cast(pl.Datetime("us", "UTC")),
        }
    )


@pytest.mark.parametrize("name", sorted(IMPUTERS))
def test_polars_in_polars_out(name):
    pl, frame = _polars_frame()
    out = IMPUTERS[name]().fit_transform(frame)
    assert isinstance(out, pl.DataFrame)
    expected = dict(frame.schema) | {"n": pl.Float64}
    assert dict(out.schema) == expected
    assert out.null_count().sum_horizontal().item() == 0
    for column in frame.columns:
        observed = frame[column].is_not_null()
        assert out[column].filter(observed).equals(frame[column].filter(observed))
    rounded = IMPUTERS[name](round_integers=True).fit_transform(frame)
    assert rounded.schema["n"] == pl.Int64


def test_set_output_polars_from_pandas_and_pandas_from_polars():
    pl, frame = _polars_frame()
    pandas_frame = frame.to_pandas()
    imputer = MIWAEImputer(**FAST_MIWAE).set_output(transform="polars")
    out = imputer.fit_transform(pandas_frame)
    assert isinstance(out, pl.DataFrame) and out.columns == frame.columns
    imputed, std = imputer.transform(pandas_frame, return_std=True)
    assert isinstance(std, pl.DataFrame) and std.schema["x"] == pl.Float64
    back = imputer.set_output(transform="pandas").transform(frame)
    assert isinstance(back, pd.DataFrame) and back.notna().all().all()


def test_polars_without_pyarrow_is_a_clear_error(monkeypatch):
    _, frame = _polars_frame()

    def missing(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'pyarrow'")

    monkeypatch.setattr(type(frame), "to_pandas", missing)
    with pytest.raises(ImportError, match=r"miwae-impute\[polars\]"):
        MeanImputer().fit(frame)
