"""Input at the boundary: masks, and arrays checked and made numeric by column.

The imputers' base class (``_base``) reads every input through these
helpers, so that an error names the offending columns before any model
sees the data.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["_Input", "_array_to_numeric", "_as_array", "_get_mask", "_is_nan"]


def _is_nan(value):
    return isinstance(value, numbers.Real) and math.isnan(value)


def _get_mask(X, missing_values):
    """Boolean mask of the entries of ``X`` equal to ``missing_values``."""
    return np.isnan(X) if _is_nan(missing_values) else missing_values == X


@dataclass
class _Input:
    """A validated input: the float array, its mask, and how to give it back.

    ``X`` holds codes in the categorical columns. ``mask`` marks the entries
    the imputer treats as missing; ``fill`` those that the output fills, which
    are the same except at levels unseen in fit (kept as they are, but missing
    to the model). ``raw`` is the input as given, for the categorical columns.
    """

    X: np.ndarray
    mask: np.ndarray
    index: pd.Index | None = None
    columns: pd.Index | None = None
    dtypes: pd.Series | None = None
    fill: np.ndarray | None = None
    raw: object = None
    polars_schema: object = None

    def __post_init__(self):
        if self.fill is None:
            self.fill = self.mask


def _is_number_or_missing(value):
    """Whether an entry of an object array is a real number, None or pd.NA."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)) or (
        value is None or value is pd.NA
    )


def _as_array(X):
    """Array-like (not a DataFrame) to an ndarray; strings make it an object array.

    Sparse matrices and other objects are handed on unchanged, for
    scikit-learn's validation to refuse.
    """
    if hasattr(X, "tocsr") or not isinstance(X, (np.ndarray, list, tuple)):
        return X
    array = np.asarray(X)
    if not isinstance(X, np.ndarray) and array.dtype.kind in "SU":
        array = np.asarray(X, dtype=object)  # numbers and strings: find the columns
    return array


def _array_to_numeric(X, categorical):
    """Array to a float array; refuse non-numeric data by column.

    The ``categorical`` columns may hold anything: they come back as NaN, to
    be filled with codes. Elsewhere strings, dates and booleans are refused. An
    object array passes if every entry is a real number, None or pd.NA; the
    last two become np.nan.
    """
    if not isinstance(X, np.ndarray):
        return X
    if categorical.any():
        X = X.astype(object)
        X[:, categorical] = np.nan
    if X.dtype.kind in "SUMmb":
        raise TypeError(
            f"miwae_impute needs numeric data, got an array of dtype {X.dtype}. "
            "Encode it as numbers (for booleans, X.astype(float)), or list its "
            "categorical columns in categorical_features."
        )
    if X.dtype.kind != "O" or X.ndim != 2:
        return X
    numeric = np.frompyfunc(_is_number_or_missing, 1, 1)(X).astype(bool)
    bad = np.flatnonzero(~numeric.all(axis=0)).tolist()
    if bad:
        types = sorted({type(v).__name__ for v in X[:, bad][~numeric[:, bad]]})
        raise TypeError(
            f"miwae_impute needs numeric data, got values of type(s) {types} in "
            f"column(s) {bad}: every argument must be a real number, None or pd.NA, "
            "and a string or other object is not a number. List them in "
            "categorical_features, or drop them before imputing."
        )
    return np.where(pd.isna(X), np.nan, X).astype(np.float64)
