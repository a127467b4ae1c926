"""Robustness and data safety of every imputer of the registry (issue 5).

The README's "Data safety" section, checked on every imputer that
``make_imputer`` builds: property-based tests over random shapes, masks,
dtypes and magnitudes, then one test per kind of bad input. Budgets are tiny:
these tests check the plumbing and the numerics, not the quality of the
imputations.
"""

import contextlib
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from miwae_impute import MeanImputer, PCAImputer, make_imputer
from miwae_impute._registry import _IMPUTERS

# Tiny budgets; every imputer deterministic.
TINY = {
    "miwae": dict(max_iter=2, L=10, K=2, hidden_layer_sizes=(4,), random_state=0),
    "mvae": dict(max_iter=2, L=10, hidden_layer_sizes=(4,), random_state=0),
    "not-miwae": dict(max_iter=2, L=10, K=2, hidden_layer_sizes=(4,), random_state=0),
    "mean": {},
    "knn": dict(n_neighbors=2),
    "pca": dict(n_components=1, max_iter=20),
    "factor-analysis": dict(n_components=1, max_iter=20),
    "ppca": dict(n_components=1, max_iter=20),
    "missforest": dict(n_estimators=3, max_iter=2, random_state=0),
    "stacking": dict(
        imputers=[MeanImputer(), PCAImputer(n_components=1, max_iter=20)],
        random_state=0,
    ),
}
NAMES = sorted(TINY)
MIWAE_NAMES = ["miwae", "mvae", "not-miwae"]

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def _make(name, **params):
    return make_imputer(name, **{**TINY[name], **params})


@contextlib.contextmanager
def _quiet():
    """Silence the expected warnings: empty features, missing feature names."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def _same_bits(a, b):
    """Whether two arrays have the same dtype, shape and bytes (-0.0 is not 0.0)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _assert_safe(out, X, mask, *, empty, keep_empty, indicator, dtypes, frame=None):
    """Assert the data-safety invariants of one output of an imputer.

    Parameters
    ----------
    out : ndarray or DataFrame
        What the imputer returned.
    X : ndarray of shape (n_samples, n_features)
        The input's values as floats (missing entries are ignored).
    mask : ndarray of bool
        The input's missing entries.
    empty : ndarray of bool of shape (n_features,)
        Features with no observed value at fit.
    keep_empty : bool
        The imputer's ``keep_empty_features``.
    indicator : ndarray of bool of shape (n_features,) or None
        Features with an indicator column (missing at fit), with
        ``add_indicator=True``.
    dtypes : list of dtype
        The dtype each feature must come back in.
    frame : DataFrame or None
        The input, when it is a DataFrame.
    """
    kept = np.flatnonzero(np.ones_like(empty) if keep_empty else ~empty)
    indicated = [] if indicator is None else np.flatnonzero(indicator)
    if frame is None:
        assert isinstance(out, np.ndarray)
        assert out.dtype == dtypes[0]
        columns = list(out.T)
    else:
        assert isinstance(out, pd.DataFrame)
        assert out.index.equals(frame.index)
        assert list(out.columns[: len(kept)]) == list(frame.columns[kept])
        assert list(out.dtypes[: len(kept)]) == [dtypes[j] for j in kept]
        columns = [out.iloc[:, i].to_numpy(float) for i in range(out.shape[1])]
    assert len(columns) == len(kept) + len(indicated)
    for values, j in zip(columns, kept):
        assert values.shape == (len(X),)
        assert np.isfinite(values).all(), f"non-finite output in feature {j}"
        observed = ~mask[:, j]
        assert _same_bits(values[observed], X[observed, j].astype(values.dtype))
        if empty[j]:
            assert np.all(values[mask[:, j]] == 0)
    for values, j in zip(columns[len(kept) :], indicated):
        assert np.array_equal(values, mask[:, j])


# The dtype of each kind of numeric column in the output: floats keep theirs,
# integers become the float of their family (round_integers is off).
OUTPUT_DTYPES = {
    "float64": np.float64,
    "float32": np.float32,
    "Float64": pd.Float64Dtype(),
    "Int64": pd.Float64Dtype(),
    "int64": np.float64,
}


