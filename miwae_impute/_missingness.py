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
from sklearn.linear_model import LogisticRegression
from torch import nn
from torch.nn import functional as F

__all__ = ["MODELS", "LogisticMissingness", "SelfMasking", "make_missingness"]


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
    def start_at(self, mask, x=None):
        """Start the intercepts where p(s_j = 1) is each modelled column's
        observed rate in ``mask`` (n, p), 1.0 where observed, at x = 0 (the
        mean); the rate is (n_observed + 1/2) / (n + 1), finite in a complete
        column."""
        observed = mask.index_select(-1, self.columns).sum(0)
        rate = (observed + 0.5) / (len(mask) + 1)
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
        logits = self.logits(x)
        s = mask.index_select(-1, self.columns).expand_as(logits)
        log_p = -F.binary_cross_entropy_with_logits(logits, s, reduction="none")
        return x.new_zeros(log_p.shape[:-1] + x.shape[-1:]).index_copy(
            -1, self.columns, log_p
        )


class SelfMasking(_Missingness):
    """p(s_j = 1 | x) = sigmoid(a_j - w_j x_j + beta_j . x_F): a column's own
    value sets its chance of being observed.

    With w_j > 0, high values tend to be missing; with w_j < 0, low ones.
    w = 0 is missing at random. This is the not-MIWAE paper's self-masking
    model, sigmoid(-w_j (x_j - b_j)), with the intercept a_j = w_j b_j as the
    parameter: a_j then holds the column's missing rate on its own (it
    starts at the observed rate, :meth:`start_at`), and w_j only the slope,
    which does not have to drag the rate along as it grows. w starts at 0
    (sign learned) or at +-0.5 (sign known).

    With ``covariates``, the chance also depends on the modelled columns
    observed in every row at :meth:`start_at`, x_F, whose values are known
    whatever the mask: at w = 0 this is a logistic model of missingness at
    random given them, and :meth:`start_at` starts a and beta at its fit.
    Self-masking then contains the rival at random that it is compared with
    (``missingness="self-masking"``, issue 25); without them, a mask that
    depends on a complete column would be explained only through x_j, the
    column correlated with it.

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
    covariates : bool, default=False
        Whether the complete columns x_F enter the logits.
    """

    factorised = True

    def __init__(self, columns, sign=None, covariates=False):
        super().__init__(columns)
        self.sign = sign
        self.reads_covariates = covariates
        start = 0.0 if sign is None else math.log(math.expm1(0.5))  # w = +-0.5
        self.raw_weight = nn.Parameter(torch.full((len(columns),), start))
        self.intercept = nn.Parameter(torch.zeros(len(columns)))
        self.register_buffer("covariates", torch.zeros(0, dtype=torch.long))
        self.covariate_weight = nn.Parameter(torch.zeros(len(columns), 0))

    @property
    def weight(self):
        """w of each modelled column."""
        if self.sign is None:
            return self.raw_weight
        return self.sign * F.softplus(self.raw_weight)

    def logits(self, x):
        """logit p(s_j = 1 | x) of the modelled columns, from whole rows."""
        logits = self.intercept - self.weight * x.index_select(-1, self.columns)
        if len(self.covariates):
            x_f = x.index_select(-1, self.covariates)
            logits = logits + x_f @ self.covariate_weight.T
        return logits

    @property
    def _intercepts(self):
        return self.intercept

    @torch.no_grad()
    def start_at(self, mask, x=None):
        """Start the intercepts at the observed rates (see the base class);
        with ``covariates``, at w = 0, a and beta at the logistic regression
        (L2, C = 1) of each column's mask on x_F, the columns of ``x`` (n, p)
        observed in every row of ``mask``."""
        super().start_at(mask)
        if not self.reads_covariates or x is None:
            return
        observed = mask.index_select(-1, self.columns) > 0
        self.covariates = self.columns[observed.all(0)]
        beta = self.intercept.new_zeros(len(self.columns), len(self.covariates))
        x_f = x.index_select(-1, self.covariates).double().cpu().numpy()
        for j, s in enumerate(observed.T.cpu().numpy()):
            if len(self.covariates) and 0 < s.sum() < len(s):
                fit = LogisticRegression().fit(x_f, s)
                self.intercept[j] = float(fit.intercept_[0])
                beta[j] = torch.as_tensor(fit.coef_[0])
        self.covariate_weight = nn.Parameter(beta)

    @torch.no_grad()
    def in_units(self, mean, scale, names):
        """(w_j, a_j, b_j, beta_j) for data in units where x = mean + scale *
        x_model.

        ``mean``, ``scale`` and ``names`` are those of all the model's
        columns. Returns a DataFrame with columns "weight", "intercept" and
        "bias", then one per covariate named after it, indexed by the names
        of the modelled columns: p(s_j = 1 | x) = sigmoid(intercept_j -
        weight_j x_j + sum_k beta_jk x_k) in those units. The bias, where the
        chance is one half with the covariates at 0, is infinite where w_j =
        0.
        """
        columns = self.columns.cpu().numpy()
        covariates = self.covariates.cpu().numpy()
        w = self.weight.double().cpu().numpy() / scale[columns]
        beta = self.covariate_weight.double().cpu().numpy() / scale[covariates]
        a = self.intercept.double().cpu().numpy() + w * mean[columns]
        a = a - beta @ mean[covariates]
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(w != 0, a / w, np.copysign(np.inf, a))
        table = pd.DataFrame(
            {"weight": w, "intercept": a, "bias": b},
            index=pd.Index(np.asarray(names)[columns], name="feature"),
        )
        table[list(np.asarray(names)[covariates])] = beta
        return table

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Models saved before the intercept have the paper's b: a = w b.
        bias = state_dict.pop(prefix + "bias", None)
        if bias is not None and prefix + "intercept" not in state_dict:
            raw = state_dict[prefix + "raw_weight"]
            weight = raw if self.sign is None else self.sign * F.softplus(raw)
            state_dict[prefix + "intercept"] = weight * bias
        # Models saved before the covariates (format 3) have none; the shapes
        # are the saved model's.
        covariates = state_dict.setdefault(prefix + "covariates", self.covariates)
        shape = (len(self.columns), len(covariates))
        state_dict.setdefault(
            prefix + "covariate_weight", self.intercept.new_zeros(shape)
        )
        self.covariates = self.covariates.new_zeros(len(covariates))
        self.covariate_weight = nn.Parameter(self.intercept.new_zeros(shape))
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
        """logit p(s_j = 1 | x) of the modelled columns, from whole rows."""
        return self.linear(x.index_select(-1, self.columns))

    @property
    def _intercepts(self):
        return self.linear.bias

    @torch.no_grad()
    def in_units(self, mean, scale, names):
        """(W, c) for data in units where x = mean + scale * x_model.

        Returns a DataFrame indexed by ``names`` of the modelled columns, with
        a column of weights per modelled column and "intercept": p(s_j = 1 |
        x) = sigmoid(sum_k W_jk x_k + intercept_j) in those units. ``mean``,
        ``scale`` and ``names`` are those of all the model's columns.
        """
        columns = self.columns.cpu().numpy()
        names = list(np.asarray(names)[columns])
        W = self.linear.weight.double().cpu().numpy() / scale[columns]
        c = self.linear.bias.double().cpu().numpy() - W @ mean[columns]
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


def make_missingness(name, columns, covariates=False):
    """The missingness model ``name`` over ``columns``; None if "ignorable".

    Parameters
    ----------
    name : {"ignorable", "self-masking", "logistic"}
        The model.
    columns : array-like of int
        The modelled (numeric) columns.
    covariates : bool, default=False
        Whether self-masking also reads the complete columns
        (:class:`SelfMasking`).

    Returns
    -------
    model : nn.Module or None
    """
    if name == "ignorable" or not len(columns):
        return None
    if name.startswith("self-masking"):
        return MODELS[name](columns, covariates=covariates)
    return MODELS[name](columns)
