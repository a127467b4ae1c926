"""PCAImputer: regularised iterative PCA, after missMDA's ``imputePCA``."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseImputer
from ._holdout import _check_grid, _select_by_holdout
from ._onehot import _collapse, _n_levels, _one_hot
from ._scaling import _binary_unit, _standardization


def _eigen(Z):
    """Eigenvalues (descending) and eigenvectors of ``Z.T @ Z / n_samples``."""
    n = Z.shape[0]
    if n >= Z.shape[1]:  # the small Gram matrix is much cheaper than an SVD
        eigenvalues, vectors = np.linalg.eigh(Z.T @ Z / n)
        return np.clip(eigenvalues[::-1], 0.0, None), vectors[:, ::-1]
    _, s, Vt = np.linalg.svd(Z, full_matrices=False)
    return s**2 / n, Vt.T


def _noise_variance(eigenvalues, n_samples, n_features, n_components):
    """missMDA's estimate of the noise variance from the discarded eigenvalues.

    Their sum, over the residual degrees of freedom of a rank-r fit, at most the
    first discarded eigenvalue.
    """
    n, p, r = n_samples, n_features, n_components
    dof = (n - 1 - r) * (p - r)
    if dof <= 0:  # a single row: no residual to estimate it from
        return 0.0
    sigma2 = n * p / min(p, n - 1) * eigenvalues[r:].sum() / dof
    return float(min(sigma2, eigenvalues[r]))


def _shrinkage(explained_variance, noise_variance):
    """Factor of each singular value: (lambda_k - sigma^2) / lambda_k."""
    lam = explained_variance
    return np.divide(lam - noise_variance, lam, out=np.zeros_like(lam), where=lam > 0)


def _largest_change(Z, Z_fit, missing):
    """Largest change of a missing entry, ``missing`` holding their flat
    (C-order) indices; 0.0 when there is none."""
    change = Z_fit.ravel()[missing] - Z.ravel()[missing]
    return float(np.abs(change).max()) if len(change) else 0.0


def _converged(change, previous, tol):
    """Whether iterations are within ``tol`` of their fixed point.

    The iterations converge linearly, at a rate rho that can be close to 1
    (EM with much missing). From the largest changes of an imputed entry in
    the last two iterations, ``previous`` then ``change``, rho is about
    change / previous, and the distance left to the fixed point is at most
    about change * rho / (1 - rho), the sum of the changes still to come.
    Both it and the last change must be at most ``tol``.
    """
    if change > tol:
        return False
    rho = change / previous if previous > 0 else 0.0
    return rho < 1 and change * rho <= tol * (1 - rho)


def _regularized_pca(
    X, mask, n_components, *, tol, max_iter, indicator=None, n_dims=None
):
    """Impute ``X`` by regularised iterative PCA (Josse & Husson, 2012).

    Missing entries start at the mean of their feature. Each iteration
    standardises the completed data, fits a rank-``n_components`` PCA, shrinks
    its singular values (``s_k -> s_k (lambda_k - sigma^2) / lambda_k``) and
    refills the missing entries with the reconstruction, until they are
    within ``tol`` of their fixed point (:func:`_converged`).

    With ``indicator`` (the columns that are level indicators of categorical
    features), this is iterative FAMD (Audigier, Husson & Josse, 2016): an
    indicator column is centred and divided by the square root of its mean,
    the level's proportion, rather than by its standard deviation, and missing
    ones start at that proportion. ``n_dims`` is then the number of dimensions
    of the data, each categorical feature of k levels spanning k - 1 (its
    centred, scaled indicators are linearly dependent); it sets the noise
    variance's degrees of freedom.

    Returns the completed data, the fitted model (mean, scale, components,
    explained variances, noise variance) and the number of iterations.
    """
    n, p = X.shape
    n_dims = p if n_dims is None else n_dims
    missing = np.flatnonzero(mask)
    X_filled = np.where(mask, _standardization(X, mask)[0], X).astype(np.float64)
    n_iter, change, previous = 0, np.inf, np.inf
    while n_iter < max_iter and not _converged(change, previous, tol):
        n_iter += 1
        # Complete data: the plain mean and (ddof=0) scale, 1 for constant features.
        mean = X_filled.mean(axis=0)
        centered = X_filled - mean
        scale = np.sqrt(np.mean(centered**2, axis=0))
        if indicator is not None:
            scale[indicator] = np.sqrt(np.clip(mean[indicator], 0.0, None))
        scale[scale == 0] = 1.0
        Z = centered / scale
        eigenvalues, vectors = _eigen(Z)
        noise_variance = _noise_variance(eigenvalues, n, n_dims, n_components)
        components = vectors[:, :n_components].T
        explained_variance = eigenvalues[:n_components]
        shrinkage = _shrinkage(explained_variance, noise_variance)
        Z_fit = (Z @ components.T) * shrinkage @ components
        previous, change = change, _largest_change(Z, Z_fit, missing)
        np.put(X_filled, missing, (Z_fit * scale + mean).ravel()[missing])
    model = (mean, scale, components, explained_variance, noise_variance)
    return X_filled, model, n_iter


class PCAImputer(_BaseImputer):
    """Impute missing values by regularised iterative PCA.

    The regularised iterative PCA algorithm of Josse & Husson, as in the R
    package missMDA's ``imputePCA`` (``method="Regularized"``,
    ``scale=TRUE``): missing entries start at the mean of their feature; then,
    until the imputed entries stop moving, the completed data are standardised,
    a rank-r PCA is fitted (eigendecomposition of their covariance), its
    singular values are shrunk as ``s_k -> s_k (lambda_k - sigma^2) / lambda_k``, where
    ``lambda_k`` is the k-th eigenvalue and the noise variance ``sigma^2`` is
    estimated from the discarded eigenvalues, and the missing entries (only)
    are refilled with the low-rank reconstruction. The shrinkage keeps the
    iterations from overfitting the observed entries, which plain EM-PCA does
    badly when many entries are missing.

    Categorical features are handled as missMDA's ``imputeFAMD`` does
    (iterative factor analysis of mixed data, Audigier, Husson & Josse, 2016):
    each one is replaced by the indicators of its levels (one-hot), missing
    ones start at the level's proportion, and an indicator column is centred
    and divided by the square root of its mean (the level's proportion) rather
    than by its standard deviation, which gives a feature of k levels the
    weight of k - 1 numeric ones, as in multiple correspondence analysis. The
    PCA runs on the whole; a missing categorical entry gets the level of
    largest reconstructed indicator (the first level on ties). A feature of k
    levels spans k - 1 dimensions, and the rank cap and the noise variance
    count those.

    The default ``n_components="auto"`` chooses the rank on the data, as
    missMDA's ``estim_ncpPCA`` does with ``method.cv="Kfold"``: a random
    ``holdout_fraction`` of the observed entries is hidden and imputed with
    each rank of ``n_components_grid``, and the rank with the smallest mean
    squared error on the hidden entries (in standardised units, averaged over
    3 random hold-outs) is kept. A hidden categorical entry counts 1 if its
    level is wrong, else 0, the error of one standard deviation: its indicator
    block, like a standardised numeric feature, has variance of order 1.

    :meth:`fit_transform` returns the completion found by the iterations, like
    missMDA's ``completeObs``. :meth:`transform` imputes any rows with the
    fitted means, scales and shrunk loadings: it iterates the same refilling
    on those rows only, with the fitted model held fixed. Its imputations
    extrapolate the linear fit at most one range beyond either end of each
    feature's range in the completed training data, so that a new row
    observed far outside that range cannot send them to any magnitude (even
    past the largest float32).

    Parameters
    ----------
    n_components : int or "auto", default="auto"
        Rank r of the PCA, or "auto" to choose it on held-out observed entries.
        It is capped at ``min(n_dims - 1, n_samples - 2)``, the largest
        rank for which the noise variance can be estimated, where ``n_dims``
        is the number of numeric features plus k - 1 for each categorical
        feature of k levels; rank 0 is mean imputation (the most frequent
        level for a categorical feature).
    n_components_grid : array-like of int or None, default=None
        Candidate ranks for ``n_components="auto"``; None means every rank
        from 0 to the cap. Each candidate costs 3 imputations, so pass a short
        grid for data with many features.
    holdout_fraction : float in (0, 1), default=0.1
        Share of the observed entries hidden to choose the rank (missMDA's
        ``pNA``, 0.05 there, with 100 hold-outs rather than 3).
    max_iter : int, default=1000
        Maximum number of iterations, in fit and in transform.
    tol : float, default=1e-3
        Stop when every imputed entry is within about ``tol`` of the
        iterations' fixed point, in standard deviations of its feature: the
        largest change of an imputed entry in the last iteration, and the
        sum of the changes still to come at the rate of the last two, are
        both at most ``tol``. The iterations can converge slowly when many
        entries are missing, so a rule on the last change alone would stop
        far from the fixed point. "auto" chooses the rank under the same
        ``tol``.
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
        Draws the held-out entries of ``n_components="auto"``; the iterations
        themselves are deterministic.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, for DataFrame input with string
        column names.
    n_components_ : int
        The rank used, after the cap.
    holdout_errors_ : dict
        With ``n_components="auto"``: mean masked error (standardised units)
        of each candidate rank; empty when no entry could be held out. Empty
        otherwise.
    is_categorical_ : ndarray of bool of shape (`n_features_in_`,)
        Which features are categorical (see ``categorical_features``).
    categories_ : list of (ndarray or None)
        The observed levels of each categorical feature, None for the others;
        only when some feature is categorical.
    mean_ : ndarray of shape (n_columns,)
        Mean of each column of the completed training data: the non-empty
        features, each categorical one replaced by the indicators of its
        levels (in the order of ``categories_``), whose means are the levels'
        proportions. Without categorical features, ``n_columns`` is
        ``n_valid_features``.
    scale_ : ndarray of shape (n_columns,)
        Its standard deviation (1 for constant features); the square root of
        the proportion for a level indicator.
    components_ : ndarray of shape (`n_components_`, n_columns)
        Principal axes of the standardised completed data.
    explained_variance_ : ndarray of shape (`n_components_`,)
        Their eigenvalues ``lambda_k``.
    noise_variance_ : float
        The estimated noise variance ``sigma^2`` (standardised units).
    data_min_ : ndarray of shape (n_columns,)
        Minimum of each column of the completed training data; -inf for a
        level indicator, whose imputation is only compared with its level's
        others. :meth:`transform` imputes at least ``data_min_ - (data_max_ -
        data_min_)``.
    data_max_ : ndarray of shape (n_columns,)
        Its maximum (inf for a level indicator); :meth:`transform` imputes at
        most ``data_max_ + (data_max_ - data_min_)``.
    n_iter_ : int
        Number of iterations run by fit.
    indicator_ : MissingIndicator
        Indicator of missing values, when ``add_indicator=True``.

    See Also
    --------
    sklearn.decomposition.PCA : Principal component analysis of complete data.

    References
    ----------
    J. Josse and F. Husson. "Handling missing values in exploratory multivariate
    data analysis methods". Journal de la SFdS, 153(2), 2012.

    J. Josse and F. Husson. "missMDA: A Package for Handling Missing Values in
    Multivariate Data Analysis". Journal of Statistical Software, 70(1), 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from miwae_impute import PCAImputer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2)) @ rng.normal(size=(2, 5))
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> imputer = PCAImputer(random_state=0)
    >>> X_imputed = imputer.fit_transform(X)
    >>> imputer.n_components_
    2
    >>> bool(np.isnan(X_imputed).any())
    False
    """

    _parameter_constraints: dict = {
        **_BaseImputer._parameter_constraints,
        "n_components": [
            Interval(numbers.Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "n_components_grid": ["array-like", None],
        "holdout_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_components="auto",
        n_components_grid=None,
        holdout_fraction=0.1,
        max_iter=1000,
        tol=1e-3,
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
        self.n_components = n_components
        self.n_components_grid = n_components_grid
        self.holdout_fraction = holdout_fraction
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    _categorical_support = True

    def _fit(self, X, mask):
        self._n_levels = _n_levels(self)
        categorical = self._n_levels > 0
        widths = np.maximum(self._n_levels, 1)
        indicator = np.repeat(categorical, widths) if categorical.any() else None
        n, n_dims = X.shape[0], int(np.sum(widths - categorical))
        max_rank = max(0, min(n_dims - 1, n - 2))
        # The method standardises every feature, so it is run on features
        # divided by a power of two (exactly), which keeps squares of 1e300
        # from overflowing; the fitted means and scales are in data units.
        # Categorical features are one-hot encoded (their codes keep unit 1).
        unit = np.where(categorical, 1.0, _binary_unit(X, mask))
        X = X / unit

        def impute(rank, X, mask):
            wide, wide_mask = _one_hot(X, mask, self._n_levels)
            return _regularized_pca(
                wide,
                wide_mask,
                rank,
                tol=self.tol,
                max_iter=self.max_iter,
                indicator=indicator,
                n_dims=n_dims,
            )

        self.n_components_, self.holdout_errors_ = self.n_components, {}
        if self.n_components == "auto":
            grid = self.n_components_grid
            grid = range(max_rank + 1) if grid is None else grid
            grid = _check_grid(grid, "n_components_grid", 0)
            self.n_components_, self.holdout_errors_ = _select_by_holdout(
                lambda rank, X, mask: _collapse(
                    impute(rank, X, mask)[0], self._n_levels
                ),
                sorted({min(rank, max_rank) for rank in grid}),
                X,
                mask,
                fraction=self.holdout_fraction,
                random_state=self.random_state,
                categorical=categorical,
            )
        self.n_components_ = min(self.n_components_, max_rank)
        X_filled, model, self.n_iter_ = impute(self.n_components_, X, mask)
        (
            self.mean_,
            self.scale_,
            self.components_,
            self.explained_variance_,
            self.noise_variance_,
        ) = model
        unit = np.repeat(unit, widths)
        self.mean_, self.scale_ = self.mean_ * unit, self.scale_ * unit
        X_filled = X_filled * unit
        self.data_min_, self.data_max_ = X_filled.min(axis=0), X_filled.max(axis=0)
        if indicator is not None:  # the largest indicator wins: leave them be
            self.data_min_[indicator], self.data_max_[indicator] = -np.inf, np.inf
        return _collapse(X_filled, self._n_levels)

    def _impute(self, X, mask):
        X, mask = _one_hot(X, mask, self._n_levels)
        missing = np.flatnonzero(mask)
        Z = np.where(mask, 0.0, (X - self.mean_) / self.scale_)
        shrinkage = _shrinkage(self.explained_variance_, self.noise_variance_)
        projection = (self.components_.T * shrinkage) @ self.components_
        change = np.inf
        for _ in range(self.max_iter):
            Z_fit = Z @ projection
            previous, change = change, _largest_change(Z, Z_fit, missing)
            np.put(Z, missing, Z_fit.ravel()[missing])
            if _converged(change, previous, self.tol):
                break
        width = self.data_max_ - self.data_min_  # inf, or nan, for indicators
        low = np.where(np.isfinite(width), self.data_min_ - width, -np.inf)
        high = np.where(np.isfinite(width), self.data_max_ + width, np.inf)
        imputed = np.clip(Z * self.scale_ + self.mean_, low, high)
        return _collapse(np.where(mask, imputed, X), self._n_levels)
