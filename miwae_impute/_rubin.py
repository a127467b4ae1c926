"""Rubin's rules, and the complete-data covariances they pool.

The arithmetic behind :class:`~miwae_impute.MultipleImputationEstimator`'s
``std_err_``, ``df_``, ``cov_params_`` and ``conf_int``, and the mixin that
serves them (:class:`_PooledInference`); checked against
statsmodels' MICE combining code in ``tests/test_pooling.py``.
"""

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils.validation import check_is_fitted


def _rubin(estimates, variances, df_complete=np.inf):
    """Pool m estimates of k parameters by Rubin's rules.

    Parameters
    ----------
    estimates : array-like of shape (m, k)
        The estimate of each parameter from each completed data set.
    variances : array-like of shape (m, k)
        Their squared standard errors, from each completed data set.
    df_complete : float, default=np.inf
        Degrees of freedom of the complete-data analysis (n - k for a linear
        model), for the Barnard-Rubin correction; np.inf for none.

    Returns
    -------
    mean : ndarray of shape (k,)
        The pooled estimates, the mean of the m estimates.
    total : ndarray of shape (k,)
        Their total variance T = W + (1 + 1/m) B, with W the mean
        within-imputation variance and B the between-imputation variance of
        the estimates (ddof=1).
    df : ndarray of shape (k,)
        Barnard & Rubin's (1999) degrees of freedom of the t reference
        distribution.
    fmi : ndarray of shape (k,)
        Fraction of missing information, lambda = (1 + 1/m) B / T (as
        statsmodels' ``MICEResults.frac_miss_info``; 0 where T = 0).
    """
    estimates = np.asarray(estimates, dtype=float)
    variances = np.asarray(variances, dtype=float)
    m = len(estimates)
    if m < 2:
        raise ValueError(f"Rubin's rules need at least 2 imputations, got {m}.")
    mean = estimates.mean(axis=0)
    within = variances.mean(axis=0)
    between = estimates.var(axis=0, ddof=1)
    total = within + (1 + 1 / m) * between
    with np.errstate(divide="ignore", invalid="ignore"):
        fmi = np.where(total > 0, (1 + 1 / m) * between / total, 0.0)
        df_old = (m - 1) / fmi**2  # inf when fmi = 0
        if np.isinf(df_complete):
            df_obs = np.inf
        else:
            df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - fmi)
        df = 1 / (1 / df_old + 1 / df_obs)  # inf where both are
    return mean, total, df, fmi


def _design(X, fit_intercept):
    X = np.asarray(X, dtype=float)
    return np.column_stack([np.ones(len(X)), X]) if fit_intercept else X


def _params_and_variances(estimator, X, y):
    """Estimates (intercept first) and their covariance from one fit.

    ``LinearRegression``: sigma^2 (X1' X1)^-1, with X1 the design matrix
    (a column of ones first when ``fit_intercept``), sigma^2 = RSS / (n - k)
    and k the number of parameters. Binary ``LogisticRegression``: the inverse
    Fisher information (X1' W X1)^-1, W = diag(p (1 - p)) at the estimates.
    """
    intercept = estimator.fit_intercept
    params = np.ravel(estimator.coef_)
    if intercept:
        params = np.concatenate([np.ravel(estimator.intercept_), params])
    X1 = _design(X, intercept)
    if isinstance(estimator, LogisticRegression):
        p = estimator.predict_proba(X)[:, 1]
        cov = np.linalg.pinv(X1.T @ (X1 * (p * (1 - p))[:, None]))
    else:
        residuals = np.asarray(y, dtype=float) - estimator.predict(X)
        sigma2 = residuals @ residuals / (len(X1) - X1.shape[1])
        cov = sigma2 * np.linalg.pinv(X1.T @ X1)
    return params, cov


def _inference_support(estimator):
    """Why Rubin's inference is not available for ``estimator``, or None."""
    if type(estimator) in (LinearRegression, LogisticRegression):
        return None
    return (
        f"Pooled coefficients and their inference are available for "
        f"LinearRegression and binary LogisticRegression only, not for "
        f"{type(estimator).__name__}."
    )


def _penalised(estimator):
    penalty = getattr(estimator, "penalty", None)
    if penalty in (None, "none"):
        return False
    return not np.isinf(estimator.C)


