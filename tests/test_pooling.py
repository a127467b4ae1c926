"""MultipleImputationEstimator: pooled predictions and Rubin's rules."""

import pickle
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import miwae_impute
from miwae_impute import MeanImputer, MIWAEImputer, MultipleImputationEstimator
from miwae_impute._pooling import _Y_NAME
from miwae_impute._random import seed_from
from miwae_impute._rubin import _params_and_variances, _rubin


class DrawingImputer(BaseEstimator):
    """A cheap imputer that draws: feature mean plus noise; records its inputs."""

    def __init__(self, noise=0.5, random_state=None):
        self.noise = noise
        self.random_state = random_state

    def fit(self, X, y=None):
        self.fitted_on_ = X.copy()
        self.means_ = X.select_dtypes("number").mean()
        return self

    def sample(self, X, n_imputations=5):
        self.sampled_ = X.copy()
        rng = np.random.default_rng(self.random_state)
        draws = []
        for _ in range(n_imputations):
            draw = X.copy()
            for name, mean in self.means_.items():
                missing = draw[name].isna().to_numpy()
                values = draw[name].to_numpy(dtype=float, copy=True)
                values[missing] = mean + self.noise * rng.normal(size=missing.sum())
                draw[name] = values
            for name in draw.columns.difference(self.means_.index):
                draw[name] = draw[name].fillna(draw[name].cat.categories[0])
            draws.append(draw)
        return draws


