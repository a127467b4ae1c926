"""MeanImputer: the mean-imputation baseline."""

import numpy as np
from sklearn.impute import SimpleImputer

from ._base import _BaseImputer


class MeanImputer(_BaseImputer):
    """Replace each missing entry by the mean of the observed entries of its feature.

    A categorical feature gets its most frequent level instead.

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
    statistics_ : ndarray of shape (n_valid_features,)
        The imputation of each non-empty feature: its mean, or for a
        categorical feature the code of its most frequent level.
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
        self,
        *,
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

    _categorical_support = True

    def _fit(self, X, mask):
        X = np.where(mask, np.nan, X)
        categorical = self.is_categorical_[self._valid_features]
        self.statistics_ = SimpleImputer(strategy="mean").fit(X).statistics_
        if categorical.any():
            mode = SimpleImputer(strategy="most_frequent").fit(X[:, categorical])
            self.statistics_[categorical] = mode.statistics_

    def _impute(self, X, mask):
        return np.where(mask, self.statistics_.astype(X.dtype), X)
