"""The math of the torch model, checked in float64 against closed forms."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, special, stats
from torch.nn import functional as F

from miwae_impute._likelihoods import student_t_log_prob, student_t_rsample
from miwae_impute._model import MIWAE, miwae_bound, normal_log_prob
from miwae_impute._posterior import (
    bound_per_row,
    bounds_per_row,
    posterior_moments,
    sir_draws,
)
from miwae_impute._random import RowGenerators
from miwae_impute._samplers import chain_draws, chain_moments

HUGE_DF = 1e7  # a Student-t with this many degrees of freedom is Gaussian


def test_student_t_log_prob_matches_scipy():
    rng = np.random.default_rng(0)
    x, loc = rng.normal(size=50), rng.normal(size=50)
    scale, df = rng.uniform(0.1, 3, size=50), rng.uniform(0.5, 30, size=50)
    got = student_t_log_prob(*map(torch.as_tensor, (x, loc, scale, df)))
    np.testing.assert_allclose(got.numpy(), stats.t.logpdf(x, df, loc, scale), 1e-12)


def test_normal_log_prob_matches_scipy():
    z = np.random.default_rng(1).normal(size=(7, 3))
    expected = stats.multivariate_normal(np.zeros(3), np.eye(3)).logpdf(z)
    np.testing.assert_allclose(normal_log_prob(torch.as_tensor(z)).numpy(), expected)


def test_student_t_rsample_distribution_and_gradients():
    loc = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    scale = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    df = torch.tensor([4.0], dtype=torch.float64, requires_grad=True)
    state = torch.get_rng_state()
    draws = student_t_rsample(loc, scale, df, 20000, torch.Generator().manual_seed(0))
    assert torch.equal(state, torch.get_rng_state())  # global RNG untouched
    ks = stats.kstest(draws.detach().numpy().ravel(), stats.t(4.0, 1.0, 2.0).cdf)
    assert ks.pvalue > 1e-3
    draws.abs().mean().backward()
    assert all(torch.isfinite(t.grad).all() and t.grad.abs() > 0 for t in (scale, df))


@pytest.mark.parametrize("df", [3.0, 7.5, 200.0])
def test_student_t_polar_draws_match_the_t_distribution_in_float32(df):
    args = (torch.zeros(1), torch.ones(1), torch.full((1,), df), 50000)
    draws = student_t_rsample(*args, torch.Generator().manual_seed(1))
    assert draws.dtype == torch.float32 and torch.isfinite(draws).all()
    assert stats.kstest(draws.numpy().ravel(), stats.t(df).cdf).pvalue > 1e-3


def test_student_t_rsample_gradient_matches_the_closed_form():
    # E|t| = scale * 2 sqrt(df) Gamma((df+1)/2) / (sqrt(pi) (df-1) Gamma(df/2)):
    # the Monte Carlo gradient of the mean |draw| must match its derivatives.
    def mean_abs(scale, df):
        log_ratio = torch.lgamma((df + 1) / 2) - torch.lgamma(df / 2)
        return (
            scale
            * 2
            * torch.sqrt(df)
            * torch.exp(log_ratio)
            / (math.sqrt(math.pi) * (df - 1))
        )

    scale = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
    df = torch.tensor([5.0], dtype=torch.float64, requires_grad=True)
    generator = torch.Generator().manual_seed(0)
    draws = student_t_rsample(
        torch.zeros(1, dtype=torch.float64), scale, df, 400000, generator
    )
    estimate = torch.autograd.grad(draws.abs().mean(), (scale, df))
    exact = torch.autograd.grad(mean_abs(scale, df).sum(), (scale, df))
    for e, x in zip(estimate, exact):
        np.testing.assert_allclose(e.numpy(), x.numpy(), rtol=0.03)


def test_student_t_rsample_is_reproducible():
    args = (torch.zeros(3), torch.ones(3), torch.full((3,), 5.0), 4)
    a = student_t_rsample(*args, torch.Generator().manual_seed(3))
    b = student_t_rsample(*args, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_bound_is_log_mean_exp():
    log_r = torch.log(torch.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=torch.float64))
    np.testing.assert_allclose(miwae_bound(log_r).numpy(), np.log([2.0, 4.0]))


# -- a linear-Gaussian model, where everything is analytic --------------------
P, D = 3, 2
W = np.array([[1.0, 0.5], [-0.7, 1.2], [0.3, -0.4]])
B = np.array([0.2, -0.1, 0.5])
SIGMA = 0.6


def _softplus_inverse(y):
    return math.log(math.expm1(y))


def _linear_gaussian_model(encoder_shift=0.0, encoder_scale=1.0, w=W):
    """p(z)=N(0,I), p(x|z)=N(wz+b, SIGMA^2 I), q(z|x)=N(shift, scale^2 I)."""
    model = MIWAE(P, D, hidden_layer_sizes=(), min_scale=0.0, min_df=0.0).double()
    with torch.no_grad():
        dec, enc = model.decoder[0], model.encoder[0]
        dec.weight.zero_(), enc.weight.zero_()
        dec.weight[:P] = torch.as_tensor(w)
        dec.bias[:P] = torch.as_tensor(B)
        dec.bias[P : 2 * P] = _softplus_inverse(SIGMA)
        dec.bias[2 * P :] = HUGE_DF
        enc.bias[:D] = torch.as_tensor(encoder_shift)
        enc.bias[D : 2 * D] = torch.as_tensor(encoder_scale).apply_(_softplus_inverse)
        enc.bias[2 * D :] = HUGE_DF
    return model


def _analytic(x, observed, w=W):
    """log p(x_o) and the moments of x_m | x_o in the linear-Gaussian model."""
    cov = w @ w.T + SIGMA**2 * np.eye(P)
    o, m = observed, ~observed
    log_p = stats.multivariate_normal(B[o], cov[np.ix_(o, o)]).logpdf(x[o])
    gain = cov[np.ix_(m, o)] @ np.linalg.inv(cov[np.ix_(o, o)])
    mean_m = B[m] + gain @ (x[o] - B[o])
    var_m = np.diag(cov[np.ix_(m, m)] - gain @ cov[np.ix_(o, m)])
    return log_p, mean_m, var_m


X_ROW = np.array([0.8, -1.1, 0.4])
OBSERVED = np.array([True, False, True])


def _seeds(x, offset=0):
    """Distinct per-row seeds (the rows of these tests are identical copies)."""
    return np.arange(len(x)) + 100_000 * offset


def _tensors(n_copies):
    x = torch.as_tensor(np.where(OBSERVED, X_ROW, 0.0)).repeat(n_copies, 1)
    return x, torch.as_tensor(OBSERVED, dtype=torch.float64).repeat(n_copies, 1)


def test_bound_at_k1_is_the_elbo():
    """L_1 averages log p(x_o|z) + log p(z) - log q(z) over z ~ q: the ELBO."""
    model = _linear_gaussian_model(encoder_shift=0.3, encoder_scale=0.8)
    x, mask = _tensors(40000)
    l1 = bound_per_row(model, x, mask, 1, _seeds(x)).mean()
    # ELBO in closed form for q = N(mu, s^2 I) and the linear-Gaussian model.
    mu, s2 = np.full(D, 0.3), 0.8**2
    Wo, bo, xo = W[OBSERVED], B[OBSERVED], X_ROW[OBSERVED]
    resid = xo - bo - Wo @ mu
    expected_log_lik = -0.5 * (
        len(xo) * math.log(2 * math.pi * SIGMA**2)
        + (resid @ resid + s2 * np.sum(Wo**2)) / SIGMA**2
    )
    kl = 0.5 * (D * s2 + mu @ mu - D - D * math.log(s2))
    assert float(l1) == pytest.approx(expected_log_lik - kl, abs=0.02)


def test_bound_is_a_lower_bound_that_tightens_with_k():
    model = _linear_gaussian_model(encoder_shift=0.5, encoder_scale=1.5)
    log_p, _, _ = _analytic(X_ROW, OBSERVED)
    x, mask = _tensors(4000)
    bounds = [
        float(bound_per_row(model, x, mask, k, _seeds(x, k)).mean())
        for k in (1, 5, 50, 500)
    ]
    assert all(b <= log_p + 1e-3 for b in bounds)
    assert all(a < b for a, b in zip(bounds, bounds[1:]))
    assert bounds[-1] == pytest.approx(log_p, abs=0.01)
    assert log_p - bounds[0] > 0.1  # the K=1 bound is visibly loose here


def test_bound_is_exact_with_the_true_posterior_as_proposal():
    """If q(z|x_o) = p(z|x_o), every weight equals p(x_o): the bound is exact."""
    Wo = W[OBSERVED]
    post_cov = np.linalg.inv(np.eye(D) + Wo.T @ Wo / SIGMA**2)
    # The encoder's family is diagonal: rotate z so that the posterior is too.
    evals, evecs = np.linalg.eigh(post_cov)
    w = W @ evecs
    post_mean = post_cov @ Wo.T @ (X_ROW[OBSERVED] - B[OBSERVED]) / SIGMA**2
    model = _linear_gaussian_model(evecs.T @ post_mean, np.sqrt(evals), w=w)
    log_p, _, _ = _analytic(X_ROW, OBSERVED, w=w)
    x, mask = _tensors(3)
    bound = bound_per_row(model, x, mask, 1, _seeds(x))
    np.testing.assert_allclose(bound.numpy(), log_p, atol=1e-6)


def test_posterior_moments_match_gaussian_conditionals():
    model = _linear_gaussian_model(encoder_shift=0.2, encoder_scale=1.2)
    _, mean_m, var_m = _analytic(X_ROW, OBSERVED)
    x, mask = _tensors(1)
    mean, var, _ = posterior_moments(model, x, mask, 200000, _seeds(x))
    np.testing.assert_allclose(mean[0, ~OBSERVED].numpy(), mean_m, atol=0.02)
    np.testing.assert_allclose(var[0, ~OBSERVED].numpy(), var_m, rtol=0.03)


def test_posterior_moments_stream_over_small_chunks(monkeypatch):
    """The running log-sum-exp over sample chunks gives the same estimator."""
    from miwae_impute import _posterior

    monkeypatch.setattr(_posterior, "_CHUNK_ELEMENTS", 7 * 50)  # 50 samples a chunk
    model = _linear_gaussian_model(encoder_shift=0.2, encoder_scale=1.2)
    _, mean_m, var_m = _analytic(X_ROW, OBSERVED)
    x, mask = _tensors(2)
    mean, var, _ = posterior_moments(model, x, mask, 100000, _seeds(x, 1))
    np.testing.assert_allclose(mean[:, ~OBSERVED].numpy().ravel(), mean_m[0], atol=0.02)
    np.testing.assert_allclose(var[:, ~OBSERVED].numpy().ravel(), var_m[0], rtol=0.04)


def test_sir_draws_sample_the_conditional():
    model = _linear_gaussian_model(encoder_shift=0.2, encoder_scale=1.2)
    _, mean_m, var_m = _analytic(X_ROW, OBSERVED)
    x, mask = _tensors(4000)
    draws = sir_draws(model, x, mask, 200, 2, _seeds(x))
    values = draws[..., ~torch.as_tensor(OBSERVED)].reshape(-1).numpy()
    assert values.mean() == pytest.approx(mean_m[0], abs=0.03)
    assert values.var() == pytest.approx(var_m[0], rel=0.06)


def test_inference_of_a_row_does_not_depend_on_its_batch():
    """Per-row streams: same seed, same draws, whatever the other rows are.

    Equal up to rounding: BLAS may block a matmul differently for other shapes.
    """
    model = MIWAE(4, 2, (8,)).double()
    x = torch.randn(
        6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    mask = (x > 0).double()
    seeds = np.arange(6) * 7
    whole = posterior_moments(model, x * mask, mask, 30, seeds)
    part = posterior_moments(model, (x * mask)[[4, 1]], mask[[4, 1]], 30, seeds[[4, 1]])
    np.testing.assert_allclose(whole[0][[4, 1]].numpy(), part[0].numpy(), rtol=1e-12)
    b_whole = bound_per_row(model, x * mask, mask, 30, seeds)
    b_part = bound_per_row(model, (x * mask)[3:], mask[3:], 30, seeds[3:])
    np.testing.assert_allclose(b_whole[3:].numpy(), b_part.numpy(), rtol=1e-12)
    d_whole = sir_draws(model, x * mask, mask, 30, 3, seeds)
    d_part = sir_draws(model, (x * mask)[:2], mask[:2], 30, 3, seeds[:2])
    np.testing.assert_allclose(d_whole[:, :2].numpy(), d_part.numpy(), rtol=1e-12)
    assert not torch.equal(whole[0][0], whole[0][1])


@pytest.mark.parametrize("missingness", ["ignorable", "self-masking"])
def test_means_without_variances_are_the_same_means(missingness):
    # variances=False leaves E[x^2 | z] out: the means and the levels'
    # probabilities are bit for bit those computed beside the variances.
    model = MIWAE(
        4,
        2,
        (8,),
        point_mass_values=[np.nan, 0.0, np.nan, np.nan],
        support=[None, None, np.array([-1.0, 0.0, 1.0]), None],
        n_levels=[0, 0, 0, 3],
        missingness=missingness,
    ).double()
    generator = np.random.default_rng(3)
    x = torch.as_tensor(generator.normal(size=(9, 4)))
    x[:, 1] = torch.where(x[:, 1] > 0, x[:, 1], 0.0)
    x[:, 2] = x[:, 2].round().clamp(-1, 1)
    x[:, 3] = torch.as_tensor(generator.integers(0, 3, size=9), dtype=x.dtype)
    mask = torch.as_tensor(generator.random((9, 4)) < 0.6, dtype=torch.float64)
    with_variances = posterior_moments(model, x * mask, mask, 300, _seeds(x))
    mean, variances, probabilities = posterior_moments(
        model, x * mask, mask, 300, _seeds(x), variances=False
    )
    assert variances is None and with_variances[1].shape == (9, 4)
    assert torch.equal(mean, with_variances[0])
    assert torch.equal(probabilities, with_variances[2])
    assert probabilities.shape == (9, 3)


def test_row_generators_give_independent_reproducible_streams():
    a = RowGenerators([1, 2], "cpu").rand((5, 2, 3), 1, torch.float64)
    b = RowGenerators([1, 2], "cpu").rand((5, 2, 3), 1, torch.float64)
    c = RowGenerators([1], "cpu").rand((5, 1, 3), 1, torch.float64)
    assert torch.equal(a, b) and torch.equal(a[:, :1], c)
    assert not torch.equal(a[:, 0], a[:, 1])


def test_inference_on_threads_gives_the_one_thread_results():
    # With T torch threads, T row chunks run at once, one thread each: the
    # results are bit for bit those of one thread, and T is restored.
    model = MIWAE(4, 2, (8,)).double()
    generator = np.random.default_rng(0)
    x = torch.as_tensor(generator.normal(size=(40, 4)))
    mask = torch.as_tensor(generator.random((40, 4)) < 0.7, dtype=torch.float64)
    seeds = np.arange(40)
    threads = torch.get_num_threads()

    def run():
        return (
            *posterior_moments(model, x * mask, mask, 3000, seeds),
            sir_draws(model, x * mask, mask, 3000, 2, seeds),
            bound_per_row(model, x * mask, mask, 3000, seeds),
        )

    try:
        torch.set_num_threads(1)
        one = run()
        torch.set_num_threads(2)
        two = run()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert one[0].shape == (40, 4) and not two[0].requires_grad
    for a, b in zip(one, two):
        assert torch.equal(a, b)


# -- not-MIWAE: the linear-Gaussian model with a known self-masking model -----
SELF_MASKING_W = np.array([0.5, 1.5, -0.8])
SELF_MASKING_B = np.array([0.0, -0.5, 0.3])


def _not_miwae_model(encoder_shift=0.2, encoder_scale=1.2, w=SELF_MASKING_W):
    model = _linear_gaussian_model(encoder_shift, encoder_scale)
    not_miwae = MIWAE(P, D, (), min_scale=0.0, min_df=0.0, missingness="self-masking")
    not_miwae = not_miwae.double()
    not_miwae.load_state_dict(model.state_dict(), strict=False)
    with torch.no_grad():
        not_miwae.missingness.weight[:] = torch.as_tensor(w)
        not_miwae.missingness.intercept[:] = torch.as_tensor(w * SELF_MASKING_B)
    return not_miwae


def test_both_bounds_of_not_miwae_in_one_pass():
    """``bounds_per_row``: a not-MIWAE model's bound of log p(x_o, s) is the
    bound of its ``log_weights`` to the last bit, and its bound of log p(x_o)
    is that of the same networks without a missingness model, from the same
    draws; the first is lower by log p(s | x_o) < 0. ``bound_per_row`` gives
    the first, and a MIWAE model's bound of log p(x_o)."""
    not_miwae = _not_miwae_model(0.3, 0.8)
    miwae = _linear_gaussian_model(0.3, 0.8)
    x, mask = _tensors(40)
    seeds = _seeds(x)
    joint, observed = bounds_per_row(not_miwae, x, mask, 50, seeds)
    with torch.inference_mode():
        generator = RowGenerators(seeds, x.device)
        log_r = not_miwae.log_weights(x, mask, 50, generator)[0]
    assert torch.equal(joint, miwae_bound(log_r))
    assert torch.equal(joint, bound_per_row(not_miwae, x, mask, 50, seeds))
    assert bounds_per_row(miwae, x, mask, 50, seeds)[0] is None
    torch.testing.assert_close(observed, bound_per_row(miwae, x, mask, 50, seeds))
    assert (joint < observed).all()


