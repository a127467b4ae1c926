"""The product of the families: p(x | z) over all the columns of a table."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._discrete import Categorical, Discrete
from ._student_t import PointMassStudentT, StudentT


class ProductLikelihood(nn.Module):
    """p(x | z) = prod_j p(x_j | z), composed of groups of columns.

    The decoder output is the concatenation of the groups' outputs, in the
    order of ``groups``. Every method returns its per-column result in the
    order of the data's columns.

    Parameters
    ----------
    groups : list of (likelihood, columns)
        Each likelihood (:class:`StudentT`, :class:`PointMassStudentT` or
        :class:`Discrete`) with the indices of its columns; together, the
        columns are 0 to p - 1, each once.
    """

    def __init__(self, groups):
        super().__init__()
        self.terms = nn.ModuleList(term for term, _ in groups)
        columns = [np.asarray(cols, dtype=np.int64) for _, cols in groups]
        order = np.concatenate(columns) if columns else np.zeros(0, np.int64)
        if not np.array_equal(np.sort(order), np.arange(len(order))):
            raise ValueError("The groups' columns must cover 0..p-1, each once.")
        self.n_features = len(order)
        # One group in column order (the default) needs no gather or scatter.
        in_order = np.array_equal(order, np.arange(len(order)))
        self._in_order = len(groups) == 1 and in_order
        for i, cols in enumerate(columns):
            cols = torch.as_tensor(cols)
            self.register_buffer(f"_columns{i}", cols, persistent=False)
        self.register_buffer(
            "_inverse", torch.as_tensor(np.argsort(order)), persistent=False
        )

    @property
    def width(self):
        """Decoder outputs of all groups."""
        return sum(term.width for term in self.terms)

    @property
    def n_probabilities(self):
        """Width of :meth:`probabilities`: the levels of the categorical columns."""
        return sum(term.width for term in self.terms if term.one_hot)

    @property
    def input_width(self):
        """Encoder inputs of all groups."""
        return sum(term.input_width for term in self.terms)

    def _columns(self, i, x):
        """Group ``i``'s columns of ``x``."""
        if self._in_order:
            return x
        return x.index_select(-1, getattr(self, f"_columns{i}"))

    def _groups(self, out, x=None):
        """Each term with its slice of ``out`` (and of ``x``, when given)."""
        slices = out.split([term.width for term in self.terms], dim=-1)
        for i, (term, part) in enumerate(zip(self.terms, slices)):
            yield term, part, (None if x is None else self._columns(i, x))

    def encoder_input(self, x, mask):
        """iota(x_o), the encoder's input, ``(..., input_width)``.

        ``x`` itself (zero-imputed) without categorical columns; else each
        group's input, categorical levels one-hot, side by side.
        """
        if not any(term.one_hot for term in self.terms):
            return x
        return torch.cat(
            [
                term.encoder_input(self._columns(i, x), self._columns(i, mask))
                for i, term in enumerate(self.terms)
            ],
            dim=-1,
        )

    def probabilities(self, out):
        """p(x_j = c | z) of the levels of the categorical columns, in order.

        Shape ``(..., sum_j k_j)`` over the categorical columns (width 0
        without any).
        """
        parts = [
            term.probabilities(part)
            for term, part, _ in self._groups(out)
            if term.one_hot
        ]
        return torch.cat(parts, dim=-1) if parts else out[..., :0]

    def _in_column_order(self, parts):
        if self._in_order:
            return parts[0]
        return torch.cat(parts, dim=-1).index_select(-1, self._inverse)

    def log_prob(self, x, out):
        """Elementwise log p(x_j | z), shape ``(..., p)``."""
        return self._in_column_order(
            [term.log_prob(xg, part) for term, part, xg in self._groups(out, x)]
        )

    def observed_log_prob(self, x, out, mask):
        """sum_j log p(x_j | z) over the cells that ``mask`` observes, shape
        ``out.shape[:-1]``.

        For one row on the CPU without gradients (inference with many codes
        per row), each group evaluates the row's observed columns alone
        (the Student-t families compute nothing for the others), which
        halves the work at half the cells missing; the sum is the same up to
        rounding. Otherwise the elementwise :meth:`log_prob` times the mask
        (on a GPU, reading the row's columns would wait for the device at
        every chunk).
        """
        one_row = mask.dim() == 2 and len(mask) == 1 and mask.device.type == "cpu"
        if not one_row or torch.is_grad_enabled():
            return (self.log_prob(x, out) * mask).sum(-1)
        total = out.new_zeros(out.shape[:-1])
        for i, (term, part, xg) in enumerate(self._groups(out, x)):
            columns = self._columns(i, mask)[0].nonzero().squeeze(-1)
            total = total + term.log_prob(xg, part, columns).sum(-1)
        return total

    def mean_outputs(self):
        """Which decoder outputs set the means of p(x | z), ``(width,)`` bool."""
        return torch.cat([term.mean_outputs() for term in self.terms])

    def mean(self, out):
        """E[x_j | z], shape ``(..., p)``."""
        return self._in_column_order(
            [term.mean(part) for term, part, _ in self._groups(out)]
        )

    def second_moment(self, out):
        """E[x_j^2 | z], shape ``(..., p)``."""
        return self._in_column_order(
            [term.second_moment(part) for term, part, _ in self._groups(out)]
        )

    def moments(self, out, second=True):
        """E[x_j | z] and E[x_j^2 | z] (each ``(..., p)``; the second None
        unless ``second``) and :meth:`probabilities`, computed together: what
        importance sampling averages."""
        means, seconds, levels = [], [], []
        for term, part, _ in self._groups(out):
            mean, squared, probabilities = term.moments(part, second)
            means.append(mean)
            seconds.append(squared)
            if probabilities is not None:
                levels.append(probabilities)
        return (
            self._in_column_order(means),
            self._in_column_order(seconds) if second else None,
            torch.cat(levels, dim=-1) if levels else out[..., :0],
        )

    def sample(self, out, generator, row_dim):
        """One draw x ~ p(x | z) per row, shape ``(..., p)``."""
        return self._in_column_order(
            [
                term.sample(part, generator, row_dim)
                for term, part, _ in self._groups(out)
            ]
        )

    def candidates(self, out, generator, row_dim):
        """Every term's candidates (see the module docstring), padded to the
        most candidates of any term with value 0 and probability 0: shapes
        ``(c, ..., p)``."""
        parts = [
            term.candidates(part, generator, row_dim)
            for term, part, _ in self._groups(out)
        ]
        c = max(len(values) for values, _ in parts)
        padded = [
            (
                F.pad(values, (0, 0) * (values.dim() - 1) + (0, c - len(values))),
                F.pad(
                    log_p,
                    (0, 0) * (log_p.dim() - 1) + (0, c - len(log_p)),
                    value=-torch.inf,
                ),
            )
            for values, log_p in parts
        ]
        return tuple(
            self._in_column_order([part[i] for part in padded]) for i in (0, 1)
        )


