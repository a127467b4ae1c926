"""StackingImputer: several imputers, blended by weights learned on held-out cells."""

import numbers

import numpy as np
from scipy.optimize import nnls
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._base import _BaseImputer
from ._scaling import _binary_unit

# The weight of the constraint sum(w) = 1 in the least squares of the
# blend's weights, relative to the size and scale of the held-out values; the
# weights are then rescaled to sum to one exactly.
_SUM_TO_ONE = 1e3


def _default_imputers():
    from ._missforest import MissForestImputer
    from ._miwae import MIWAEImputer

    return [MIWAEImputer(), MissForestImputer()]


def _held_out_cells(mask, share, rng):
    """Observed cells to hide, each with probability ``share``; every feature
    keeps at least one observed cell."""
    held = ~mask & (rng.random(mask.shape) < share)
    for j in np.flatnonzero((held | mask).all(axis=0)):
        held[rng.choice(np.flatnonzero(held[:, j])), j] = False
    return held


def _simplex_weights(truth, predictions):
    """Non-negative weights summing to one that blend ``predictions`` (k, n)
    nearest to ``truth`` (n,) in squared error."""
    size = max(1.0, float(np.abs(truth).max(initial=0.0))) * np.sqrt(len(truth))
    scale = _SUM_TO_ONE * size
    design = np.vstack([predictions.T, np.full(len(predictions), scale)])
    weights, _ = nnls(design, np.append(truth, scale))
    return (
        weights / weights.sum()
        if weights.sum() > 0
        else np.full_like(weights, 1 / len(weights))
    )


def _standardized(X, guesses, categorical):
    """``X`` (n, p) and ``guesses`` (k, n, p) with each numeric feature
    divided by the standard deviation of its observed values, computed on
    the feature divided by a power of two first (exact, and free of overflow
    for any finite data); categorical codes stay as they are."""
    mask = np.isnan(X)
    unit = np.where(categorical, 1.0, _binary_unit(X, mask))
    spread = np.nanstd(X / unit, axis=0)
    spread[categorical | ~(spread > 0)] = 1.0
    return X / unit / spread, guesses / unit / spread


