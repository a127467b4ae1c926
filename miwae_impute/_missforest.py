"""MissForestImputer: iterative imputation by random forests (missForest)."""

import numbers

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseImputer
from ._scaling import _binary_unit, _standardization

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _normalized_difference(X_new, X_old):
    """missForest's convergence criterion: sum((new - old)^2) / sum(new^2)."""
    total = np.sum(X_new**2)
    return float(np.sum((X_new - X_old) ** 2) / total) if total > 0 else 0.0


def _changed_share(X_new, X_old, mask):
    """missForest's criterion for categorical features (PFC between sweeps).

    The share of the missing entries whose imputed level changed; 0 without any.
    """
    return float(np.mean(X_new[mask] != X_old[mask])) if mask.any() else 0.0


def _iterate_until_increase(X, sweep, max_iter, differences):
    """Run ``sweep`` until the differences between iterates first increase.

    ``sweep(X)`` updates a copy of the current iterate in place and returns
    what produced it (the fitted forests, or None). ``differences(X_new, X)``
    gives missForest's numeric and categorical differences between successive
    iterates (0 for a type the data lack). As in missForest, sweeps stop as
    soon as *both* have increased (not decreased), and the iterate *before*
    that sweep is returned, with what produced it; after ``max_iter`` sweeps,
    the last one.

    Returns the iterate, its producer and the differences of every sweep.
    """
    producer, history = None, []
    for _ in range(max_iter):
        X_new = X.copy()
        new_producer = sweep(X_new)
        history.append(differences(X_new, X))
        if len(history) > 1 and all(
            new >= old for new, old in zip(history[-1], history[-2])
        ):
            break
        X, producer = X_new, new_producer
    return X, producer, history


def _predictors(X, rows, column):
    """The other features of ``rows``: the predictors of ``column``.

    Clipped to the float32 range, where scikit-learn's trees work: a value
    beyond it (a new row 2**130 times a feature's unit) goes to the same side
    of every split as the largest float32, since the thresholds lie between
    training values.
    """
    return np.clip(np.delete(X[rows], column, axis=1), -_FLOAT32_MAX, _FLOAT32_MAX)


