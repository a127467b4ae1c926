"""Observed entries held out of MIWAE training, and what they decide.

:meth:`MIWAEImputer.fit <miwae_impute.MIWAEImputer.fit>` hides a share of the
observed entries from training (``holdout_fraction``). Imputing them with the
model under training measures its imputation error on data it has not fitted,
which decides two things:

- the checkpoint: among the weights at a few points of training, the ones with
  the smallest error on the held-out entries are kept (the imputation error
  bottoms out at different times on different tables, and small tables
  overfit);
- the shrinkage: each feature's weight in [0, 1] on its imputed deviation from
  the feature's mean, fitted by least squares on its held-out entries, so that
  a feature the model cannot predict is imputed near its mean rather than
  worse than it.
"""

import numpy as np
import torch

from ._holdout import _hide_observed
from ._posterior import posterior_moments
from ._random import row_seeds

__all__ = ["HeldOutEntries"]

# Rows and importance samples of a checkpoint's error: an estimate cheap enough
# for ten checkpoints in a default fit.
_CHECK_ROWS = 1000
_CHECK_SAMPLES = 50
# Importance samples of the shrinkage fit, and the least held-out entries of a
# feature to fit its weight.
_SHRINKAGE_SAMPLES = 200
_MIN_SHRINKAGE_ENTRIES = 5


class HeldOutEntries:
    """Observed entries hidden from training, with their true values.

    Parameters
    ----------
    x : Tensor of shape (n_samples, n_features)
        Standardised, zero-imputed data.
    m : Tensor of shape (n_samples, n_features)
        1.0 where observed, 0.0 where missing.
    fraction : float in [0, 0.5)
        Share of the observed entries to hide.
    seed : int
        Seed of the choice of entries and of the importance samples.

    Attributes
    ----------
    x, m : Tensor
        The training data and mask: the held-out entries are missing there.
    """

    def __init__(self, x, m, fraction, seed):
        held = np.zeros(tuple(m.shape), dtype=bool)
        if fraction > 0:
            rng = np.random.RandomState(seed % 2**32)
            held = _hide_observed(m.cpu().numpy() == 0, fraction, rng)
        self._held = torch.as_tensor(held, device=m.device)
        self.x, self.m, self._truth = x, m, x
        if held.any():  # else train on the data as they are, without copies
            self.x, self.m = x * ~self._held, m * ~self._held
        rows = np.flatnonzero(held.any(axis=1))
        if fraction > 0:
            rows = rows[rng.permutation(len(rows))]  # checkpoints read the first
        self._rows = torch.as_tensor(rows, device=m.device)
        self._seed = seed

    def __bool__(self):
        return len(self._rows) > 0

    def _impute(self, model, rows, n_samples):
        """Imputed and true values at the held-out entries of ``rows`` (0 elsewhere)."""
        x, m = self.x[rows], self.m[rows]
        seeds = row_seeds(x, m, self._seed)
        mean, _, _ = posterior_moments(model, x, m, n_samples, seeds, variances=False)
        held = self._held[rows]
        zero = mean.new_zeros(())
        imputed = torch.where(held, mean, zero).double().cpu().numpy()
        truth = torch.where(held, self._truth[rows], zero).double().cpu().numpy()
        return imputed, truth, held.cpu().numpy()

    def error(self, model):
        """Mean squared error of the imputations at (a fixed subset of) the entries."""
        imputed, truth, held = self._impute(
            model, self._rows[:_CHECK_ROWS], _CHECK_SAMPLES
        )
        return float(((imputed - truth) ** 2).sum() / held.sum())

    def shrinkage(self, model, n_samples):
        """Each feature's least-squares weight in [0, 1] on its imputations.

        The weight lam_j minimises sum (lam_j * mean_ij - x_ij)^2 over the
        feature's held-out entries, in standardised units (where the feature's
        mean is 0); 1 for a feature with fewer than 5 of them.
        """
        n_samples = min(n_samples, _SHRINKAGE_SAMPLES)
        imputed, truth, held = self._impute(model, self._rows, n_samples)
        power = (imputed**2).sum(0)
        enough = (held.sum(0) >= _MIN_SHRINKAGE_ENTRIES) & (power > 0)
        fitted = (imputed * truth).sum(0) / np.where(enough, power, 1.0)
        return np.where(enough, np.clip(fitted, 0.0, 1.0), 1.0)