class StackingImputer(_BaseImputer):
    """Blend several imputers by weights learned on hidden observed cells.

    Imputers err in different ways: a random forest splits sharply where a
    deep latent variable model is smooth, and the model shares strength
    across features where the forest sees one at a time. Their blend imputes
    better than either alone on many tables (``benchmarks/HISTORY.md``,
    "Blending MIWAE and missForest"). This imputer learns how much to trust
    each one out of sample:

    1. a share ``held_out`` of the observed cells is hidden, and each imputer
       is fitted to the rest and imputes them;
    2. the numeric features get one blend: the non-negative weights, summing
       to one, whose blend of those imputations is nearest the hidden values
       in least squares (each feature in units of its standard deviation),
       pulled toward the first imputer as if it had won ``prior_cells``
       more held-out cells: a small table's few held-out cells cannot move
       the blend far from the first imputer. One blend for all features,
       rather than one per feature, is what the held-out cells of a table
       can estimate (per-feature weights imputed worse on the development
       collection). The categorical features take the imputer with the
       fewest wrong levels there;
    3. with ``refit=True``, each imputer is fitted again on all of ``X``;
       ``transform`` blends the imputers' imputations with the weights.

    With ``refit=True`` it costs the imputers' fits twice over; with
    ``refit=False``, once (the imputers keep the fits of step 1, and the
    hidden cells inform their imputations but not their training). It gives
    point imputations only:
    for draws and intervals, use :meth:`MIWAEImputer.sample` and
    :class:`MultipleImputationEstimator`.

    Parameters
    ----------
    imputers : list of imputers, default=None
        The imputers to blend, each an imputer of this package (cloned, not
        changed). None blends ``MIWAEImputer()`` and ``MissForestImputer()``.
        An imputer whose ``random_state`` is None gets a seed drawn from
        ``random_state``.
    held_out : float in (0, 1), default=0.1
        Share of the observed cells hidden to learn the weights.
    prior_cells : float >= 0, default=100
        The pull of the numeric features' blend toward the first imputer:
        the weights are ``(n * w + prior_cells * e) / (n + prior_cells)``,
        with ``w`` the least-squares weights of the ``n`` held-out numeric
        cells and ``e`` all the weight on the first imputer. 0 trusts the
        held-out cells alone.
    refit : bool, default=True
        Whether to fit each imputer again on all of ``X`` once the weights
        are learned. False halves the cost, and trains the imputers without
        the held-out cells.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out cells and the imputers' own seeds.
    missing_values : float, default=np.nan
        Placeholder of the missing entries.
    add_indicator : bool, default=False
        Append :class:`~sklearn.impute.MissingIndicator` columns to the output.
    keep_empty_features : bool, default=False
        Keep features with no observed value at fit, imputed with 0; otherwise
        they are dropped from the output (with a warning).
    categorical_features : "from_dtype", array-like of int, str or bool, or None, \
            default="from_dtype"
        Which features are categorical; see :class:`MeanImputer`.
    round_integers : bool, default=False
        Whether an integer column of a DataFrame comes back in its dtype, its
        imputations rounded; see :class:`MeanImputer`.

    Attributes
    ----------
    imputers_ : list of imputers
        The fitted imputers, in the order of ``imputers``.
    weights_ : ndarray of shape (n_valid_features, n_imputers)
        Each imputer's weight for each non-empty feature; a row sums to one.
    held_out_mse_ : ndarray of shape (n_valid_features, n_imputers + 1)
        Per feature, each imputer's error on the held-out cells, then the
        blend's (in-sample for the blend, whose weights were fitted there):
        for a numeric feature the mean squared error in units of its
        observed variance (1.0: as far off as its mean would be), for a
        categorical one the share of wrong levels; NaN for a feature without
        held-out cells.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, for DataFrame input with string
        column names.
    is_categorical_ : ndarray of bool of shape (`n_features_in_`,)
        Which features are categorical (see ``categorical_features``).
    categories_ : list of (ndarray or None)
        The observed levels of each categorical feature, None for the others;
        only when some feature is categorical.
    indicator_ : MissingIndicator
        Indicator of missing values, when ``add_indicator=True``.

    See Also
    --------
    sklearn.ensemble.StackingRegressor : The same idea for predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from miwae_impute import MeanImputer, PCAImputer, StackingImputer
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 1))
    >>> X = np.hstack([x, 2 * x, rng.normal(size=(200, 1))])
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> imputer = StackingImputer([PCAImputer(), MeanImputer()], random_state=0)
    >>> X_imputed = imputer.fit_transform(X)
    >>> imputer.weights_.shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        **_BaseImputer._parameter_constraints,
        "imputers": [list, None],
        "held_out": [Interval(numbers.Real, 0, 1, closed="neither")],
        "prior_cells": [Interval(numbers.Real, 0, None, closed="left")],
        "refit": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        imputers=None,
        *,
        held_out=0.1,
        prior_cells=100,
        refit=True,
        random_state=None,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
        categorical_features="from_dtype",
        round_integers=False,
    ):
        super().__init__(
            missing_values=missing_values,
            add_indicator=add_indicator,
            keep_empty_features=keep_empty_features,
            categorical_features=categorical_features,
            round_integers=round_integers,
        )
        self.imputers = imputers
        self.held_out = held_out
        self.prior_cells = prior_cells
        self.refit = refit
        self.random_state = random_state

    _categorical_support = True

    def _members(self, rng):
        """Clones of the imputers, set to read this imputer's arrays: NaN at
        missing cells, and its categorical features as codes."""
        imputers = _default_imputers() if self.imputers is None else self.imputers
        if not imputers:
            raise ValueError("StackingImputer needs at least one imputer.")
        categorical = np.flatnonzero(self.is_categorical_[self._valid_features])
        members = []
        for imputer in imputers:
            if not isinstance(imputer, _BaseImputer):
                raise TypeError(
                    "StackingImputer blends the imputers of this package, got "
                    f"{type(imputer).__name__}."
                )
            if len(categorical) and not imputer._categorical_support:
                raise ValueError(
                    f"{type(imputer).__name__} does not impute categorical "
                    "features, and this table has some: leave it out of "
                    "imputers."
                )
            member = clone(imputer).set_params(
                missing_values=np.nan,
                add_indicator=False,
                keep_empty_features=True,
                categorical_features=categorical.tolist() or None,
                round_integers=False,
            )
            params = member.get_params()
            if "random_state" in params and params["random_state"] is None:
                member.set_params(random_state=rng.randint(np.iinfo(np.int32).max))
            members.append(member)
        return members

    def _fit(self, X, mask):
        rng = check_random_state(self.random_state)
        X = np.where(mask, np.nan, X)
        members = self._members(rng)
        held = _held_out_cells(mask, self.held_out, rng)
        X_held = np.where(held, np.nan, X)
        held_fits = [clone(member) for member in members]
        guesses = self._fit_members(held_fits, X_held)
        self.weights_, self.held_out_mse_ = self._learn_weights(X, held, guesses)
        if self.refit:
            completions = self._fit_members(members, X)
        else:
            members = held_fits
            completions = np.stack([member.transform(X) for member in members])
        self.imputers_ = members
        return self._blend(completions)

    def _fit_members(self, members, X):
        """Fit each of ``members`` to ``X``; their imputations (k, n, p)."""
        return np.stack([member.fit_transform(X) for member in members])

    def _learn_weights(self, X, held, guesses):
        """Weights (p, k) from the held-out cells, and each feature's errors
        there: one blend for all numeric features, fitted on their cells in
        units of each feature's standard deviation, and one imputer for all
        categorical features, the one with the fewest wrong levels."""
        k, p = len(guesses), X.shape[1]
        categorical = self.is_categorical_[self._valid_features]
        X, guesses = _standardized(X, guesses, categorical)
        weights = np.empty((p, k))
        for kind, columns in ((False, ~categorical), (True, categorical)):
            cells = held & columns
            if not columns.any():
                continue
            if not cells.any():
                weights[columns] = np.eye(k)[0] if kind else 1.0 / k
            elif kind:
                wrong = (guesses[:, cells] != X[cells]).mean(axis=1)
                weights[columns] = np.eye(k)[np.argmin(wrong)]
            else:
                n = cells.sum()
                fitted = _simplex_weights(X[cells], guesses[:, cells])
                prior = self.prior_cells * np.eye(k)[0]
                weights[columns] = (n * fitted + prior) / (n + self.prior_cells)
        blend = self._blend(guesses, weights)
        errors = np.full((p, k + 1), np.nan)
        for j in np.flatnonzero(held.any(axis=0)):
            rows = held[:, j]
            candidates = np.vstack([guesses[:, rows, j], blend[rows, j]])
            errors[j] = (
                (candidates != X[rows, j]).mean(axis=1)
                if categorical[j]
                else ((candidates - X[rows, j]) ** 2).mean(axis=1)
            )
        return weights, errors

    def _blend(self, imputations, weights=None):
        """The weighted blend of ``imputations`` (k, n, p); a categorical
        feature takes its chosen imputer's level (a weight of one)."""
        weights = self.weights_ if weights is None else weights
        return np.einsum("knp,pk->np", imputations, weights)

    def _impute(self, X, mask):
        X = np.where(mask, np.nan, X)
        return self._blend(np.stack([imp.transform(X) for imp in self.imputers_]))
