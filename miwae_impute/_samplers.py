"""Markov chain imputation with a trained MIWAE: pseudo-Gibbs and
Metropolis-within-Gibbs.

Both samplers alternate a code and a completion, and the encoder sees the
current completion (x_o, x_m) instead of zeros (the slide "Imputation with
MIWAE" of the MIWAE talk):

- pseudo-Gibbs (Rezende et al., 2014): z_t ~ q(z | x_o, x_m,t-1), then
  x_m,t ~ p(x_m | z_t). Its stationary law is p(x_m | x_o) only if q is the
  exact posterior p(z | x);
- Metropolis-within-Gibbs (Mattei & Frellsen, 2018): z' ~ q(z | x_o,
  x_m,t-1) is a proposal of an independent Metropolis-Hastings step that
  targets p(z | x_o, x_m,t-1), accepted with probability

      min(1, p(x | z') p(z') q(z_t-1 | x) / (p(x | z_t-1) p(z_t-1) q(z' | x))),

  then x_m,t ~ p(x_m | z_t). Its stationary law is p(x_m, z | x_o) whatever
  the encoder: an exact sampler of the model's conditional.

Each row's chains draw from the row's own stream
(:class:`~miwae_impute._random.RowGenerators`), so a row's result does not
depend on the other rows.
"""

import torch

from ._likelihoods import student_t_log_prob, student_t_rsample
from ._model import normal_log_prob
from ._posterior import _chunks, _over_row_chunks, _width
from ._random import RowGenerators, rand

#: Names of the samplers, for ``MIWAEImputer(sampler=...)``.
SAMPLERS = ("snis", "metropolis-within-gibbs", "pseudo-gibbs")


def _log_joint(model, x, out, z):
    """log p(x | z) + log p(z) of complete rows ``x`` (chains, rows, p)."""
    return model.likelihood.log_prob(x, out).sum(-1) + normal_log_prob(z)


def _chains(model, x, mask, n_chains, n_steps, generator, metropolis):
    """Run ``n_chains`` chains per row for ``n_steps`` steps.

    Yields, after each step, the decoder's output at the chains' codes, of
    shape (n_chains, rows, width), and the current completions (n_chains,
    rows, p), observed cells included.
    """
    observed = mask > 0
    x = x.expand(n_chains, *x.shape)
    ones = torch.ones_like(x)  # of the chains' shape: one-hot codes need it
    completion, z, out = x, None, None
    for _ in range(n_steps):
        q = model.encode(completion, ones)
        proposal = student_t_rsample(*q, 1, generator, row_dim=1)[0]
        proposed = model.decode(proposal)
        if metropolis and z is not None:
            log_ratio = (
                _log_joint(model, completion, proposed, proposal)
                - _log_joint(model, completion, out, z)
                + student_t_log_prob(z, *q).sum(-1)
                - student_t_log_prob(proposal, *q).sum(-1)
            )
            u = rand(log_ratio.shape, generator, 1, log_ratio)
            accept = (torch.log(u) < log_ratio).unsqueeze(-1)
            z = torch.where(accept, proposal, z)
            out = torch.where(accept, proposed, out)
        else:
            z, out = proposal, proposed
        drawn = model.likelihood.sample(out, generator, row_dim=1)
        completion = torch.where(observed, x, drawn)
        yield out, completion


def _burn_in(n_steps):
    """Steps discarded at the start of a chain: a fifth, at least one."""
    return max(1, n_steps // 5)


@torch.inference_mode()
def chain_moments(model, x, mask, n_steps, seeds, *, metropolis=True):
    """E[x | x_o], Var[x | x_o] and p(x_j = c | x_o) from one chain per row.

    The chain runs ``n_steps`` steps after a burn-in of a fifth of them; the
    moments average E[x | z_t], E[x^2 | z_t] and p(x_j = c | z_t) over the
    kept steps (Rao-Blackwellised), as :func:`~miwae_impute._posterior.
    posterior_moments` averages them over weighted codes. Row i draws from
    its own stream, seeded with ``seeds[i]``.
    """
    row_chunk, _ = _chunks(x.shape[0], 1, _width(model))
    means, variances = x.new_empty(x.shape), x.new_empty(x.shape)
    probabilities = x.new_empty((len(x), model.likelihood.n_probabilities))
    burn_in = _burn_in(n_steps)

    def moments(rows):
        generator = RowGenerators(seeds[rows], x.device)
        first = second = third = 0.0
        chains = _chains(
            model, x[rows], mask[rows], 1, burn_in + n_steps, generator, metropolis
        )
        for step, (out, _) in enumerate(chains):
            if step >= burn_in:
                mu, mu2, p_levels = model.likelihood.moments(out[0])
                first, second, third = first + mu, second + mu2, third + p_levels
        means[rows] = mean = first / n_steps
        variances[rows] = (second / n_steps - mean.square()).clamp_min(0.0)
        probabilities[rows] = third / n_steps

    _over_row_chunks(moments, x.shape[0], row_chunk, x.device)
    return means, variances, probabilities


@torch.inference_mode()
def chain_draws(model, x, mask, n_steps, n_draws, seeds, *, metropolis=True):
    """Multiple imputations: the last completion of ``n_draws`` independent
    chains per row, each run ``n_steps`` steps after a burn-in of a fifth of
    them. Returns a Tensor (n_draws, n_rows, p), observed cells unchanged.
    Row i draws from its own stream, seeded with ``seeds[i]``.
    """
    row_chunk, _ = _chunks(x.shape[0], n_draws, _width(model))
    draws = x.new_empty((n_draws, *x.shape))

    def draw(rows):
        generator = RowGenerators(seeds[rows], x.device)
        chains = _chains(
            model,
            x[rows],
            mask[rows],
            n_draws,
            _burn_in(n_steps) + n_steps,
            generator,
            metropolis,
        )
        *_, (_, completion) = chains
        draws[:, rows] = completion

    _over_row_chunks(draw, x.shape[0], row_chunk, x.device)
    return draws
