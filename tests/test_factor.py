"""FactorAnalysisImputer: EM for factor analysis and PPCA with missing cells."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from scipy.stats import multivariate_normal

from miwae_impute import FactorAnalysisImputer, PCAImputer
from miwae_impute._factor import _ladder, _posterior_z
from miwae_impute._gaussian import conditional_mean


def _low_rank(n=300, p=6, q=2, noise=0.3, rate=0.25, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(p, q))
    X = rng.normal(size=(n, q)) @ W.T + noise * rng.normal(size=(n, p)) + 3.0
    mask = rng.random(X.shape) < rate
    mask[mask.all(axis=1), 0] = False  # every row keeps a cell
    return X, np.where(mask, np.nan, X), mask, W


def _covariance(imputer):
    """The model's covariance, in data units."""
    W = imputer.components_.T * imputer.scale_[:, None]
    return W @ W.T + np.diag(imputer.noise_variance_ * imputer.scale_**2)


@pytest.mark.parametrize("noise", ["isotropic", "diagonal"])
def test_em_never_lowers_the_observed_likelihood(noise):
    _, X_missing, _, _ = _low_rank()
    imputer = FactorAnalysisImputer(n_components=2, noise=noise, tol=0.0, max_iter=60)
    trace = np.array(imputer.fit(X_missing).log_likelihood_)
    assert imputer.n_iter_ == 60
    assert np.all(np.diff(trace) >= -1e-10)
    assert trace[-1] > trace[0] + 0.1


def test_complete_data_reach_tipping_and_bishops_closed_form():
    # Without missing cells the maximum-likelihood PPCA is known: the top q
    # eigenvectors of the sample covariance, sigma^2 the mean of the others.
    X, _, _, _ = _low_rank()
    imputer = FactorAnalysisImputer(
        n_components=2, noise="isotropic", tol=1e-12, max_iter=5000
    ).fit(X)
    Z = (X - X.mean(0)) / X.std(0)  # the model's noise is isotropic there
    S = np.cov(Z, rowvar=False, bias=True)
    eigenvalues, vectors = np.linalg.eigh(S)
    top, rest = vectors[:, -2:], eigenvalues[:-2]
    sigma2 = rest.mean()
    expected = top @ np.diag(eigenvalues[-2:] - sigma2) @ top.T + sigma2 * np.eye(6)
    assert_allclose(imputer.mean_, X.mean(0), atol=1e-8)
    assert_allclose(imputer.scale_, X.std(0), rtol=1e-12)
    W = imputer.components_.T
    assert_allclose(W @ W.T + np.diag(imputer.noise_variance_), expected, atol=1e-5)
    assert_allclose(imputer.noise_variance_, sigma2, rtol=1e-5)


def test_log_likelihood_of_the_observed_cells_matches_scipy():
    rng = np.random.default_rng(1)
    p, q = 5, 2
    mu, W = rng.normal(size=p), rng.normal(size=(p, q))
    psi = rng.uniform(0.2, 1.0, size=p)
    X = rng.normal(size=(8, p))
    observed = (rng.random((8, p)) < 0.6).astype(float)
    observed[:, 0] = 1.0
    _, _, log_px = _posterior_z(X, observed, mu, W, psi)
    C = W @ W.T + np.diag(psi)
    expected = [
        multivariate_normal(mu[o], C[np.ix_(o, o)]).logpdf(row[o])
        for row, o in zip(X, observed.astype(bool))
    ]
    assert_allclose(log_px, expected, rtol=1e-10)


@pytest.mark.parametrize("noise", ["isotropic", "diagonal"])
def test_imputation_is_the_gaussian_conditional_mean(noise):
    # E[x_m | x_o] under N(mu, W W^T + Psi), computed the long way.
    _, X_missing, mask, _ = _low_rank(seed=2)
    imputer = FactorAnalysisImputer(n_components=2, noise=noise).fit(X_missing)
    expected = conditional_mean(
        torch.from_numpy(np.nan_to_num(X_missing)),
        torch.from_numpy((~mask).astype(np.float64)),
        torch.from_numpy(imputer.mean_),
        torch.from_numpy(_covariance(imputer)),
    ).numpy()
    assert_allclose(imputer.transform(X_missing), expected, rtol=1e-8, atol=1e-8)


def test_recovers_a_low_rank_table_better_than_iterative_pca():
    X, X_missing, mask, _ = _low_rank(n=400, p=8, q=2, noise=0.3, rate=0.4, seed=3)
    fa = FactorAnalysisImputer(random_state=0).fit(X_missing)
    pca = PCAImputer(random_state=0).fit(X_missing)
    mse_fa = np.mean((fa.transform(X_missing)[mask] - X[mask]) ** 2)
    mse_pca = np.mean((pca.transform(X_missing)[mask] - X[mask]) ** 2)
    mse_mean = np.mean((np.nanmean(X_missing, axis=0) - X)[mask] ** 2)
    assert fa.n_components_ >= 2
    assert mse_fa < mse_pca
    assert mse_fa < 0.2 * mse_mean


def test_factor_analysis_fits_unequal_noise():
    # Columns with unequal noise: the diagonal model finds it, PPCA cannot.
    X, X_missing, _, _ = _low_rank(n=2000, p=5, q=1, noise=0.0, seed=4)
    rng = np.random.default_rng(4)
    noise_sd = np.array([0.5, 0.5, 1.0, 1.0, 2.0])
    X_missing = X_missing + noise_sd * rng.normal(size=X.shape)
    fa = FactorAnalysisImputer(n_components=1, noise="diagonal").fit(X_missing)
    ppca = FactorAnalysisImputer(n_components=1, noise="isotropic").fit(X_missing)
    assert_allclose(fa.noise_variance_ * fa.scale_**2, noise_sd**2, rtol=0.25)
    assert np.ptp(ppca.noise_variance_) == 0.0
    assert fa.log_likelihood_[-1] > ppca.log_likelihood_[-1]


