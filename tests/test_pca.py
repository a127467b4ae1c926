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
    imputer = PCAImputer(n_components=3, tol=1e-10, max_iter=5000)
    X_imputed = imputer.fit_transform(X_missing)
    assert np.abs(X_imputed - X).max() < 1e-6
    assert imputer.n_iter_ < imputer.max_iter
    assert imputer.noise_variance_ < 1e-12
    # The fitted model reaches the same fixed point from mean imputation.
    assert np.abs(imputer.transform(X_missing) - X).max() < 1e-6


def test_default_stopping_rule_recovers_a_low_rank_matrix():
    """The default tol stops near the fixed point, not merely where the
    iterations slow down: on an exactly rank-3 matrix with 30% missing, a
    rule on the last change alone left an entry off by 0.88."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 12))
    mask = rng.random(X.shape) < 0.3
    X_missing = np.where(mask, np.nan, X)
    imputer = PCAImputer(n_components=3)
    X_imputed = imputer.fit_transform(X_missing)
    rows = (~mask).sum(axis=1) >= 5
    error = np.abs(X_imputed - X)[rows] / X.std(axis=0)
    assert error.max() < 1e-2
    assert imputer.n_iter_ < imputer.max_iter
    error = np.abs(imputer.transform(X_missing) - X)[rows] / X.std(axis=0)
    assert error.max() < 1e-2


def test_transform_new_rows_with_fitted_loadings():
    X, X_missing, _ = _low_rank(1, n=300)
    imputer = PCAImputer(n_components=3, tol=1e-10, max_iter=5000)
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


def _mixed(seed=0, n=200, missing=0.2):
    """Two numeric features of a latent, and its sign as a 2-level category."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    X = np.column_stack(
        [z + 0.1 * rng.normal(size=n), (z > 0) + 5.0, -z + 0.1 * rng.normal(size=n)]
    )
    mask = rng.random(X.shape) < missing
    return X, np.where(mask, np.nan, X), mask


def test_categorical_feature_is_scaled_as_in_famd():
    _, X_missing, _ = _mixed()
    imputer = PCAImputer(n_components=1, categorical_features=[1]).fit(X_missing)
    assert imputer.components_.shape == (1, 4)  # x, 2 level indicators, y
    proportions = imputer.mean_[1:3]
    assert_allclose(proportions.sum(), 1.0)
    assert_allclose(imputer.scale_[1:3], np.sqrt(proportions))
    # 2 numeric features and a 2-level one: 3 dimensions, rank at most 2.
    assert (
        PCAImputer(n_components=5, categorical_features=[1])
        .fit(X_missing)
        .n_components_
        == 2
    )


def test_categorical_entries_get_the_largest_reconstructed_indicator():
    X, X_missing, mask = _mixed(1)
    out = PCAImputer(n_components=1, categorical_features=[1]).fit_transform(X_missing)
    assert set(np.unique(out[:, 1])) == {5.0, 6.0}
    assert np.mean(out[mask[:, 1], 1] != X[mask[:, 1], 1]) < 0.15
    # Rank 0 imputes the most frequent level.
    mode = PCAImputer(n_components=0, categorical_features=[1]).fit_transform(X_missing)
    assert_allclose(
        mode, MeanImputer(categorical_features=[1]).fit_transform(X_missing)
    )


def test_auto_counts_wrong_levels_on_held_out_categorical_entries():
    _, X_missing, _ = _mixed(2)
    imputer = PCAImputer(categorical_features=[1], random_state=0).fit(X_missing)
    assert sorted(imputer.holdout_errors_) == [0, 1, 2]
    assert imputer.n_components_ >= 1


def test_transform_extrapolates_at_most_one_range_beyond_the_training_data():
    """A new row observed far outside the training range: the linear fit
    would send its imputations to any magnitude (past the largest float32,
    in a case hypothesis found), and they stop one range beyond the data."""
    rng = np.random.default_rng(0)
    t = rng.normal(size=200)
    X = np.column_stack([t, 2 * t, -t]) + 0.01 * rng.normal(size=(200, 3))
    imputer = PCAImputer(n_components=1).fit(X.astype(np.float32))
    low, high = X.min(axis=0), X.max(axis=0)
    X_new = np.array([[1e6, np.nan, np.nan], [0.5, np.nan, np.nan]], np.float32)
    X_imputed = imputer.transform(X_new)
    width = high - low
    assert_allclose(X_imputed[0, 1:], [high[1] + width[1], low[2] - width[2]], 1e-5)
    # Within the range, the linear fit is untouched.
    assert_allclose(X_imputed[1, 1:], [1.0, -0.5], atol=0.02)
    assert_allclose(imputer.data_min_, low, 1e-6)
    assert_allclose(imputer.data_max_, high, 1e-6)