def _not_miwae_analytic():
    """log p(x_o, s) and E[x_m | x_o, s] by Gauss-Hermite quadrature."""
    log_p_o, mean_m, var_m = _analytic(X_ROW, OBSERVED)
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    (j,) = np.flatnonzero(~OBSERVED)
    x_m = mean_m[0] + math.sqrt(var_m[0]) * nodes
    weights = weights / weights.sum()
    # p(s_j = 0 | x_j) = 1 - sigmoid(-w (x - b)) = sigmoid(w (x - b))
    missing = special.expit(SELF_MASKING_W[j] * (x_m - SELF_MASKING_B[j]))
    o = OBSERVED
    observed = special.expit(-SELF_MASKING_W[o] * (X_ROW[o] - SELF_MASKING_B[o]))
    log_p = log_p_o + np.log(observed).sum() + math.log(weights @ missing)
    return log_p, (weights * missing) @ x_m / (weights @ missing)


def test_not_miwae_with_w_zero_adds_a_constant_to_the_log_weights():
    miwae = _linear_gaussian_model(0.3, 0.8)
    not_miwae = _not_miwae_model(0.3, 0.8, w=np.zeros(P))
    x, mask = _tensors(50)
    log_r, _, none = miwae.log_weights(x, mask, 7, torch.Generator().manual_seed(1))
    log_r_s, _, completion = not_miwae.log_weights(
        x, mask, 7, torch.Generator().manual_seed(1)
    )
    # Student-t columns only: one candidate, a draw, per code and cell.
    assert none is None and completion.values.shape == (1, 7, 50, P)
    torch.testing.assert_close(log_r_s, log_r - P * math.log(2.0))
    values = completion.values[0]
    assert torch.equal(values[..., OBSERVED], x[..., OBSERVED].expand(7, 50, -1))
    assert torch.equal(completion.log_p, torch.zeros_like(completion.log_p))


