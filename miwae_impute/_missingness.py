"""Missingness models p(s | x) of not-MIWAE: one class per model.

not-MIWAE (Ipsen, Mattei & Frellsen, ICLR 2021) models the mask s (1 where a
value is observed) with the data, p(x, s) = int p(x | z) p(s | x) p(z) dz, so
that the chance of a value being missing may depend on the value itself
(missing not at random). Each model gives the elementwise Bernoulli log
likelihood of the mask, ``log_prob(mask, x)``, at a completed row ``x``: the
observed values, and draws of the missing ones.

The models cover the numeric columns; a categorical column's mask is taken as
ignorable (its term is 0), since a logistic function of a level's code has no
meaning.
"""

import math
from functools import partial

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["MODELS", "LogisticMissingness", "SelfMasking", "make_missingness"]


def observed_rate(observed):
    """Each column's share of observed cells in ``observed`` (n, p), 1 or
    True where observed, as (n_observed + 1/2) / (n + 1): within (0, 1) in a
    complete or an empty column (a numpy array or a tensor, as given)."""
    return (observed.sum(0) + 0.5) / (len(observed) + 1)


class _Missingness(nn.Module):
    """The shared part: the Bernoulli log likelihood of the mask from logits.

    ``factorised`` says whether p(s | x) = prod_j p(s_j | x_j), so that a
    column's missing value can be summed out on its own.
    """

    factorised = False

    def __init__(self, columns):
        super().__init__()
        self.register_buffer("columns", torch.as_tensor(columns, dtype=torch.long))

    @torch.no_grad()
    def start_at(self, mask):
        """Start the intercepts where p(s_j = 1) is each modelled column's
        observed rate in ``mask`` (n, p), 1.0 where observed, at x = 0 (the
        mean): :func:`observed_rate`."""
        rate = observed_rate(mask.index_select(-1, self.columns))
        self._intercepts.copy_(torch.special.logit(rate))

    def log_prob(self, mask, x):
        """log p(s_j | x) of each modelled column j, 0 for the others.

        Parameters
        ----------
        mask : Tensor of shape (..., p)
            1.0 where observed, 0.0 where missing.
        x : Tensor of shape (..., p)
            The completed data: observed values and draws of the missing ones.
        """
        logits = self.logits(x.index_select(-1, self.columns))
        s = mask.index_select(-1, self.columns).expand_as(logits)
        log_p = -F.binary_cross_entropy_with_logits(logits, s, reduction="none")
        return x.new_zeros(log_p.shape[:-1] + x.shape[-1:]).index_copy(
            -1, self.columns, log_p
        )


class SelfMasking(_Missingness):
    """p(s_j = 1 | x) = sigmoid(a_j - w_j x_j): a column's own value sets its
    chance of being observed.

    With w_j > 0, high values tend to be missing; with w_j < 0, low ones.
    w = 0 is missing completely at random. This is the not-MIWAE paper's
    self-masking model, sigmoid(-w_j (x_j - b_j)), with the intercept a_j =
    w_j b_j as the parameter: a_j then holds the column's missing rate on its
    own (it starts at the observed rate, :meth:`start_at`), and w_j only the
    slope, which does not have to drag the rate along as it grows. w starts
    at 0 (sign learned) or at +-0.5 (sign known).

    Parameters
    ----------
    columns : array-like of int
        The modelled columns (the numeric ones), in the model's units.
    sign : {None, 1, -1}, default=None
        The known direction: 1 if high values go missing (w = softplus(v) >
        0), -1 if low values do (w < 0), None to learn it. The not-MIWAE
        paper's UCI experiments state it ("self-masking known"); a free sign
        can settle on the wrong side, from which the mask alone cannot pull
        it back.
    """

    factorised = True

    def __init__(self, columns, sign=None):
        super().__init__(columns)
        self.sign = sign
        start = 0.0 if sign is None else math.log(math.expm1(0.5))  # w = +-0.5
        self.raw_weight = nn.Parameter(torch.full((len(columns),), start))
        self.intercept = nn.Parameter(torch.zeros(len(columns)))

    @property
    def weight(self):
        """w of each modelled column."""
        if self.sign is None:
            return self.raw_weight
        return self.sign * F.softplus(self.raw_weight)

    def logits(self, x):
        """logit p(s_j = 1 | x_j) of the modelled columns."""
        return self.intercept - self.weight * x

    @property
    def _intercepts(self):
        return self.intercept

    @torch.no_grad()
    def in_units(self, mean, scale, names):
        """(w_j, a_j, b_j) for data in units where x = mean + scale * x_model.

        Returns a DataFrame with columns "weight", "intercept" and "bias",
        indexed by ``names`` of the modelled columns: p(s_j = 1 | x) =
        sigmoid(intercept_j - weight_j x_j) = sigmoid(-weight_j (x_j -
        bias_j)) in those units. The bias, where the chance is one half, is
        infinite where w_j = 0.
        """
        w = self.weight.double().cpu().numpy() / scale
        a = self.intercept.double().cpu().numpy() + w * mean
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(w != 0, a / w, np.copysign(np.inf, a))
        return pd.DataFrame(
            {"weight": w, "intercept": a, "bias": b},
            index=pd.Index(names, name="feature"),
        )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Models saved before the intercept have the paper's b: a = w b.
        bias = state_dict.pop(prefix + "bias", None)
        if bias is not None and prefix + "intercept" not in state_dict:
            raw = state_dict[prefix + "raw_weight"]
            weight = raw if self.sign is None else self.sign * F.softplus(raw)
            state_dict[prefix + "intercept"] = weight * bias
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class LogisticMissingness(_Missingness):
    """p(s_j = 1 | x) = sigmoid(W_j . x + c_j): each column's chance of being
    observed is a logistic function of the whole (completed) row.

    It contains the self-masking model (W diagonal) and missing at random
    given the other columns. W starts at 0, and c at the logits of the
    observed rates (:meth:`start_at`).

    Parameters
    ----------
    columns : array-like of int
        The modelled columns (the numeric ones).
    """

    def __init__(self, columns):
        super().__init__(columns)
        self.linear = nn.Linear(len(columns), len(columns))
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def logits(self, x):
        """logit p(s_j = 1 | x) of the modelled columns."""
        return self.linear(x)

    @property
    def _intercepts(self):
        return self.linear.bias

    @torch.no_grad()
    def in_units(self, mean, scale, names):
        """(W, c) for data in units where x = mean + scale * x_model.

        Returns a DataFrame indexed by ``names`` of the modelled columns, with
        a column of weights per modelled column and "intercept": p(s_j = 1 |
        x) = sigmoid(sum_k W_jk x_k + intercept_j) in those units.
        """
        W = self.linear.weight.double().cpu().numpy() / scale
        c = self.linear.bias.double().cpu().numpy() - W @ mean
        return pd.DataFrame(
            np.column_stack([W, c]),
            index=pd.Index(names, name="feature"),
            columns=[*names, "intercept"],
        )


MODELS = {
    "self-masking": SelfMasking,
    "self-masking-high": partial(SelfMasking, sign=1),
    "self-masking-low": partial(SelfMasking, sign=-1),
    "logistic": LogisticMissingness,
}


def make_missingness(name, columns):
    """The missingness model ``name`` over ``columns``; None if "ignorable".

    Parameters
    ----------
    name : {"ignorable", "self-masking", "logistic"}
        The model.
    columns : array-like of int
        The modelled (numeric) columns.

    Returns
    -------
    model : nn.Module or None
    """
    if name == "ignorable" or not len(columns):
        return None
    return MODELS[name](columns)
