"""The Student-t family: plain, and with a point mass (``p(x_j | z)``)."""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._random import rand, randn, standard_gamma


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
    ``generator`` is then a ``torch.Generator``, or a
    :class:`~miwae_impute._random.MemberGenerators` of models trained side by
    side.

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
        eps = randn(shape, generator, loc)
        gamma = standard_gamma((0.5 * df).expand(shape), generator)
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

    def student_t(self, out, columns=None):
        """(loc, scale, df) from the first ``3 * n_columns`` outputs, of
        ``columns`` alone (indices among the group's) if given."""
        # Contiguous copies first: softplus on a strided slice of ``out`` is
        # several times slower than the copy and softplus together.
        parts = out[..., : 3 * self.n_columns].chunk(3, -1)
        if columns is None:
            loc, scale, df = (part.contiguous() for part in parts)
        else:
            loc, scale, df = (part.index_select(-1, columns) for part in parts)
        return loc, F.softplus(scale) + self.min_scale, F.softplus(df) + self.min_df

    def log_prob(self, x, out, columns=None):
        """Elementwise log p(x_j | z), of ``columns`` alone if given (``x``
        holds the group's columns all the same)."""
        if columns is not None:
            x = x.index_select(-1, columns)
        return student_t_log_prob(x, *self.student_t(out, columns))

    def mean(self, out):
        return out[..., : self.n_columns]

    def mean_outputs(self):
        """Which outputs set the mean: the locations, the first ``n_columns``
        (not the scales or the degrees of freedom)."""
        return torch.arange(self.width) < self.n_columns

    def second_moment(self, out):
        loc, scale, df = self.student_t(out)
        return loc.square() + student_t_variance(scale, df)

    def moments(self, out, second=True):
        """E[x_j | z], E[x_j^2 | z] (None unless ``second``) and, for
        categorical columns, the levels' probabilities (None here), sharing
        their work where they can."""
        return self.mean(out), self.second_moment(out) if second else None, None

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

    def mean_outputs(self):
        """Which outputs set the mean pi a + (1 - pi) loc: the locations and
        the logits of pi, not the scales or degrees of freedom."""
        position = torch.arange(self.width)
        return (position < self.n_columns) | (position >= 3 * self.n_columns)

    def logit(self, out):
        """log(pi / (1 - pi)), the last ``n_columns`` outputs."""
        return out[..., 3 * self.n_columns :]

    def log_prob(self, x, out, columns=None):
        logit, value = self.logit(out), self._value(x)
        continuous = super().log_prob(x, out, columns)
        if columns is not None:
            x, value = x.index_select(-1, columns), value[columns]
            logit = logit.index_select(-1, columns)
        continuous = F.logsigmoid(-logit) + continuous
        return torch.where(x == value, F.logsigmoid(logit), continuous)

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
