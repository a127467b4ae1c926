import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.impute import KNNImputer
from sklearn.metrics.pairwise import nan_euclidean_distances

from miwae_impute import NearestNeighborsImputer


def _data(seed=0, n=80, missing=0.2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, 4)) + rng.normal(
        scale=0.3, size=(n, 4)
    )
    mask = rng.random(X.shape) < missing
    return X, np.where(mask, np.nan, X)


def test_fixed_k_is_knn_imputation_of_standardised_data():
    _, X_missing = _data()
    mean = np.nanmean(X_missing, axis=0)
    scale = np.nanstd(X_missing, axis=0)
    expected = KNNImputer(n_neighbors=4).fit_transform((X_missing - mean) / scale)
    imputer = NearestNeighborsImputer(n_neighbors=4).fit(X_missing)
    assert imputer.n_neighbors_ == 4
    assert imputer.holdout_errors_ == {}
    assert_allclose(imputer.transform(X_missing), expected * scale + mean)


def test_distances_do_not_depend_on_units():
    _, X_missing = _data()
    units = np.array([1.0, 1e3, 1e-3, 1e6])
    imputed = NearestNeighborsImputer(n_neighbors=3).fit_transform(X_missing)
    rescaled = NearestNeighborsImputer(n_neighbors=3).fit_transform(X_missing * units)
    assert_allclose(rescaled / units, imputed)


def test_auto_chooses_k_by_masked_error():
    _, X_missing = _data(1)
    imputer = NearestNeighborsImputer(random_state=0).fit(X_missing)
    errors = imputer.holdout_errors_
    assert sorted(errors) == [1, 2, 5, 10, 20, 50]
    assert imputer.n_neighbors_ == min(errors, key=errors.get)
    assert imputer.imputer_.n_neighbors == imputer.n_neighbors_


def test_auto_adapts_k_to_the_data():
    rng = np.random.default_rng(2)
    # Exact twins: the nearest row is the best donor, k=1 wins.
    twins = np.repeat(rng.normal(size=(60, 4)), 2, axis=0)
    twins[rng.random(twins.shape) < 0.1] = np.nan
    assert NearestNeighborsImputer(random_state=0).fit(twins).n_neighbors_ == 1
    # Pure noise around a linear trend: averaging many neighbours wins.
    _, noisy = _data(3, n=200)
    noisy += rng.normal(scale=2.0, size=noisy.shape)
    assert NearestNeighborsImputer(random_state=0).fit(noisy).n_neighbors_ >= 10


def test_auto_is_reproducible():
    _, X_missing = _data(4)
    first = NearestNeighborsImputer(random_state=5).fit(X_missing)
    again = NearestNeighborsImputer(random_state=5).fit(X_missing)
    assert first.holdout_errors_ == again.holdout_errors_


@pytest.mark.parametrize("grid", [[], [0, 3], [2.5], ["a"]])
def test_invalid_grid(grid):
    _, X_missing = _data()
    with pytest.raises(ValueError, match="n_neighbors_grid must be"):
        NearestNeighborsImputer(n_neighbors_grid=grid).fit(X_missing)


def test_categorical_feature_is_one_hot_with_a_mismatch_worth_one_sd():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=30), rng.integers(0, 3, 30), np.zeros(30)])
    X[:2, 0], X[:2, 1] = 0.5, [0, 2]  # rows 0 and 1 differ by their level only
    X[2:, 2] = np.nan
    imputer = NearestNeighborsImputer(n_neighbors=3, categorical_features=[1])
    wide = imputer.fit(X).imputer_._fit_X
    assert wide.shape == (30, 5)  # x, 3 level indicators, the constant
    assert_allclose(nan_euclidean_distances(wide[:1], wide[1:2]), [[1.0]])
    # x is standardised: a difference of 1 there is one standard deviation.
    wide_x = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    assert_allclose(wide[:, 0], wide_x)


def test_categorical_entries_get_the_majority_level_of_the_neighbours():
    rng = np.random.default_rng(0)
    z = np.repeat([-3.0, 0.0, 3.0], 20) + 0.1 * rng.normal(size=60)
    # In each cluster 3 rows in 4 hold level 2, 3 and 4 (codes 0, 1, 2).
    level = np.where(np.arange(60) % 4 == 0, 9, np.repeat([2, 3, 4], 20))
    X = np.column_stack([z, level.astype(float)])
    X[::5, 1] = np.nan
    imputer = NearestNeighborsImputer(n_neighbors=10, categorical_features=[1])
    out = imputer.fit_transform(X)
    np.testing.assert_array_equal(out[::5, 1], np.repeat([2, 3, 4], 4))
    assert imputer.mean_[1] == 0 and imputer.scale_[1] == 1


def test_ties_go_to_the_first_level():
    X = np.array([[0.0, 1.0], [0.0, 0.0], [0.0, np.nan]])
    out = NearestNeighborsImputer(n_neighbors=2, categorical_features=[1])
    assert out.fit_transform(X)[2, 1] == 0.0