class MissForestImputer(_BaseImputer):
    """Impute missing values with random forests, iterated as in missForest.

    The algorithm of the R package missForest (Stekhoven & Bühlmann, 2012):
    missing entries start at the mean of their feature (the most frequent
    level of a categorical one); then each sweep visits the features in
    increasing order of missingness and, for each one, fits a
    :class:`~sklearn.ensemble.RandomForestRegressor` (a
    :class:`~sklearn.ensemble.RandomForestClassifier` for a categorical
    feature) on the rows where it is observed, predicting it from the current
    values of all other features, and overwrites its missing entries with the
    forest's predictions. Sweeps stop when the normalised difference between
    successive iterates, ``sum((X_new - X_old)**2) / sum(X_new**2)`` (over the
    numeric features, in data units, as in the R package), first increases,
    and the iterate *before* that increase is returned; or after ``max_iter``
    sweeps, with the last one. With categorical features, the R package's
    second difference counts too: the share of the missing categorical entries
    whose imputed level changed; sweeps stop as soon as *both* differences
    have increased. :class:`~sklearn.impute.IterativeImputer` with a forest
    estimator does not implement this stopping rule: it stops on a tolerance
    or ``max_iter``.

    Categorical predictors enter the forests as their level codes (0 to
    k - 1, in the order of ``categories_``). The R package's forests split a
    factor on subsets of its levels; scikit-learn's split on thresholds, and
    reach any subset of levels by splitting twice or more. Codes keep one
    column per feature, so ``max_features`` draws features as ``mtry`` does,
    where a one-hot encoding would multiply the columns of many-level features.

    :meth:`fit_transform` returns that iterate. :meth:`transform` imputes any
    rows with the forests that produced it (plus, for the features complete at
    fit, a forest fitted on the returned iterate): missing entries start at the
    fitted means, then sweeps in the fitted order overwrite them with the
    forests' predictions, under the same stopping rule and ``max_iter``; no
    forest is refitted.

    Random forests are costly: fit grows ``n_estimators`` trees per feature
    with missing entries and per sweep, and the fitted forests of every feature
    are kept for :meth:`transform`.

    Parameters
    ----------
    n_estimators : int, default=100
        Trees per forest (the R package's ``ntree``).
    max_iter : int, default=10
        Maximum number of sweeps (the R package's ``maxiter``).
    max_features : {"sqrt", "log2"}, int, float or None, default="sqrt"
        Features tried at each split, as in
        :class:`~sklearn.ensemble.RandomForestRegressor`. The R package's
        ``mtry`` is ``floor(sqrt(p))`` for ``p`` features; "sqrt" gives
        ``floor(sqrt(p - 1))`` for the ``p - 1`` predictors, the same for most
        ``p``.
    n_jobs : int or None, default=None
        Jobs to fit and predict each forest in parallel; None means 1.
    missing_values : float, default=np.nan
        Placeholder of the missing entries.
    add_indicator : bool, default=False
        Append :class:`~sklearn.impute.MissingIndicator` columns to the output.
    keep_empty_features : bool, default=False
        Keep features with no observed value at fit, imputed with 0; otherwise
        they are dropped from the output (with a warning).
    categorical_features : "from_dtype", array-like of int, str or bool, or None, \
            default="from_dtype"
        Which features are categorical. "from_dtype": a DataFrame's
        ``category``, ``bool``, ``boolean``, string and object columns holding
        labels (an array has none); a list of column indices or names (for an
        array of integer codes, say); a boolean mask; None for none. A numeric
        column is categorical only when listed. Its levels are its observed
        values (``categories_``), and it comes back with its dtype.
    round_integers : bool, default=False
        Whether an integer column of a DataFrame (NumPy, nullable or pyarrow)
        comes back in its dtype, its imputations rounded to the nearest
        integer. By default it comes back as the float64 of its family
        (float64, Float64 or double[pyarrow]), which holds the imputation
        unrounded: a conditional mean is the best guess in squared error,
        and rounding it is not.
    random_state : int, RandomState instance or None, default=None
        Seeds the forests.

    Attributes
    ----------
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
    n_iter_ : int
        Number of sweeps run by fit, the last one (whose difference increased)
        included.
    history_ : list of float
        Normalised difference of the numeric features at each sweep (0 when
        there are none).
    history_categorical_ : list of float
        Share of the missing categorical entries whose level changed at each
        sweep (0 when there are none).
    imputation_order_ : ndarray of shape (n_valid_features,)
        The features (indices among the non-empty ones) in the order visited.
    estimators_ : list of (RandomForestRegressor or RandomForestClassifier) or None
        The forest of each non-empty feature, predicting it from the others
        (a classifier of the level codes for a categorical feature); None when
        there is a single feature. The forests see every numeric feature
        divided by a power of two close to its largest observed magnitude,
        which keeps float32 trees exact from 1e-300 to 1e300; the imputations
        are in data units.
    mean_ : ndarray of shape (n_valid_features,)
        Mean of the observed entries of each non-empty feature, where the
        imputations start; for a categorical feature, the code of its most
        frequent level (the first one on ties).
    indicator_ : MissingIndicator
        Indicator of missing values, when ``add_indicator=True``.

    See Also
    --------
    sklearn.impute.IterativeImputer : Multivariate imputation by chained equations.

    References
    ----------
    D. J. Stekhoven and P. Bühlmann. "MissForest - non-parametric missing value
    imputation for mixed-type data". Bioinformatics, 28(1), 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from miwae_impute import MissForestImputer
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-2, 2, size=200)
    >>> X = np.column_stack([x, x**2, np.sin(x)])
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> imputer = MissForestImputer(n_estimators=10, random_state=0)
    >>> X_imputed = imputer.fit_transform(X)
    >>> bool(np.isnan(X_imputed).any())
    False
    >>> imputer.n_iter_ <= imputer.max_iter
    True
    """

    _parameter_constraints: dict = {
        **_BaseImputer._parameter_constraints,
        "n_estimators": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_features": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(numbers.Real, 0.0, 1.0, closed="right"),
            StrOptions({"sqrt", "log2"}),
            None,
        ],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_estimators=100,
        max_iter=10,
        max_features="sqrt",
        n_jobs=None,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
        categorical_features="from_dtype",
        round_integers=False,
        random_state=None,
    ):
        super().__init__(
            missing_values=missing_values,
            add_indicator=add_indicator,
            keep_empty_features=keep_empty_features,
            categorical_features=categorical_features,
            round_integers=round_integers,
        )
        self.n_estimators = n_estimators
        self.max_iter = max_iter
        self.max_features = max_features
        self.n_jobs = n_jobs
        self.random_state = random_state

    _categorical_support = True

    def _fit(self, X, mask):
        rng = check_random_state(self.random_state)
        n_features = X.shape[1]
        self._categorical = self.is_categorical_[self._valid_features]
        # Numeric features start at their mean, categorical ones at their mode.
        self.mean_ = _standardization(X, mask)[0]
        for j in np.flatnonzero(self._categorical):
            codes = X[~mask[:, j], j].astype(np.intp)
            self.mean_[j] = np.argmax(np.bincount(codes))  # ties: the first level
        # The forests work in float32 (scikit-learn's trees), which cannot hold
        # 1e39 and flushes 1e-40 to 0; they are fitted on features divided by a
        # power of two (exactly). The stopping rule stays in data units. The
        # codes of categorical features stay as they are.
        self._unit = np.where(self._categorical, 1.0, _binary_unit(X, mask))
        X = X / self._unit
        self.imputation_order_ = np.argsort(mask.sum(axis=0), kind="stable")
        # With a single feature there is nothing to predict it from.
        incomplete = [j for j in self.imputation_order_ if mask[:, j].any()]
        incomplete = incomplete if n_features > 1 else []

        def sweep(X):
            forests = {}
            for j in incomplete:
                rows = mask[:, j]
                forests[j] = self._forest(rng, j).fit(
                    _predictors(X, ~rows, j), X[~rows, j]
                )
                X[rows, j] = forests[j].predict(_predictors(X, rows, j))
            return forests

        X_imputed, forests, history = _iterate_until_increase(
            np.where(mask, self.mean_ / self._unit, X),
            sweep,
            self.max_iter,
            self._differences(mask),
        )
        self.history_ = [numeric for numeric, _ in history]
        self.history_categorical_ = [categorical for _, categorical in history]
        self.n_iter_ = len(history)
        if n_features > 1:  # transform needs forests for complete features too
            for j in sorted(set(range(n_features)) - forests.keys()):
                forests[j] = self._forest(rng, j).fit(
                    _predictors(X_imputed, slice(None), j), X_imputed[:, j]
                )
        self.estimators_ = [forests.get(j) for j in range(n_features)]
        return X_imputed * self._unit

    def _impute(self, X, mask):
        columns = [
            j
            for j in self.imputation_order_
            if mask[:, j].any() and self.estimators_[j] is not None
        ]

        def sweep(X):
            for j in columns:
                rows = mask[:, j]
                X[rows, j] = self.estimators_[j].predict(_predictors(X, rows, j))

        X_init = np.where(mask, self.mean_, X) / self._unit
        X_imputed = _iterate_until_increase(
            X_init, sweep, self.max_iter, self._differences(mask)
        )[0]
        return X_imputed * self._unit

    def _differences(self, mask):
        """missForest's numeric and categorical differences between iterates.

        The numeric one, ``sum((X_new - X_old)**2) / sum(X_new**2)`` over the
        numeric features, is computed in data units divided by their largest
        unit, a power of two: the ratio is the same, and its squares do not
        overflow. The categorical one is the share of the missing categorical
        entries whose level changed.
        """
        numeric = ~self._categorical
        weight = self._unit[numeric]
        weight = weight / weight.max() if weight.size else weight
        categorical_mask = mask[:, self._categorical]
        if not self._categorical.any():  # numeric data: no copies of the columns
            numeric = slice(None)

        def differences(X_new, X_old):
            return (
                _normalized_difference(
                    X_new[:, numeric] * weight, X_old[:, numeric] * weight
                ),
                _changed_share(
                    X_new[:, self._categorical],
                    X_old[:, self._categorical],
                    categorical_mask,
                ),
            )

        return differences

    def _forest(self, rng, j):
        """A forest to predict feature ``j``: a classifier if it is categorical."""
        forest = (
            RandomForestClassifier if self._categorical[j] else RandomForestRegressor
        )
        return forest(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            n_jobs=self.n_jobs,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
