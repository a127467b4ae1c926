"""The decoder's likelihoods p(x_j | z): one class per family of columns.

The decoder of :class:`~miwae_impute._model.MIWAE` outputs the parameters of
``p(x | z) = prod_j p(x_j | z)``. Columns of the same family form a group, and
each group reads its own slice of the decoder output, so that a family is one
vectorised call. Every family has the same small protocol, in the spirit of
``torch.distributions``; ``out`` is its slice of the decoder output, of shape
``(..., n_params * n_columns)``:

- ``log_prob(x, out)``: elementwise log density of the columns' values;
- ``mean(out)`` and ``second_moment(out)``: E[x_j | z] and E[x_j^2 | z], which
  self-normalised importance sampling averages into the imputation and its
  variance;
- ``sample(out, generator, row_dim)``: one draw of x_j ~ p(x_j | z), for
  sampling-importance-resampling;
- ``candidates(out, generator, row_dim)``: one draw of x_j ~ p(x_j | z) with
  its discrete part summed out, as candidate values and their log
  probabilities, each of shape ``(c, ..., n_columns)``: a Student-t draw (c =
  1), the mass point and a Student-t draw (c = 2), or every value of a
  discrete column. not-MIWAE weighs them by p(s_j | x_j) (see ``_model``);
- ``encoder_input(x, mask)``: what the encoder sees of the columns (``x``
  itself, zero-imputed, except for :class:`Categorical`, whose levels it sees
  one-hot), ``input_width`` values a row.

:class:`Categorical` also gives ``probabilities(out)``, p(x_j = c | z) of
every level, which importance sampling averages into p(x_j = c | x_o).

:class:`ProductLikelihood` composes the groups into p(x | z) over all columns.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._random import gumbel, rand

__all__ = [
    "Categorical",
    "Discrete",
    "PointMassStudentT",
    "ProductLikelihood",
    "StudentT",
    "make_likelihood",
    "student_t_log_prob",
    "student_t_rsample",
    "student_t_variance",
]


def student_t_log_prob(x, loc, scale, df):
    """Elementwise log density of a location-scale Student-t distribution."""
    y = (x - loc) / scale
    return (
        torch.lgamma(0.5 * (df + 1))
        - torch.lgamma(0.5 * df)
        - 0.5 * torch.log(math.pi * df)
        - torch.log(scale)
        - 0.5 * (df + 1) * torch.log1p(y.square() / df)
    )


def student_t_rsample(loc, scale, df, n_samples, generator, row_dim=0):
    """Student-t draws, shape ``(n_samples, *loc.shape)``; reparameterised
    when gradients are needed.

    With gradients (training), t = loc + scale * eps / sqrt(g / df), eps ~
    N(0, 1) and g ~ chi2(df), whose gamma draw carries implicit
    reparameterisation gradients with respect to df (Figurnov et al., 2018).
    ``generator`` is then a ``torch.Generator``.

    Without (inference), Bailey's polar method without its rejection step:
    with u, v ~ U(0, 1),

        t = loc + scale * cos(2 pi v) * sqrt(df * (u^(-2/df) - 1))

    is exactly StudentT(df, loc, scale) (Bailey, 1994, Math. Comp. 62; a point
    uniform in the unit disc has a uniform squared radius u and a uniform
    angle), and it costs two uniforms and a few elementwise ops instead of a
    gamma draw. Its pathwise gradient with respect to df is also exact, but
    trained models imputed worse with it (benchmarks/HISTORY.md), so training keeps
    the gamma draw. ``generator`` is a ``torch.Generator``, or
    :class:`~miwae_impute._random.RowGenerators` whose rows run along
    dimension ``row_dim`` of ``loc``.
    """
    tiny = torch.finfo(loc.dtype).tiny
    if torch.is_grad_enabled() and df.requires_grad:
        shape = (n_samples, *loc.shape)
        eps = torch.randn(
            shape, generator=generator, dtype=loc.dtype, device=loc.device
        )
        gamma = torch._standard_gamma((0.5 * df).expand(shape), generator=generator)
        return loc + scale * eps * torch.rsqrt((2.0 * gamma).clamp_min(tiny) / df)
    u, v = rand((2, n_samples, *loc.shape), generator, row_dim + 2, loc)
    log_u = torch.log1p(-u)  # log of a uniform on (0, 1], never -inf
    radius = torch.sqrt((df * torch.expm1(-2.0 * log_u / df)).clamp_min(tiny))
    return loc + scale * radius * torch.cos((2.0 * math.pi) * v)


def student_t_variance(scale, df):
    """Variance of a Student-t with df > 2."""
    return scale.square() * df / (df - 2)


class StudentT(nn.Module):
    """x_j | z ~ StudentT(loc_j(z), scale_j(z), df_j(z)), three outputs a column.

    The scale is ``softplus + min_scale`` and the degrees of freedom
    ``softplus + min_df``, as in the authors' code: the floor on the scale keeps
    the likelihood bounded (Mattei & Frellsen, 2018), and with ``min_df > 2``
    the variance exists.

    Parameters
    ----------
    n_columns : int
        Columns of the group.
    min_scale : float
        Floor of the scale.
    min_df : float
        Floor of the degrees of freedom.
    """

    n_params = 3
    one_hot = False

    def __init__(self, n_columns, min_scale=1e-3, min_df=3.0):
        super().__init__()
        self.n_columns = n_columns
        self.input_width = n_columns
        self.min_scale = min_scale
        self.min_df = min_df

    @property
    def width(self):
        """Decoder outputs of the group."""
        return self.n_params * self.n_columns

    def encoder_input(self, x, mask):
        return x

    def student_t(self, out):
        """(loc, scale, df) from the first ``3 * n_columns`` outputs."""
        # Contiguous copies first: softplus on a strided slice of ``out`` is
        # several times slower than the copy and softplus together.
        loc, scale, df = (
            part.contiguous() for part in out[..., : 3 * self.n_columns].chunk(3, -1)
        )
        return loc, F.softplus(scale) + self.min_scale, F.softplus(df) + self.min_df

    def log_prob(self, x, out):
        return student_t_log_prob(x, *self.student_t(out))

    def mean(self, out):
        return out[..., : self.n_columns]

    def second_moment(self, out):
        loc, scale, df = self.student_t(out)
        return loc.square() + student_t_variance(scale, df)

    def moments(self, out):
        """E[x_j | z], E[x_j^2 | z] and, for categorical columns, the levels'
        probabilities (None here), sharing their work where they can."""
        return self.mean(out), self.second_moment(out), None

    def sample(self, out, generator, row_dim):
        return student_t_rsample(*self.student_t(out), 1, generator, row_dim)[0]

    def candidates(self, out, generator, row_dim):
        """One reparameterised draw, of probability 1."""
        t = StudentT.sample(self, out, generator, row_dim).unsqueeze(0)
        return t, torch.zeros_like(t)


class PointMassStudentT(StudentT):
    """x_j | z ~ pi_j(z) delta(a_j) + (1 - pi_j(z)) StudentT(loc, scale, df).

    A point mass at a fixed value a_j (the column's most frequent value, such
    as the 0 of a zero-inflated amount) mixed with a Student-t. The density is
    with respect to Lebesgue measure plus a unit mass at a_j, so the log
    likelihood of an observed x_j is log pi where x_j = a_j and log(1 - pi) +
    log t(x_j) elsewhere, and the MIWAE bound stays a bound. pi = sigmoid of
    a fourth decoder output.

    Parameters
    ----------
    values : array-like of shape (n_columns,)
        The mass point a_j of each column, in the model's (standardised) units.
        Observed values are compared to it exactly.
    min_scale, min_df : float
        Floors of the Student-t; see :class:`StudentT`.
    """

    n_params = 4

    def __init__(self, values, min_scale=1e-3, min_df=3.0):
        super().__init__(len(values), min_scale, min_df)
        # float64, cast to the data's dtype at use: then an observed value equals
        # the mass point exactly, in float32 as in float64 (score).
        self.register_buffer("value", torch.as_tensor(values, dtype=torch.float64))

    def _value(self, like):
        return self.value.to(like.dtype)

    def logit(self, out):
        """log(pi / (1 - pi)), the last ``n_columns`` outputs."""
        return out[..., 3 * self.n_columns :]

    def log_prob(self, x, out):
        logit = self.logit(out)
        continuous = F.logsigmoid(-logit) + super().log_prob(x, out)
        return torch.where(x == self._value(x), F.logsigmoid(logit), continuous)

    def mean(self, out):
        pi = torch.sigmoid(self.logit(out))
        return pi * self._value(pi) + (1 - pi) * super().mean(out)

    def second_moment(self, out):
        pi = torch.sigmoid(self.logit(out))
        return pi * self._value(pi).square() + (1 - pi) * super().second_moment(out)

    def sample(self, out, generator, row_dim):
        continuous = super().sample(out, generator, row_dim)
        logit = self.logit(out)
        at_mass = rand(logit.shape, generator, row_dim, logit) < torch.sigmoid(logit)
        return torch.where(at_mass, self._value(continuous), continuous)

    def candidates(self, out, generator, row_dim):
        """The mass point, of probability pi, and a Student-t draw, 1 - pi."""
        continuous = super().candidates(out, generator, row_dim)[0][0]
        logit = self.logit(out)
        mass = self._value(continuous).expand_as(continuous)
        return (
            torch.stack([mass, continuous]),
            torch.stack([F.logsigmoid(logit), F.logsigmoid(-logit)]),
        )


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

    def log_prob(self, x, out):
        log_p = self.log_probabilities(out)
        at = x.unsqueeze(-1) == self._support(x)
        return torch.where(at, log_p, 0.0).sum(-1)

    def mean(self, out):
        return self.moments(out)[0]

    def second_moment(self, out):
        return self.moments(out)[1]

    def moments(self, out):
        """See :meth:`StudentT.moments`; one softmax serves all three."""
        p = self.log_probabilities(out).exp()
        support = self._support(p).nan_to_num()
        return (p * support).sum(-1), (p * support.square()).sum(-1), self._levels(p)

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

    def moments(self, out):
        """E[x_j | z] and E[x_j^2 | z] (each ``(..., p)``) and
        :meth:`probabilities`, computed together: what importance sampling
        averages."""
        means, seconds, levels = [], [], []
        for term, part, _ in self._groups(out):
            mean, second, probabilities = term.moments(part)
            means.append(mean)
            seconds.append(second)
            if probabilities is not None:
                levels.append(probabilities)
        return (
            self._in_column_order(means),
            self._in_column_order(seconds),
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