def _check_fit_and_transform(name, X_fit, mask_fit, X_new, mask_new, **options):
    """Fit on one input, transform another, and check both outputs.

    ``X_fit`` and ``X_new`` are arrays or DataFrames; ``options`` are
    ``keep_empty_features`` and ``add_indicator``.
    """
    frames = isinstance(X_fit, pd.DataFrame)
    dtypes = (
        [OUTPUT_DTYPES[str(d)] for d in X_fit.dtypes]
        if frames
        else [X_fit.dtype] * X_fit.shape[1]
    )
    empty = mask_fit.all(axis=0)
    expected = dict(
        empty=empty,
        keep_empty=options["keep_empty_features"],
        indicator=mask_fit.any(axis=0) if options["add_indicator"] else None,
        dtypes=dtypes,
    )
    copies = X_fit.copy(), X_new.copy()
    imputer = _make(name, **options)
    with _quiet():
        out_fit = imputer.fit_transform(X_fit)
        out_new = imputer.transform(X_new)
    numeric = [
        X.to_numpy(np.float64, na_value=np.nan) if frames else X for X in (X_fit, X_new)
    ]
    _assert_safe(
        out_fit, numeric[0], mask_fit, **expected, frame=X_fit if frames else None
    )
    _assert_safe(
        out_new, numeric[1], mask_new, **expected, frame=X_new if frames else None
    )
    for X, copy in zip((X_fit, X_new), copies):  # nothing modified in place
        if frames:
            pd.testing.assert_frame_equal(X, copy, check_exact=True)
        else:
            assert _same_bits(X, copy)
    return imputer, expected


def _values(draw, shape, *, integers=False, smallest=0.0):
    """Values of either sign, up to 1e3 in magnitude, zeros included.

    Above ``smallest`` in magnitude, unless 0: tiny values, 0 and huge ratios
    between entries are fair game, except where an exact comparison needs
    normal (not subnormal) numbers.
    """
    if integers:
        elements = st.integers(-1000, 1000)
    else:
        elements = st.floats(smallest, 1e3, width=32) | st.just(0.0)
    values = draw(
        hnp.arrays(np.int64 if integers else np.float64, shape, elements=elements)
    )
    return np.where(draw(hnp.arrays(bool, shape)), -values, values)


@st.composite
def _incomplete_arrays(draw, max_rows=10, max_cols=4):
    """Two arrays with the same columns, their masks, and imputer options.

    Random shape, dtype, masks (any missing rate, empty rows and columns
    included), constant columns (0 or not), and a magnitude from 1e-30 to 1e30
    per column.
    """
    n = draw(st.integers(1, max_rows))
    p = draw(st.integers(1, max_cols))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    exponents = draw(hnp.arrays(np.int64, p, elements=st.integers(-30, 30)))
    constant = draw(hnp.arrays(bool, p))
    constants = _values(draw, p)
    arrays = []
    for _ in range(2):
        values = np.where(constant, constants, _values(draw, (n, p)))
        mask = draw(hnp.arrays(bool, (n, p)))
        values = values * 10.0**exponents
        arrays += [np.where(mask, np.nan, values).astype(dtype), mask]
    options = dict(
        keep_empty_features=draw(st.booleans()), add_indicator=draw(st.booleans())
    )
    return *arrays, options


@st.composite
def _incomplete_frames(draw, max_rows=8, max_cols=4):
    """Two DataFrames with the same columns, their masks, and imputer options.

    Each column is float64, float32, nullable Float64 or Int64 (with pd.NA),
    or int64 (never missing); labels are strings or integers, and the index is
    a shuffled range, so that order and labels are checked.
    """
    n = draw(st.integers(1, max_rows))
    p = draw(st.integers(1, max_cols))
    kinds = draw(
        st.lists(
            st.sampled_from(["float64", "float32", "Float64", "Int64", "int64"]),
            min_size=p,
            max_size=p,
        )
    )
    labels = [f"c{j}" for j in range(p)] if draw(st.booleans()) else list(range(p))
    frames = []
    for _ in range(2):
        index = draw(st.permutations(range(100, 100 + n)))
        mask = draw(hnp.arrays(bool, (n, p)))
        mask[:, [k == "int64" for k in kinds]] = False
        columns = {}
        for j, kind in enumerate(kinds):
            values = _values(draw, n, integers=kind in ("Int64", "int64"))
            if kind in ("float64", "float32"):
                columns[labels[j]] = np.where(mask[:, j], np.nan, values).astype(kind)
            else:
                data = [None if m else v for v, m in zip(values.tolist(), mask[:, j])]
                columns[labels[j]] = pd.array(data, dtype=kind)
        frames += [pd.DataFrame(columns, index=index), mask]
    options = dict(
        keep_empty_features=draw(st.booleans()), add_indicator=draw(st.booleans())
    )
    return *frames, options


