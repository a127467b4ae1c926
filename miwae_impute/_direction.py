"""not-MIWAE's choice of the direction of self-masking (issues 13 and 25).

``missingness="self-masking"`` fits short pilots, one at random and one in the
direction that the at-random fit's imputations point to (:func:`_shift_z`),
and keeps self-masking only where it wins decisively by its model of the mask
(:func:`_paired_z`), against the pilots at random plus a cross-fitted model of
the mask at random (:func:`_log_p_mask_at_random`).
"""

import math

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from ._missingness import observed_rate
from ._posterior import bounds_per_row, posterior_moments
from ._random import row_seeds

# Importance samples of the bounds that choose the direction of self-masking.
_PILOT_SAMPLES = 100

# The z of the at-random model's imputations over the observed values beyond
# which self-masking in that direction is fitted (``_shift_z``; issue 25). On
# the 30 self-masked masks of benchmarks/HISTORY.md's grid it was beyond 3 and
# of the right sign 28 times, and within 3 twice; on four MCAR masks it was
# within 1.2 three times, and -4.7 on red (a false alarm).
_SHIFT_Z = 3.0

# Self-masking must win decisively on one count or the other: by a margin
# over the model at random of more than ``_MARGIN_Z`` (``_paired_z`` of the
# per-row differences of their bounds), or by a shift of the at-random fit's
# imputations beyond ``_DECISIVE_SHIFT_Z``; otherwise the fit stays at random.
# On the 90 self-masked masks of the grid (six sets, five mechanisms, seeds
# 0-2; benchmarks/results/sign-grid/margin-grid-*.jsonl) the five right
# directions with a margin of 2 or less had shifts of 19 to 64 in size;
# values missing at random on servo (MAR 50%) won by a margin of 1.32 with a
# shift of -5.4, and imputed 4.5 times worse than MIWAE.
_MARGIN_Z = 2.0
_DECISIVE_SHIFT_Z = 10.0

# Observed cells of each row hidden, one at a time, to be imputed beside the
# missing cells by ``_shift_z``.
_SHIFT_ROUNDS = 3

# Folds of the cross-fitted model of the mask at random that self-masking is
# compared with (``_log_p_mask_at_random``).
_MASK_FOLDS = 5


def _shift_z(model, x, mask, n_samples, seed, columns):
    """How much higher a model imputes the missing values than observed ones.

    Of ``columns`` (the numeric ones), those with two or more missing cells
    and two or more distinct observed values are compared. In each of up to
    ``_SHIFT_ROUNDS`` rounds, one observed cell of those columns is hidden
    from the model in every row (another cell each round, in a random order
    from ``seed``), and imputed, as the missing cells are, by E[x_j | x_o]
    (``n_samples`` importance samples). For each column, the z of the
    difference between the means of the imputations of its missing cells
    and of its hidden cells (their standard errors added in quadrature);
    returns their sum over the columns divided by the square root of their
    number (Stouffer's z), 0.0 without any. Both means come from the same
    model, so its own bias cancels out: with values missing completely at
    random they agree. A model missing at random imputes a column higher where high
    values went missing and the other columns tell which rows those are;
    far from 0, the sign says which direction of self-masking the data
    support.
    """
    observed = mask.cpu().numpy() > 0
    values = x.cpu().numpy()
    columns = np.array(
        [
            j
            for j in columns
            if (~observed[:, j]).sum() >= 2
            and len(np.unique(values[observed[:, j], j])) >= 2
        ],
        dtype=int,
    )
    if not len(columns):
        return 0.0
    n = len(x)
    rng = np.random.default_rng(seed)
    seen = observed[:, columns]
    order = np.argsort(np.where(seen, rng.random(seen.shape), 2.0), axis=1)
    rows, hidden = [], []
    for r in range(min(_SHIFT_ROUNDS, len(columns))):
        hit = np.flatnonzero(seen[np.arange(n), order[:, r]])
        rows.append(hit)
        hidden.append(columns[order[hit, r]])
    rows = torch.as_tensor(np.concatenate(rows), device=x.device)
    hidden = torch.as_tensor(np.concatenate(hidden), device=x.device)
    x_h, mask_h = x[rows].clone(), mask[rows].clone()
    cells = torch.arange(len(rows), device=x.device), hidden
    x_h[cells], mask_h[cells] = 0.0, 0.0
    x_all, mask_all = torch.cat([x, x_h]), torch.cat([mask, mask_h])
    seeds = row_seeds(x_all, mask_all, seed)
    means = posterior_moments(
        model, x_all, mask_all, n_samples, seeds, variances=False
    )[0]
    z = []
    for j in columns:
        imputed = means[:n][mask[:, j] == 0, j]
        again = means[n:][hidden == j, j]
        if len(again) < 2:
            continue
        error = imputed.var() / len(imputed) + again.var() / len(again)
        if not error > 0:  # a model that imputes one value everywhere
            continue
        z.append(float((imputed.mean() - again.mean()) / error.sqrt()))
    return sum(z) / math.sqrt(len(z)) if z else 0.0


