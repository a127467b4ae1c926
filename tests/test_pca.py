import numpy as np
import pytest
from numpy.testing import assert_allclose

from miwae_impute import MeanImputer, PCAImputer


def _low_rank(seed, n=200, p=20, rank=3, noise=0.0, missing=0.3):
    rng = np.random.default_rng(seed)
    loadings = rng.normal(size=(rank, p))
    loadings /= np.linalg.norm(loadings, axis=0)  # same signal in every feature
    X = rng.normal(size=(n, rank)) @ loadings * rng.uniform(1, 50, size=p) + 5.0
    X += noise * X.std(axis=0) * rng.normal(size=X.shape)
    mask = rng.random(X.shape) < missing
    return X, np.where(mask, np.nan, X), mask


def test_recovers_exactly_low_rank_matrix():
    X, X_missing, mask = _low_rank(0)
    assert (~mask).sum(axis=1).min() >= 3  # every row identifies its 3 scores
    imputer = PCAImputer(n_components=3, tol=1e-24, max_iter=5000)
    X_imputed = imputer.fit_transform(X_missing)
    assert np.abs(X_imputed - X).max() < 1e-6
    assert imputer.n_iter_ < imputer.max_iter
    assert imputer.noise_variance_ < 1e-12
    # The fitted model reaches the same fixed point from mean imputation.
    assert np.abs(imputer.transform(X_missing) - X).max() < 1e-6


def test_transform_new_rows_with_fitted_loadings():
    X, X_missing, _ = _low_rank(1, n=300)
    imputer = PCAImputer(n_components=3, tol=1e-24, max_iter=5000)
    imputer.fit(X_missing[:200])
    X_new = imputer.transform(X_missing[200:])
    assert np.abs(X_new - X[200:]).max() < 1e-6


def test_auto_picks_the_true_rank():
    X, X_missing, _ = _low_rank(2, n=200, noise=0.2, missing=0.2)
    imputer = PCAImputer(n_components_grid=range(7), random_state=0).fit(X_missing)
    assert imputer.n_components_ == 3
    assert sorted(imputer.holdout_errors_) == list(range(7))
    assert min(imputer.holdout_errors_, key=imputer.holdout_errors_.get) == 3
    assert imputer.components_.shape == (3, 20)


def test_regularisation_shrinks_noisy_components():
    X, X_missing, mask = _low_rank(3, noise=0.3, missing=0.3)
    imputer = PCAImputer(n_components=3).fit(X_missing)
    shrinkage = (
        imputer.explained_variance_ - imputer.noise_variance_
    ) / imputer.explained_variance_
    assert imputer.noise_variance_ > 0
    assert np.all((shrinkage > 0) & (shrinkage < 1))
    X_imputed = PCAImputer(n_components=3).fit_transform(X_missing)
    mean_error = np.mean((MeanImputer().fit_transform(X_missing) - X)[mask] ** 2)
    assert np.mean((X_imputed - X)[mask] ** 2) < 0.3 * mean_error


def test_rank_zero_is_mean_imputation():
    _, X_missing, _ = _low_rank(4)
    assert_allclose(
        PCAImputer(n_components=0).fit_transform(X_missing),
        MeanImputer().fit_transform(X_missing),
    )


def test_rank_is_capped():
    _, X_missing, _ = _low_rank(5, n=30, p=4, rank=2)
    assert PCAImputer(n_components=10).fit(X_missing).n_components_ == 3
    auto = PCAImputer(n_components_grid=[1, 8, 9], random_state=0).fit(X_missing)
    assert sorted(auto.holdout_errors_) == [1, 3]


def test_auto_is_reproducible():
    _, X_missing, _ = _low_rank(6, noise=0.3)
    first = PCAImputer(n_components_grid=range(5), random_state=3).fit(X_missing)
    again = PCAImputer(n_components_grid=range(5), random_state=3).fit(X_missing)
    assert first.holdout_errors_ == again.holdout_errors_


@pytest.mark.parametrize("grid", [[], [-1, 2], [1.5]])
def test_invalid_grid(grid):
    _, X_missing, _ = _low_rank(7, n=30)
    with pytest.raises(ValueError, match="n_components_grid must be"):
        PCAImputer(n_components_grid=grid).fit(X_missing)
