"""Random streams of the model: a training generator, or one stream per row.

Training draws from one explicit ``torch.Generator``. Inference draws through
:class:`RowGenerators`, one stream per row, so that a row's imputation, draws
and score depend on its own seed only. The helpers :func:`randn` and
:func:`rand` accept either. Nothing here reads or advances the global torch RNG.
"""

import numpy as np
import torch

__all__ = ["RowGenerators", "rand", "randn", "row_seeds", "standard_gamma"]


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

    def _per_row(self, draw, shape, row_dim):
        row_shape = list(shape)
        row_shape[row_dim] = 1
        return torch.cat([draw(row_shape, g) for g in self.generators], row_dim)

    def randn(self, shape, row_dim, dtype):
        def draw(row_shape, g):
            return torch.randn(row_shape, generator=g, dtype=dtype, device=self.device)

        return self._per_row(draw, shape, row_dim)

    def rand(self, shape, row_dim, dtype):
        def draw(row_shape, g):
            return torch.rand(row_shape, generator=g, dtype=dtype, device=self.device)

        return self._per_row(draw, shape, row_dim)

    def standard_gamma(self, alpha, row_dim):
        parts = alpha.split(1, row_dim)
        return torch.cat(
            [
                torch._standard_gamma(a, generator=g)
                for a, g in zip(parts, self.generators)
            ],
            row_dim,
        )


def randn(shape, generator, row_dim, like):
    """Standard normal draws of ``shape``, with the dtype and device of ``like``.

    ``generator`` is a ``torch.Generator``, or :class:`RowGenerators` whose rows
    run along dimension ``row_dim``.
    """
    if isinstance(generator, RowGenerators):
        return generator.randn(shape, row_dim, like.dtype)
    return torch.randn(shape, generator=generator, dtype=like.dtype, device=like.device)


def rand(shape, generator, row_dim, like):
    """Uniform draws on [0, 1) of ``shape``; see :func:`randn`."""
    if isinstance(generator, RowGenerators):
        return generator.rand(shape, row_dim, like.dtype)
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)


def standard_gamma(alpha, generator, row_dim):
    """Gamma(alpha, 1) draws with implicit reparameterisation gradients."""
    if isinstance(generator, RowGenerators):
        return generator.standard_gamma(alpha, row_dim)
    return torch._standard_gamma(alpha, generator=generator)


def row_seeds(x, mask, seed):
    """A seed for each row from its content and ``seed`` (see RowGenerators)."""
    bits = np.concatenate(
        [x.cpu().numpy().astype(np.float32).view(np.uint32), mask.cpu().numpy() > 0], 1
    ).astype(np.uint64)
    mult = np.random.default_rng(seed).integers(1, 2**62, bits.shape[1], np.uint64)
    return (bits * (2 * mult + 1)).sum(axis=1, dtype=np.uint64) >> np.uint64(1)