# -- the registry is covered --------------------------------------------------------
def test_every_registered_imputer_is_tested():
    assert set(TINY) == set(_IMPUTERS)


# -- invariants on random data --------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=_incomplete_arrays())
def test_invariants_on_random_arrays(name, data):
    X_fit, mask_fit, X_new, mask_new, options = data
    imputer, expected = _check_fit_and_transform(
        name, X_fit, mask_fit, X_new, mask_new, **options
    )
    if name in MIWAE_NAMES:  # the other outputs of MIWAE obey them too
        _check_miwae_outputs(imputer, X_new, mask_new, expected)


def _check_miwae_outputs(imputer, X, mask, expected):
    """``return_std``, ``sample`` and ``score_samples`` on one input."""
    empty = expected["empty"]
    kept = np.ones_like(empty) if expected["keep_empty"] else ~empty
    with _quiet():
        imputed, std = imputer.transform(X, return_std=True)
        draws = imputer.sample(X, n_imputations=2)
    assert _same_bits(imputed, imputer.transform(X))
    assert std.shape == (len(X), kept.sum()) and std.dtype == X.dtype
    assert np.isfinite(std).all() and np.all(std >= 0)
    assert np.all(std[~mask[:, kept]] == 0)
    for draw in draws:
        _assert_safe(draw, X, mask, **expected)
    scores = imputer.score_samples(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=_incomplete_frames())
def test_invariants_on_random_dataframes(name, data):
    _check_fit_and_transform(name, *data[:4], **data[4])


@st.composite
def _rescaled(draw, max_rows=10, max_cols=4):
    """An array, and a power of two per column from 2**-1000 to 2**1000.

    Nothing below 2**-10 but 0, so that the rescaled values stay normal numbers.
    """
    n = draw(st.integers(2, max_rows))
    p = draw(st.integers(1, max_cols))
    mask = draw(hnp.arrays(bool, (n, p)))
    exponents = draw(hnp.arrays(np.int64, p, elements=st.integers(-1000, 1000)))
    X = np.where(mask, np.nan, _values(draw, (n, p), smallest=2.0**-10))
    return X, np.ldexp(1.0, exponents)


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=_rescaled())
def test_columns_on_wildly_different_scales(name, data):
    """Rescaling a column by a power of two rescales its imputations exactly.

    Every method is invariant to the units of each feature (MIWAE, kNN and PCA
    standardise, forests split on order); a power of two changes no rounding,
    so the imputations of ``X * scale`` are those of ``X`` times ``scale`` bit
    for bit, from 1e-301 to 1e301: no overflow, underflow or absolute
    threshold. missForest runs one sweep: its stopping rule sums differences
    over all features in data units, as in the R package, so it depends on
    their relative scales. A feature whose observed values are all 0 has no
    scale: its imputations are 0, to rounding.
    """
    X, scale = data
    params = {"max_iter": 1} if name == "missforest" else {}
    with _quiet():
        reference = _make(name, **params).fit_transform(X)
        rescaled = _make(name, **params).fit_transform(X * scale)
    kept = ~np.isnan(X).all(axis=0)
    zero = (np.nan_to_num(X) == 0).all(axis=0)[kept]
    assert np.isfinite(rescaled).all()
    assert _same_bits(rescaled[:, ~zero], (reference * scale[kept])[:, ~zero])
    assert np.all(np.abs(rescaled[:, zero]) < 1e-12)


# -- explicit inputs ------------------------------------------------------------------
FRAME = pd.DataFrame(
    {
        "a": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
        "b": [0.5, np.nan, 1.5, 1.0, np.nan, 3.0],
        "c": [10.0, 30.0, 20.0, np.nan, 50.0, 40.0],
    },
    index=pd.Index([f"r{i}" for i in range(6)], name="id"),
)