def _constant_decoder_models(missingness="self-masking"):
    """MIWAE and not-MIWAE with p(x | z) the same for every z: a Student-t
    column, a point mass at 0.5 plus a Student-t, and a discrete column on
    {-1, 0, 2}; and the missingness model's (w, b)."""
    kwargs = dict(
        point_mass_values=[np.nan, 0.5, np.nan],
        support=[None, None, [-1.0, 0.0, 2.0]],
        min_scale=0.0,
        min_df=0.0,
    )
    miwae = MIWAE(3, 2, (), **kwargs).double()
    not_miwae = MIWAE(3, 2, (), missingness=missingness, **kwargs).double()
    # Outputs: loc, scale, df of the 2 Student-t parts; the mass logit; 3 logits.
    bias = torch.tensor([0.3, -0.2, 0.0, 0.4, 2.0, 5.0, -0.7, 0.2, 0.5, -0.4])
    # q(z | x) is fixed too, with df = softplus(3): the default initialisation
    # could give a df so small that log p(z_k) - log q(z_k | x) reached ~1e16,
    # where the float64 difference of two models' log weights lost the term
    # under test (the test failed on about one run in seven).
    with torch.no_grad():
        miwae.decoder[0].weight.zero_()
        miwae.decoder[0].bias.copy_(bias)
        miwae.encoder[-1].weight.zero_()
        miwae.encoder[-1].bias.copy_(torch.tensor([0.2, -0.1, 0.5, 0.5, 3.0, 3.0]))
    not_miwae.load_state_dict(miwae.state_dict(), strict=False)
    w = torch.tensor([0.7, 1.3, -0.9], dtype=torch.float64)
    b = torch.tensor([0.1, -0.2, 0.6], dtype=torch.float64)
    with torch.no_grad():
        not_miwae.missingness.weight[:] = w
        not_miwae.missingness.intercept[:] = w * b
    return miwae, not_miwae, w.double().numpy(), b.double().numpy()


