"""MeanImputer: the mean-imputation baseline."""

import numpy as np
from sklearn.impute import SimpleImputer

from ._base import _BaseImputer


class MeanImputer(_BaseImputer):
    """Replace each missing entry by the mean of the observed entries of its feature.

    The baseline of the MIWAE paper's experiments, built on
    :class:`sklearn.impute.SimpleImputer` with ``strategy="mean"``; this class
    adds the package's common behaviour (DataFrame in, DataFrame out,
    informative errors, ...).

    Parameters
    ----------
    missing_values : float, default=np.nan
        Placeholder of the missing entries.
    add_indicator : bool, default=False
        Append :class:`~sklearn.impute.MissingIndicator` columns to the output.
    keep_empty_features : bool, default=False
        Keep features with no observed value at fit, imputed with 0; otherwise
        they are dropped from the output (with a warning).

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, for DataFrame input with string
        column names.
    imputer_ : SimpleImputer
        The fitted mean imputer of the non-empty features; its ``statistics_``
        holds the means.
    indicator_ : MissingIndicator
        Indicator of missing values, when ``add_indicator=True``.

    See Also
    --------
    sklearn.impute.SimpleImputer : Univariate imputation with several strategies.

    Examples
    --------
    >>> import numpy as np
    >>> from miwae_impute import MeanImputer
    >>> X = [[1.0, 2.0], [np.nan, 4.0], [5.0, np.nan]]
    >>> MeanImputer().fit_transform(X)
    array([[1., 2.],
           [3., 4.],
           [5., 3.]])
    """

    def __init__(
        self, *, missing_values=np.nan, add_indicator=False, keep_empty_features=False
    ):
        super().__init__(
            missing_values=missing_values,
            add_indicator=add_indicator,
            keep_empty_features=keep_empty_features,
        )

    def _fit(self, X, mask):
        self.imputer_ = SimpleImputer(strategy="mean").fit(np.where(mask, np.nan, X))

    def _impute(self, X, mask):
        return self.imputer_.transform(np.where(mask, np.nan, X))
