"""Input at the boundary: masks, and arrays checked and made numeric by column.

The imputers' base class (``_base``) reads every input through
:class:`_InputChecks` and these helpers, so that an error names the
offending columns before any model sees the data.
"""

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    validate_data,
)

from ._categorical import categorical_mask, encode_column, observed_levels
from ._frames import frame_to_array, is_polars, polars_to_pandas

__all__ = [
    "_Input",
    "_InputChecks",
    "_array_to_numeric",
    "_as_array",
    "_get_mask",
    "_is_nan",
]


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


class _InputChecks:
    """The input side of :class:`~miwae_impute._base._BaseImputer`: ``X``
    checked at the boundary, its categorical columns encoded, and errors
    that name the offending columns."""

    def _validate_input(self, X, *, reset):
        """Check ``X`` at the boundary and return it as an :class:`_Input`."""
        polars_schema = None
        if is_polars(X):
            polars_schema, X = X.schema, polars_to_pandas(X)
        frame = X if isinstance(X, pd.DataFrame) else None
        raw = X if frame is not None else _as_array(X)
        if reset:
            names = frame.columns.to_numpy() if frame is not None else None
            shaped = hasattr(raw, "shape") and len(raw.shape) == 2
            self.is_categorical_ = (
                categorical_mask(self.categorical_features, raw, names)
                if shaped
                else np.zeros(0, dtype=bool)
            )
        elif len(getattr(raw, "shape", ())) == 2:
            # Names and width first: the per-column checks below read the
            # columns by position, and would blame the wrong one.
            if frame is not None and frame.shape[1]:
                _check_feature_names(self, frame, reset=False)
            _check_n_features(self, raw, reset=False)
        categorical = self._categorical_columns(raw)
        if frame is not None:
            X = frame_to_array(frame, categorical)
            if frame.shape[1]:  # without columns, validate_data refuses the array
                X = pd.DataFrame(X, frame.index, frame.columns, copy=False)
        else:
            X = _array_to_numeric(raw, categorical)
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
            accept_sparse=False,
            copy=False,
        )
        self._check_finite(X)
        if reset and len(self.is_categorical_) != X.shape[1]:  # not an array before
            self.is_categorical_ = np.zeros(X.shape[1], dtype=bool)
        unseen = None
        if categorical.any():
            X, unseen = self._encode_categorical(X, raw, reset)
        mask = _get_mask(X, self.missing_values)
        fill = None if unseen is None else mask & ~unseen
        if frame is None:
            return _Input(X, mask, fill=fill, raw=raw)
        return _Input(
            X,
            mask,
            frame.index,
            frame.columns,
            frame.dtypes,
            fill=fill,
            raw=frame,
            polars_schema=polars_schema,
        )

    def _categorical_columns(self, raw):
        """The fitted categorical mask, if ``raw`` has as many columns as fit."""
        fitted = getattr(self, "is_categorical_", np.zeros(0, dtype=bool))
        n_columns = raw.shape[1] if len(getattr(raw, "shape", ())) == 2 else 0
        return fitted if n_columns == len(fitted) else np.zeros(n_columns, bool)

    def _encode_categorical(self, X, raw, reset):
        """Write the codes of the categorical columns into ``X``.

        At fit, each column's levels are its observed values (``categories_``).
        Returns the array and the mask of the levels unseen in fit: they are
        missing to the imputer, but stay as they are in the output (with a
        warning).
        """
        X = X.astype(np.float64)
        unseen = np.zeros(X.shape, dtype=bool)
        if reset:
            self.categories_ = [None] * X.shape[1]
        names = self._column_names(np.ones(X.shape[1], dtype=bool))
        for j in np.flatnonzero(self.is_categorical_):
            values = raw.iloc[:, j] if isinstance(raw, pd.DataFrame) else raw[:, j]
            if reset:
                self.categories_[j] = observed_levels(
                    values, self.missing_values, names[j]
                )
            X[:, j], _, unseen[:, j] = encode_column(
                values, self.categories_[j], self.missing_values
            )
            if unseen[:, j].any():
                new = np.asarray(values, dtype=object)[unseen[:, j]]
                warnings.warn(
                    f"Categorical column {names[j]!r} has level(s) "
                    f"{list(pd.unique(new))} "
                    "not seen in fit: they are kept as they are, and the imputer "
                    "reads them as missing.",
                    UserWarning,
                    stacklevel=4,
                )
        return X, unseen

    def _column_names(self, columns):
        """Names (or indices, without feature names) of the flagged columns."""
        names = getattr(self, "feature_names_in_", None)
        columns = np.flatnonzero(columns)
        return list(names[columns]) if names is not None else columns.tolist()

    def _check_finite(self, X):
        """Refuse inf, and NaN when NaN is not the missing-value marker."""
        problems = []
        infinite = np.isinf(X).any(axis=0)
        if infinite.any():
            problems.append(
                f"infinity (inf) in column(s) {self._column_names(infinite)}: "
                f"replace it by the missing-value marker ({self.missing_values!r}) "
                "to impute it, or fix it upstream"
            )
        if not _is_nan(self.missing_values) and (nan := np.isnan(X).any(axis=0)).any():
            problems.append(
                f"NaN in column(s) {self._column_names(nan)}, but missing_values="
                f"{self.missing_values!r}: mark missing entries with "
                f"{self.missing_values!r}, or set missing_values=np.nan"
            )
        if problems:
            raise ValueError(f"Input X contains {'; and '.join(problems)}.")
