"""Categorical columns: which ones they are, their levels, and codes both ways.

Inside the package a categorical feature is a float column of *codes*: the
index of each entry's level in the feature's sorted observed levels, and the
missing-value marker where the entry is missing. The imputers' hooks see those
codes, and impute a code for each missing entry; :func:`decode_column` writes
the levels back into a copy of the user's column, whose dtype (``category``
with its categories, strings, booleans, integers) is kept.
"""

import contextlib
import numbers
import warnings

import numpy as np
import pandas as pd

__all__ = [
    "categorical_mask",
    "decode_column",
    "encode_column",
    "holds_labels",
    "observed_levels",
]

# A categorical feature with more levels than this, and more than half as many
# levels as observed entries, looks like an identifier (see observed_levels).
_MANY_LEVELS = 50


def holds_labels(column):
    """Whether a DataFrame column holds labels: category, bool, string, object."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return True
    if pd.api.types.is_object_dtype(dtype):
        # An object column of numbers (and None) is numeric, as in an array.
        values = column.dropna()
        return values.empty or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
        )
    return pd.api.types.is_string_dtype(dtype)


def categorical_mask(spec, X, feature_names=None):
    """Which features of ``X`` are categorical, as a boolean array.

    Parameters
    ----------
    spec : "from_dtype", array-like of int, str or bool, or None
        "from_dtype": a DataFrame's ``category``, ``bool``, ``boolean``,
        string and object columns holding labels (none for an array); a list
        of indices or of feature names; a boolean mask; None for none.
    X : DataFrame or ndarray of shape (n_samples, n_features)
        The data, as given to ``fit``.
    feature_names : ndarray of str or None
        Column names of a DataFrame ``X``, to resolve names in ``spec``.

    Returns
    -------
    is_categorical : ndarray of bool of shape (n_features,)
    """
    n_features = X.shape[1]
    if spec is None:
        return np.zeros(n_features, dtype=bool)
    if isinstance(spec, str):  # "from_dtype", checked by the parameter validation
        if not isinstance(X, pd.DataFrame):
            return np.zeros(n_features, dtype=bool)
        return np.array(
            [holds_labels(X.iloc[:, j]) for j in range(n_features)], dtype=bool
        )
    spec = np.asarray(spec)
    if spec.dtype.kind == "b":
        if spec.shape != (n_features,):
            raise ValueError(
                f"categorical_features as a boolean mask must have shape "
                f"({n_features},), one entry per feature, got shape {spec.shape}."
            )
        return spec.copy()
    if spec.dtype.kind in "OUS":
        if feature_names is None:
            raise ValueError(
                "categorical_features names columns, but X has no column names: "
                "pass a DataFrame, or give the columns' indices."
            )
        names = list(map(str, feature_names))
        unknown = [name for name in spec.ravel() if str(name) not in names]
        if unknown:
            raise ValueError(
                f"categorical_features names column(s) {unknown} that X lacks."
            )
        index = np.array([names.index(str(name)) for name in spec.ravel()], int)
    elif spec.dtype.kind in "iu":
        index = spec.ravel().astype(int)
        if ((index < -n_features) | (index >= n_features)).any():
            raise ValueError(
                f"categorical_features holds column indices out of range for "
                f"{n_features} features: {index.tolist()}."
            )
    else:
        raise ValueError(
            "categorical_features must be 'from_dtype', None, a boolean mask, or "
            f"a list of column indices or names; got {spec.tolist()!r}."
        )
    mask = np.zeros(n_features, dtype=bool)
    mask[index] = True
    return mask


def _missing(values, missing_values):
    """Missing entries of one column: NaN, None and pd.NA, or the marker."""
    missing = np.asarray(pd.isna(values), dtype=bool)
    if isinstance(missing_values, numbers.Real) and not np.isnan(missing_values):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # comparing labels with a number
            missing |= np.asarray(values == missing_values, dtype=bool)
    return missing


def observed_levels(values, missing_values, name):
    """The sorted distinct observed values of a categorical column.

    ``category`` columns keep the order of their categories, and other
    columns are sorted where their values compare (else kept in order of
    appearance). A column with more than 50 levels, more than half as many
    as its observed entries, gets a warning: it looks like an identifier.
    """
    observed = pd.Series(values)[~_missing(values, missing_values)]
    if isinstance(observed.dtype, pd.CategoricalDtype):
        present = observed.cat.categories.isin(observed.unique())
        levels = np.asarray(observed.cat.categories[present], dtype=object)
    else:
        levels = np.asarray(pd.unique(observed.to_numpy(dtype=object)), dtype=object)
        # Values of types that do not compare keep their order of appearance.
        with contextlib.suppress(TypeError):
            levels = np.asarray(sorted(levels), dtype=object)
    if len(levels) > max(_MANY_LEVELS, len(observed) / 2):
        warnings.warn(
            f"Categorical column {name!r} has {len(levels)} levels for "
            f"{len(observed)} observed entries: it looks like an identifier, "
            "which no imputer can predict. Drop it before imputing.",
            UserWarning,
            stacklevel=4,
        )
    # Python scalars, so that the levels compare and save as plain values.
    levels = [v.item() if isinstance(v, np.generic) else v for v in levels]
    return np.array(levels + [None], dtype=object)[:-1]  # never a 2-d array


def encode_column(values, levels, missing_values):
    """Codes of a column's entries, and where they are missing or unseen.

    Returns
    -------
    codes : ndarray of float64
        Index of each entry's level, ``missing_values`` where the entry is
        missing or its level is not in ``levels``.
    missing : ndarray of bool
        Entries that are missing.
    unseen : ndarray of bool
        Observed entries whose level is not in ``levels``.
    """
    missing = _missing(values, missing_values)
    index = pd.Index(levels, dtype=object) if len(levels) else pd.Index([])
    codes = index.get_indexer(pd.Series(values).astype(object))
    unseen = (codes < 0) & ~missing
    codes = np.where(codes < 0, missing_values, codes).astype(np.float64)
    return codes, missing, unseen


def decode_column(values, fill, codes, levels):
    """A copy of ``values`` whose ``fill`` entries hold the levels of ``codes``.

    ``values`` is the user's column: a pandas Series keeps its dtype (the
    categories of a ``category`` column, strings, booleans, integers), and an
    ndarray its dtype. Entries outside ``fill`` are not touched.
    """
    out = values.copy()
    rows = np.flatnonzero(fill)
    if not len(rows):
        return out
    imputed = levels[np.asarray(codes[rows]).round().astype(np.intp)]
    if isinstance(out, pd.Series):
        out.iloc[rows] = list(imputed)
    else:
        out[rows] = imputed
    return out
