"""Discrete columns: numeric values on a finite support, and categorical levels."""

import numpy as np
import torch
from torch import nn

from .._random import gumbel


class Discrete(nn.Module):
    """x_j | z ~ Categorical(softmax(logits_j(z))) over the column's values.

    For a numeric column with a handful of distinct values (a coded scale, a
    count, a designed grid): a probability for each value v_jc seen at fit,
    one decoder output per value. Its mean sum_c p_c v_c is the imputation,
    and its log-likelihood, a log-probability, is at most 0, unlike a density
    squeezed onto the grid points.

    Parameters
    ----------
    support : list of array-like
        The values of each column, in the model's (standardised) units;
        observed values are compared to them exactly. A value outside the
        support has likelihood 1 (log 0): it informs the encoder only.
    """

    one_hot = False

    def __init__(self, support):
        super().__init__()
        support = [np.asarray(values, dtype=np.float64) for values in support]
        self.n_columns = self.input_width = len(support)
        n_levels = [len(values) for values in support]
        self.width = sum(n_levels)
        k = max(n_levels, default=0)
        # Each column's logits gathered into a row of ``k`` slots; the padding
        # slots read a -inf appended after the outputs.
        index = np.full((self.n_columns, k), self.width)
        values = np.full((self.n_columns, k), np.nan)
        start = 0
        for j, levels in enumerate(support):
            index[j, : len(levels)] = np.arange(start, start + len(levels))
            values[j, : len(levels)] = levels
            start += len(levels)
        self.register_buffer("support", torch.as_tensor(values))
        self.register_buffer("_index", torch.as_tensor(index), persistent=False)
        # Where each output sits among the (n_columns, k) slots.
        slots = [j * k + c for j, n in enumerate(n_levels) for c in range(n)]
        self.register_buffer("_slots", torch.as_tensor(slots), persistent=False)

    def encoder_input(self, x, mask):
        return x

    def log_probabilities(self, out):
        """log p(x_j = v_jc | z), shape ``(..., n_columns, k)``; -inf at padding."""
        pad = out.new_full((*out.shape[:-1], 1), -torch.inf)
        logits = torch.cat([out, pad], dim=-1)[..., self._index]
        return torch.log_softmax(logits, dim=-1)

    def _support(self, like):
        return self.support.to(like.dtype)

    def log_prob(self, x, out, columns=None):
        """Elementwise log p(x_j | z), of ``columns`` alone if given."""
        log_p = self.log_probabilities(out)
        at = x.unsqueeze(-1) == self._support(x)
        log_p = torch.where(at, log_p, 0.0).sum(-1)
        return log_p if columns is None else log_p.index_select(-1, columns)

    def mean(self, out):
        return self.moments(out)[0]

    def mean_outputs(self):
        """Which outputs set the mean: all of them, the levels' logits."""
        return torch.ones(self.width, dtype=torch.bool)

    def second_moment(self, out):
        return self.moments(out)[1]

    def moments(self, out, second=True):
        """See :meth:`StudentT.moments`; one softmax serves all three."""
        p = self.log_probabilities(out).exp()
        support = self._support(p).nan_to_num()
        squared = (p * support.square()).sum(-1) if second else None
        return (p * support).sum(-1), squared, self._levels(p)

    def _levels(self, p):
        return None

    def sample(self, out, generator, row_dim):
        log_p = self.log_probabilities(out)
        choice = (log_p + gumbel(log_p.shape, generator, row_dim, log_p)).argmax(
            -1, keepdim=True
        )
        support = self._support(log_p).expand_as(log_p)
        return support.gather(-1, choice).squeeze(-1)

    def candidates(self, out, generator, row_dim):
        """Every value of the support, with its probability (0 at padding)."""
        log_p = self.log_probabilities(out).movedim(-1, 0)
        values = self._support(log_p).nan_to_num().T
        shape = (len(values), *[1] * (log_p.dim() - 2), self.n_columns)
        return values.reshape(shape).expand_as(log_p), log_p


class Categorical(Discrete):
    """x_j | z ~ Categorical(softmax(logits_j(z))) over a categorical column's levels.

    The data hold each level's code, 0 to k_j - 1 (the values of a
    :class:`Discrete` column with support 0..k_j - 1), and the encoder sees
    them one-hot, with zeros for a missing entry (zero imputation of the
    one-hot code). The codes have no order, so the imputation is not the
    mean: it is the level of highest probability, from ``probabilities``.

    Parameters
    ----------
    n_levels : list of int
        The number of levels k_j of each column.
    """

    one_hot = True

    def __init__(self, n_levels):
        super().__init__([np.arange(k) for k in n_levels])
        self.input_width = self.width
        offsets = np.cumsum([0, *n_levels])[:-1]
        self.register_buffer("_offset", torch.as_tensor(offsets), persistent=False)

    def encoder_input(self, x, mask):
        """One-hot codes of the observed levels, zeros for the missing ones."""
        one_hot = x.new_zeros((*x.shape[:-1], self.input_width))
        index = x.long().clamp(0) + self._offset
        return one_hot.scatter_(-1, index, mask)

    def probabilities(self, out):
        """p(x_j = c | z) of every level of every column, ``(..., sum_j k_j)``."""
        return self._levels(self.log_probabilities(out).exp())

    def _levels(self, p):
        """The probabilities of the levels, without the padding slots."""
        return p.flatten(-2)[..., self._slots]

    def candidates(self, out, generator, row_dim):
        """A placeholder: the missingness models leave categorical columns out."""
        zeros = out.new_zeros((1, *out.shape[:-1], self.n_columns))
        return zeros, zeros