def test_not_miwae_sums_out_discrete_values_and_the_mass_point():
    """log p(s_j | z) of a missing discrete or point-mass cell is summed over
    its values: exactly for the discrete column, an unbiased estimate over
    the Student-t draw for the point mass."""
    miwae, not_miwae, w, b = _constant_decoder_models()
    x = torch.tensor([[0.4, 0.0, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    n = 40000
    with torch.no_grad():
        log_r = miwae.log_weights(x, mask, n, torch.Generator().manual_seed(3))[0]
        log_r_s = not_miwae.log_weights(x, mask, n, torch.Generator().manual_seed(3))
        out = miwae.decode(torch.zeros(1, 2, dtype=torch.float64))[0]
    observed = math.log(special.expit(-w[0] * (0.4 - b[0])))
    # Discrete column: sum_c p_c p(s = 0 | v_c), p(s = 0 | x) = sigmoid(w (x - b)).
    p = torch.softmax(out[7:], 0).numpy()
    support = np.array([-1.0, 0.0, 2.0])
    discrete = math.log(p @ special.expit(w[2] * (support - b[2])))
    # Point mass: pi p(s = 0 | 0.5) + (1 - pi) E_t[p(s = 0 | t)] by quadrature.
    pi = float(torch.sigmoid(out[6]))
    loc, (scale, df) = float(out[3]), F.softplus(out[[4, 5]]).numpy()
    t = stats.t(df=df, loc=loc, scale=scale)
    tail = integrate.quad(
        lambda v: t.pdf(v) * special.expit(w[1] * (v - b[1])),
        -np.inf,
        np.inf,
    )[0]
    mass = pi * special.expit(w[1] * (0.5 - b[1]))
    factor = np.exp((log_r_s[0] - log_r).numpy() - observed - discrete)
    assert factor.mean() == pytest.approx(mass + (1 - pi) * tail, abs=0.005)
    # The mass point is always counted (to float64 rounding of the log weights).
    assert factor.min() >= mass * (1 - 1e-8)
    # The discrete column's imputation and draws follow p(x_j | z, s_j = 0).
    posterior = p * special.expit(w[2] * (support - b[2]))
    posterior /= posterior.sum()
    mean = posterior_moments(not_miwae, x, mask, 50, _seeds(x))[0]
    assert float(mean[0, 2]) == pytest.approx(posterior @ support, abs=1e-9)
    rows = 4000
    draws = sir_draws(
        not_miwae, x.expand(rows, -1), mask.expand(rows, -1), 5, 1, np.arange(rows)
    )[0, :, 2].numpy()
    frequencies = [np.mean(draws == v) for v in support]
    np.testing.assert_allclose(frequencies, posterior, atol=0.03)


def test_not_miwae_bound_and_imputation_match_quadrature():
    model = _not_miwae_model()
    log_p, mean_m = _not_miwae_analytic()
    x, mask = _tensors(2000)
    bounds = [
        float(bound_per_row(model, x, mask, k, _seeds(x, k)).mean()) for k in (1, 1000)
    ]
    assert bounds[0] < bounds[1] <= log_p + 1e-3
    assert bounds[1] == pytest.approx(log_p, abs=0.01)
    x, mask = _tensors(1)
    mean, _, _ = posterior_moments(model, x, mask, 200000, _seeds(x))
    assert float(mean[0, ~OBSERVED][0]) == pytest.approx(mean_m, abs=0.02)
    _, miwae_mean, _ = _analytic(X_ROW, OBSERVED)
    assert abs(mean_m - miwae_mean[0]) > 0.1  # the missingness model matters here
    draws = sir_draws(
        model,
        x.expand(4000, -1),
        mask.expand(4000, -1),
        200,
        1,
        _seeds(x.expand(4000, -1)),
    )
    assert float(draws[0, :, 1].mean()) == pytest.approx(mean_m, abs=0.05)


# -- the re-masking penalty ------------------------------------------------------
def test_remasked_error_is_the_snis_error_of_the_hidden_cells():
    """Hiding observed cell 2: its imputation from cell 0 alone converges to the
    Gaussian conditional mean E[x_2 | x_0], and nothing hidden costs nothing."""
    model = _linear_gaussian_model(encoder_shift=0.2, encoder_scale=1.2)
    row = np.array([0.8, 0.0, 2.5])
    x = torch.as_tensor(row).unsqueeze(0)
    mask = torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64)
    hidden = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    error = model.remasked_error(x, mask, hidden, 200_000, generator)
    _, mean, _ = _analytic(row, np.array([True, False, False]))
    assert math.sqrt(error[0]) == pytest.approx(row[2] - mean[1], abs=0.01)
    none = model.remasked_error(x, mask, torch.zeros_like(mask), 10, generator)
    assert float(none[0]) == 0.0


def test_remasked_error_leaves_categorical_cells_out_and_has_gradients():
    model = MIWAE(3, 2, (8,), n_levels=[0, 0, 3]).double()
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, 1.0]], dtype=torch.float64)
    mask = torch.ones_like(x)
    generator = torch.Generator().manual_seed(0)
    categorical = torch.tensor([[0.0, 0.0, 1.0]] * 2, dtype=torch.float64)
    error = model.remasked_error(x, mask, categorical, 5, generator)
    assert torch.equal(error, torch.zeros(2, dtype=torch.float64))
    numeric = torch.tensor([[1.0, 0.0, 0.0]] * 2, dtype=torch.float64)
    error = model.remasked_error(x, mask, numeric, 5, generator)
    assert bool((error > 0).all())
    error.sum().backward()
    assert all(p.grad is not None for p in model.encoder.parameters())
    assert all(p.grad is not None for p in model.decoder.parameters())


