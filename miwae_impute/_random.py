"""Random streams of the model: a training generator, or one stream per row.

Training draws from one explicit ``torch.Generator``. Inference draws through
:class:`RowGenerators`, one stream per row, so that a row's imputation, draws
and score depend on its own seed only. The helper :func:`rand` accepts
either: every draw of the model is a function of uniforms. Nothing here
reads or advances the global torch RNG.
"""

import numpy as np
import torch

__all__ = ["RowGenerators", "gumbel", "rand", "row_seeds"]


class RowGenerators:
    """Independent random streams, one per row of a batch.

    Inference draws through this, so that the imputation, the draws and the
    score of a row depend on its own seed only, not on which other rows share
    its batch: results do not change with chunking, subsetting or reordering.

    Parameters
    ----------
    seeds : sequence of int
        One seed per row.
    device : torch.device
        Device of the draws.
    """

    def __init__(self, seeds, device):
        self.generators = [torch.Generator(device).manual_seed(int(s)) for s in seeds]
        self.device = device

    def rand(self, shape, row_dim, dtype):
        """Uniform draws of ``shape``, row i's slice along ``row_dim`` from
        stream i."""
        row_shape = list(shape)
        row_shape[row_dim] = 1
        draws = [
            torch.rand(row_shape, generator=g, dtype=dtype, device=self.device)
            for g in self.generators
        ]
        return torch.cat(draws, row_dim)


def rand(shape, generator, row_dim, like):
    """Uniform draws on [0, 1) of ``shape``, with the dtype and device of ``like``.

    ``generator`` is a ``torch.Generator``, or :class:`RowGenerators` whose rows
    run along dimension ``row_dim``.
    """
    if isinstance(generator, RowGenerators):
        return generator.rand(shape, row_dim, like.dtype)
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)


def gumbel(shape, generator, row_dim, like):
    """Standard Gumbel draws, -log(-log u), for Gumbel-max choices (see
    :func:`rand` for the arguments)."""
    u = rand(shape, generator, row_dim, like)
    return -torch.log(-torch.log(u.clamp_min(1e-12)))


def row_seeds(x, mask, seed):
    """A seed for each row from its content and ``seed`` (see RowGenerators)."""
    bits = np.concatenate(
        [x.cpu().numpy().astype(np.float32).view(np.uint32), mask.cpu().numpy() > 0], 1
    ).astype(np.uint64)
    mult = np.random.default_rng(seed).integers(1, 2**62, bits.shape[1], np.uint64)
    return (bits * (2 * mult + 1)).sum(axis=1, dtype=np.uint64) >> np.uint64(1)
