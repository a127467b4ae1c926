"""The encoder's fills: the Gaussian's EM and conditional mean, in float64,
and the learned fill."""

import numpy as np
import pandas as pd
import pytest
import torch

from miwae_impute import MIWAEImputer
from miwae_impute._gaussian import GaussianFill, conditional_mean, gaussian_em


def _gaussian_data(n, p, missing, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(p, p, generator=g, dtype=torch.float64)
    sigma = A @ A.T / p + 0.2 * torch.eye(p, dtype=torch.float64)
    mu = torch.randn(p, generator=g, dtype=torch.float64)
    x = (
        mu
        + torch.randn(n, p, generator=g, dtype=torch.float64)
        @ torch.linalg.cholesky(sigma).T
    )
    mask = (torch.rand(n, p, generator=g) > missing).double()
    return x, mask, mu, sigma


def _observed_log_likelihood(x, mask, mu, sigma):
    total = 0.0
    for row, m in zip(x, mask > 0):
        if m.any():
            dist = torch.distributions.MultivariateNormal(mu[m], sigma[m][:, m])
            total += float(dist.log_prob(row[m]))
    return total


def test_conditional_mean_is_the_gaussian_regression_of_each_pattern():
    x, mask, mu, sigma = _gaussian_data(40, 5, 0.4, 0)
    got = conditional_mean(x * mask, mask, mu, sigma)
    for i in range(len(x)):
        o, m = mask[i] > 0, mask[i] == 0
        expected = mu[m] + sigma[m][:, o] @ torch.linalg.solve(
            sigma[o][:, o], x[i, o] - mu[o]
        )
        torch.testing.assert_close(got[i, m], expected, rtol=1e-10, atol=1e-12)
        assert torch.equal(got[i, o], x[i, o])


def test_em_on_complete_data_is_the_sample_mean_and_covariance():
    x, _, _, _ = _gaussian_data(300, 4, 0.0, 1)
    mu, sigma = gaussian_em(x, torch.ones_like(x), ridge=0.0)
    torch.testing.assert_close(mu, x.mean(0))
    torch.testing.assert_close(sigma, torch.cov(x.T, correction=0))


def test_em_raises_the_observed_likelihood_and_recovers_the_gaussian():
    x, mask, mu, sigma = _gaussian_data(1500, 4, 0.3, 2)
    xz = x * mask
    steps = [gaussian_em(xz, mask, n_iter=k, ridge=0.0) for k in (1, 3, 10, 100)]
    values = [_observed_log_likelihood(x, mask, *s) for s in steps]
    assert values == sorted(values) and values[-1] > values[0]
    mu_hat, sigma_hat = steps[-1]
    # the complete-data estimates are the yardstick of sampling error
    complete = torch.cov(x.T, correction=0)
    assert float((mu_hat - x.mean(0)).abs().max()) < 0.05
    assert float((sigma_hat - complete).abs().max()) < 0.1 * float(sigma.abs().max())


def test_em_in_row_chunks_is_em_in_one(monkeypatch):
    import miwae_impute._gaussian as gaussian

    x, mask, _, _ = _gaussian_data(500, 6, 0.3, 4)
    whole = gaussian_em(x * mask, mask, n_iter=20)
    monkeypatch.setattr(gaussian, "_CHUNK_ELEMENTS", 7 * 36)  # 7 rows a chunk
    chunked = gaussian_em(x * mask, mask, n_iter=20)
    for a, b in zip(whole, chunked):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_fill_leaves_categorical_columns_and_observed_cells_alone():
    x, mask, mu, sigma = _gaussian_data(30, 3, 0.4, 3)
    codes = torch.randint(0, 3, (30, 1), generator=torch.Generator().manual_seed(0))
    data = torch.cat([x[:, :1], codes.double(), x[:, 1:]], 1)
    m = torch.cat([mask[:, :1], torch.ones(30, 1, dtype=torch.float64), mask[:, 1:]], 1)
    fill = GaussianFill([0, 2, 3])
    fill.mu.copy_(mu), fill.sigma.copy_(sigma)
    out = fill(data * m, m)
    assert torch.equal(out[:, 1], data[:, 1])
    assert torch.equal(out[m > 0], (data * m)[m > 0])
    torch.testing.assert_close(
        out[:, [0, 2, 3]], conditional_mean(x * mask, mask, mu, sigma)
    )


def _frame(seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(200, 2))
    X = z @ rng.normal(size=(2, 5)) + 0.1 * rng.normal(size=(200, 5))
    X[rng.random(X.shape) < 0.25] = np.nan
    return X


def test_encoder_reads_x_o_alone_with_the_gaussian_fill():
    imputer = MIWAEImputer(encoder_fill="gaussian", max_iter=2, random_state=0)
    imputer.fit(_frame())
    model = imputer.model_
    assert not torch.equal(model.fill.sigma, torch.eye(5))  # fitted, not left at I
    x, m = imputer._to_tensors(_frame(), np.isnan(_frame()), "cpu")
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        base = model.encode(x, m)
        moved = model.encode(x + noise * (1 - m), m)  # other values where missing
    for a, b in zip(base, moved):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("fill", ["gaussian", "learned"])
def test_fill_imputes_reproducibly_and_round_trips(tmp_path, fill):
    X = _frame(1)
    params = dict(encoder_fill=fill, max_iter=3, L=50, random_state=0)
    first = MIWAEImputer(**params).fit(X)
    out = first.transform(X)
    np.testing.assert_array_equal(out, MIWAEImputer(**params).fit(X).transform(X))
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(out[observed], X[observed])
    assert np.isfinite(out).all()
    first.save(tmp_path / "model")
    loaded = MIWAEImputer.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.transform(X), out)
    zero = MIWAEImputer(**(params | {"encoder_fill": "zero"})).fit(X).transform(X)
    assert not np.array_equal(zero, out)