# -- Markov chain samplers ---------------------------------------------------------
def _exact_posterior_encoder_model():
    """The linear-Gaussian model, rotated so that p(z | x) is diagonal, with an
    encoder that is that exact posterior: q(z | x) = p(z | x) for complete x."""
    post_cov = np.linalg.inv(np.eye(D) + W.T @ W / SIGMA**2)
    evals, evecs = np.linalg.eigh(post_cov)
    w = W @ evecs
    model = _linear_gaussian_model(0.0, np.sqrt(evals), w=w)
    gain = np.diag(evals) @ w.T / SIGMA**2  # E[z | x] = gain (x - b)
    with torch.no_grad():
        model.encoder[0].weight[:D] = torch.as_tensor(gain)
        model.encoder[0].bias[:D] = torch.as_tensor(-gain @ B)
    return model, w


@pytest.mark.parametrize(
    "metropolis, exact_encoder",
    [(True, False), (True, True), (False, True)],
    ids=["metropolis-within-gibbs", "metropolis-exact-encoder", "pseudo-gibbs"],
)
def test_chain_moments_match_gaussian_conditionals(metropolis, exact_encoder):
    """Both chains sample p(x_m | x_o): Metropolis-within-Gibbs with any encoder,
    pseudo-Gibbs when the encoder is the exact posterior."""
    if exact_encoder:
        model, w = _exact_posterior_encoder_model()
    else:
        model, w = _linear_gaussian_model(encoder_shift=0.2, encoder_scale=1.2), W
    _, mean_m, var_m = _analytic(X_ROW, OBSERVED, w=w)
    x, mask = _tensors(2000)
    mean, var, _ = chain_moments(model, x, mask, 200, _seeds(x), metropolis=metropolis)
    np.testing.assert_allclose(mean[:, ~OBSERVED].mean(0).numpy(), mean_m, atol=0.02)
    # The law of total variance over the chains' means and within-chain spread.
    total = var[:, ~OBSERVED].mean(0) + mean[:, ~OBSERVED].var(0)
    np.testing.assert_allclose(total.numpy(), var_m, rtol=0.05)