def _pool_fits(estimators, completions, y):
    """Pool the fits of a linear model on m completions by Rubin's rules.

    Returns a dict: "params" (the mean estimates, intercept first), "total"
    (their total variance T), "cov" (the total covariance, the mean
    within-imputation covariance plus (1 + 1/m) times the covariance of the
    estimates, as statsmodels' ``MICEResults.cov_params()``), "df" and "fmi".
    """
    fits = [
        _params_and_variances(est, Xk, y) for est, Xk in zip(estimators, completions)
    ]
    params = np.array([p for p, _ in fits])
    within = np.mean([c for _, c in fits], axis=0)
    df_complete = len(y) - params.shape[1]
    mean, total, df, fmi = _rubin(params, [np.diag(c) for _, c in fits], df_complete)
    cov = within + (1 + 1 / len(params)) * np.cov(params.T, ddof=1)
    return {
        "params": mean,
        "total": total,
        "cov": np.atleast_2d(cov),
        "df": df,
        "fmi": fmi,
    }


class _PooledInference:
    """Mixin of :class:`~miwae_impute.MultipleImputationEstimator`: the pooled
    coefficients and Rubin's inference on them.

    It reads the estimator's ``estimator``, ``estimators_``, ``_pooled``
    (the :func:`_pool_fits` results, or None) and ``n_features_in_``.
    """

    def _pooled_attribute(self, name):
        check_is_fitted(self, "estimators_")
        if not hasattr(self.estimators_[0], name):
            raise AttributeError(
                f"{type(self.estimator).__name__} has no {name}, so there is no "
                f"pooled {name}."
            )
        return np.mean([getattr(est, name) for est in self.estimators_], axis=0)

    @property
    def coef_(self):
        return self._pooled_attribute("coef_")

    @property
    def intercept_(self):
        return self._pooled_attribute("intercept_")

    def _rubin_results(self):
        check_is_fitted(self, "estimators_")
        reason = _inference_support(self.estimator)
        if reason is None and self._pooled is None:
            reason = "Rubin's inference is for a binary LogisticRegression only."
        if reason is not None:
            raise AttributeError(reason)
        if isinstance(self.estimator, LogisticRegression) and _penalised(
            self.estimator
        ):
            warnings.warn(
                "The standard errors of a penalised LogisticRegression (inverse "
                "Fisher information) are not valid; use C=np.inf for inference.",
                UserWarning,
                stacklevel=3,
            )
        return self._pooled

    @property
    def std_err_(self):
        return np.sqrt(self._rubin_results()["total"])

    @property
    def df_(self):
        return self._rubin_results()["df"]

    @property
    def fraction_missing_info_(self):
        return self._rubin_results()["fmi"]

    @property
    def cov_params_(self):
        return self._rubin_results()["cov"]

    def conf_int(self, alpha=0.05):
        """Confidence intervals of the pooled parameters.

        Intervals are mean -/+ t_{1 - alpha/2, df} sqrt(T), with Barnard &
        Rubin's degrees of freedom ``df_``.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the coverage.

        Returns
        -------
        intervals : ndarray of shape (n_params, 2)
            Lower and upper bounds, one row per parameter: the intercept first
            (when fitted), then the coefficients in the features' order.
        """
        return self._intervals(self._rubin_results(), alpha)

    @staticmethod
    def _intervals(results, alpha):
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
        half = stats.t.ppf(1 - alpha / 2, results["df"]) * np.sqrt(results["total"])
        return np.column_stack([results["params"] - half, results["params"] + half])

    def summary(self, alpha=0.05):
        """The table of pooled parameters.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the coverage of the intervals.

        Returns
        -------
        table : DataFrame
            One row per parameter, "intercept" first (when fitted), then the
            features by name (``feature_names_in_``, or x0, x1, ...);
            columns "coef", "std err", "df", "lower", "upper" and "fmi".
        """
        results = self._rubin_results()
        intervals = self._intervals(results, alpha)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{j}" for j in range(self.n_features_in_)]
        index = list(names)
        if self.estimator.fit_intercept:
            index = ["intercept", *index]
        return pd.DataFrame(
            {
                "coef": results["params"],
                "std err": np.sqrt(results["total"]),
                "df": results["df"],
                "lower": intervals[:, 0],
                "upper": intervals[:, 1],
                "fmi": results["fmi"],
            },
            index=pd.Index(index),
        )
