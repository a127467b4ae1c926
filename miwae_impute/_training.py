"""The training loop of MIWAEImputer: epochs of Adam on the MIWAE bound.

Early stopping on the bound of held-out rows, checkpoints chosen on held-out
entries, a moving average of the weights, a time budget and a clean interrupt.
"""

import copy
import math
import time
import warnings

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from tqdm.auto import tqdm

from ._missingness import observed_rate
from ._model import miwae_bound
from ._posterior import bound_per_row, bounds_per_row, posterior_moments
from ._random import rand, row_seeds

# Checkpoints of a fit, at which the error on the held-out entries is measured.
_CHECKPOINTS = 10

# Rows seen by max_iter="auto" (3000 steps of 64 rows). The paper trains every
# data set for the same number of steps (500,000 on a GPU); this budget is
# chosen in benchmarks/HISTORY.md to fit a UCI data set in under a minute on 2
# CPU cores.
_AUTO_ROWS = 192_000

# The least epochs of max_iter="auto", within at most _MAX_AUTO_ROWS rows: 3000
# steps are fewer than 200 epochs above 960 rows, and 200 imputed better at
# every rate on the tables of 1,000 to 5,400 rows (issue 24, benchmarks/HISTORY.md).
_MIN_AUTO_EPOCHS = 200
_MAX_AUTO_ROWS = 1_280_000

# The learning rate of a missingness model's parameters, in learning_rate_init.
_MISSINGNESS_LR = 10.0

# Rows seen by max_iter="auto" with a missingness model, in _AUTO_ROWS: the
# not-MIWAE paper trains for 100,000 steps of 16 rows, 1.6 million rows.
_MISSINGNESS_BUDGET = 4

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

# Multipliers of learning_rate_init as a function of the step, given the total.
_LR_SCHEDULES = {
    "constant": lambda n_steps: lambda step: 1.0,
    "cosine": lambda n_steps: (
        lambda step: 0.5 + 0.5 * math.cos(math.pi * step / n_steps)
    ),
}


def _hide(mask, rate, generator):
    """Observed cells hidden from the encoder, each with probability ``rate``:
    1.0 where hidden, 0.0 elsewhere (``mask``'s shape and dtype)."""
    draws = rand(mask.shape, generator, 0, mask)
    return mask * (draws < rate).to(mask.dtype)


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


