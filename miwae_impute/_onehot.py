"""Categorical codes to blocks of indicator columns and back, for kNN and PCA.

A hook's array holds one column per feature, the level codes (0 to k - 1) in
a categorical one. :func:`_one_hot` widens each categorical column into its k
indicator columns; :func:`_collapse` takes a wide array back to one column per
feature, the code of the largest entry of each block (the majority level of
averaged indicators, the largest reconstructed indicator of a PCA).
"""

import numpy as np


def _starts(n_levels):
    """Width of each feature in the wide array, and its first wide column."""
    widths = np.maximum(n_levels, 1)
    return widths, np.cumsum(widths) - widths


def _one_hot(X, mask, n_levels):
    """Each categorical column of ``X`` as the indicators of its levels.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data, with codes in the categorical columns.
    mask : ndarray of bool of shape (n_samples, n_features)
        True at the missing entries.
    n_levels : ndarray of int of shape (n_features,)
        Number of levels of each categorical feature, 0 for the numeric ones.

    Returns
    -------
    wide : ndarray of shape (n_samples, n_wide)
        Numeric columns as they are and each categorical column as its block
        of 0/1 indicators, NaN at every missing entry (all of a block's row).
    wide_mask : ndarray of bool of shape (n_samples, n_wide)
        True at the missing entries of ``wide``.
    """
    if not np.any(n_levels):  # numeric data as it is (its memory order too)
        return np.where(mask, np.nan, X), mask
    widths, starts = _starts(n_levels)
    wide_mask = np.repeat(mask, widths, axis=1)
    wide = np.repeat(np.where(mask, np.nan, X), widths, axis=1)
    for j in np.flatnonzero(n_levels):
        block = slice(starts[j], starts[j] + n_levels[j])
        wide[:, block] = X[:, [j]] == np.arange(n_levels[j])
        wide[:, block][mask[:, j]] = np.nan
    return wide, wide_mask


def _collapse(wide, n_levels):
    """One column per feature: each block's argmax, the first level on ties.

    The inverse of :func:`_one_hot` on 0/1 blocks; on averaged or
    reconstructed blocks, the level of the largest value. Numeric data come
    back as they are.
    """
    if not np.any(n_levels):
        return wide
    _, starts = _starts(n_levels)
    X = wide[:, starts].astype(np.float64)
    for j in np.flatnonzero(n_levels):
        X[:, j] = np.argmax(wide[:, starts[j] : starts[j] + n_levels[j]], axis=1)
    return X


def _n_levels(imputer):
    """Levels of each non-empty feature of a fitted imputer, 0 if numeric."""
    features = np.flatnonzero(imputer._valid_features)
    return np.array(
        [
            len(imputer.categories_[j]) if imputer.is_categorical_[j] else 0
            for j in features
        ],
        dtype=np.intp,
    )
