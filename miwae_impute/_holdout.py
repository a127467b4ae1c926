"""Hide observed entries and score their imputation: the masked-error criterion.

One piece of logic serves :func:`~miwae_impute.masked_mse_scorer` and the
``"auto"`` modes of :class:`~miwae_impute.NearestNeighborsImputer` and
:class:`~miwae_impute.PCAImputer`: hide a random share of the *observed*
entries, impute them, and measure the mean squared error on the hidden entries
in standardised units. A hidden categorical entry (a level code) counts 1 if
its imputed level is wrong, 0 otherwise: the error of one standard deviation,
and the mean over categorical entries alone is the proportion of falsely
classified entries (PFC).
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state

from ._scaling import _standardization

# Hold-outs averaged by the "auto" modes: one draw is noisy, and every extra
# draw costs a full imputation per candidate.
_N_HOLDOUTS = 3


def _hide_observed(mask, fraction, random_state):
    """Pick ``fraction`` of the observed entries at random, to hide.

    Every feature keeps at least one observed entry, so hiding never empties a
    feature (imputers would drop it).

    Parameters
    ----------
    mask : ndarray of bool of shape (n_samples, n_features)
        True at the missing entries.
    fraction : float in (0, 1)
        Share of the observed entries to hide.
    random_state : int, RandomState instance or None
        Draws the hidden entries.

    Returns
    -------
    hidden : ndarray of bool of shape (n_samples, n_features)
        True at the entries to hide; a subset of the observed ones, possibly
        empty when no feature has two observed entries.
    """
    rng = check_random_state(random_state)
    observed = np.flatnonzero(~mask)
    n_hidden = max(1, round(fraction * observed.size)) if observed.size else 0
    hidden = np.zeros(mask.size, dtype=bool)
    hidden[rng.choice(observed, n_hidden, replace=False)] = True
    hidden = hidden.reshape(mask.shape)
    emptied = np.flatnonzero((mask | hidden).all(axis=0) & ~mask.all(axis=0))
    for j in emptied:
        hidden[rng.choice(np.flatnonzero(hidden[:, j])), j] = False
    return hidden


def _standardized_mse(X_true, X_imputed, where, scale, categorical=None):
    """Mean squared error over the entries ``where``, in units of ``scale``.

    In the ``categorical`` columns (level codes), an entry's error is 1 if its
    code is wrong, else 0.
    """
    error = (np.asarray(X_imputed, dtype=np.float64) - X_true) / scale
    if categorical is not None:
        error[:, categorical] = error[:, categorical] != 0
    return float(np.mean(error[where] ** 2))


def _check_grid(grid, name, minimum):
    """Sorted distinct integers ``>= minimum`` of a candidate grid."""
    values = np.asarray(grid, dtype=object).ravel().tolist()
    if not values or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= minimum
        for v in values
    ):
        raise ValueError(
            f"{name} must be a non-empty sequence of integers >= {minimum}, "
            f"got {grid!r}."
        )
    return sorted({int(v) for v in values})


def _select_by_holdout(
    impute, grid, X, mask, *, fraction, random_state, categorical=None, patience=None
):
    """Candidate of ``grid`` with the smallest masked error.

    The same hidden entries are used for every candidate, and the error is
    averaged over ``_N_HOLDOUTS`` random hold-outs. Errors are in units of the
    standard deviation of the observed entries of each feature.

    Parameters
    ----------
    impute : callable
        ``impute(candidate, X_hidden, mask_hidden)`` returns ``X_hidden`` with
        its missing entries (``mask_hidden``) filled.
    grid : list
        Candidates; ties go to the first one.
    X : ndarray of shape (n_samples, n_features)
        Data; only its observed entries are read.
    mask : ndarray of bool of shape (n_samples, n_features)
        True at the missing entries of ``X``.
    fraction : float in (0, 1)
        Share of the observed entries hidden in each hold-out.
    random_state : int, RandomState instance or None
        Draws the hold-outs.
    categorical : ndarray of bool of shape (n_features,) or None
        Features holding level codes: a hidden entry's error there is 1 if its
        level is wrong, else 0 (see the module docstring).
    patience : int or None
        Stop after this many candidates in a row fail to beat the best error
        so far (the later ones are not tried); None tries them all.

    Returns
    -------
    best : object
        The chosen candidate.
    errors : dict
        Mean masked error of each candidate; empty when no entry could be
        hidden (then the first candidate is returned: with at most one
        observed entry per feature, there is nothing to learn from anyway).
    """
    rng = check_random_state(random_state)
    _, scale = _standardization(X, mask)
    holdouts = [_hide_observed(mask, fraction, rng) for _ in range(_N_HOLDOUTS)]
    if not holdouts[0].any():
        return grid[0], {}
    holdouts = [(h, np.where(h | mask, np.nan, X), mask | h) for h in holdouts]
    errors = {}
    for candidate in grid:
        errors[candidate] = 0.0
        for hidden, X_hidden, mask_hidden in holdouts:
            X_imputed = impute(candidate, X_hidden, mask_hidden)
            error = _standardized_mse(X, X_imputed, hidden, scale, categorical)
            errors[candidate] += error / _N_HOLDOUTS
        best = min(errors, key=errors.get)  # the first of equals
        if patience is not None and len(errors) - 1 - grid.index(best) >= patience:
            break
    return best, errors