@pytest.fixture(scope="module")
def fitted():
    """Every imputer, fitted on FRAME."""
    return {name: _make(name).fit(FRAME) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_inf_is_refused_with_its_columns(name, fitted):
    with pytest.raises(ValueError, match=r"infinity \(inf\) in column\(s\) \['b'\]"):
        _make(name).fit(FRAME.assign(b=FRAME["b"].replace(1.5, np.inf)))
    with pytest.raises(
        ValueError, match=r"infinity \(inf\) in column\(s\) \['a', 'c'\]"
    ):
        fitted[name].transform(FRAME.assign(a=-np.inf, c=np.inf))
    with pytest.raises(ValueError, match=r"infinity \(inf\) in column\(s\) \[2\]"):
        _make(name).fit(FRAME.to_numpy() * [1, 1, np.inf])


@pytest.mark.parametrize("name", NAMES)
def test_nan_is_refused_when_it_is_not_the_missing_marker(name):
    X = FRAME.fillna(-1.0).assign(c=FRAME["c"])
    with pytest.raises(ValueError, match=r"NaN in column\(s\) \['c'\].*missing_values"):
        _make(name, missing_values=-1.0).fit(X)


NON_NUMERIC = {
    "str": ["x", "y", "z", None, "x", "y"],
    "object": np.array([1.0, "2", 3.0, None, 5.0, 6.0], dtype=object),
    "datetime": pd.date_range("2024-01-01", periods=6),
    "timedelta": pd.to_timedelta(range(6), unit="s"),
    "category": pd.Categorical([1.0, 2.0, 1.0, None, 2.0, 1.0]),
    "bool": [True, False, True, False, True, True],
    "boolean": pd.array([True, None, False, True, True, False], dtype="boolean"),
    "string": pd.array(["x", None, "y", "z", "x", "y"], dtype="string"),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", sorted(set(NON_NUMERIC) - {"datetime", "timedelta"}))
def test_non_numeric_columns_are_refused_by_name(name, kind, fitted):
    bad = FRAME.assign(s=NON_NUMERIC[kind])
    with pytest.raises(TypeError, match=r"non-numeric column\(s\) \['s'\]"):
        _make(name, categorical_features=None).fit(bad)
    # A column numeric in fit is numeric in transform.
    with pytest.raises(TypeError, match=r"non-numeric column\(s\) \['b'\]"):
        fitted[name].transform(FRAME.assign(b=NON_NUMERIC[kind]))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["datetime", "timedelta"])
def test_dates_are_numbers_not_labels(name, kind):
    """Imputed as numbers (tests/test_temporal.py), never as levels."""
    frame = FRAME.assign(s=NON_NUMERIC[kind])
    frame.loc[3, "s"] = None
    with _quiet():
        imputer = _make(name).fit(frame)
        out = imputer.transform(frame)
    assert not imputer.is_categorical_[-1]
    assert out.dtypes.equals(frame.dtypes) and out["s"].notna().all()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "kind", sorted(set(NON_NUMERIC) - {"datetime", "timedelta", "object"})
)
def test_label_columns_are_categorical_from_their_dtype(name, kind):
    imputer = _make(name)
    frame = FRAME.assign(s=NON_NUMERIC[kind])
    if not imputer._categorical_support:
        with pytest.raises(TypeError, match=r"\['s'\] are categorical"):
            imputer.fit(frame)
        return
    with _quiet():
        out = imputer.fit_transform(frame)
    assert out.dtypes.equals(frame.dtypes)
    observed = frame["s"].notna()
    assert out["s"][observed].equals(frame["s"][observed])
    assert out["s"].notna().all()
    assert set(out["s"]) <= set(frame["s"].dropna())


@pytest.mark.parametrize("name", NAMES)
def test_non_numeric_arrays_are_refused_with_their_columns(name):
    mixed = [[1.0, "x", 2.0], [None, "y", 3.0]]
    with pytest.raises(TypeError, match=r"type\(s\) \['str'\] in column\(s\) \[1\]"):
        _make(name).fit(mixed)
    with pytest.raises(TypeError, match=r"type\(s\) \['dict'\] in column\(s\) \[0\]"):
        _make(name).fit(np.array([[{}, 1.0], [2.0, 3.0]], dtype=object))
    for array in (np.array([["1", "2"]]), np.array([[True, False]])):
        with pytest.raises(TypeError, match=f"dtype {array.dtype}"):
            _make(name).fit(array)


