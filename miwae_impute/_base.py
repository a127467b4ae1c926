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
with their index, column names and dtypes. Its two sides live beside it: the
input checks in ``_validation`` (:class:`~miwae_impute._validation._InputChecks`)
and the output in ``_assembly`` (:class:`~miwae_impute._assembly._Assembly`);
column scales are in ``_scaling``, and DataFrame plumbing in ``_frames``.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.impute import MissingIndicator
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._assembly import _Assembly
from ._validation import _InputChecks

__all__ = ["_BaseImputer"]


def _categorical_imputers():
    """Names of the package's imputers that impute categorical features."""
    return sorted(
        cls.__name__
        for cls in _BaseImputer.__subclasses__()
        if cls._categorical_support and not cls.__name__.startswith("_")
    )


class _BaseImputer(_InputChecks, _Assembly, TransformerMixin, BaseEstimator):
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