def test_auto_search_stops_two_candidates_past_the_best():
    _, X_missing, _, _ = _low_rank(n=300, p=12, q=2, noise=0.1, seed=5)
    imputer = FactorAnalysisImputer(random_state=0).fit(X_missing)
    tried = list(imputer.holdout_errors_)
    best = min(imputer.holdout_errors_, key=imputer.holdout_errors_.get)
    assert imputer.n_components_ == best >= 2
    assert tried == _ladder(11)[: tried.index(best) + 3]


def test_ladder_covers_small_ranks_and_samples_large_ones():
    assert _ladder(0) == [0]
    assert _ladder(5) == [0, 1, 2, 3, 4, 5]
    assert _ladder(63) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 15, 21, 29, 41, 57, 63]


def test_same_random_state_same_output_and_scale_equivariance():
    X, X_missing, mask, _ = _low_rank(seed=6)
    first = FactorAnalysisImputer(random_state=3).fit_transform(X_missing)
    assert np.array_equal(
        first, FactorAnalysisImputer(random_state=3).fit_transform(X_missing)
    )
    scaled = FactorAnalysisImputer(random_state=3).fit_transform(X_missing * 1e200)
    assert_allclose(scaled[mask] / 1e200, first[mask], rtol=1e-6)


def test_transform_stays_within_a_range_of_the_training_data():
    X, X_missing, _, _ = _low_rank(seed=7)
    imputer = FactorAnalysisImputer(n_components=2).fit(X_missing)
    row = np.array([[1e6, 1e6, np.nan, np.nan, 1e6, 1e6]])
    out = imputer.transform(row)[0, 2:4]
    width = imputer.data_max_ - imputer.data_min_
    assert np.all(out <= (imputer.data_max_ + width)[2:4])
    assert np.any(out == (imputer.data_max_ + width)[2:4]) or np.any(
        out == (imputer.data_min_ - width)[2:4]
    )


def test_categorical_features_are_refused_by_name():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "c": list("abab")})
    frame["c"] = frame["c"].astype("category")
    with pytest.raises(TypeError, match=r"FactorAnalysisImputer does not .* \['c'\]"):
        FactorAnalysisImputer(n_components=1).fit(frame)


def _conditional_moments(imputer, x, observed):
    """Mean and covariance of x_m | x_o under N(mean_, covariance), the long way."""
    C, mu = _covariance(imputer), imputer.mean_
    o, m = observed, ~observed
    gain = C[np.ix_(m, o)] @ np.linalg.inv(C[np.ix_(o, o)])
    mean = mu[m] + gain @ (x[o] - mu[o])
    return mean, C[np.ix_(m, m)] - gain @ C[np.ix_(o, m)]


@pytest.mark.parametrize("noise", ["isotropic", "diagonal"])
def test_sample_draws_from_the_conditional_gaussian(noise):
    _, X_missing, mask, _ = _low_rank(seed=8)
    imputer = FactorAnalysisImputer(n_components=2, noise=noise, random_state=0)
    imputer.fit(X_missing)
    row = int(np.flatnonzero(mask.sum(1) == 2)[0])
    x = np.tile(X_missing[row], (4000, 1))
    draws = np.stack(imputer.sample(x, n_imputations=5))[:, :, mask[row]]
    draws = draws.reshape(-1, 2)
    mean, covariance = _conditional_moments(imputer, X_missing[row], ~mask[row])
    standard_error = np.sqrt(np.diag(covariance) / len(draws))
    assert np.all(np.abs(draws.mean(0) - mean) < 4 * standard_error)
    assert_allclose(np.cov(draws, rowvar=False), covariance, rtol=0.05, atol=0.01)
    assert_allclose(imputer.transform(X_missing[[row]])[0, mask[row]], mean)


def test_sample_keeps_observed_cells_and_is_reproducible():
    _, X_missing, mask, _ = _low_rank(seed=9)
    imputer = FactorAnalysisImputer(n_components=2, random_state=5).fit(X_missing)
    first, second = imputer.sample(X_missing, n_imputations=2)
    again = imputer.sample(X_missing, n_imputations=2)
    assert np.array_equal(first[~mask], X_missing[~mask])
    assert not np.isnan(first).any()
    assert not np.array_equal(first[mask], second[mask])
    assert np.array_equal(again[0], first) and np.array_equal(again[1], second)
    with pytest.raises(ValueError, match="n_imputations must be a positive"):
        imputer.sample(X_missing, n_imputations=0)


def test_pools_under_rubins_rules():
    from sklearn.linear_model import LinearRegression

    from miwae_impute import MultipleImputationEstimator

    rng = np.random.default_rng(10)
    X = rng.normal(size=(200, 3))
    X[:, 2] = X[:, 0] + 0.5 * rng.normal(size=200)
    y = 1.0 + 2.0 * X[:, 0] - X[:, 1] + rng.normal(size=200)
    X[rng.random(X.shape) < 0.2] = np.nan
    model = MultipleImputationEstimator(
        LinearRegression(),
        imputer=FactorAnalysisImputer(random_state=0),
        n_imputations=5,
        random_state=0,
    ).fit(X, y)
    low, high = np.asarray(model.conf_int()).T  # intercept, then x0, x1, x2
    assert np.all(low[:3] < [1.0, 2.0, -1.0]) and np.all(high[:3] > [1.0, 2.0, -1.0])
