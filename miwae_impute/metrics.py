"""Imputation error in standardised units, and a scorer for model selection."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import _check_feature_names_in

from ._holdout import _hide_observed, _standardized_mse
from ._scaling import _standardization
from ._validation import _get_mask

__all__ = ["imputation_mse", "masked_mse_scorer"]


@validate_params(
    {
        "X_true": ["array-like"],
        "X_imputed": ["array-like"],
        "mask": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def imputation_mse(X_true, X_imputed, mask):
    """Mean squared error of the imputed entries, in standardised units.

    Each feature is scaled by the mean and standard deviation (``ddof=0``) of
    the complete data ``X_true``; a constant feature keeps scale 1. This is the
    protocol of the MIWAE paper's UCI experiments (Mattei & Frellsen, 2019):
    on standardised data, mean imputation scores about 1.

    Parameters
    ----------
    X_true : array-like of shape (n_samples, n_features)
        The complete data, without missing values.
    X_imputed : array-like of shape (n_samples, n_features)
        The imputed data.
    mask : array-like of bool of shape (n_samples, n_features)
        True at the entries that were missing, the only ones scored.

    Returns
    -------
    mse : float
        Mean of the squared standardised errors over the masked entries.

    Examples
    --------
    >>> import numpy as np
    >>> from miwae_impute import imputation_mse
    >>> X_true = np.array([[1.0, 10.0], [3.0, 30.0]])  # standard deviations 1, 10
    >>> X_imputed = np.array([[1.5, 10.0], [3.0, 20.0]])
    >>> mask = np.array([[True, False], [False, True]])
    >>> imputation_mse(X_true, X_imputed, mask)  # (0.5**2 + 1**2) / 2
    0.625
    """
    X_true = np.asarray(X_true, dtype=np.float64)
    X_imputed = np.asarray(X_imputed, dtype=np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}.")
    if X_true.ndim != 2 or not X_true.shape == X_imputed.shape == mask.shape:
        raise ValueError(
            "X_true, X_imputed and mask must be 2D and of the same shape, got "
            f"{X_true.shape}, {X_imputed.shape} and {mask.shape}."
        )
    if not mask.any():
        raise ValueError("mask has no True entry: there is nothing to score.")
    if not np.isfinite(X_true).all():
        raise ValueError("X_true must be complete and finite.")
    if not np.isfinite(X_imputed[mask]).all():
        raise ValueError("X_imputed has missing or infinite values at masked entries.")
    _, scale = _standardization(X_true, np.zeros_like(mask))
    return _standardized_mse(X_true, X_imputed, mask, scale)


class _MaskedMSEScorer:
    """Callable returned by :func:`masked_mse_scorer`."""

    def __init__(self, fraction, random_state):
        self.fraction = fraction
        self.random_state = random_state

    def __repr__(self):
        return (
            f"masked_mse_scorer(fraction={self.fraction!r}, "
            f"random_state={self.random_state!r})"
        )

    def __call__(self, estimator, X, y=None):
        missing_values = getattr(estimator, "missing_values", np.nan)
        if isinstance(X, pd.DataFrame):
            X_array = X.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            X_array = np.asarray(X, dtype=np.float64)
        mask = _get_mask(X_array, missing_values)
        kept = _kept_features(estimator, X_array.shape[1])
        hidden = _hide_observed(mask, self.fraction, self.random_state)
        hidden[:, ~kept] = False
        if not hidden.any():
            raise ValueError(
                "masked_mse_scorer found no observed entry to hide: every "
                "feature has at most one observed entry."
            )
        X_hidden = np.where(hidden, missing_values, X_array)
        if isinstance(X, pd.DataFrame):
            X_hidden = pd.DataFrame(X_hidden, index=X.index, columns=X.columns)
        X_out = np.asarray(estimator.transform(X_hidden), dtype=np.float64)
        X_imputed = np.full_like(X_array, np.nan)
        X_imputed[:, kept] = X_out[:, : kept.sum()]
        _, scale = _standardization(X_array, mask)
        return -_standardized_mse(X_array, X_imputed, hidden, scale)


def _kept_features(estimator, n_features):
    """Input features that ``estimator.transform`` outputs first, in order.

    Imputers drop the features that had no observed value at fit (unless
    ``keep_empty_features=True``); ``get_feature_names_out`` tells which.
    Without it, every feature is taken to be kept.
    """
    if not hasattr(estimator, "get_feature_names_out"):
        return np.ones(n_features, dtype=bool)
    names_out = set(estimator.get_feature_names_out())
    names_in = _check_feature_names_in(estimator, None)
    kept = np.array([name in names_out for name in names_in])
    return kept if kept.any() else np.ones(n_features, dtype=bool)


@validate_params(
    {
        "fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def masked_mse_scorer(fraction=0.2, random_state=None):
    """Scorer of a fitted imputer by the error on hidden observed entries.

    The scorer ``scorer(estimator, X, y=None)`` hides ``fraction`` of the
    *observed* entries of ``X`` (never the last observed entry of a feature),
    imputes them with the already fitted ``estimator.transform`` and returns
    the **negative** mean squared error on the hidden entries, in units of the
    standard deviation of the observed entries of each feature of ``X``
    (``ddof=0``). Greater is better, as scikit-learn's model selection expects,
    so it can be passed as ``scoring`` to
    :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_val_score`, which fit the imputer on
    the training folds and score it on the held-out folds.

    Features that the estimator drops from its output (no observed value at
    fit) are not scored. ``X`` is never modified.

    Parameters
    ----------
    fraction : float in (0, 1), default=0.2
        Share of the observed entries of ``X`` to hide.
    random_state : int, RandomState instance or None, default=None
        Draws the hidden entries. With an int, every call on the same data
        hides the same entries, so that candidates of a grid search are
        compared on equal terms; pass an int for model selection. A
        RandomState instance is advanced by each call.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, the negative masked MSE.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from miwae_impute import NearestNeighborsImputer, masked_mse_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 2)) @ [[1.0, 1.0, 1.0], [0.0, 1.0, -1.0]]
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> search = GridSearchCV(
    ...     NearestNeighborsImputer(),
    ...     {"n_neighbors": [1, 5, 20]},
    ...     scoring=masked_mse_scorer(random_state=0),
    ...     cv=3,
    ... ).fit(X)
    >>> search.best_params_
    {'n_neighbors': 5}
    """
    return _MaskedMSEScorer(fraction, random_state)