@pytest.mark.parametrize("name", NAMES)
def test_numbers_in_object_arrays_and_nullable_columns_are_accepted(name):
    objects = np.array([[1, None], [2.5, 3], [pd.NA, 4], [4, 5]], dtype=object)
    out = _make(name).fit_transform(objects)
    assert out.dtype == np.float64 and np.isfinite(out).all()
    assert _same_bits(out[[0, 1, 3], 0], np.array([1.0, 2.5, 4.0]))
    frame = pd.DataFrame(
        {
            "i": pd.array([1, None, 3, 4], dtype="Int64"),
            "f": pd.array([0.5, 1.5, None, 2.0], dtype="Float64"),
            "n": np.array([1, 2, 3, 4], dtype=np.int32),
        }
    )
    out = _make(name).fit_transform(frame)
    assert list(out.dtypes) == [pd.Float64Dtype()] * 2 + [np.float64]
    assert np.isfinite(out.to_numpy(float)).all()
    assert out.loc[[0, 2, 3], "i"].tolist() == [1.0, 3.0, 4.0]
    assert out["n"].tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("keep_empty_features", [False, True])
def test_empty_feature_follows_keep_empty_features(name, keep_empty_features):
    X = FRAME.assign(b=np.nan)
    imputer = _make(name, keep_empty_features=keep_empty_features, add_indicator=True)
    with pytest.warns(UserWarning, match=r"\['b'\] have no observed value"):
        imputer.fit(X)
    out = imputer.transform(X.assign(b=[np.nan, 7.0, np.nan, np.nan, np.nan, 8.0]))
    assert list(out.columns) == list(imputer.get_feature_names_out())
    assert np.isfinite(out.to_numpy()).all()
    if keep_empty_features:
        assert out["b"].tolist() == [0.0, 7.0, 0.0, 0.0, 0.0, 8.0]
    else:
        assert "b" not in out.columns and out.shape[1] == 2 + 3


@pytest.mark.parametrize("name", NAMES)
def test_every_feature_empty(name):
    X = np.full((3, 2), np.nan)
    with pytest.warns(UserWarning, match=r"\[0, 1\] have no observed value"):
        assert _make(name).fit_transform(X).shape == (3, 0)
    with pytest.warns(UserWarning, match="no observed value"):
        out = _make(name, keep_empty_features=True).fit(X).transform([[np.nan, 2.0]])
    assert out.tolist() == [[0.0, 2.0]]


def test_miwae_score_when_every_feature_is_empty():
    with pytest.warns(UserWarning, match="no observed value"):
        imputer = _make("miwae").fit(np.full((3, 2), np.nan))
    assert imputer.score_samples(np.full((3, 2), np.nan)).tolist() == [0.0] * 3


@pytest.mark.parametrize("name", NAMES)
def test_row_with_no_observed_value_is_imputed(name, fitted):
    X = FRAME.copy()
    X.iloc[[1, 4]] = np.nan
    out = fitted[name].transform(X)
    assert np.isfinite(out.to_numpy()).all()
    assert np.isfinite(_make(name).fit_transform(X).to_numpy()).all()