@pytest.mark.parametrize("sampler", ["snis", "pseudo-gibbs"])
def test_gaussian_fill_with_categorical_columns_and_samplers(sampler):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(_frame(2)[:, :3], columns=["a", "b", "c"])
    df["g"] = pd.Categorical(rng.choice(["x", "y", None], size=len(df)))
    imputer = MIWAEImputer(
        encoder_fill="gaussian", sampler=sampler, max_iter=2, L=20, random_state=0
    ).fit(df)
    assert len(imputer.model_.fill.mu) == 3
    out = imputer.transform(df)
    assert out.notna().all().all() and out.dtypes.equals(df.dtypes)
    assert imputer.sample(df, n_imputations=2)[0].notna().all().all()


def test_encoder_fill_is_validated():
    with pytest.raises(ValueError, match="encoder_fill"):
        MIWAEImputer(encoder_fill="mean").fit(_frame())


def test_auto_fill_is_gaussian_for_miwae_and_learned_for_a_stated_direction():
    X = _frame(3)
    fast = dict(max_iter=1, L=10, random_state=0)
    miwae = MIWAEImputer(**fast).fit(X).model_
    assert miwae.fill is not None and miwae.iota is None
    for stated in ("self-masking-high", "self-masking-low"):
        model = MIWAEImputer(**fast, missingness=stated).fit(X).model_
        assert model.fill is None and model.iota is not None
    model = MIWAEImputer(**fast, missingness="logistic").fit(X).model_
    assert model.fill is None and model.iota is None  # zeros
    # "self-masking": the at-random model it chooses reads the Gaussian
    # fill (it is MIWAE's fit), a direction zeros.
    fit = MIWAEImputer(**fast, missingness="self-masking").fit(X)
    at_random = fit.chosen_missingness_ == "ignorable"
    assert (fit.model_.fill is not None) == at_random and fit.model_.iota is None
    fit.chosen_missingness_ = "ignorable"
    assert fit._build_model(1).fill is not None
    fit.chosen_missingness_ = "self-masking-high"
    assert fit._build_model(1).fill is None
    forced = MIWAEImputer(**fast, missingness="logistic", encoder_fill="gaussian")
    assert forced.fit(X).model_.fill is not None


def test_learned_fill_is_trained_and_read_at_missing_numeric_cells_only():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(_frame(4)[:, :3], columns=["a", "b", "c"])
    df["g"] = pd.Categorical(rng.choice(["x", "y", None], size=len(df)))
    imputer = MIWAEImputer(encoder_fill="learned", max_iter=3, L=20, random_state=0)
    model = imputer.fit(df).model_
    iota = model.iota.detach().clone()
    assert (iota[:3] != 0).all()  # the bound's gradient moved each numeric fill
    data = imputer._validate_input(df, reset=False)  # the codes, as fit read them
    x, m = imputer._to_tensors(data.X, data.mask, "cpu")
    ones = torch.ones_like(m)
    with torch.no_grad():
        base, complete = model.encode(x, m), model.encode(x, ones)
        model.iota[3] = 100.0  # the categorical column's entry is never read
        for a, b in zip(base, model.encode(x, m)):
            torch.testing.assert_close(a, b)
        model.iota[:3] = 0.0  # a complete row reads no fill
        for a, b in zip(complete, model.encode(x, ones)):
            torch.testing.assert_close(a, b)
        moved = model.encode(x, m)[0]
    assert not torch.equal(base[0], moved)  # rows with missing cells read it
