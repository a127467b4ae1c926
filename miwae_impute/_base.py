"""Plumbing shared by every imputer: validation, masks, indicator, scaling, pandas.

Every imputer of the package derives from :class:`_BaseImputer`. A subclass
implements two hooks that only ever see the *non-empty* features as a float
ndarray with ``np.nan`` at missing entries:

- ``_fit(X, mask)`` learns whatever the imputer needs. An imputer whose
  fitting already completes the training data (iterative PCA, missForest)
  returns that completion, and ``fit_transform`` gives it back, as
  :class:`~sklearn.impute.IterativeImputer` does; the others return ``None``;
- ``_impute(X, mask)`` returns a float array whose missing entries are filled.

Neither is called when every feature is empty, nor ``_impute`` when no entry
is missing. With a ``missing_values`` marker other than NaN, ``X`` holds the
marker at missing entries: read the mask, not the values, there.

The base class does the rest: it validates the input at the boundary, names the
offending columns in its errors, handles empty features as scikit-learn does,
writes *only* the missing entries (observed ones come out bit-for-bit
unchanged), appends the missing-indicator columns and gives DataFrames back
with their index, column names and dtypes. Its helpers live beside it: input
checks in ``_validation``, column scales in ``_scaling``, and DataFrame
plumbing in ``_frames``.
"""

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.impute import MissingIndicator
from sklearn.utils._param_validation import StrOptions
from sklearn.utils._set_output import _get_output_config, _wrap_data_with_container
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._categorical import (
    categorical_mask,
    decode_column,
    encode_column,
    observed_levels,
)
from ._frames import (
    frame_to_array,
    is_float32,
    is_polars,
    is_temporal,
    numbers_to_temporal,
    output_dtype,
    polars_to_pandas,
    to_output_dtype,
    to_polars,
)
from ._validation import _array_to_numeric, _as_array, _get_mask, _Input, _is_nan

__all__ = ["_BaseImputer"]


def _categorical_imputers():
    """Names of the package's imputers that impute categorical features."""
    return sorted(
        cls.__name__
        for cls in _BaseImputer.__subclasses__()
        if cls._categorical_support and not cls.__name__.startswith("_")
    )


