"""The training loop of MIWAEImputer: epochs of Adam on the MIWAE bound.

Early stopping on the bound of held-out rows, checkpoints chosen on held-out
entries, a moving average of the weights, a time budget and a clean interrupt.
"""

import copy
import math
import time
import warnings

import torch
from tqdm.auto import tqdm

from ._model import miwae_bound
from ._posterior import bound_per_row
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
