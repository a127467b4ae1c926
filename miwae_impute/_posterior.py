"""Inference over a fitted model, in chunks of rows and samples, one stream per row.

Self-normalised importance sampling (:func:`posterior_moments`),
sampling-importance-resampling (:func:`sir_draws`) and the bound per row
(:func:`bound_per_row`, :func:`bounds_per_row`) of a
:class:`~miwae_impute._model.MIWAE`. Each works in chunks that keep memory
flat in n and L, and row i draws from its own stream
(:class:`~miwae_impute._random.RowGenerators`, seeded with ``seeds[i]``), so
the results do not depend on the chunking, the row order or the threads.
"""

from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from ._model import Completion, miwae_bound
from ._random import RowGenerators, gumbel

# Budget, in tensor elements, for one chunk of (samples x rows x width) work in
# inference: 2 MB per float32 tensor, which stays in cache (measured fastest
# between 2**18 and 2**20 on a 2-core AVX2 machine) and keeps memory flat.
_CHUNK_ELEMENTS = 2**19


def _chunks(n_rows, n_samples, width):
    """Row and sample chunk sizes that keep one chunk under the element budget."""
    sample_chunk = min(n_samples, max(1, _CHUNK_ELEMENTS // width))
    row_chunk = max(1, _CHUNK_ELEMENTS // (sample_chunk * width))
    return min(n_rows, row_chunk), sample_chunk


def _over_row_chunks(function, n_rows, row_chunk, device):
    """Call ``function(rows)`` for each slice of ``row_chunk`` rows.

    On the CPU with torch threads T > 1, T chunks run at once, each on one
    thread: inference is many small elementwise ops, which one thread each
    runs faster than T threads share one. Torch's thread count is restored
    afterwards. Every row draws from its own stream, so the results are those
    of one thread running the chunks one by one. ``function`` writes its
    results into tensors allocated beforehand: results kept alive in the
    workers' memory arenas would fragment them, and memory would grow with n.
    """
    chunks = [slice(start, start + row_chunk) for start in range(0, n_rows, row_chunk)]
    threads = torch.get_num_threads()
    if torch.device(device).type != "cpu" or threads == 1 or len(chunks) == 1:
        for rows in chunks:
            function(rows)
        return

    def run(rows):  # inference mode is per thread
        with torch.inference_mode():
            function(rows)

    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(threads) as pool:
            for _ in pool.map(run, chunks):  # raises a worker's exception
                pass
    finally:
        torch.set_num_threads(threads)


def _drawn(model, drawn, other):
    """``drawn`` in the columns of the missingness model, ``other`` elsewhere."""
    columns = model.missingness.columns
    return other.index_copy(-1, columns, drawn.index_select(-1, columns))


def _width(model):
    """The widest layer output, which bounds the per-sample memory."""
    return max(m.out_features for m in model.modules() if isinstance(m, nn.Linear))


@torch.inference_mode()
def posterior_moments(model, x, mask, n_samples, seeds, variances=True):
    """Self-normalised importance estimates of E[x | x_o], Var[x | x_o] and
    p(x_j = c | x_o).

    E[x_m | x_o] ~ sum_l w_l mu(z_l), w_l = r_l / sum_l' r_l' (the slide
    "Imputation with MIWAE"), with the decoder means mu(z_l) as a Rao-Blackwellised
    stand-in for x_(l). The variance is E[x^2 | x_o] - E[x | x_o]^2, which adds
    E[Var(x | z)] and Var(E[x | z]). The probabilities of the levels of the
    categorical columns, sum_l w_l p(x_j = c | z_l), come third, in the order
    of ``model.likelihood.probabilities`` (width 0 without categorical columns).
    Works in chunks over rows and samples, so memory does not grow with n or L.
    Row i draws from its own stream, seeded with ``seeds[i]``. Without
    ``variances``, the second value is None and E[x^2 | z] is not computed
    (about 6% of the time of imputation by the means alone).
    """
    row_chunk, sample_chunk = _chunks(x.shape[0], n_samples, _width(model))
    squares = variances  # whether E[x^2 | z] is averaged
    means = x.new_empty(x.shape)
    variances = x.new_empty(x.shape) if squares else None
    probabilities = x.new_empty((len(x), model.likelihood.n_probabilities))

    def moments(rows):
        xb, mb = x[rows], mask[rows]
        generator = RowGenerators(seeds[rows], x.device)
        # Running log-sum-exp accumulators: max, sum w, sum w mu, sum w E[x^2|z].
        log_max = torch.full((len(xb), 1), -torch.inf, dtype=x.dtype, device=x.device)
        total = first = second = third = 0.0
        proposal = model.encode(xb, mb)  # q(z | x_o), for every chunk of codes
        for done in range(0, n_samples, sample_chunk):
            s = min(sample_chunk, n_samples - done)
            log_r, out, completion = model.log_weights(
                xb, mb, s, generator, proposal=proposal
            )
            log_r = log_r.unsqueeze(-1)
            new_max = torch.maximum(log_max, log_r.amax(0))
            rescale = torch.exp(log_max - new_max)
            r = torch.exp(log_r - new_max)
            total = total * rescale + r.sum(0)
            mu, mu2, p_levels = model.likelihood.moments(out, squares)
            if completion is not None:  # not-MIWAE: the weights score these
                drawn, drawn2 = completion.moments(squares)
                mu = _drawn(model, drawn, mu)
                mu2 = _drawn(model, drawn2, mu2) if squares else None
            first = first * rescale + (r * mu).sum(0)
            if squares:
                second = second * rescale + (r * mu2).sum(0)
            third = third * rescale + (r * p_levels).sum(0)
            log_max = new_max
        means[rows] = mean = first / total
        if squares:
            variances[rows] = (second / total - mean.square()).clamp_min(0.0)
        probabilities[rows] = third / total

    _over_row_chunks(moments, x.shape[0], row_chunk, x.device)
    return means, variances, probabilities


@torch.inference_mode()
def sir_draws(model, x, mask, n_samples, n_draws, seeds):
    """Multiple imputation by sampling-importance-resampling.

    For each row, resample ``n_draws`` codes among ``n_samples`` proposals with
    probability w_l (Gumbel-max, so it streams over sample chunks), then draw
    x ~ p(x | z) at each chosen code (the decoder's output there). Returns a
    Tensor (n_draws, n_rows, p).
    Row i draws from its own stream, seeded with ``seeds[i]``.
    """
    # A chunk holds decoder outputs (samples, rows, width) and Gumbel keys
    # (draws, samples, rows).
    row_chunk, sample_chunk = _chunks(
        x.shape[0], n_samples, max(_width(model), n_draws)
    )
    draws = x.new_empty((n_draws, *x.shape))

    def draw(rows):
        xb, mb = x[rows], mask[rows]
        generator = RowGenerators(seeds[rows], x.device)
        best = torch.full(
            (n_draws, len(xb)), -torch.inf, dtype=x.dtype, device=x.device
        )
        chosen = x.new_zeros((n_draws, len(xb), model.likelihood.width))
        chosen_completion = None
        proposal = model.encode(xb, mb)
        for done in range(0, n_samples, sample_chunk):
            s = min(sample_chunk, n_samples - done)
            log_r, out, completion = model.log_weights(
                xb, mb, s, generator, proposal=proposal
            )
            noise = gumbel((n_draws, *log_r.shape), generator, 2, log_r)
            score, index = (log_r + noise).max(dim=1)  # (n_draws, rows)
            better = score > best
            best = torch.where(better, score, best)
            take = index[..., None].expand(*index.shape, out.shape[-1])
            picked = out.gather(0, take)
            chosen = torch.where(better[..., None], picked, chosen)
            if completion is not None:  # not-MIWAE resamples (z_k, x_m,k) pairs
                picked = completion.gather(index)
                if chosen_completion is None:
                    chosen_completion = picked
                else:
                    chosen_completion = Completion(
                        *(
                            torch.where(better[..., None], new, old)
                            for new, old in zip(picked, chosen_completion)
                        )
                    )
        sample = model.likelihood.sample(chosen, generator, row_dim=1)
        if chosen_completion is not None:
            sample = _drawn(model, chosen_completion.sample(generator, 1), sample)
        draws[:, rows] = sample

    _over_row_chunks(draw, x.shape[0], row_chunk, x.device)
    return draws


@torch.inference_mode()
def bound_per_row(model, x, mask, n_samples, seeds):
    """MIWAE bound of each row with ``n_samples`` importance samples: of
    log p(x_o, s) with a missingness model, of log p(x_o) without.

    Row i draws from its own stream, seeded with ``seeds[i]``.
    """
    joint, observed = bounds_per_row(model, x, mask, n_samples, seeds)
    return observed if joint is None else joint


@torch.inference_mode()
def bounds_per_row(model, x, mask, n_samples, seeds):
    """A model's bounds of log p(x_o, s) (None without a missingness model)
    and of log p(x_o), per row.

    One pass over the same draws: the weights of log p(x_o) leave out the
    missingness model's term, which is then added as ``log_weights`` adds
    it, so the first bound is the model's own, and the second that of the
    same networks missing at random. Row i draws from its own stream,
    seeded with ``seeds[i]``.
    """
    row_chunk, _ = _chunks(x.shape[0], n_samples, _width(model))
    observed = x.new_empty(len(x))
    joint = None if model.missingness is None else x.new_empty(len(x))

    def bound(rows):
        generator = RowGenerators(seeds[rows], x.device)
        xb, mb = x[rows], mask[rows]
        log_r, out = model._log_weights_observed(xb, mb, n_samples, generator)
        observed[rows] = miwae_bound(log_r)
        if joint is not None:
            log_p_s_given_x, _ = model._complete(xb, mb, out, generator)
            joint[rows] = miwae_bound(log_r + log_p_s_given_x)

    _over_row_chunks(bound, x.shape[0], row_chunk, x.device)
    return joint, observed
