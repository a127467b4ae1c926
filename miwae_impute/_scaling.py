"""Per-column scales of the observed entries, exact for any magnitude."""

import warnings

import numpy as np

__all__ = ["_binary_unit", "_standardization"]


def _binary_unit(X, mask):
    """Per-column power of two of the order of the largest observed magnitude.

    Dividing a column by its unit brings its observed entries into [-2, 2]
    without rounding: scaling by a power of two is exact in floating point
    (short of subnormal numbers). Computations on ``X / unit`` then neither
    overflow (squares of 1e300) nor underflow (squares of 1e-300), and give,
    times ``unit``, bit for bit what they give on ``X`` where ``X`` does not
    overflow. A column with no observed entry, or only zeros, gets unit 1.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data; its observed entries are finite.
    mask : ndarray of bool of shape (n_samples, n_features)
        True at the missing entries.

    Returns
    -------
    unit : ndarray of shape (n_features,)
        Powers of two, at most the largest observed magnitude of each column.
    """
    largest = np.max(np.abs(np.where(mask, 0.0, X)), axis=0, initial=0.0)
    _, exponent = np.frexp(largest)  # largest = fraction * 2**exponent, fraction >= 1/2
    return np.where(largest > 0, np.ldexp(1.0, exponent - 1), 1.0)


def _standardization(X, mask):
    """Per-column mean and scale of the observed entries, in float64.

    The scale is the standard deviation. A column with fewer than two distinct
    observed values (constant, or a single observed value) has none, and gets
    its :func:`_binary_unit` instead, a power of two of the order of its
    magnitude (1 if its observed values are 0 or it has none): standardising
    never divides by zero, and a value at transform is measured relative to
    the column's magnitude whatever its units. Both are computed on the columns
    divided by their unit, so that magnitudes from 1e-300 to 1e300 neither
    overflow nor underflow.
    """
    unit = _binary_unit(X, mask)
    X_obs = np.where(mask, np.nan, X / unit).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN is handled below
        mean = np.nanmean(X_obs, axis=0) * unit
        scale = np.nanstd(X_obs, axis=0) * unit
    mean = np.where(np.isfinite(mean), mean, 0.0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, unit)
    return mean, scale