def test_pseudo_gibbs_is_biased_with_a_wrong_encoder():
    """Without the Metropolis test, a poor encoder biases the chain: the check
    above would catch a sampler that ignored its acceptance step."""
    model = _linear_gaussian_model(encoder_shift=1.5, encoder_scale=0.3)
    _, mean_m, _ = _analytic(X_ROW, OBSERVED)
    x, mask = _tensors(500)
    mean, _, _ = chain_moments(model, x, mask, 100, _seeds(x), metropolis=False)
    assert abs(float(mean[:, ~OBSERVED].mean()) - mean_m[0]) > 0.1


def test_chain_draws_sample_the_conditional():
    model = _linear_gaussian_model(encoder_shift=0.2, encoder_scale=1.2)
    _, mean_m, var_m = _analytic(X_ROW, OBSERVED)
    x, mask = _tensors(1000)
    draws = chain_draws(model, x, mask, 50, 4, _seeds(x))
    assert draws.shape == (4, 1000, P)
    missing = draws[..., ~OBSERVED].flatten().numpy()
    assert (
        stats.kstest(missing, stats.norm(mean_m[0], np.sqrt(var_m[0])).cdf).pvalue
        > 1e-3
    )
    assert torch.equal(draws[..., OBSERVED], x[:, OBSERVED].expand(4, -1, -1))