def _data(n=120, seed=0, frac=0.2, classify=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = 0.5 + X @ [1.5, -1.0, 0.0] + rng.normal(size=n)
    if classify:
        y = (y > 0.5).astype(int)
    X[rng.random(X.shape) < frac] = np.nan
    return pd.DataFrame(X, columns=["a", "b", "c"]), y


def _miwae():
    return MIWAEImputer(hidden_layer_sizes=(8,), max_iter=2, L=50, random_state=0)


@parametrize_with_checks(
    [
        MultipleImputationEstimator(
            est, imputer=_miwae(), n_imputations=2, bootstrap=False
        )
        for est in (LinearRegression(), LogisticRegression())
    ]
    + [
        MultipleImputationEstimator(
            LinearRegression(), imputer=_miwae(), n_imputations=2
        )
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_rubin_against_a_hand_computation():
    estimates = [[1.0, 3.0], [2.0, 3.0], [4.0, 3.0]]
    variances = [[0.5, 0.2], [0.5, 0.4], [0.8, 0.3]]
    mean, total, df, fmi = _rubin(estimates, variances, df_complete=20)
    # First parameter: mean 7/3, W = 0.6, B = (16/9 + 1/9 + 25/9) / 2 = 7/3.
    T = 0.6 + (4 / 3) * (7 / 3)
    lam = (4 / 3) * (7 / 3) / T
    df_old = 2 / lam**2
    df_obs = 21 / 23 * 20 * (1 - lam)
    assert_allclose(mean, [7 / 3, 3.0])
    # Second parameter: no between-imputation variance, T = W, df = df_obs.
    assert_allclose(total, [T, 0.3])
    assert_allclose(fmi, [lam, 0.0])
    assert_allclose(df, [1 / (1 / df_old + 1 / df_obs), 21 / 23 * 20])
    # Without a complete-data df, Rubin's (1987) df (m - 1) / lambda^2.
    assert_allclose(_rubin(estimates, variances)[2], [df_old, np.inf])
    with pytest.raises(ValueError, match="at least 2"):
        _rubin([[1.0]], [[1.0]])


def test_ols_standard_errors_match_statsmodels_on_complete_data():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    y = 1.0 + X @ [1.0, 0.5, -2.0] + rng.normal(size=50)
    for intercept in (True, False):
        fit = LinearRegression(fit_intercept=intercept).fit(X, y)
        params, cov = _params_and_variances(fit, X, y)
        ref = sm.OLS(y, sm.add_constant(X) if intercept else X).fit()
        assert_allclose(params, ref.params)
        assert_allclose(cov, ref.cov_params(), rtol=1e-8)


def test_logistic_standard_errors_match_statsmodels_on_complete_data():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2))
    y = (rng.random(200) < 1 / (1 + np.exp(-(0.3 + X @ [1.0, -1.0])))).astype(int)
    fit = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    params, cov = _params_and_variances(fit, X, y)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    assert_allclose(params, ref.params, rtol=1e-4)
    assert_allclose(np.sqrt(np.diag(cov)), ref.bse, rtol=1e-4)


def test_pooling_matches_statsmodels_combine_on_the_same_draws():
    sm = pytest.importorskip("statsmodels.api")
    mice = pytest.importorskip("statsmodels.imputation.mice")
    X, y = _data()
    model = MultipleImputationEstimator(
        LinearRegression(),
        imputer=_miwae(),
        n_imputations=4,
        bootstrap=False,
        random_state=0,
    ).fit(X, y)
    frame = X.assign(**{_Y_NAME: y})
    draws = model.imputer_.sample(frame, n_imputations=4)
    results = [
        sm.OLS(y, sm.add_constant(d.drop(columns=_Y_NAME).to_numpy())).fit()
        for d in draws
    ]
    pooled = mice.MICE.combine(
        SimpleNamespace(
            results_list=results,
            exog_names=["const", "a", "b", "c"],
            endog_names="y",
            model_class=sm.OLS,
        )
    )
    table = model.summary()
    assert_allclose(table["coef"], pooled.params)
    assert_allclose(table["std err"], pooled.bse)
    assert_allclose(table["fmi"], pooled.frac_miss_info)
    assert_allclose(model.cov_params_, pooled.cov_params())
    assert (table["fmi"] > 0).all()  # the draws differ
    # statsmodels' intervals are normal; ours use t with Barnard-Rubin df.
    _, _, df, _ = _rubin(
        [np.r_[r.params] for r in results],
        [r.bse**2 for r in results],
        df_complete=len(y) - 4,
    )
    assert_allclose(table["df"], df)
    half = stats.t.ppf(0.95, df) * pooled.bse
    assert_allclose(
        model.conf_int(0.1), np.c_[pooled.params - half, pooled.params + half]
    )
    assert (model.conf_int(0.1)[:, 1] - pooled.conf_int(0.1)[:, 1] > 0).all()


def test_the_outcome_enters_the_imputation_model():
    X, y = _data(classify=True)
    model = MultipleImputationEstimator(
        LogisticRegression(), imputer=DrawingImputer(random_state=0), bootstrap=False
    ).fit(X, y)
    fitted_on = model.imputer_.fitted_on_
    assert list(fitted_on.columns) == ["a", "b", "c", _Y_NAME]
    assert isinstance(fitted_on[_Y_NAME].dtype, pd.CategoricalDtype)
    assert_array_equal(fitted_on[_Y_NAME].astype(int), y)
    model.predict(X.iloc[:7])
    sampled = model.imputer_.sampled_
    assert len(sampled) == 7 and sampled[_Y_NAME].isna().all()
    regression = MultipleImputationEstimator(
        LinearRegression(), imputer=DrawingImputer(random_state=0), bootstrap=False
    ).fit(X.to_numpy(), y.astype(float))
    assert_allclose(regression.imputer_.fitted_on_[_Y_NAME], y)


@pytest.mark.parametrize("categorical", [None, [0], [False] * 3, "from_dtype"])
def test_a_class_outcome_is_a_categorical_column_of_miwae(categorical):
    X, y = _data(n=60, classify=True)
    imputer = _miwae().set_params(categorical_features=categorical)
    model = MultipleImputationEstimator(
        LogisticRegression(), imputer=imputer, bootstrap=False
    )
    model.fit(X.to_numpy(), np.where(y == 1, "yes", "no"))
    assert model.imputer_.is_categorical_[-1]
    assert list(model.imputer_.categories_[-1]) == ["no", "yes"]
    assert imputer.categorical_features is categorical  # the clone changed only


def test_pooled_predictions_are_the_mean_of_the_fits():
    X, y = _data(classify=True)
    X_new = X.iloc[:10]
    clf = MultipleImputationEstimator(
        LogisticRegression(),
        imputer=DrawingImputer(random_state=0),
        n_imputations=3,
        bootstrap=False,
    ).fit(X, y)
    no_class = pd.Categorical([None] * len(X_new), categories=[0, 1])
    draws = clf.imputer_.sample(X_new.assign(**{_Y_NAME: no_class}), 3)
    draws = [d.drop(columns=_Y_NAME) for d in draws]
    probas = [est.predict_proba(d) for est, d in zip(clf.estimators_, draws)]
    assert not np.allclose(probas[0], probas[1])
    assert_allclose(clf.predict_proba(X_new), np.mean(probas, axis=0))
    assert_array_equal(clf.predict(X_new), np.mean(probas, axis=0).argmax(1))
    assert_array_equal(clf.classes_, [0, 1])

    reg = MultipleImputationEstimator(
        LinearRegression(),
        imputer=DrawingImputer(random_state=0),
        n_imputations=3,
        bootstrap=False,
    ).fit(X, y.astype(float))
    draws = reg.imputer_.sample(X_new.assign(**{_Y_NAME: np.nan}), 3)
    draws = [d.drop(columns=_Y_NAME) for d in draws]
    preds = [est.predict(d) for est, d in zip(reg.estimators_, draws)]
    assert not np.allclose(preds[0], preds[1])
    assert_allclose(reg.predict(X_new), np.mean(preds, axis=0))
    assert_allclose(reg.coef_, np.mean([e.coef_ for e in reg.estimators_], axis=0))
    assert_allclose(
        reg.intercept_, np.mean([e.intercept_ for e in reg.estimators_], axis=0)
    )


def test_a_frozen_imputer_is_reused_not_refitted():
    from sklearn.frozen import FrozenEstimator
    from sklearn.tree import DecisionTreeClassifier

    X, y = _data(classify=True)
    first = MultipleImputationEstimator(
        LogisticRegression(),
        imputer=DrawingImputer(random_state=0),
        n_imputations=3,
        bootstrap=False,
    ).fit(X, y)
    fitted = first.imputer_
    fitted.fitted_on_ = "not refitted"
    second = MultipleImputationEstimator(
        DecisionTreeClassifier(random_state=0),
        imputer=FrozenEstimator(fitted),
        n_imputations=3,
        bootstrap=False,
    ).fit(X, y)
    assert second.imputer_.estimator is fitted
    assert fitted.fitted_on_ == "not refitted"
    assert_array_equal(fitted.sampled_.drop(columns=_Y_NAME), X)
    proba = second.predict_proba(X.iloc[:5])
    assert proba.shape == (5, 2)
    assert_allclose(proba.sum(axis=1), 1.0)


def test_bootstrap_draws_completion_k_from_a_fit_on_resample_k():
    X, y = _data(classify=True)
    model = MultipleImputationEstimator(  # bootstrap=True is the default
        LogisticRegression(),
        imputer=DrawingImputer(random_state=0),
        n_imputations=4,
        random_state=0,
    ).fit(X, y)
    assert not hasattr(model, "imputer_")
    assert len(model.imputers_) == 4
    frame = X.assign(**{_Y_NAME: pd.Categorical(y)})
    rows = {tuple(row) for row in frame.astype(float).fillna(-99).to_numpy()}
    seen = []
    for imputer in model.imputers_:
        resample = imputer.fitted_on_
        assert list(resample.columns) == list(frame.columns)
        assert len(resample) == len(frame)
        as_rows = [tuple(r) for r in resample.astype(float).fillna(-99).to_numpy()]
        assert set(as_rows) <= rows  # rows of the data, drawn with replacement
        assert len(set(as_rows)) < len(frame)
        seen.append(frozenset(as_rows))
    assert len(set(seen)) == 4  # four different resamples
    assert len({imputer.random_state for imputer in model.imputers_}) == 4
    # Completion k, at fit and at prediction, is drawn from fit k.
    X_new = X.iloc[:6]
    probas = []
    for imputer, est in zip(model.imputers_, model.estimators_):
        draw = imputer.sample(
            X_new.assign(**{_Y_NAME: pd.Categorical([None] * 6, categories=[0, 1])}),
            1,
        )[0]
        probas.append(est.predict_proba(draw.drop(columns=_Y_NAME)))
    assert_allclose(model.predict_proba(X_new), np.mean(probas, axis=0))
    # Reproducible from random_state; another gives other resamples.
    again = clone(model).fit(X, y)
    assert_allclose(again.coef_, model.coef_)
    other = clone(model).set_params(random_state=1).fit(X, y)
    assert not np.allclose(other.coef_, model.coef_)


def test_bootstrap_with_miwae():
    X, y = _data(n=100, frac=0.3, classify=True)
    params = dict(imputer=_miwae(), n_imputations=3, random_state=0)
    plain = MultipleImputationEstimator(
        LogisticRegression(), bootstrap=False, **params
    ).fit(X, y)
    boot = MultipleImputationEstimator(LogisticRegression(), **params).fit(X, y)
    assert plain.imputers_ == [plain.imputer_]
    assert len(boot.imputers_) == 3
    assert len({imputer._seed for imputer in boot.imputers_}) == 3
    for imputer in boot.imputers_:
        assert imputer.is_categorical_[-1]  # the outcome's column
    assert boot.summary().shape == (4, 6)
    proba = boot.predict_proba(X.iloc[:5])
    assert_allclose(proba.sum(axis=1), 1.0)
    assert not np.allclose(boot.coef_, plain.coef_)


def test_bootstrap_fits_in_parallel_with_n_jobs():
    X, y = _data(n=80, frac=0.3)
    params = dict(n_imputations=3, random_state=0)
    serial = MultipleImputationEstimator(
        LinearRegression(), imputer=DrawingImputer(), **params
    ).fit(X, y)
    parallel = clone(serial).set_params(n_jobs=2).fit(X, y)
    assert len(parallel.imputers_) == 3
    for one, other in zip(serial.imputers_, parallel.imputers_):
        assert one.random_state == other.random_state
        pd.testing.assert_frame_equal(one.fitted_on_, other.fitted_on_)
    assert_array_equal(parallel.coef_, serial.coef_)
    assert_array_equal(parallel.predict(X), serial.predict(X))
    # MIWAE's copies train side by side in this process, whatever n_jobs.
    params["imputer"] = _miwae()
    miwae = MultipleImputationEstimator(LinearRegression(), n_jobs=2, **params)
    first = clone(miwae).fit(X, y)
    serial = clone(miwae).set_params(n_jobs=None).fit(X, y)
    assert [i._seed for i in first.imputers_] == [i._seed for i in serial.imputers_]
    assert_array_equal(first.coef_, serial.coef_)
    # One that cannot (early stopping) is fitted copy by copy, in worker
    # processes: the seeds are the serial fits', and the same n_jobs
    # reproduces the result (fewer threads per worker may change the last
    # bits of a fit, so it is not compared with the serial one).
    params["imputer"] = _miwae().set_params(early_stopping=True)
    miwae = MultipleImputationEstimator(LinearRegression(), n_jobs=2, **params)
    first, again = clone(miwae).fit(X, y), clone(miwae).fit(X, y)
    serial = clone(miwae).set_params(n_jobs=None).fit(X, y)
    assert [i._seed for i in first.imputers_] == [i._seed for i in serial.imputers_]
    assert_array_equal(first.coef_, again.coef_)
    assert_array_equal(first.predict(X), again.predict(X))
    assert np.isfinite(first.summary().to_numpy()).all()


def test_bootstrap_miwae_fits_train_side_by_side_on_their_resamples():
    X, y = _data(n=100, frac=0.3)
    params = dict(imputer=_miwae(), n_imputations=3, random_state=0)
    boot = MultipleImputationEstimator(LinearRegression(), **params).fit(X, y)
    frame = boot._frame(X, y)
    rng = np.random.default_rng(seed_from(0))
    rows, seeds = [], []
    for _ in range(3):  # the estimator's draws: a resample, then a seed
        rows.append(rng.integers(len(frame), size=len(frame)))
        seeds.append(int(rng.integers(2**31 - 1)))
    again = miwae_impute.fit_side_by_side(
        _miwae(), frame, random_states=seeds, rows=rows
    )
    for fitted, expected in zip(boot.imputers_, again):
        assert fitted.random_state == expected.random_state
        # Standardised on the whole table, trained on its own resample.
        assert_array_equal(fitted.mean_, expected.mean_)
        for a, b in zip(fitted.model_.parameters(), expected.model_.parameters()):
            assert torch.equal(a, b)
    first, second = (i.model_.decoder[0].weight for i in boot.imputers_[:2])
    assert not torch.allclose(first, second)


def test_bootstrap_refuses_a_frozen_imputer():
    from sklearn.frozen import FrozenEstimator

    X, y = _data()
    fitted = MultipleImputationEstimator(
        LinearRegression(), imputer=DrawingImputer(random_state=0), bootstrap=False
    ).fit(X, y)
    frozen = MultipleImputationEstimator(
        LinearRegression(), imputer=FrozenEstimator(fitted.imputer_)
    )
    with pytest.raises(ValueError, match="cannot be refitted. Pass bootstrap=False"):
        frozen.fit(X, y)
    frozen.set_params(bootstrap=False).fit(X, y)
    assert frozen.imputer_.estimator is fitted.imputer_
    fitted.set_params(bootstrap=True).fit(X, y)
    assert not hasattr(fitted, "imputer_")  # the earlier fit's is gone


def test_pipeline_and_cross_val_score():
    X, y = _data(n=80, classify=True)
    for estimator, target in [(LogisticRegression(), y), (LinearRegression(), y + 0.5)]:
        pipe = Pipeline(
            [
                ("scale", StandardScaler()),
                ("mi", MultipleImputationEstimator(estimator, imputer=_miwae())),
            ]
        )
        assert is_classifier(pipe) == is_classifier(estimator)
        assert is_regressor(pipe) == is_regressor(estimator)
        scores = cross_val_score(pipe, X, target, cv=2, error_score="raise")
        assert scores.shape == (2,) and np.isfinite(scores).all()


def test_table_keeps_the_column_names():
    X, y = _data()
    model = MultipleImputationEstimator(
        LinearRegression(), imputer=DrawingImputer(random_state=0)
    )
    table = model.fit(X, y).summary()
    assert list(table.index) == ["intercept", "a", "b", "c"]
    assert list(table.columns) == ["coef", "std err", "df", "lower", "upper", "fmi"]
    assert (table["lower"] < table["coef"]).all()
    assert (table["coef"] < table["upper"]).all()
    assert_array_equal(model.feature_names_in_, ["a", "b", "c"])
    no_intercept = clone(model).set_params(
        estimator=LinearRegression(fit_intercept=False)
    )
    assert list(no_intercept.fit(X.to_numpy(), y).summary().index) == [
        "x0",
        "x1",
        "x2",
    ]
    assert no_intercept.conf_int().shape == (3, 2)


def test_clone_and_pickle():
    X, y = _data()
    model = MultipleImputationEstimator(
        LinearRegression(), imputer=_miwae(), n_imputations=3, random_state=0
    )
    twin = clone(model)
    assert twin.get_params()["n_imputations"] == 3
    assert twin.imputer is not model.imputer
    model.fit(X, y)
    assert not hasattr(twin, "estimators_")
    loaded = pickle.loads(pickle.dumps(model))
    assert_allclose(loaded.predict(X), model.predict(X))
    pd.testing.assert_frame_equal(loaded.summary(), model.summary())
    # The same random_state gives the same draws, hence the same table.
    pd.testing.assert_frame_equal(twin.fit(X, y).summary(), model.summary())


def test_errors():
    X, y = _data()
    with pytest.raises(TypeError, match="sample.*MeanImputer has none"):
        MultipleImputationEstimator(LinearRegression(), imputer=MeanImputer()).fit(X, y)
    with pytest.raises(InvalidParameterError, match="n_imputations"):
        MultipleImputationEstimator(LinearRegression(), n_imputations=1).fit(X, y)
    with pytest.raises(ValueError, match="missing values"):
        MultipleImputationEstimator(LinearRegression(), imputer=DrawingImputer()).fit(
            X, np.r_[np.nan, y[1:]]
        )

    tree = MultipleImputationEstimator(
        DecisionTreeRegressor(max_depth=2), imputer=DrawingImputer()
    ).fit(X, y)
    assert tree.predict(X).shape == (len(X),)
    assert not hasattr(tree, "coef_") and not hasattr(tree, "std_err_")
    with pytest.raises(AttributeError, match="LinearRegression and binary"):
        tree.conf_int()
    with pytest.raises(AttributeError, match="no coef_"):
        tree.coef_  # noqa: B018

    X3, y3 = _data(classify=True)
    y3 = y3 + (X3["c"].fillna(0) > 1)  # three classes
    multi = MultipleImputationEstimator(
        LogisticRegression(), imputer=DrawingImputer()
    ).fit(X3, y3)
    assert multi.coef_.shape == (3, 3)
    with pytest.raises(AttributeError, match="binary LogisticRegression"):
        multi.summary()


def test_penalised_logistic_regression_warns_on_inference():
    X, y = _data(classify=True)
    kw = {"imputer": DrawingImputer(random_state=0)}
    penalised = MultipleImputationEstimator(LogisticRegression(), **kw).fit(X, y)
    with pytest.warns(UserWarning, match="penalised"):
        penalised.conf_int()
    with pytest.warns(UserWarning, match="penalised") as record:
        penalised.summary()
    assert len(record) == 1  # one warning per call, not one per attribute read
    free = MultipleImputationEstimator(LogisticRegression(C=np.inf), **kw).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert free.summary().shape == (4, 6)


def test_exported():
    assert "MultipleImputationEstimator" in miwae_impute.__all__