class _BaseImputer(TransformerMixin, BaseEstimator):
    """Base class of the package's imputers; see the module docstring."""

    _parameter_constraints: dict = {
        "missing_values": [numbers.Real],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "round_integers": ["boolean"],
    }

    def __init__(
        self,
        *,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
        categorical_features="from_dtype",
        round_integers=False,
    ):
        self.missing_values = missing_values
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.categorical_features = categorical_features
        self.round_integers = round_integers

    # Whether the hooks impute categorical features (as codes); the others
    # refuse a table that has some.
    _categorical_support = False

    # -- hooks for subclasses ------------------------------------------------
    def _fit(self, X, mask):
        """Learn from ``X``; return its completion if fitting computes one."""
        raise NotImplementedError

    def _impute(self, X, mask):
        raise NotImplementedError

    # -- public API ------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the imputer on ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with missing entries marked by ``missing_values``.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        self._fit_validated(self._validate_input(X, reset=True))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit the imputer on ``X`` and impute its missing entries.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with missing entries marked by ``missing_values``.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            ``X`` with its missing entries filled. Iterative imputers return
            the completion found while fitting, which can differ slightly from
            ``fit(X).transform(X)``.
        """
        data = self._validate_input(X, reset=True)
        completed = self._fit_validated(data)
        if completed is None:
            completed = self._impute_valid(data)
        return self._assemble(data, completed)

    def transform(self, X):
        """Impute the missing entries of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to complete; observed entries are copied unchanged.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            ``X`` with its missing entries filled. A DataFrame comes back as a
            DataFrame with the same index, column names and dtypes (an
            integer column as the float of its family, unless
            ``round_integers``); a polars DataFrame as polars.
        """
        data = self._check_transform_input(X)
        return self._assemble(data, self._impute_valid(data))

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output features, indicator columns included.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; ``feature_names_in_`` when fitted on a DataFrame,
            else ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Names of the imputed features followed by the indicator features.
        """
        check_is_fitted(self, "n_features_in_")
        all_names = _check_feature_names_in(self, input_features)
        names = (
            all_names if self.keep_empty_features else all_names[self._valid_features]
        )
        if self.add_indicator:
            names = np.concatenate(
                [names, self.indicator_.get_feature_names_out(all_names)]
            )
        return names

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- plumbing ----------------------------------------------------------------
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

    def _fit_missing_structure(self, mask):
        """Record empty features and fit the missing indicator."""
        if self.is_categorical_.any() and not self._categorical_support:
            raise TypeError(
                f"{type(self).__name__} does not impute categorical features, and "
                f"column(s) {self._column_names(self.is_categorical_)} are "
                "categorical (see categorical_features). Use an imputer that "
                f"does ({', '.join(_categorical_imputers())}), or drop those "
                "columns."
            )
        empty = mask.all(axis=0)
        if self.keep_empty_features and (empty & self.is_categorical_).any():
            raise ValueError(
                f"Categorical feature(s) "
                f"{self._column_names(empty & self.is_categorical_)} have no "
                "observed level, so no level to impute: drop them, or set "
                "keep_empty_features=False."
            )
        if empty.any():
            action = (
                "imputed with 0" if self.keep_empty_features else "dropped from output"
            )
            warnings.warn(
                f"Feature(s) {self._column_names(empty)} have no observed value and "
                f"are {action} (see keep_empty_features).",
                UserWarning,
                stacklevel=3,
            )
        self._valid_features = ~empty
        if self.add_indicator:
            # The mask is already known, so the indicator always sees np.nan.
            self.indicator_ = MissingIndicator(error_on_new=False).fit(
                np.where(mask, np.nan, 0.0)
            )

    def _fit_validated(self, data):
        """Fit on validated input; the completion that ``_fit`` returns, if any."""
        valid = self._valid_data(data)
        return None if valid is None else self._fit(*valid)

    def _valid_data(self, data):
        """Record ``data``'s columns and missing structure; return its
        non-empty features ``(X, mask)``, or None when there is nothing to
        learn or impute."""
        self._fit_columns = data.columns
        self._fit_missing_structure(data.mask)
        valid = self._valid_features
        if not valid.any():
            return None
        return data.X[:, valid], data.mask[:, valid]

    def _check_transform_input(self, X):
        check_is_fitted(self, "n_features_in_")
        return self._validate_input(X, reset=False)

    def _impute_valid(self, data):
        """Imputed values for the non-empty features (``None`` if nothing to do)."""
        mask = data.mask[:, self._valid_features]
        if not mask.any():
            return None
        return self._impute(data.X[:, self._valid_features], mask)

    def _sample_input(self, X, n_imputations):
        """The validated ``X`` of a ``sample(X, n_imputations)`` method."""
        if not isinstance(n_imputations, numbers.Integral) or n_imputations < 1:
            raise ValueError(
                f"n_imputations must be a positive integer, got {n_imputations!r}."
            )
        return self._check_transform_input(X)

    def _completions(self, data, X, draws):
        """What ``sample`` returns: a completed copy of ``X`` per draw (None
        when nothing is missing), in the container type of :meth:`transform`."""
        return [
            _wrap_data_with_container("transform", self._assemble(data, d), X, self)
            for d in draws
        ]

    def _assemble(self, data, imputed):
        """Write the imputed entries into a copy of ``X`` and wrap the result.

        Only missing entries are written, so observed entries stay bit-for-bit.
        """
        X_out = data.X.copy()
        if imputed is not None:
            valid = np.flatnonzero(self._valid_features)
            self._check_imputed(imputed, data.mask[:, valid], data)
            fill = data.fill[:, valid]
            sub = X_out[:, valid]
            sub[fill] = imputed[fill]
            X_out[:, valid] = sub
        decoded = None  # the output column of each categorical feature (frames)
        if self.is_categorical_.any():
            categorical = np.flatnonzero(self.is_categorical_ & self._valid_features)
            if data.columns is None:
                X_out = self._decode_array(X_out, data, categorical)
            else:
                decoded = {j: self._decoded(X_out, data, j) for j in categorical}
        if data.dtypes is not None:  # dates and durations, in their dtype
            temporal = [is_temporal(d) for d in data.dtypes]
            for j in np.flatnonzero(temporal & self._valid_features):
                column, cells = data.raw.iloc[:, j], data.fill[:, j]
                decoded = {} if decoded is None else decoded
                decoded[j] = numbers_to_temporal(column, cells, X_out[cells, j])
        empty = ~self._valid_features
        if empty.any():
            if self.keep_empty_features:
                X_out[:, empty] = np.where(data.mask[:, empty], 0.0, X_out[:, empty])
            else:
                X_out = X_out[:, self._valid_features]
        if self.add_indicator:
            indicator = self.indicator_.transform(np.where(data.fill, np.nan, 0.0))
            X_out = np.hstack([X_out, indicator.astype(X_out.dtype)])
        return self._wrap_like(X_out, data, decoded=decoded)

    def _decoded(self, X_out, data, j):
        """Column ``j`` of the output: the user's, with levels at the filled codes."""
        values = data.raw.iloc[:, j] if data.columns is not None else data.raw[:, j]
        return decode_column(values, data.fill[:, j], X_out[:, j], self.categories_[j])

    def _decode_array(self, X_out, data, categorical):
        """The output array with each ``categorical`` column as the user gave it.

        Numeric arrays stay numeric (the levels are numbers); an object array,
        which holds labels, stays an object array.
        """
        raw = np.asarray(data.raw)
        out = X_out.astype(object) if raw.dtype == object else X_out
        for j in categorical:
            out[:, j] = self._decoded(X_out, data, j)
        return out

    def _check_imputed(self, imputed, mask, data):
        """Refuse imputations that are NaN or inf, or overflow a float32 column.

        The last line of defence of the promise that the output is finite: a
        method that fails numerically raises instead of writing NaN or inf.
        """
        float32 = (
            np.full(data.X.shape[1], data.X.dtype == np.float32)
            if data.dtypes is None
            else np.array([is_float32(d) for d in data.dtypes])
        )[self._valid_features]
        limit = np.where(float32, np.finfo(np.float32).max, np.finfo(np.float64).max)
        column = np.nonzero(mask)[1]  # the column of each imputed entry, in order
        bad = ~(np.abs(imputed[mask]) <= limit[column])  # NaN compares False
        if bad.any():
            columns = np.zeros(len(self._valid_features), dtype=bool)
            columns[np.flatnonzero(self._valid_features)[column[bad]]] = True
            raise FloatingPointError(
                f"{type(self).__name__} imputed NaN, infinite, or (for float32 "
                f"columns) out-of-range values in column(s) "
                f"{self._column_names(columns)}. Pass float64 data, rescale the "
                "data, or report the problem with the data that caused it."
            )

    def _wrap_like(
        self, X_out, data, *, with_indicator=True, decoded=None, values=True
    ):
        """Give a DataFrame back for DataFrame input, keeping index and dtypes.

        Each numeric column comes back in :func:`~miwae_impute._frames.output_dtype`
        of its input dtype (integers rounded with ``round_integers`` when
        ``values``; a standard deviation, ``values=False``, stays float).
        ``decoded`` holds the output column of each categorical, date or
        duration feature, by feature index. A polars input, or
        ``set_output(transform="polars")``, gives polars.
        """
        if data.columns is None:
            return X_out  # set_output's wrapper names the columns
        keep = slice(None) if self.keep_empty_features else self._valid_features
        if self._fit_columns is not None and data.columns.equals(self._fit_columns):
            columns = list(data.columns[keep])  # any column labels, not only str
        else:
            columns = list(_check_feature_names_in(self, None)[keep])
        if with_indicator and self.add_indicator:
            columns += list(self.get_feature_names_out()[len(columns) :])
        out = pd.DataFrame(X_out, index=data.index, columns=columns, copy=False)
        decoded = decoded or {}
        rounded = values and self.round_integers
        for i, j in enumerate(np.arange(len(self._valid_features))[keep]):
            if j in decoded:
                # A Series, so that an object column is not inferred as str.
                out.isetitem(i, decoded[j].set_axis(out.index))
                continue
            dtype = output_dtype(data.dtypes.iloc[j], rounded)
            if dtype != np.float64:
                out.isetitem(i, to_output_dtype(out.iloc[:, i], dtype))
        config = _get_output_config("transform", self)["dense"]
        if config == "polars" or (config == "default" and data.polars_schema):
            return to_polars(out, data.polars_schema)
        return out
