import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from miwae_impute import MeanImputer, MissForestImputer, imputation_mse


def _nonlinear(seed=0, n=200, missing=0.2):
    """Features that are nonlinear, non-monotone functions of one another."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=n)
    X = np.column_stack([x, x**2, np.sin(2 * x), np.abs(x), np.cos(3 * x)])
    X += rng.normal(scale=0.05, size=X.shape)
    mask = rng.random(X.shape) < missing
    return X, np.where(mask, np.nan, X), mask


def _forest(**params):
    return MissForestImputer(n_estimators=10, random_state=0, **params)


def test_beats_mean_imputation_on_nonlinear_data():
    X, X_missing, mask = _nonlinear()
    mean_mse = imputation_mse(X, MeanImputer().fit_transform(X_missing), mask)
    forest_mse = imputation_mse(X, _forest().fit_transform(X_missing), mask)
    assert forest_mse < 0.3 * mean_mse


def test_stops_when_the_difference_increases_and_returns_the_previous_iterate():
    _, X_missing, _ = _nonlinear(1)
    imputer = _forest(max_iter=10)
    X_imputed = imputer.fit_transform(X_missing)
    assert 2 <= imputer.n_iter_ < 10
    assert len(imputer.history_) == imputer.n_iter_
    assert imputer.history_[-1] >= imputer.history_[-2]
    assert np.all(np.diff(imputer.history_[:-1]) < 0)
    # The same forests, stopped one sweep earlier, give the returned iterate.
    previous = _forest(max_iter=imputer.n_iter_ - 1).fit_transform(X_missing)
    assert_array_equal(X_imputed, previous)


def test_max_iter_returns_the_last_iterate():
    _, X_missing, _ = _nonlinear(2)
    imputer = _forest(max_iter=1).fit(X_missing)
    assert imputer.n_iter_ == 1
    assert len(imputer.history_) == 1


def test_transform_imputes_new_rows_with_the_fitted_forests():
    X, X_missing, mask = _nonlinear(3, n=300)
    imputer = _forest().fit(X_missing[:200])
    X_new = imputer.transform(X_missing[200:])
    mean_new = MeanImputer().fit(X_missing[:200]).transform(X_missing[200:])
    new_mse = imputation_mse(X[200:], X_new, mask[200:])
    assert new_mse < 0.3 * imputation_mse(X[200:], mean_new, mask[200:])
    assert all(forest is not None for forest in imputer.estimators_)


def test_features_complete_at_fit_get_a_forest_too():
    X, X_missing, _ = _nonlinear(4)
    X_missing[:, 1] = X[:, 1]  # x**2 complete at fit
    imputer = _forest().fit(X_missing)
    X_new = X[:20].copy()
    X_new[:, 1] = np.nan
    error = np.abs(imputer.transform(X_new)[:, 1] - X[:20, 1]).mean()
    assert error < 0.3 * np.abs(X[:20, 1] - X[:, 1].mean()).mean()


def test_visits_features_in_increasing_missingness():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 3))
    X[:20, 0] = np.nan
    X[:5, 1] = np.nan
    X[:10, 2] = np.nan
    assert_array_equal(_forest().fit(X).imputation_order_, [1, 2, 0])


def test_single_feature_is_mean_imputed():
    X = np.array([[1.0], [np.nan], [3.0], [5.0]])
    imputer = _forest().fit(X)
    assert imputer.estimators_ == [None]
    assert_array_equal(imputer.fit_transform(X), [[1.0], [3.0], [3.0], [5.0]])


def test_reproducible_with_random_state():
    _, X_missing, _ = _nonlinear(6, n=80)
    assert_array_equal(
        _forest().fit_transform(X_missing), _forest().fit_transform(X_missing)
    )


def test_float32_frame_with_a_tiny_value_transforms_large_ones():
    # A feature of unit 2**-126 sees 4.0 as 2**128, beyond float32: the
    # forests' predictors are clipped to the float32 range.
    X = pd.DataFrame(np.zeros((8, 2), np.float32), index=range(100, 108))
    X.iloc[0, 0] = np.float32(1.175494e-38)
    X_new = pd.DataFrame(np.full((8, 2), np.nan, np.float32), index=X.index)
    X_new.iloc[0, 0] = 4.0
    imputer = MissForestImputer(n_estimators=3, max_iter=2, random_state=0).fit(X)
    out = imputer.transform(X_new)
    assert (out.dtypes == np.float32).all()
    assert out.iloc[0, 0] == 4.0
    assert np.isfinite(out.to_numpy()).all()


def _mixed(seed=0, n=200, missing=0.2):
    """Numeric features of a latent, its sign and its tercile as categories."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    full = pd.DataFrame(
        {
            "a": z + 0.1 * rng.normal(size=n),
            "sign": np.where(z > 0, "pos", "neg").astype(object),
            "b": z**2 + 0.1 * rng.normal(size=n),
            "level": pd.Categorical(np.digitize(z, [-0.43, 0.43])),
        }
    )
    hide = rng.random(full.shape) < missing
    return full, full.mask(hide), hide


def test_categorical_features_get_classifiers_and_start_at_the_mode():
    _, frame, _ = _mixed()
    imputer = _forest(max_iter=1).fit(frame)
    assert [type(f).__name__ for f in imputer.estimators_] == [
        "RandomForestRegressor",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "RandomForestClassifier",
    ]
    sign = frame["sign"].dropna()
    assert imputer.mean_[1] == list(imputer.categories_[1]).index(sign.mode()[0])


def test_stops_when_both_differences_increase():
    _, frame, hide = _mixed(1)
    imputer = _forest(max_iter=20).fit(frame)
    numeric, categorical = imputer.history_, imputer.history_categorical_
    assert len(numeric) == len(categorical) == imputer.n_iter_
    # Every sweep but the last decreased one of them, the last neither.
    for i in range(1, imputer.n_iter_ - 1):
        assert numeric[i] < numeric[i - 1] or categorical[i] < categorical[i - 1]
    if imputer.n_iter_ < 20:
        assert numeric[-1] >= numeric[-2] and categorical[-1] >= categorical[-2]
    # The categorical difference is a share of the missing categorical cells.
    changed = categorical[0] * hide[:, [1, 3]].sum()
    assert 0 < categorical[0] <= 1 and changed == pytest.approx(round(changed))


def test_numeric_tables_have_no_categorical_difference():
    _, X_missing, _ = _nonlinear(7, n=60)
    imputer = _forest().fit(X_missing)
    assert imputer.history_categorical_ == [0.0] * imputer.n_iter_
