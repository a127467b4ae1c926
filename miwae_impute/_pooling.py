"""MultipleImputationEstimator: fit an estimator on m imputed data sets, then pool."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._batched import _can_fit_side_by_side, fit_side_by_side
from ._miwae import MIWAEImputer
from ._random import seed_from
from ._rubin import _inference_support, _pool_fits, _PooledInference

_Y_NAME = "__miwae_impute_y__"  # the outcome's column in the imputation model


def _has(name):
    def check(self):
        return hasattr(self.estimator, name)

    return check


class MultipleImputationEstimator(_PooledInference, MetaEstimatorMixin, BaseEstimator):
    """Fit an estimator on multiply imputed data sets and pool the fits.

    The imputer, which must be able to draw imputations (a ``sample(X,
    n_imputations)`` method, as :class:`MIWAEImputer`'s), is fitted on the
    training features *with the outcome appended as a column*, as multiple
    imputation requires (van Buuren, 2018, sec. 6.2): an imputation model that
    ignores the outcome biases its associations with the features towards 0.
    For a classifier the outcome is a categorical column (its labels), for a
    regressor a numeric one. ``n_imputations`` completions of the features
    are drawn jointly from it, and a clone of ``estimator`` is fitted on each,
    with the observed outcome. At prediction the new rows get an all-missing
    outcome column, ``n_imputations`` completions are drawn, fit k predicts on
    completion k, and the predictions are pooled: the mean of
    ``predict_proba`` (``predict`` is its argmax) for classifiers, the mean
    of ``predict`` for regressors.

    By default (``bootstrap=True``) each completed data set is drawn from its
    own fit of the imputer, on a bootstrap resample of the training rows
    (Efron, 1994; van Buuren, 2018, ch. 3): the imputation is *proper*, and
    the pooled standard errors count the imputation model's own estimation
    error, at the price of ``n_imputations`` fits instead of one. With
    ``bootstrap=False`` all completions are drawn from one fit, which treats
    its parameters as known: the between-imputation variance then misses
    their error, and the pooled standard errors come out too small (Rubin's
    "improper" imputation; in the package's benchmark, by about a fifth).
    That is n_imputations times faster to fit, and enough when only the
    pooled predictions matter.

    For :class:`~sklearn.linear_model.LinearRegression` and binary
    :class:`~sklearn.linear_model.LogisticRegression`, the fits' coefficients
    are pooled by Rubin's rules: ``coef_`` and ``intercept_`` are their means,
    their total variance is T = W + (1 + 1/m) B, with W the mean of the fits'
    squared standard errors and B the variance of the m estimates (ddof=1),
    and :meth:`conf_int` gives t intervals with Barnard & Rubin's (1999)
    degrees of freedom. A fit's covariance is sigma^2 (X1' X1)^-1 for
    ``LinearRegression`` (X1: the completed features, with a column of ones
    first when ``fit_intercept``; sigma^2 = RSS / (n - k), k the number of
    coefficients) and the inverse Fisher information (X1' W X1)^-1, W =
    diag(p (1 - p)), for ``LogisticRegression``; the latter holds only
    without a penalty (``C=np.inf``), and penalised fits warn when their
    inference is read. Other estimators predict as well, but have no pooled
    coefficients.

    Parameters
    ----------
    estimator : estimator object
        The scikit-learn estimator fitted on each completed data set; cloned.
    imputer : estimator object with a ``sample`` method, default=None
        The imputation model; cloned. None for :class:`MIWAEImputer` with its
        defaults. A categorical outcome is a categorical column for it: its
        ``categorical_features``, when a list or a mask, is extended by the
        outcome's column. To fit several analyses on one imputation model,
        pass another fit's ``imputer_`` wrapped in
        :class:`~sklearn.frozen.FrozenEstimator`, with ``bootstrap=False``: it
        is used as it is, not refitted (the features must be the same).
    n_imputations : int, default=5
        Number m of completed data sets (at least 2).
    bootstrap : bool, default=True
        Whether to fit the imputer ``n_imputations`` times, fit k on a
        bootstrap resample of the rows of [X, y] (drawn with replacement, as
        many as there are rows) with its own seed, and to draw completion k
        from fit k, at fit and at prediction: proper imputation, for honest
        standard errors. False fits it once and draws all completions from
        that fit (improper: the standard errors are too small), the only
        choice with a frozen imputer. A :class:`MIWAEImputer` that
        :func:`~miwae_impute.fit_side_by_side` can train (the default
        settings) has its fits trained side by side, as one batched model:
        each standardised on all the rows and trained on its resample.
    n_jobs : int, default=None
        Number of jobs that fit the bootstrap imputers in parallel, through
        joblib (``None`` means 1 unless in a
        ``joblib.parallel_backend`` context; -1 means all processors);
        ignored without ``bootstrap``, and when the fits train side by side
        (see ``bootstrap``). Each fit keeps its own seed and
        resample whatever ``n_jobs``, and the same ``n_jobs`` gives the same
        result. But a parallel worker trains with fewer threads than the
        main process, which changes the last bits of floating-point sums,
        and over a long training that can move a fit, and so the pooled
        results, by about their Monte Carlo noise, as a change of machine
        would.
    random_state : int, RandomState instance or None, default=None
        When not None, the ``random_state`` of the imputer's clone, so that
        its draws are reproducible; the estimators keep their own. With
        ``bootstrap``, it draws the resamples and the clones' seeds.

    Attributes
    ----------
    imputer_ : estimator
        The imputer fitted on the features and the outcome; only with
        ``bootstrap=False``.
    imputers_ : list of estimators
        The fitted imputers that completion k is drawn from: with
        ``bootstrap``, the ``n_imputations`` fits on the resamples; otherwise
        ``[imputer_]``.
    estimators_ : list of estimators
        The ``n_imputations`` fits, fit k on completed data set k.
    classes_ : ndarray of shape (n_classes,)
        The class labels, for a classifier.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, for DataFrame input with string
        column names.
    coef_ : ndarray
        The mean of the fits' ``coef_``, in their shape; only for estimators
        with a ``coef_`` (an AttributeError otherwise).
    intercept_ : float or ndarray
        The mean of the fits' ``intercept_``, likewise.
    std_err_ : ndarray of shape (n_params,)
        The pooled standard errors sqrt(T), intercept first (when fitted),
        then the coefficients in the features' order.
    df_ : ndarray of shape (n_params,)
        Barnard & Rubin's degrees of freedom: with nu_com = n - k the
        complete-data degrees of freedom and lambda the fraction of missing
        information, 1 / (1 / nu_old + 1 / nu_obs), with nu_old = (m - 1) /
        lambda^2 and nu_obs = (nu_com + 1) / (nu_com + 3) nu_com (1 - lambda);
        nu_obs when B = 0.
    cov_params_ : ndarray of shape (n_params, n_params)
        The total covariance of the parameters, the mean of the fits'
        covariances plus (1 + 1/m) times the covariance of their estimates,
        as statsmodels' ``MICEResults.cov_params()``; its diagonal is T.
    fraction_missing_info_ : ndarray of shape (n_params,)
        lambda = (1 + 1/m) B / T, the share of the total variance due to the
        missing values, as statsmodels' ``MICEResults.frac_miss_info`` (R's
        mice reports it as ``lambda``; its ``fmi`` adds a small-sample term).

    See Also
    --------
    MIWAEImputer : Draws the completed data sets with its ``sample`` method.

    References
    ----------
    D. B. Rubin. "Multiple Imputation for Nonresponse in Surveys". Wiley, 1987.

    J. Barnard and D. B. Rubin. "Small-sample degrees of freedom with multiple
    imputation". Biometrika 86(4), 1999.

    B. Efron. "Missing data, imputation, and the bootstrap". JASA 89(426),
    1994.

    S. van Buuren. "Flexible Imputation of Missing Data", 2nd ed. CRC, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from miwae_impute import MIWAEImputer, MultipleImputationEstimator
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(200, 2)), columns=["age", "dose"])
    >>> y = 1.0 + 2.0 * X["age"] - X["dose"] + rng.normal(size=200)
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> model = MultipleImputationEstimator(
    ...     LinearRegression(),
    ...     imputer=MIWAEImputer(max_iter=5, L=50),
    ...     n_imputations=5,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> model.conf_int().shape
    (3, 2)
    >>> table = model.summary()
    >>> list(table.index)
    ['intercept', 'age', 'dose']
    >>> list(table.columns)
    ['coef', 'std err', 'df', 'lower', 'upper', 'fmi']
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "imputer": [HasMethods(["fit"]), None],
        "n_imputations": [Interval(numbers.Integral, 2, None, closed="left")],
        "bootstrap": ["boolean"],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        imputer=None,
        n_imputations=5,
        bootstrap=True,
        n_jobs=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.imputer = imputer
        self.n_imputations = n_imputations
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = True
        tags.input_tags.allow_nan = True
        return tags

    # -- the imputation model ------------------------------------------------
    def _frame(self, X, y):
        """X as a DataFrame, with the outcome ``y`` as its last column."""
        if isinstance(X, pd.DataFrame):
            frame = X.copy()
        else:
            frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        frame.columns = [str(c) for c in frame.columns]
        frame.index = pd.RangeIndex(len(frame))
        if is_classifier(self):
            frame[_Y_NAME] = pd.Categorical(y, categories=self.classes_)
        else:
            frame[_Y_NAME] = np.asarray(y, dtype=float)
        return frame

    def _make_imputer(self, n_features):
        imputer = MIWAEImputer() if self.imputer is None else clone(self.imputer)
        if not callable(getattr(imputer, "sample", None)):
            raise TypeError(
                f"The imputer must draw imputations with a sample(X, n_imputations)"
                f" method, as MIWAEImputer; {type(imputer).__name__} has none."
            )
        params = imputer.get_params()
        if self.random_state is not None and "random_state" in params:
            imputer.set_params(random_state=self.random_state)
        categorical = params.get("categorical_features", "from_dtype")
        if is_classifier(self) and not isinstance(categorical, str):
            if categorical is None:
                categorical = [n_features]
            else:
                categorical = list(categorical)
                if categorical and isinstance(categorical[0], (bool, np.bool_)):
                    categorical.append(True)
                elif categorical and isinstance(categorical[0], str):
                    categorical.append(_Y_NAME)
                else:
                    categorical.append(n_features)
            imputer.set_params(categorical_features=categorical)
        return imputer

    def _fit_imputers(self, frame):
        """The imputer fitted on ``frame``, or its fits on bootstrap resamples."""
        if not self.bootstrap:
            self.imputer_ = self._make_imputer(self.n_features_in_)
            self.imputer_.fit(frame, None)  # None: y for a FrozenEstimator
            return [self.imputer_]
        vars(self).pop("imputer_", None)  # of an earlier fit without bootstrap
        if isinstance(self.imputer, FrozenEstimator):
            raise ValueError(
                "bootstrap=True refits the imputer on resamples of the rows; a "
                "FrozenEstimator cannot be refitted. Pass bootstrap=False to "
                "draw every completion from the frozen fit, or pass the imputer "
                "itself."
            )
        rng = np.random.default_rng(seed_from(self.random_state))
        imputer = self._make_imputer(self.n_features_in_)
        resamples, seeds = [], []
        for _ in range(self.n_imputations):
            resamples.append(rng.integers(len(frame), size=len(frame)))
            if "random_state" in imputer.get_params():
                seeds.append(int(rng.integers(2**31 - 1)))
        if _can_fit_side_by_side(imputer):
            return fit_side_by_side(imputer, frame, random_states=seeds, rows=resamples)
        fits = []
        for k, rows in enumerate(resamples):
            fit = clone(imputer)
            if seeds:
                fit.set_params(random_state=seeds[k])
            fits.append(delayed(fit.fit)(frame.iloc[rows].reset_index(drop=True)))
        return Parallel(n_jobs=self.n_jobs)(fits)

    def _completions(self, X, frame):
        """The imputers' draws of the features, in X's container type."""
        if len(self.imputers_) == 1:
            draws = self.imputers_[0].sample(frame, n_imputations=self.n_imputations)
        else:
            draws = [
                imputer.sample(frame, n_imputations=1)[0] for imputer in self.imputers_
            ]
        out = []
        for draw in draws:
            draw = draw.drop(columns=_Y_NAME)
            if isinstance(X, pd.DataFrame):
                draw.columns, draw.index = X.columns, X.index
            else:
                draw = draw.to_numpy()
            out.append(draw)
        return out

    # -- fit -----------------------------------------------------------------
    def fit(self, X, y):
        """Fit the imputer on X and y, then the estimator on each completion.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training features, with missing values.
        y : array-like of shape (n_samples,)
            The outcome, fully observed.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X = self._check_X(X, reset=True)
        y = column_or_1d(y, warn=True)
        if len(y) != len(X):
            raise ValueError(
                f"y must have a value per row of X; got {len(y)} for {len(X)} rows."
            )
        if pd.isna(y).any():
            raise ValueError("y has missing values; the outcome must be observed.")
        if is_classifier(self):
            check_classification_targets(y)
            self.classes_ = np.unique(y)
        frame = self._frame(X, y)
        self.imputers_ = self._fit_imputers(frame)
        completions = self._completions(X, frame)
        self.estimators_ = [clone(self.estimator).fit(Xk, y) for Xk in completions]
        self._pooled = None
        if _inference_support(self.estimator) is None and self._binary_or_regression():
            self._pooled = _pool_fits(self.estimators_, completions, y)
        return self

    def _binary_or_regression(self):
        if is_classifier(self):
            return len(self.classes_) == 2
        return True

    # -- prediction ------------------------------------------------------------
    def _check_X(self, X, reset):
        """Check X's shape and names; arrays must be numeric (NaN allowed)."""
        return validate_data(
            self,
            X,
            reset=reset,
            skip_check_array=isinstance(X, pd.DataFrame),
            ensure_all_finite="allow-nan",
            dtype="numeric",
        )

    def _per_fit(self, X, method):
        """``method`` of fit k on completion k of X, for every k, stacked."""
        check_is_fitted(self, "estimators_")
        X = self._check_X(X, reset=False)
        if is_classifier(self):
            y = pd.Categorical([None] * len(X), categories=self.classes_)
        else:
            y = np.full(len(X), np.nan)
        completions = self._completions(X, self._frame(X, y))
        return np.array(
            [getattr(est, method)(Xk) for est, Xk in zip(self.estimators_, completions)]
        )

    @available_if(_has("predict_proba"))
    def predict_proba(self, X):
        """The mean of the fits' class probabilities on their completions of X.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, with missing values.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Pooled probabilities of ``classes_``.
        """
        return self._per_fit(X, "predict_proba").mean(axis=0)

    def predict(self, X):
        """Pooled predictions: argmax of the pooled probabilities, or the mean.

        A classifier without ``predict_proba`` predicts the most frequent of
        its fits' labels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, with missing values.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The pooled predictions.
        """
        check_is_fitted(self, "estimators_")
        if is_classifier(self) and hasattr(self.estimator, "predict_proba"):
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        preds = self._per_fit(X, "predict")
        if not is_classifier(self):
            return preds.mean(axis=0)
        codes = np.searchsorted(self.classes_, preds)
        counts = np.apply_along_axis(np.bincount, 0, codes, None, len(self.classes_))
        return self.classes_[counts.argmax(axis=0)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of a classifier, R^2 of a regressor, on pooled predictions.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, with missing values.
        y : array-like of shape (n_samples,)
            True outcomes.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy or R^2.
        """
        metric = accuracy_score if is_classifier(self) else r2_score
        return metric(y, self.predict(X), sample_weight=sample_weight)