def _descend(loss, optimizer, schedule=None, average=None):
    """One step of ``optimizer`` down ``loss``; then the learning-rate
    ``schedule`` and the moving ``average`` of the weights, if any, step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if schedule is not None:
        schedule.step()
    if average is not None:
        average.update()


class _MovingAverage:
    """An exponential moving average of a model's weights, with a warm-up.

    The first update copies the weights; after n updates the decay is
    min(decay, (1 + n) / (10 + n)), as in TensorFlow's
    ExponentialMovingAverage: a short fit averages its last steps, not its
    initial weights. From 1,790 updates on, it is 0.995 for a decay of 0.995.
    All parameters are updated by one ``torch._foreach_lerp_`` call a step.

    Parameters
    ----------
    model : torch.nn.Module
        The model being trained.
    decay : float
        The decay of the average.

    Attributes
    ----------
    module : torch.nn.Module
        A copy of ``model`` that holds the averaged weights.
    """

    def __init__(self, model, decay):
        self.module = copy.deepcopy(model)
        self.decay = decay
        self.n_averaged = 0
        self._current = list(model.parameters())
        self._averaged = list(self.module.parameters())

    @torch.no_grad()
    def update(self):
        n = self.n_averaged
        weight = 1.0 if n == 0 else 1 - min(self.decay, (1 + n) / (10 + n))
        torch._foreach_lerp_(self._averaged, self._current, weight)
        self.n_averaged += 1


class _Training:
    """Mixin of :class:`~miwae_impute.MIWAEImputer`: the training loop.

    It reads the estimator's parameters (``batch_size``, ``K``, ``max_iter``,
    ``learning_rate``, ``ema_decay``, early stopping, ``max_time``) and its
    state (``model_``, ``_optimizer``, ``history_``, ``n_iter_``, ``_seed``).
    """

    def _adam(self):
        """Adam on the model's weights; ``foreach``: a handful of multi-tensor
        ops a step instead of about ten per weight tensor.

        The few parameters of a missingness model (not-MIWAE) take steps
        ``_MISSINGNESS_LR`` times larger: Adam moves a weight by about the
        learning rate a step, and a self-masking slope of 3 would take
        thousands of steps at 1e-3.
        """
        missingness = self.model_.missingness
        if missingness is None:
            groups = self.model_.parameters()
        else:
            own = {id(p) for p in missingness.parameters()}
            groups = [
                {"params": [p for p in self.model_.parameters() if id(p) not in own]},
                {
                    "params": list(missingness.parameters()),
                    "lr": _MISSINGNESS_LR * self.learning_rate_init,
                },
            ]
        return torch.optim.Adam(groups, lr=self.learning_rate_init, foreach=True)

    def _epoch(self, x, m, rows, generator, schedule=None, average=None, filled=None):
        """One pass of Adam over ``rows`` in minibatches; mean bound per row.

        ``average``, a :class:`_MovingAverage` of the weights, is updated
        after every step. ``filled`` is ``model_.filled(x, m)``, if computed
        beforehand.
        """
        model, optimizer = self.model_.train(), self._optimizer
        if filled is None:
            filled = model.filled(x, m)
        total = 0.0
        perm = rows[torch.randperm(len(rows), generator=generator).to(x.device)]
        for batch in perm.split(self.batch_size):
            xb, mb, fb = x[batch], m[batch], filled[batch]
            loss, bound = self._loss(model, xb, mb, fb, generator)
            _descend(loss, optimizer, schedule, average)
            total += float(bound.detach().sum())
        return total / len(rows)

    def _loss(self, model, x, mask, filled, generator):
        """A step's loss, and the bound of each row.

        The loss is minus the rows' mean bound, plus ``remask_weight`` times
        the mean squared error of the observed cells that the penalty hides
        (without a missingness model). Tensors may carry a leading member
        axis (``fit_side_by_side``): the members' losses add up, so that
        each member's gradient is its own.
        """
        log_r = model.log_weights(x, mask, self.K, generator, filled)[0]
        bound = miwae_bound(log_r)
        loss = -bound.mean(-1).sum()
        if self.remask_weight > 0 and model.missingness is None:
            hidden = _hide(mask, self.remask_rate, generator)
            error = model.remasked_error(x, mask, hidden, self.K, generator)
            loss = loss + self.remask_weight * error.mean(-1).sum()
        return loss, bound

    def _max_iter(self, n_train, not_miwae=None):
        """The epochs of a fit on ``n_train`` rows: ``max_iter``, or for
        "auto" those that see ``_AUTO_ROWS`` rows (times
        ``_MISSINGNESS_BUDGET`` for not-MIWAE; ``not_miwae``: whether the
        model has a missingness model, if None), and at least
        ``_MIN_AUTO_EPOCHS`` epochs within ``_MAX_AUTO_ROWS`` rows."""
        if self.max_iter != "auto":
            return self.max_iter
        if not_miwae is None:
            not_miwae = self.model_.missingness is not None
        rows = _AUTO_ROWS * (_MISSINGNESS_BUDGET if not_miwae else 1)
        steps_per_epoch = math.ceil(n_train / self.batch_size)
        epochs = math.ceil(rows / self.batch_size / steps_per_epoch)
        most = math.ceil(_MAX_AUTO_ROWS / self.batch_size / steps_per_epoch)
        return max(epochs, min(_MIN_AUTO_EPOCHS, most))

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

    def _train(self, x, m, train, val, generator, held_out, max_iter=None):
        """Epochs of :meth:`_epoch` with early stopping, time budget and interrupt.

        ``max_iter`` epochs, :meth:`_max_iter` if None. Without early
        stopping, the weights that impute the held-out entries best among
        ``_CHECKPOINTS`` checkpoints (and the last epoch) are kept. A
        KeyboardInterrupt stops training and keeps the weights reached so far
        (the best ones, with early stopping), so the imputer is usable.
        """
        steps_per_epoch = math.ceil(len(train) / self.batch_size)
        if max_iter is None:
            max_iter = self._max_iter(len(train))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            self._optimizer,
            _LR_SCHEDULES[self.learning_rate](max_iter * steps_per_epoch),
        )
        average = None
        if self.ema_decay is not None:
            average = _MovingAverage(self.model_, self.ema_decay)
        # The weights that are monitored, compared and kept.
        fitted = self.model_ if average is None else average.module
        history = self.history_
        filled = self.model_.filled(x, m)  # the fill is fixed: once for all epochs
        if len(val):
            history["validation_bound"] = []
            # The same draws every epoch, so that epochs compare fairly.
            val_seeds = row_seeds(x[val], m[val], self._seed)
        best, best_state, stall = -math.inf, None, 0
        every = max(1, max_iter // _CHECKPOINTS) if held_out and not len(val) else 0
        if every:
            history["holdout_mse"] = []  # [epoch, MSE] at each checkpoint
        start = time.perf_counter()
        epochs = tqdm(range(max_iter), desc="MIWAE fit", disable=not self.verbose)
        try:
            for epoch in epochs:
                history["train_bound"].append(
                    self._epoch(x, m, train, generator, schedule, average, filled)
                )
                self.n_iter_ += 1
                self._check_diverged(history["train_bound"][-1], self.n_iter_)
                if len(val):
                    monitored = float(
                        bound_per_row(
                            fitted.eval(), x[val], m[val], self.K, val_seeds
                        ).mean()
                    )
                    history["validation_bound"].append(monitored)
                    self._check_diverged(monitored, self.n_iter_)
                    epochs.set_postfix(validation_bound=f"{monitored:.3f}")
                    if monitored > best + self.tol:
                        best, stall = monitored, 0
                        best_state = copy.deepcopy(fitted.state_dict())
                    elif (stall := stall + 1) >= self.n_iter_no_change:
                        break
                out_of_time = (
                    self.max_time and time.perf_counter() - start > self.max_time
                )
                last = epoch + 1 == max_iter or out_of_time
                if every and ((epoch + 1) % every == 0 or last):
                    error = held_out.error(fitted.eval())
                    history["holdout_mse"].append([self.n_iter_, error])
                    if -error > best:
                        best = -error
                        best_state = copy.deepcopy(fitted.state_dict())
                if out_of_time:
                    break
        except KeyboardInterrupt:
            warnings.warn(
                f"MIWAE training interrupted after {self.n_iter_} epoch(s); the "
                "imputer keeps the weights reached so far.",
                UserWarning,
                stacklevel=4,
            )
        if self.n_iter_ == 0:
            raise KeyboardInterrupt("interrupted before the first epoch ended")
        if best_state is None and average is not None:
            best_state = average.module.state_dict()
        if best_state is not None:
            self.model_.load_state_dict(best_state)

    def _check_diverged(self, value, epoch):
        if not math.isfinite(value):
            raise FloatingPointError(
                f"MIWAE training diverged at epoch {epoch}: the bound is {value}. "
                f"Lower learning_rate_init (now {self.learning_rate_init}), use a "
                "larger batch_size, or check the data for extreme outliers."
            )
