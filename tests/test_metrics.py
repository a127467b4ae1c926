import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, cross_val_score

from miwae_impute import (
    MeanImputer,
    NearestNeighborsImputer,
    PCAImputer,
    imputation_mse,
    masked_mse_scorer,
)


def _low_rank(seed=0, n=150, missing=0.2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, 6)) * [1, 2, 5, 10, 100, 1e3]
    X += rng.normal(scale=0.1, size=X.shape) * X.std(axis=0)
    return np.where(rng.random(X.shape) < missing, np.nan, X)


# -- imputation_mse ------------------------------------------------------------
def test_imputation_mse_standardises_with_the_true_data():
    X_true = np.array([[0.0, 0.0], [2.0, 20.0], [4.0, 40.0]])  # std sqrt(8/3), 10x
    X_imputed = X_true + [[1.0, 0.0], [0.0, 10.0], [0.0, 0.0]]
    mask = np.array([[True, False], [False, True], [True, True]])
    expected = (1 / (8 / 3) + 100 / (800 / 3)) / 4
    assert imputation_mse(X_true, X_imputed, mask) == pytest.approx(expected)
    units = np.array([7.0, 1e-4])
    assert imputation_mse(X_true * units, X_imputed * units, mask) == pytest.approx(
        expected
    )


def test_imputation_mse_of_mean_imputation_is_about_one():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5, scale=[1, 100], size=(5000, 2))
    mask = rng.random(X.shape) < 0.5
    X_imputed = MeanImputer().fit_transform(np.where(mask, np.nan, X))
    assert imputation_mse(X, X_imputed, mask) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    "X_true, X_imputed, mask, error, match",
    [
        ([[1.0, 2.0]], [[1.0, 2.0]], [[1, 0]], TypeError, "boolean"),
        ([[1.0, 2.0]], [[1.0]], [[True]], ValueError, "same shape"),
        ([[1.0, 2.0]], [[1.0, 2.0]], [[False, False]], ValueError, "nothing"),
        ([[np.nan, 2.0]], [[1.0, 2.0]], [[True, False]], ValueError, "complete"),
        ([[1.0, 2.0]], [[np.nan, 2.0]], [[True, False]], ValueError, "masked"),
    ],
)
def test_imputation_mse_validation(X_true, X_imputed, mask, error, match):
    with pytest.raises(error, match=match):
        imputation_mse(X_true, X_imputed, np.asarray(mask))


# -- masked_mse_scorer -------------------------------------------------------------
def test_scorer_ranks_a_good_imputer_above_mean_imputation():
    X = _low_rank(0, n=300)
    X_train, X_test = X[:200], X[200:]
    scorer = masked_mse_scorer(random_state=0)
    mean_score = scorer(MeanImputer().fit(X_train), X_test)
    pca_score = scorer(PCAImputer(n_components=2).fit(X_train), X_test)
    assert -1.3 < mean_score < -0.7  # about minus the variance: 1
    assert -0.2 < pca_score < 0


def test_scorer_is_reproducible_and_leaves_x_alone():
    X = _low_rank(2)
    X_before = X.copy()
    imputer = NearestNeighborsImputer(n_neighbors=3).fit(X)
    scores = [masked_mse_scorer(random_state=4)(imputer, X) for _ in range(2)]
    assert scores[0] == scores[1]
    assert masked_mse_scorer(random_state=5)(imputer, X) != scores[0]
    np.testing.assert_array_equal(X, X_before)


def test_scorer_in_grid_search_tunes_knn():
    X = _low_rank(3, n=200)
    search = GridSearchCV(
        NearestNeighborsImputer(),
        {"n_neighbors": [1, 10]},
        scoring=masked_mse_scorer(random_state=0),
        cv=3,
        error_score="raise",
    ).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)
    assert search.best_params_ == {"n_neighbors": 10}  # k=1 copies noise
    assert search.best_score_ == scores.max()


def test_scorer_with_dataframes_and_placeholders():
    X = _low_rank(4)
    df = pd.DataFrame(X, columns=list("abcdef"))
    imputer = MeanImputer().fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "X does not have valid feature names"
        score_df = masked_mse_scorer(random_state=0)(imputer, df)
    assert score_df == masked_mse_scorer(random_state=0)(MeanImputer().fit(X), X)
    placeholder = np.where(np.isnan(X), -1.0, X)
    imputer = MeanImputer(missing_values=-1).fit(placeholder)
    assert masked_mse_scorer(random_state=0)(imputer, placeholder) == score_df


def test_scorer_skips_features_dropped_at_fit():
    X = _low_rank(5)
    X_train = X.copy()
    X_train[:, 2] = np.nan  # dropped from the output by the imputer
    with pytest.warns(UserWarning, match="no observed value"):
        imputer = MeanImputer().fit(X_train)
    sk_imputer = SimpleImputer().fit(X_train)
    scorer = masked_mse_scorer(random_state=0)
    score = scorer(imputer, X)
    assert -1.3 < score < -0.7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Skipping features ..."
        assert scorer(sk_imputer, X) == score


def test_scorer_in_cross_val_score_of_a_sklearn_imputer():
    X = _low_rank(6)
    scores = cross_val_score(SimpleImputer(), X, scoring=masked_mse_scorer(0.1, 0))
    assert scores.shape == (5,) and np.all((scores > -1.5) & (scores < -0.5))