def _paired_z(difference):
    """The z of the mean of per-row differences: their mean over its
    standard error (0.0 with fewer than two rows or no spread)."""
    difference = difference.double()
    spread = difference.std() if len(difference) > 1 else difference.new_zeros(())
    if not spread > 0:
        return 0.0
    return float(difference.mean() / (spread / math.sqrt(len(difference))))


def _log_p_mask_at_random(x, mask, columns, seed):
    """log p(s | x_o) of each row under a model of the mask at random.

    For each of ``columns`` (the numeric ones), the log-likelihood of
    whether each cell is observed, under a logistic regression (L2, C = 1)
    on the numeric columns observed in every row, whose values are known
    whatever the mask. Each row's is predicted by the regression fitted
    without it (``_MASK_FOLDS``-fold cross-fitting, folds stratified and
    shuffled from ``seed``): a regression on many columns, fitted to the
    same rows, would explain the mask better than it can, and beat
    self-masking for its parameters alone (0.4 nats a row on breast). Where
    there is no such column, or fewer than two cells observed or missing,
    the column's observed rate (:func:`~._missingness.observed_rate`), as
    the self-masking model starts. Returns the sum over the columns, a tensor of
    ``len(x)``.

    Missingness at random often depends on other columns. The rate alone
    explains none of that, and self-masking, whose values correlate with
    those columns, beat it for want of a rival under MAR (issue 25).
    """
    s = mask.cpu().numpy()[:, columns] > 0
    complete = x.cpu().numpy()[:, columns[s.all(0)]].astype(float)
    total = np.zeros(len(s))
    for observed in s.T:
        rate = observed_rate(observed)
        log_p = np.where(observed, np.log(rate), np.log1p(-rate))
        folds = min(_MASK_FOLDS, observed.sum(), (~observed).sum())
        if complete.shape[1] and folds >= 2:
            split = StratifiedKFold(folds, shuffle=True, random_state=seed)
            logit = cross_val_predict(
                LogisticRegression(),
                complete,
                observed,
                cv=split,
                method="decision_function",
            )
            log_p = -np.logaddexp(0.0, np.where(observed, -logit, logit))
        total += log_p
    return torch.as_tensor(total, dtype=x.dtype, device=x.device)