def make_likelihood(
    n_features,
    point_mass_values=None,
    support=None,
    n_levels=None,
    min_scale=1e-3,
    min_df=3.0,
):
    """The product likelihood of a table's columns, grouped by family.

    Parameters
    ----------
    n_features : int
        Number of columns p.
    point_mass_values : array-like of shape (p,), default=None
        The mass point of each column modelled by :class:`PointMassStudentT`,
        in the model's units, NaN for the others; None for none.
    support : list of (array-like or None), default=None
        The values of each column modelled by :class:`Discrete`, None for the
        others; None for none. A discrete column has no point mass.
    n_levels : array-like of int of shape (p,), default=None
        The number of levels of each column modelled by :class:`Categorical`,
        0 for the others; None for none. A categorical column is neither
        discrete nor has a point mass.
    min_scale, min_df : float
        Floors of the Student-t; see :class:`StudentT`.

    Returns
    -------
    likelihood : ProductLikelihood
    """
    values = np.full(n_features, np.nan)
    if point_mass_values is not None:
        values = np.asarray(point_mass_values, dtype=np.float64).copy()
    support = [None] * n_features if support is None else list(support)
    n_levels = np.zeros(n_features, int) if n_levels is None else np.asarray(n_levels)
    categorical = n_levels > 0
    discrete = np.array([levels is not None for levels in support], dtype=bool)
    discrete &= ~categorical
    values[discrete | categorical] = np.nan
    mass = np.flatnonzero(~np.isnan(values))
    plain = np.flatnonzero(np.isnan(values) & ~discrete & ~categorical)
    groups = []
    if len(plain):
        groups.append((StudentT(len(plain), min_scale, min_df), plain))
    if len(mass):
        groups.append((PointMassStudentT(values[mass], min_scale, min_df), mass))
    if discrete.any():
        levels = [support[j] for j in np.flatnonzero(discrete)]
        groups.append((Discrete(levels), np.flatnonzero(discrete)))
    if categorical.any():
        groups.append(
            (Categorical(n_levels[categorical].tolist()), np.flatnonzero(categorical))
        )
    return ProductLikelihood(groups)
