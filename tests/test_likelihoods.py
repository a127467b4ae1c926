"""The decoder's likelihoods, checked in float64 against scipy and brute force."""

import numpy as np
import pytest
import torch
from scipy import stats
from torch.nn import functional as F

from miwae_impute._likelihoods import (
    Discrete,
    PointMassStudentT,
    ProductLikelihood,
    StudentT,
    make_likelihood,
)
from miwae_impute._random import RowGenerators


def _raw(n_params, n_columns, n_rows=5, seed=0):
    """Random decoder outputs for ``n_rows`` rows, float64."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(
        n_rows, n_params * n_columns, generator=generator, dtype=torch.float64
    )


def _t_params(out, n_columns):
    loc, scale, df = out[..., : 3 * n_columns].chunk(3, -1)
    return loc, F.softplus(scale) + 1e-3, F.softplus(df) + 3.0


def test_student_t_matches_scipy():
    out = _raw(3, 4)
    x = torch.randn(5, 4, dtype=torch.float64)
    loc, scale, df = (t.numpy() for t in _t_params(out, 4))
    term = StudentT(4)
    np.testing.assert_allclose(
        term.log_prob(x, out).numpy(), stats.t.logpdf(x.numpy(), df, loc, scale)
    )
    np.testing.assert_allclose(term.mean(out).numpy(), loc)
    second = stats.t.var(df, loc, scale) + loc**2
    np.testing.assert_allclose(term.second_moment(out).numpy(), second)


def test_point_mass_log_prob_is_the_mixture_density():
    values = np.array([0.0, -1.5, 2.25])
    term = PointMassStudentT(values).double()
    out = _raw(4, 3)
    pi = torch.sigmoid(out[:, 9:]).numpy()
    loc, scale, df = (t.numpy() for t in _t_params(out, 3))
    x = torch.randn(5, 3, dtype=torch.float64)
    x[[0, 2, 4], [0, 1, 2]] = torch.as_tensor(values)  # three cells at the mass
    at_mass = x.numpy() == values
    expected = np.where(
        at_mass,
        np.log(pi),
        np.log1p(-pi) + stats.t.logpdf(x.numpy(), df, loc, scale),
    )
    assert at_mass.sum() == 3
    np.testing.assert_allclose(term.log_prob(x, out).numpy(), expected, rtol=1e-12)


def test_point_mass_in_float32_matches_values_rounded_like_the_data():
    """A standardised value equals the mass point in float32 as in float64."""
    value = (0.0 - 3.7) / 1.3  # a data zero, standardised
    x32 = torch.tensor([[value, value + 1e-3]], dtype=torch.float32)
    out = torch.zeros(1, 4)
    log_p = PointMassStudentT([value]).log_prob(x32.T, out.expand(2, 4))
    assert log_p[0, 0] == pytest.approx(np.log(0.5))  # logit 0: pi = 1/2
    assert log_p[1, 0] != pytest.approx(np.log(0.5))


def test_point_mass_moments_and_draws_agree():
    """mean and second_moment against the sampler, by brute-force Monte Carlo."""
    values = np.array([0.0, 1.0])
    term = PointMassStudentT(values).double()
    out = _raw(4, 2, n_rows=1, seed=3).expand(200_000, 8)
    draws = term.sample(out, torch.Generator().manual_seed(0), row_dim=0).numpy()
    pi = torch.sigmoid(out[0, 6:]).numpy()
    np.testing.assert_allclose((draws == values).mean(0), pi, atol=0.005)
    mean, second = term.mean(out[:1])[0].numpy(), term.second_moment(out[:1])[0]
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.02)
    np.testing.assert_allclose((draws**2).mean(0), second.numpy(), rtol=0.05)
    # The draws off the mass are the Student-t.
    loc, scale, df = (t[0].numpy() for t in _t_params(out[:1], 2))
    off = draws[:, 0][draws[:, 0] != 0.0]
    assert stats.kstest(off, stats.t(df[0], loc[0], scale[0]).cdf).pvalue > 1e-3


def test_point_mass_draws_are_reproducible_per_row():
    term = PointMassStudentT([0.5, 0.0]).double()
    out = _raw(4, 2, n_rows=3)
    a = term.sample(out, RowGenerators([1, 2, 3], "cpu"), row_dim=0)
    b = term.sample(out[1:], RowGenerators([2, 3], "cpu"), row_dim=0)
    assert torch.equal(a[1:], b)


def test_product_puts_each_group_in_its_columns():
    values = np.array([np.nan, 0.5, np.nan, -1.0, np.nan])
    product = make_likelihood(5, values).double()
    assert [type(t) for t in product.terms] == [StudentT, PointMassStudentT]
    assert product.width == 3 * 3 + 4 * 2
    out = _raw(1, product.width)
    x = torch.randn(5, 5, dtype=torch.float64)
    x[0, 1] = 0.5
    plain_out, mass_out = out.split([9, 8], -1)
    plain, mass = [0, 2, 4], [1, 3]
    log_p = product.log_prob(x, out)
    np.testing.assert_allclose(
        log_p[:, plain], product.terms[0].log_prob(x[:, plain], plain_out)
    )
    np.testing.assert_allclose(
        log_p[:, mass], product.terms[1].log_prob(x[:, mass], mass_out)
    )
    np.testing.assert_allclose(
        product.mean(out)[:, mass], product.terms[1].mean(mass_out)
    )


def test_product_of_plain_columns_is_the_student_t():
    product = make_likelihood(3)
    assert len(product.terms) == 1 and type(product.terms[0]) is StudentT
    out = _raw(3, 3).float()
    assert torch.equal(product.mean(out), out[:, :3])


def test_product_refuses_groups_that_do_not_cover_the_columns():
    with pytest.raises(ValueError, match="cover"):
        ProductLikelihood([(StudentT(2), [0, 2])])


def _discrete():
    """Two columns with 3 and 2 values; decoder outputs of 3 rows."""
    term = Discrete([[-1.0, 0.0, 2.5], [0.5, 1.5]]).double()
    out = _raw(1, 5, n_rows=3, seed=4)
    probs = [
        torch.softmax(out[:, :3], -1).numpy(),
        torch.softmax(out[:, 3:], -1).numpy(),
    ]
    return term, out, probs


def test_discrete_log_prob_is_the_log_probability_of_the_value():
    term, out, probs = _discrete()
    x = torch.tensor([[2.5, 0.5], [-1.0, 1.5], [0.7, 0.5]], dtype=torch.float64)
    log_p = term.log_prob(x, out).numpy()
    np.testing.assert_allclose(log_p[:2, 0], np.log([probs[0][0, 2], probs[0][1, 0]]))
    np.testing.assert_allclose(log_p[:, 1], np.log(probs[1][[0, 1, 2], [0, 1, 0]]))
    assert log_p[2, 0] == 0.0  # a value outside the support informs nothing


def test_discrete_moments_draws_and_gradients():
    term, out, probs = _discrete()
    values = [np.array([-1.0, 0.0, 2.5]), np.array([0.5, 1.5])]
    for j in range(2):
        np.testing.assert_allclose(term.mean(out)[:, j], probs[j] @ values[j])
        np.testing.assert_allclose(
            term.second_moment(out)[:, j], probs[j] @ values[j] ** 2
        )
    many = out[:1].expand(100_000, 5)
    draws = term.sample(many, torch.Generator().manual_seed(0), row_dim=0).numpy()
    for j in range(2):
        frequencies = [(draws[:, j] == v).mean() for v in values[j]]
        np.testing.assert_allclose(frequencies, probs[j][0], atol=0.01)
    out = out.clone().requires_grad_()
    x = torch.tensor([[2.5, 0.5]] * 3, dtype=torch.float64)
    term.log_prob(x, out).sum().backward()
    assert torch.isfinite(out.grad).all() and (out.grad != 0).all()


def test_product_with_every_family():
    support = [None, [0.0, 1.0], None, None]
    values = np.array([np.nan, 0.0, 0.0, np.nan])  # column 1 is discrete instead
    product = make_likelihood(4, values, support)
    assert [type(t) for t in product.terms] == [StudentT, PointMassStudentT, Discrete]
    assert product.width == 3 * 2 + 4 * 1 + 2
    out = _raw(1, product.width).float()
    assert product.sample(out, torch.Generator(), 0)[:, 1].unique().tolist() in (
        [0.0],
        [1.0],
        [0.0, 1.0],
    )


def test_moments_are_the_mean_second_moment_and_probabilities_together():
    likelihood = make_likelihood(
        5,
        point_mass_values=[np.nan, 0.0, np.nan, np.nan, np.nan],
        support=[None, None, [0.0, 1.5, 3.0], None, None],
        n_levels=[0, 0, 0, 3, 2],
    )
    out = torch.randn(7, 4, likelihood.width, dtype=torch.float64)
    mean, second, probabilities = likelihood.moments(out)
    assert torch.equal(mean, likelihood.mean(out))
    assert torch.equal(second, likelihood.second_moment(out))
    assert torch.equal(probabilities, likelihood.probabilities(out))
    assert probabilities.shape == (7, 4, 5)


@pytest.mark.parametrize("observed", [[1, 0, 1, 1, 0, 1], [0] * 6, [1] * 6])
def test_observed_log_prob_of_one_row_is_the_masked_sum(observed):
    # One row in inference: each group reads its observed columns alone;
    # the sum is the masked sum of the elementwise log-likelihoods, for
    # every family, with the groups out of column order.
    likelihood = make_likelihood(
        6,
        point_mass_values=[np.nan, 0.0, np.nan, np.nan, np.nan, 0.5],
        support=[None, None, [0.0, 1.5, 3.0], None, None, None],
        n_levels=[0, 0, 0, 3, 0, 0],
    ).double()
    out = torch.randn(50, 1, likelihood.width, dtype=torch.float64)
    x = torch.tensor([[0.3, 0.0, 1.5, 2.0, -1.2, 0.7]], dtype=torch.float64)
    mask = torch.tensor([observed], dtype=torch.float64)
    expected = (likelihood.log_prob(x, out) * mask).sum(-1)
    with torch.no_grad():
        log_p = likelihood.observed_log_prob(x, out, mask)
    assert log_p.shape == (50, 1)
    np.testing.assert_allclose(log_p, expected, rtol=1e-12, atol=1e-12)
    if not any(observed):
        assert torch.equal(log_p, torch.zeros_like(log_p))


def test_observed_log_prob_keeps_gradients_and_batches_on_the_full_path():
    likelihood = make_likelihood(3).double()
    out = torch.randn(4, 2, likelihood.width, dtype=torch.float64, requires_grad=True)
    x = torch.randn(2, 3, dtype=torch.float64)
    mask = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    log_p = likelihood.observed_log_prob(x, out, mask)
    assert torch.equal(log_p, (likelihood.log_prob(x, out) * mask).sum(-1))
    log_p.sum().backward()  # a missing cell's parameters get no gradient
    assert torch.equal(out.grad[..., [1, 4, 7]][0, 0], torch.zeros(3).double())
