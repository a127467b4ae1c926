"""scikit-learn's estimator checks for the baseline imputers."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from miwae_impute import (
    FactorAnalysisImputer,
    MeanImputer,
    MissForestImputer,
    NearestNeighborsImputer,
    PCAImputer,
    StackingImputer,
)

# Cheap instances: "auto" modes on, so that their hold-out search runs too.
BASELINES = [
    MeanImputer(),
    NearestNeighborsImputer(n_neighbors_grid=(1, 3), random_state=0),
    PCAImputer(n_components_grid=(0, 1, 2), max_iter=50, random_state=0),
    FactorAnalysisImputer(n_components_grid=(0, 1, 2), max_iter=50, random_state=0),
    FactorAnalysisImputer(n_components=2, noise="isotropic", max_iter=50),
    MissForestImputer(n_estimators=3, max_iter=3, random_state=0),
    # Not a baseline, but built on them: the same contract.
    StackingImputer([MeanImputer(), PCAImputer(max_iter=50)], random_state=0),
]


@parametrize_with_checks(BASELINES)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", BASELINES, ids=lambda est: type(est).__name__)
@pytest.mark.parametrize(
    "check",
    [
        check_set_output_transform,
        check_set_output_transform_pandas,
        check_global_output_transform_pandas,
        check_transformer_get_feature_names_out,
        check_transformer_get_feature_names_out_pandas,
    ],
)
def test_set_output_and_feature_name_checks(estimator, check):
    check(type(estimator).__name__, estimator)


def _data_with_missing(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, 4)) * [1.0, 10.0, 1e-3, 1e4]
    X += rng.normal(scale=0.1, size=X.shape)
    mask = rng.random(X.shape) < 0.25
    return X, np.where(mask, np.nan, X), mask


@pytest.mark.parametrize("estimator", BASELINES, ids=lambda est: type(est).__name__)
def test_observed_entries_kept_bit_for_bit_and_no_nan(estimator):
    X, X_missing, mask = _data_with_missing(0)
    X_new, X_new_missing, new_mask = _data_with_missing(1, n=20)
    X_fit = clone(estimator).fit_transform(X_missing)
    X_transformed = clone(estimator).fit(X_missing).transform(X_new_missing)
    for X_out, X_obs, m in [(X_fit, X, mask), (X_transformed, X_new, new_mask)]:
        assert not np.isnan(X_out).any()
        assert np.array_equal(X_out[~m], X_obs[~m])
        assert not np.array_equal(X_out[m], np.zeros(m.sum()))


@pytest.mark.parametrize("estimator", BASELINES, ids=lambda est: type(est).__name__)
def test_dataframe_in_dataframe_out(estimator):
    _, X_missing, _ = _data_with_missing(0)
    df = pd.DataFrame(
        X_missing,
        columns=["w", "x", "y", "z"],
        index=pd.RangeIndex(100, 100 + len(X_missing), name="row"),
    )
    for out in (
        clone(estimator).fit_transform(df),
        clone(estimator).fit(df).transform(df.iloc[::2]),
    ):
        assert isinstance(out, pd.DataFrame)
        assert list(out.columns) == ["w", "x", "y", "z"]
        assert out.index.equals(df.index if len(out) == len(df) else df.index[::2])
        assert not out.isna().any().any()


@pytest.mark.parametrize("estimator", BASELINES, ids=lambda est: type(est).__name__)
def test_missing_values_placeholder(estimator):
    # The placeholder is never read as a value: -1 gives the same as np.nan.
    _, X_missing, mask = _data_with_missing(0)
    X_placeholder = np.where(mask, -1.0, X_missing)
    expected = clone(estimator).fit_transform(X_missing)
    got = clone(estimator).set_params(missing_values=-1).fit_transform(X_placeholder)
    assert_allclose(got, expected)
