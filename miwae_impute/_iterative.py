"""Base of the imputers whose fitting computes the imputation of the training data."""

from ._base import _BaseImputer


class _FitImputingImputer(_BaseImputer):
    """An imputer whose fit already imputes the training data.

    Iterative imputers (regularised iterative PCA, missForest) complete the
    training data while they fit, and that completion is the method's answer
    for those rows. :meth:`fit_transform` returns it, as
    :class:`~sklearn.impute.IterativeImputer` does, instead of re-imputing the
    training data with the fitted model; :meth:`transform` imputes new rows
    with the fitted model.

    Subclasses implement ``_fit_impute(X, mask)``, which fits and returns the
    completed ``X``, and ``_impute(X, mask)``.
    """

    def _fit(self, X, mask):
        # Handed over to fit_transform (or dropped by fit) right after.
        self._fit_imputation = self._fit_impute(X, mask)
        return self

    def _fit_impute(self, X, mask):
        raise NotImplementedError

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
        super().fit(X, y)
        self.__dict__.pop("_fit_imputation", None)  # absent if every feature is empty
        return self

    def fit_transform(self, X, y=None):
        """Fit the imputer on ``X`` and return the completion found by fitting.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with missing entries marked by ``missing_values``.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            ``X`` with its missing entries filled by the fitting iterations; it
            can differ slightly from ``fit(X).transform(X)``.
        """
        super().fit(X, y)
        imputed = self.__dict__.pop("_fit_imputation", None)
        return self._assemble(self._check_transform_input(X), imputed)