def test_a_ppca_decoder_moves_only_the_means_with_z():
    """decoder="ppca": the means' parameters (locations, a point mass's
    logit, a categorical column's logits) are affine in z; the scales and
    degrees of freedom are constants (the last bias), and get no gradient
    through the weights."""
    torch.manual_seed(0)
    model = MIWAE(
        4, 3, (16,), decoder="ppca", point_mass_values=[np.nan, 0.5, np.nan, np.nan],
        n_levels=[0, 0, 0, 3],
    ).double()  # fmt: skip
    moving = model.likelihood.mean_outputs()
    # Student-t (columns 0 and 2): 2 locations of 6 outputs; point mass: its
    # location and logit, of 4; categorical: its 3 logits.
    assert moving.tolist() == [1, 1, 0, 0, 0, 0] + [1, 0, 0, 1] + [1, 1, 1]
    z1, z2 = torch.randn(2, 5, 3, dtype=torch.float64)
    out1, out2 = model.decode(z1), model.decode(z2)
    bias = model.decoder[-1].bias.expand_as(out1)
    assert torch.equal(out1[..., ~moving], bias[..., ~moving])
    assert torch.equal(out2[..., ~moving], bias[..., ~moving])
    assert (out1[..., moving] - out2[..., moving]).abs().min() > 0
    a = 0.3
    torch.testing.assert_close(
        model.decode(a * z1 + (1 - a) * z2), a * out1 + (1 - a) * out2
    )
    out1.sum().backward()
    grad = model.decoder[-1].weight.grad
    assert torch.all(grad[~moving] == 0) and torch.all(grad[moving] != 0)


def test_a_linear_decoder_is_affine_in_z():
    """decoder="linear": every output of p(x | z)'s network is affine in z
    (float64), so the model is a linear latent-factor model."""
    torch.manual_seed(0)
    model = MIWAE(4, 3, (16, 16), decoder="linear").double()
    assert [type(layer) for layer in model.decoder] == [torch.nn.Linear]
    assert model.encoder[0].out_features == 16  # the encoder stays deep
    z1, z2 = (
        torch.randn(5, 3, dtype=torch.float64),
        torch.randn(5, 3, dtype=torch.float64),
    )
    a = 0.3
    torch.testing.assert_close(
        model.decode(a * z1 + (1 - a) * z2),
        a * model.decode(z1) + (1 - a) * model.decode(z2),
    )
    deep = MIWAE(4, 3, (16, 16)).double()
    gap = deep.decode(a * z1 + (1 - a) * z2) - (
        a * deep.decode(z1) + (1 - a) * deep.decode(z2)
    )
    assert gap.abs().max() > 1e-4  # the MLP is not
