"""How MIWAEImputer models each numeric column.

A column may get a point mass at its most frequent value, or a categorical
likelihood over its few distinct values; the others are Student-t alone.
"""

import numpy as np

# Least observations of a value for a point mass there (see _point_mass_values).
_MIN_POINT_MASS_COUNT = 20


def _point_mass_values(X_obs, threshold, *, of_rows=False):
    """Each feature's most frequent value, where it holds ``threshold`` or more.

    Parameters
    ----------
    X_obs : ndarray of shape (n_samples, n_features)
        Data with NaN at the missing entries.
    threshold : float in (0, 1] or None
        Least share of the observed entries at the value; None for none.
    of_rows : bool, default=False
        Count the share among all rows, missing ones included, instead of
        among the observed entries. When values are missing because of
        what they are (not-MIWAE), the observed entries are a biased
        sample: removing a column's high values doubles its mode's share
        among the rest. The share among all rows is a lower bound on the
        complete column's, whatever the missing values are.

    Returns
    -------
    values : ndarray of shape (n_features,)
        The value of each feature with a point mass, NaN for the others. A
        value must also occur at least 20 times, so that the model has enough
        examples to learn its probability from; a constant feature has none
        (it is imputed by its value).
    """
    values = np.full(X_obs.shape[1], np.nan)
    if threshold is None:
        return values
    for j, column in enumerate(X_obs.T):
        levels, counts = np.unique(column[~np.isnan(column)], return_counts=True)
        if len(levels) < 2:
            continue
        top = np.argmax(counts)
        total = len(column) if of_rows else counts.sum()
        if counts[top] >= max(_MIN_POINT_MASS_COUNT, threshold * total):
            values[j] = levels[top]
    return values


def _discrete_values(X_obs, max_levels):
    """The distinct observed values of each feature that has few of them.

    Parameters
    ----------
    X_obs : ndarray of shape (n_samples, n_features)
        Data with NaN at the missing entries.
    max_levels : int or None
        Most distinct values of a discrete feature; None for none.

    Returns
    -------
    values : list of (ndarray or None)
        The sorted values of each feature with 2 to ``max_levels`` distinct
        observed values, each observed at least twice on average; None for the
        others.
    """
    values = [None] * X_obs.shape[1]
    if max_levels is None:
        return values
    for j, column in enumerate(X_obs.T):
        observed = column[~np.isnan(column)]
        levels = np.unique(observed)
        if 2 <= len(levels) <= min(max_levels, len(observed) / 2):
            values[j] = levels
    return values