class _Direction:
    """Mixin of :class:`~miwae_impute.MIWAEImputer`: the choice of direction.

    It fits the pilots with the estimator's own building and training
    (``_start_model``, and ``_train`` and ``_max_iter`` of
    :class:`~miwae_impute._training._Training`), and reads and sets its state
    as they do (``model_``, ``_optimizer``, ``history_``, ``n_iter_``).
    """

    def _choose_direction(self, x, m, train, val, held_out):
        """Fit ``missingness="self-masking"``: the direction chosen by the data.

        A free sign of w settles on either side, and the mask alone cannot
        pull it back (issues 13 and 25); with a deep decoder the bound can
        also prefer the wrong side by a wide margin, since the missing values
        can be put wherever the mask is best explained. So the direction
        comes from what the other columns say. A model missing at random
        (ignorable: MIWAE) is fitted for an eighth of the budget of a
        not-MIWAE fit; :func:`_shift_z` compares its imputations of each
        column's missing cells with its imputations of observed cells hidden
        from it. Where they are higher by more than ``_SHIFT_Z`` (a z over
        the masked columns), high values going missing (w > 0) is fitted for
        an eighth of the budget too, from the same seed; where lower, low
        values (w < 0). Self-masking is chosen where its bound of log p(x_o,
        s) on the training rows (``_PILOT_SAMPLES`` importance samples)
        beats the best model at random decisively (a margin z beyond
        ``_MARGIN_Z``, or a shift beyond ``_DECISIVE_SHIFT_Z``): the better
        bound of log p(x_o) of the two pilots, plus the log-likelihood of the
        mask under a logistic regression on the complete numeric columns,
        cross-fitted (:func:`_log_p_mask_at_random`). The self-masking pilot
        with its mask model ignored (the same draws) is a model at random too, so
        self-masking must win by its model of the mask, not by a better fit
        of x_o, which on a small table is mostly the luck of training
        (issue 25). ``chosen_missingness_`` names the choice: a direction is
        trained on to its own budget, and at random is fitted again as MIWAE
        (:meth:`_fit`). ``history_["pilot_shift_z"]`` has the z,
        ``history_["pilot_bound"]`` the mean bound per row of each model
        compared (without a direction pilot, log p(x_o) alone),
        ``history_["pilot_observed_bound"]`` each pilot's of log p(x_o), and
        ``history_["pilot_margin_z"]`` the z of self-masking's margin over
        the model at random (the mean of the per-row differences of their
        bounds over its standard error; None without a direction pilot).
        Returns the training generator of the model chosen.
        """
        seeds = row_seeds(x[train], m[train], self._seed + 1)
        numeric = np.flatnonzero(self._n_levels() == 0)
        pilot = max(1, self._max_iter(len(train), not_miwae=True) // 8)
        # Both pilots read zeros ("auto"): a better fill would tighten the
        # at-random bound alone, and tilt the choice toward it.
        pilot_fill = "zero" if self.encoder_fill == "auto" else None

        def fit_pilot(name):
            """The pilot of model ``name``: its bounds per row of log p(x_o,
            s) (None at random) and of log p(x_o), its state and its
            generator."""
            self.chosen_missingness_ = name
            self._start_model(x, m, encoder_fill=pilot_fill)
            generator = self._generator(x.device)
            self._train(x, m, train, val, generator, held_out, pilot)
            model = self.model_.eval()
            joint, observed = bounds_per_row(
                model, x[train], m[train], _PILOT_SAMPLES, seeds
            )
            state = (model, self._optimizer, self.history_, self.n_iter_)
            return joint, observed, state, generator

        runs = {"ignorable": fit_pilot("ignorable")}
        shift = _shift_z(
            self.model_, x[train], m[train], _PILOT_SAMPLES, self._seed + 1, numeric
        )
        if abs(shift) > _SHIFT_Z:
            name = f"self-masking-{'high' if shift > 0 else 'low'}"
            runs[name] = fit_pilot(name)
        observed = {model: float(run[1].mean()) for model, run in runs.items()}
        at_random = max(observed, key=observed.get)
        bounds = {"ignorable": observed[at_random]}
        margin_z = None
        if len(runs) > 1:
            log_p_mask = _log_p_mask_at_random(
                x[train], m[train], numeric, self._seed % 2**32
            )
            bounds["ignorable"] += float(log_p_mask.mean())
            joint = runs[name][0]
            bounds[name] = float(joint.mean())
            margin_z = _paired_z(joint - (runs[at_random][1] + log_p_mask))
        best = max(bounds, key=bounds.get)
        narrow = margin_z is not None and margin_z <= _MARGIN_Z
        if best != "ignorable" and narrow and abs(shift) <= _DECISIVE_SHIFT_Z:
            best = "ignorable"  # self-masking won, but not decisively
        *_, state, generator = runs[best]
        self.model_, self._optimizer, self.history_, self.n_iter_ = state
        self.chosen_missingness_ = best
        self.history_["pilot_bound"] = bounds
        self.history_["pilot_observed_bound"] = observed
        self.history_["pilot_shift_z"] = shift
        self.history_["pilot_margin_z"] = margin_z
        remaining = self._max_iter(len(train)) - pilot
        if best != "ignorable" and remaining > 0:
            self._train(x, m, train, val, generator, held_out, remaining)
        return generator
