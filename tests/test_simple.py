import numpy as np
from numpy.testing import assert_allclose
from sklearn.impute import SimpleImputer

from miwae_impute import MeanImputer


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=3.0, size=(40, 4))
    X[rng.random(X.shape) < 0.3] = np.nan
    return X


def test_matches_simple_imputer_mean():
    X_train, X_test = _data(0), _data(1)
    imputer = MeanImputer().fit(X_train)
    reference = SimpleImputer(strategy="mean").fit(X_train)
    assert_allclose(imputer.transform(X_test), reference.transform(X_test))
    assert_allclose(imputer.statistics_, np.nanmean(X_train, axis=0))


def test_missing_values_placeholder_is_not_averaged():
    X = np.array([[1.0, -1.0], [-1.0, 4.0], [3.0, 6.0]])
    X_imputed = MeanImputer(missing_values=-1).fit_transform(X)
    assert_allclose(X_imputed, [[1.0, 5.0], [2.0, 4.0], [3.0, 6.0]])
