"""Random streams of the model: a training generator, or one stream per row.

Training draws from one explicit ``torch.Generator``. Inference draws through
:class:`RowGenerators`, one stream per row, so that a row's imputation, draws
and score depend on its own seed only. The helper :func:`rand` accepts
either: every draw of the model is a function of uniforms. Nothing here
reads or advances the global torch RNG.
"""

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = [
    "MemberGenerators",
    "RowGenerators",
    "gumbel",
    "rand",
    "randn",
    "row_seeds",
    "seed_from",
    "standard_gamma",
]


def seed_from(random_state):
    """The seed of a fit from ``random_state``, without touching numpy's
    global RNG: a 63-bit one from fresh entropy when it is None, else below
    2**31 from the estimator's ``random_state``."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


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
        return draws[0] if len(draws) == 1 else torch.cat(draws, row_dim)


class MemberGenerators:
    """The training streams of models trained side by side, one per member.

    Batched training (``_batched``) stacks the members' tensors along the
    third axis from the end, (..., member, row, feature). Each draw is made
    slice by slice, member i's from its own ``torch.Generator``, with the
    shape and in the order that the member's training alone would draw it:
    a member trained in a batch is a fit in its own right.

    Parameters
    ----------
    generators : list of torch.Generator
        One stream per member.
    """

    def __init__(self, generators):
        self.generators = list(generators)

    def _stack(self, draw, shape):
        member_dim = len(shape) - 3
        one = list(shape)
        del one[member_dim]
        return torch.stack([draw(one, g) for g in self.generators], member_dim)

    def rand(self, shape, dtype, device):
        return self._stack(
            lambda one, g: torch.rand(one, generator=g, dtype=dtype, device=device),
            shape,
        )

    def randn(self, shape, dtype, device):
        return self._stack(
            lambda one, g: torch.randn(one, generator=g, dtype=dtype, device=device),
            shape,
        )

    def standard_gamma(self, alpha):
        member_dim = alpha.dim() - 3
        return torch.stack(
            [
                torch._standard_gamma(a, generator=g)
                for a, g in zip(alpha.unbind(member_dim), self.generators)
            ],
            member_dim,
        )

    def randperm(self, n, device):
        """A permutation of range(n) per member, shape (members, n)."""
        return torch.stack(
            [torch.randperm(n, generator=g).to(device) for g in self.generators]
        )


def rand(shape, generator, row_dim, like):
    """Uniform draws on [0, 1) of ``shape``, with the dtype and device of ``like``.

    ``generator`` is a ``torch.Generator``, :class:`RowGenerators` whose rows
    run along dimension ``row_dim``, or :class:`MemberGenerators`.
    """
    if isinstance(generator, RowGenerators):
        return generator.rand(shape, row_dim, like.dtype)
    if isinstance(generator, MemberGenerators):
        return generator.rand(shape, like.dtype, like.device)
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)


def randn(shape, generator, like):
    """Standard normal draws of ``shape`` (dtype and device of ``like``) from
    a ``torch.Generator`` or :class:`MemberGenerators`."""
    if isinstance(generator, MemberGenerators):
        return generator.randn(shape, like.dtype, like.device)
    return torch.randn(shape, generator=generator, dtype=like.dtype, device=like.device)


def standard_gamma(alpha, generator):
    """Gamma(alpha, 1) draws, differentiable in ``alpha`` (implicit
    reparameterisation), from a ``torch.Generator`` or :class:`MemberGenerators`."""
    if isinstance(generator, MemberGenerators):
        return generator.standard_gamma(alpha)
    return torch._standard_gamma(alpha, generator=generator)


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