def test_miwae_imputes_a_row_with_no_observed_value_from_the_prior():
    """With nothing observed, E[x | x_o] is the prior predictive mean E[mu(z)]."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 3)) * [1.0, 10.0, 0.1]
    X[rng.random(X.shape) < 0.2] = np.nan
    imputer = _make("miwae", L=4000, max_iter=5, hidden_layer_sizes=(8,)).fit(X)
    imputed = imputer.transform(np.full((1, 3), np.nan))[0]
    with torch.no_grad():
        z = torch.randn(100_000, 2, generator=torch.Generator().manual_seed(0))
        model = imputer.model_
        prior_mean = model.likelihood.mean(model.decode(z)).double().mean(0).numpy()
    standardized = (imputed - imputer.mean_) / imputer.scale_
    np.testing.assert_allclose(standardized, prior_mean, atol=0.03)
    assert not np.allclose(standardized, 0.0, atol=0.03)  # not mean imputation


@pytest.mark.parametrize("name", NAMES)
def test_constant_and_single_value_columns_are_imputed_by_their_value(name):
    X = FRAME.assign(b=[np.nan, 1e-3, 1e-3, np.nan, 1e-3, 1e-3])
    X["c"] = [np.nan, np.nan, 5e6, np.nan, np.nan, np.nan]
    out = _make(name).fit_transform(X)
    np.testing.assert_allclose(out["b"], 1e-3, rtol=1e-6)
    np.testing.assert_allclose(out["c"], 5e6, rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("exponent", [30, 300])
def test_extreme_magnitudes_side_by_side(name, exponent):
    """Features of 1e30 and 1e-30 (or 1e300 and 1e-300), one with a huge offset."""
    rng = np.random.default_rng(0)
    big, small = 10.0**exponent, 10.0**-exponent
    X = rng.normal(size=(12, 4)) * [big, small, 1.0, big * 1e-10]
    X[:, 3] += big  # relative spread 1e-10
    X[rng.random(X.shape) < 0.25] = np.nan
    out = _make(name).fit_transform(X)
    missing = np.isnan(X)
    assert np.isfinite(out).all() and _same_bits(out[~missing], X[~missing])
    low, high = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    margin = 10 * (high - low)
    assert np.all((out >= low - margin) & (out <= high + margin))


@pytest.mark.parametrize("name", NAMES)
def test_far_out_of_range_value_at_transform(name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    X[rng.random(X.shape) < 0.2] = np.nan
    out = _make(name).fit(X).transform([[1e20, np.nan, 0.0]])
    assert np.isfinite(out).all()


# -- tiny shapes ----------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_one_row(name):
    X = np.array([[1.0, np.nan, 3.0]])
    with pytest.warns(UserWarning, match=r"\[1\] have no observed value"):
        imputer = _make(name).fit(X)
    out = imputer.transform([[np.nan, 5.0, np.nan], [2.0, np.nan, 4.0]])
    assert out.tolist() == [[1.0, 3.0], [2.0, 4.0]]


@pytest.mark.parametrize("name", NAMES)
def test_one_column(name):
    X = np.array([[1.0], [np.nan], [3.0], [4.0]])
    out = _make(name).fit_transform(X)
    assert out.shape == (4, 1) and np.isfinite(out).all()
    assert _same_bits(out[[0, 2, 3]], X[[0, 2, 3]])


def test_miwae_with_fewer_rows_than_a_batch():
    X = FRAME.to_numpy()
    imputer = _make("miwae", max_iter=3, batch_size=64).fit(X)
    assert imputer.n_iter_ == 3 and len(imputer.history_["train_bound"]) == 3
    assert np.isfinite(imputer.transform(X)).all()


@pytest.mark.parametrize("name", NAMES)
def test_complete_data_is_a_no_op(name, monkeypatch):
    complete = FRAME.fillna(1.0)
    imputer = _make(name).fit(complete)

    def fail(*args):
        raise AssertionError("nothing to impute, yet the imputer was called")

    monkeypatch.setattr(imputer, "_impute", fail)
    out = imputer.transform(complete)
    pd.testing.assert_frame_equal(out, complete, check_exact=True)
    array = complete.to_numpy(np.float32)
    out = imputer.transform(array)
    assert _same_bits(out, array) and not np.shares_memory(out, array)
    if name in MIWAE_NAMES:
        monkeypatch.setattr(imputer, "_posterior", fail)
        _, std = imputer.transform(array, return_std=True)
        assert not std.any()
        assert _same_bits(imputer.sample(array, n_imputations=1)[0], array)


# -- at transform ---------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_transform_checks_the_columns(name, fitted):
    imputer = fitted[name]
    with pytest.raises(ValueError, match="X has 2 features, but .* expecting 3"):
        imputer.transform(FRAME.to_numpy()[:, :2])
    with pytest.raises(ValueError, match="same order as they were in fit"):
        imputer.transform(FRAME[["c", "a", "b"]])
    with pytest.raises(ValueError, match=r"unseen at fit time:\n- z"):
        imputer.transform(FRAME.rename(columns={"b": "z"}))
    with pytest.raises(ValueError, match=r"yet now missing:\n- c"):
        imputer.transform(FRAME[["a", "b"]])


@pytest.mark.parametrize("name", NAMES)
def test_transform_names_a_dropped_column_before_a_categorical_one(name):
    # The categorical columns are read by position: a frame with a column
    # fewer used to be refused for its categorical column's dtype instead.
    frame = FRAME.assign(c=pd.Categorical(np.where(FRAME["a"] > 0, "x", "y")))
    imputer = make_imputer(name, **TINY.get(name, {}))
    if not imputer._categorical_support:
        pytest.skip(f"{name} refuses categorical columns at fit")
    imputer.fit(frame)
    with pytest.raises(ValueError, match=r"yet now missing:\n- b"):
        imputer.transform(frame[["a", "c"]])
    by_index = make_imputer(name, categorical_features=[2], **TINY.get(name, {}))
    by_index.fit(frame.to_numpy())
    with pytest.raises(ValueError, match="X has 2 features, but .* expecting 3"):
        by_index.transform(frame.to_numpy()[:, [0, 2]])


@pytest.mark.parametrize("name", NAMES)
def test_value_missing_at_transform_but_never_at_fit(name):
    complete = FRAME.fillna(2.0)
    imputer = _make(name, add_indicator=True).fit(complete)
    out = imputer.transform(FRAME)
    assert list(out.columns) == ["a", "b", "c"]  # no feature was missing at fit
    assert np.isfinite(out.to_numpy()).all()
    observed = FRAME.notna()
    assert out[observed].equals(FRAME[observed])


@pytest.mark.parametrize("name", NAMES)
def test_sparse_input_is_refused(name, fitted):
    X = sp.csr_matrix(FRAME.fillna(0.0).to_numpy())
    with pytest.raises(TypeError, match="Sparse data was passed"):
        _make(name).fit(X)
    with pytest.raises(TypeError, match="Sparse data was passed"):
        fitted[name].transform(X)


@pytest.mark.parametrize("name", NAMES)
def test_transform_before_fit(name):
    imputer = _make(name)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        imputer.transform(FRAME)
    if name in MIWAE_NAMES:
        for method in (imputer.sample, imputer.score_samples, imputer.score):
            with pytest.raises(NotFittedError, match="not fitted yet"):
                method(FRAME)


@pytest.mark.parametrize("name", NAMES)
def test_empty_input_is_refused(name, fitted):
    for X in (np.empty((0, 3)), FRAME.iloc[:0]):
        with pytest.raises(ValueError, match=r"0 sample\(s\)"):
            _make(name).fit(X)
        with pytest.raises(ValueError, match=r"0 sample\(s\)"):
            fitted[name].transform(X)
    for X in (np.empty((6, 0)), FRAME.iloc[:, :0]):
        with pytest.raises(ValueError, match=r"0 feature\(s\)"):
            _make(name).fit(X)


# -- the caller's data ----------------------------------------------------------------
def _buffers(X):
    """The arrays behind an array, or behind the float columns of a DataFrame."""
    if isinstance(X, pd.DataFrame):
        return [X[c].to_numpy() for c in X.columns if X[c].dtype.kind == "f"]
    return [X]


INPUTS = {
    "float64": FRAME.to_numpy(),
    "float32": FRAME.to_numpy(np.float32),
    "DataFrame": FRAME.astype({"a": np.float32}).assign(
        i=pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
        f=pd.array([0.5, None, 1.5, 2.5, 3.5, None], dtype="Float64"),
    ),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_inputs_are_never_modified_in_place(name, kind):
    X = INPUTS[kind]
    copy = X.copy()
    imputer = _make(name, add_indicator=True)
    outputs = [imputer.fit_transform(X), imputer.fit(X).transform(X)]
    if name in MIWAE_NAMES:
        outputs += [*imputer.transform(X, return_std=True), *imputer.sample(X, 2)]
        imputer.score(X)
    if kind == "DataFrame":
        pd.testing.assert_frame_equal(X, copy, check_exact=True)
    else:
        assert _same_bits(X, copy)
    for out in outputs:  # writing into an output cannot change the input either
        for a in _buffers(out):
            assert not any(np.shares_memory(a, b) for b in _buffers(X))


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_imputations_are_refused(name, fitted, monkeypatch):
    imputer = fitted[name]
    monkeypatch.setattr(
        imputer,
        "_impute",
        lambda X, mask: np.where([True, False, False], np.nan, np.nan_to_num(X)),
    )
    with pytest.raises(FloatingPointError, match=r"NaN, infinite.*\['a'\]"):
        imputer.transform(FRAME)
    monkeypatch.setattr(imputer, "_impute", lambda X, mask: np.full(X.shape, 1e39))
    with pytest.raises(FloatingPointError, match=r"float32.*\['b'\]"):
        imputer.transform(FRAME.astype({"b": np.float32}).fillna({"a": 0, "c": 0}))


# -- categorical columns ----------------------------------------------------------
LEVELS = ["a", "b", "c"]


def _label_column(kind, values):
    """A column of ``kind`` holding ``values`` (labels or None)."""
    if kind == "category":
        return pd.Categorical(values, categories=[*LEVELS, "zz", "never"])
    if kind == "boolean":
        return pd.array([None if v is None else v != "a" for v in values], "boolean")
    if kind == "string":
        return pd.array(values, dtype="string")
    return np.array(values, dtype=object)


@st.composite
def _mixed_frames(draw, max_rows=8, max_cols=4):
    """Two DataFrames with numeric and label columns, and their masks.

    Label columns are ``category``, ``object``, ``string`` or nullable
    ``boolean``; the second frame may hold a level unseen in the first.
    """
    n = draw(st.integers(1, max_rows))
    p = draw(st.integers(1, max_cols))
    kinds = draw(
        st.lists(
            st.sampled_from(["float64", "category", "object", "string", "boolean"]),
            min_size=p,
            max_size=p,
        )
    )
    frames = []
    for new in (False, True):
        mask = draw(hnp.arrays(bool, (n, p)))
        levels = [*LEVELS, "zz"] if new else LEVELS
        columns = {}
        for j, kind in enumerate(kinds):
            if kind == "float64":
                values = _values(draw, n)
                columns[f"c{j}"] = np.where(mask[:, j], np.nan, values)
            else:
                labels = draw(st.lists(st.sampled_from(levels), min_size=n, max_size=n))
                labels = [None if m else v for v, m in zip(labels, mask[:, j])]
                columns[f"c{j}"] = _label_column(kind, labels)
        frames += [pd.DataFrame(columns, index=range(200, 200 + n)), mask]
    return frames


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=_mixed_frames())
def test_invariants_on_random_mixed_frames(name, data):
    """Observed cells unchanged, dtypes kept, no level invented, unseen ones kept."""
    X_fit, mask_fit, X_new, mask_new = data
    copies = X_fit.copy(), X_new.copy()
    imputer = _make(name)
    categorical = [c for c in X_fit if X_fit[c].dtype != np.float64]
    if categorical and not imputer._categorical_support:
        with pytest.raises(TypeError, match="categorical"):
            imputer.fit(X_fit)
        return
    with _quiet():
        out_fit = imputer.fit_transform(X_fit)
        out_new = imputer.transform(X_new)
    kept = ~mask_fit.all(axis=0)
    seen = {c: set(X_fit[c].dropna()) for c in categorical}
    for X, mask, out in ((X_fit, mask_fit, out_fit), (X_new, mask_new, out_new)):
        assert out.index.equals(X.index)
        assert list(out.columns) == list(X.columns[kept])
        assert out.dtypes.equals(X.dtypes[kept])
        for j in np.flatnonzero(kept):
            column, observed = X.columns[j], ~mask[:, j]
            values, given = out[column].to_numpy(object), X[column].to_numpy(object)
            assert all(v is not None and v == v for v in values), column  # no NaN
            assert list(values[observed]) == list(given[observed]), column
            if column in seen:
                assert set(values[~observed]) <= seen[column], column
    for X, copy in zip((X_fit, X_new), copies):  # nothing modified in place
        pd.testing.assert_frame_equal(X, copy, check_exact=True)


@pytest.mark.parametrize("name", NAMES)
def test_empty_categorical_column_cannot_be_kept(name):
    imputer = _make(name, keep_empty_features=True)
    frame = FRAME.assign(s=pd.Categorical([None] * 6, categories=["x"]))
    error = ValueError if imputer._categorical_support else TypeError
    with pytest.raises(error, match=r"\['s'\]"):
        imputer.fit(frame)
