"""MIWAEImputer: quality, uncertainty, scikit-learn integration and invariants."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from miwae_impute import MIWAEImputer

FAST = dict(hidden_layer_sizes=(16,), max_iter=5, K=5, L=50, random_state=0)


def _low_rank(n=300, p=6, rank=2, rate=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, p))
    X += 0.1 * rng.normal(size=X.shape)
    missing = rng.random(X.shape) < rate
    X_missing = X.copy()
    X_missing[missing] = np.nan
    return X, X_missing, missing


def _mse(X, X_imputed, missing):
    return float(np.mean((X - X_imputed)[missing] ** 2))


@pytest.fixture(scope="module")
def fitted():
    X, X_missing, missing = _low_rank()
    return MIWAEImputer(**FAST).fit(X_missing), X_missing


def test_beats_mean_imputation_on_low_rank_data():
    X, X_missing, missing = _low_rank(n=500, rank=2, rate=0.3)
    imputer = MIWAEImputer(max_iter=60, L=200, random_state=0)
    mse = _mse(X, imputer.fit_transform(X_missing), missing)
    mse_mean = _mse(X, SimpleImputer().fit_transform(X_missing), missing)
    assert mse < 0.5 * mse_mean


@pytest.mark.slow
def test_beats_mean_imputation_on_breast_cancer():
    X = load_breast_cancer().data
    X = (X - X.mean(0)) / X.std(0)
    missing = np.random.default_rng(0).random(X.shape) < 0.5
    X_missing = np.where(missing, np.nan, X)
    imputer = MIWAEImputer(max_iter=40, L=200, early_stopping=False, random_state=0)
    assert _mse(X, imputer.fit_transform(X_missing), missing) < 0.6  # mean: ~1.0


def test_observed_entries_are_unchanged_and_no_nan(fitted):
    imputer, X_missing = fitted
    X_imputed = imputer.transform(X_missing)
    observed = ~np.isnan(X_missing)
    assert np.array_equal(X_imputed[observed], X_missing[observed])
    assert np.isfinite(X_imputed).all()


def test_raw_units_are_standardised_inside():
    X, X_missing, missing = _low_rank(n=200)
    shift, scale = (
        np.array([1e4, -3, 0, 5e-3, 2e6, 1]),
        np.array([1e3, 1, 1e-4, 1, 1e5, 7]),
    )
    imputer = MIWAEImputer(**FAST)
    raw = imputer.fit_transform(X_missing * scale + shift)
    standard = clone(imputer).fit_transform(X_missing)
    np.testing.assert_allclose((raw - shift) / scale, standard, atol=1e-4)


def test_return_std_is_zero_on_observed_and_positive_on_missing(fitted):
    imputer, X_missing = fitted
    X_imputed, X_std = imputer.transform(X_missing, return_std=True)
    missing = np.isnan(X_missing)
    assert X_std.shape == X_missing.shape
    assert np.all(X_std[~missing] == 0) and np.all(X_std[missing] > 0)
    np.testing.assert_array_equal(X_imputed, imputer.transform(X_missing))


def test_sample_draws_differ_only_on_missing_entries(fitted):
    imputer, X_missing = fitted
    draws = imputer.sample(X_missing, n_imputations=4)
    missing = np.isnan(X_missing)
    assert len(draws) == 4
    for draw in draws:
        assert np.array_equal(draw[~missing], X_missing[~missing])
        assert np.isfinite(draw).all()
    assert not np.allclose(draws[0][missing], draws[1][missing])


def test_sample_spread_matches_return_std():
    X, X_missing, missing = _low_rank(n=200)
    imputer = MIWAEImputer(**{**FAST, "max_iter": 30, "L": 500}).fit(X_missing)
    _, X_std = imputer.transform(X_missing, return_std=True)
    spread = np.std(imputer.sample(X_missing, n_imputations=60), axis=0)
    ratio = np.median(spread[missing] / X_std[missing])
    assert 0.8 < ratio < 1.2


def test_sample_rejects_bad_n_imputations(fitted):
    imputer, X_missing = fitted
    with pytest.raises(ValueError, match="n_imputations"):
        imputer.sample(X_missing, n_imputations=0)


def test_dataframe_in_dataframe_out(fitted):
    _, X_missing = fitted
    index = pd.Index([f"row{i}" for i in range(len(X_missing))], name="id")
    df = pd.DataFrame(X_missing, columns=list("abcdef"), index=index)
    df["c"] = df["c"].astype("float32")
    imputer = MIWAEImputer(**FAST).fit(df)
    out, std = imputer.transform(df, return_std=True)
    assert isinstance(out, pd.DataFrame) and isinstance(std, pd.DataFrame)
    pd.testing.assert_index_equal(out.index, df.index)
    assert list(out.columns) == list(df.columns) == list(std.columns)
    assert out["c"].dtype == np.float32 and out["a"].dtype == np.float64
    assert isinstance(imputer.sample(df, n_imputations=2)[1], pd.DataFrame)
    assert list(imputer.feature_names_in_) == list("abcdef")


def test_set_output_pandas_and_indicator_names(fitted):
    _, X_missing = fitted
    imputer = MIWAEImputer(**FAST, add_indicator=True).set_output(transform="pandas")
    out = imputer.fit_transform(X_missing)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[-2:]) == ["missingindicator_x4", "missingindicator_x5"]
    assert out.shape[1] == 12
    assert isinstance(imputer.sample(X_missing, n_imputations=1)[0], pd.DataFrame)


def test_pipeline_with_grid_search():
    X = load_breast_cancer().data[:, :8]
    y = load_breast_cancer().target
    X = np.where(np.random.default_rng(0).random(X.shape) < 0.2, np.nan, X)
    pipe = Pipeline(
        [("impute", MIWAEImputer(**FAST)), ("clf", LogisticRegression(max_iter=500))]
    )
    search = GridSearchCV(pipe, {"impute__latent_dim": [1, 3]}, cv=2).fit(X, y)
    assert search.best_score_ > 0.8


def test_grid_search_on_x_alone_uses_score():
    _, X_missing, _ = _low_rank(n=200)
    search = GridSearchCV(MIWAEImputer(**FAST), {"K": [1, 5]}, cv=2).fit(X_missing)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_column_transformer():
    _, X_missing, _ = _low_rank(n=100)
    ct = ColumnTransformer(
        [("miwae", MIWAEImputer(**FAST), [0, 1, 2])], remainder="drop"
    )
    out = ct.fit_transform(X_missing)
    assert out.shape == (100, 3) and np.isfinite(out).all()


def test_score_is_a_log_likelihood_bound_in_data_units(fitted):
    imputer, X_missing = fitted
    scores = imputer.score_samples(X_missing)
    assert scores.shape == (len(X_missing),) and np.isfinite(scores).all()
    assert imputer.score(X_missing) == pytest.approx(scores.mean())
    # Rescaling the data by 10 moves the log-likelihood by -log(10) per observed entry.
    rescaled = MIWAEImputer(**FAST).fit(X_missing * 10)
    shift = (~np.isnan(X_missing)).sum(1) * np.log(10)
    np.testing.assert_allclose(rescaled.score_samples(X_missing * 10), scores - shift)


def test_clone_pickle_joblib_roundtrip(fitted, tmp_path):
    imputer, X_missing = fitted
    expected = imputer.transform(X_missing)
    assert clone(imputer).get_params() == imputer.get_params()
    restored = pickle.loads(pickle.dumps(imputer))
    np.testing.assert_array_equal(restored.transform(X_missing), expected)
    joblib.dump(imputer, tmp_path / "imputer.joblib")
    restored = joblib.load(tmp_path / "imputer.joblib")
    np.testing.assert_array_equal(restored.transform(X_missing), expected)


def test_same_random_state_same_output_and_global_rng_untouched():
    _, X_missing, _ = _low_rank(n=100)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    a = MIWAEImputer(**FAST).fit_transform(X_missing)
    b = MIWAEImputer(**FAST).fit_transform(X_missing)
    MIWAEImputer(**{**FAST, "random_state": None}).fit_transform(X_missing)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state[1], np.random.get_state()[1])  # noqa: NPY002
    c = MIWAEImputer(**{**FAST, "random_state": 1}).fit_transform(X_missing)
    assert not np.array_equal(a, c)


def test_history_and_early_stopping():
    _, X_missing, _ = _low_rank(n=200)
    imputer = MIWAEImputer(
        **{**FAST, "max_iter": 200, "n_iter_no_change": 3, "early_stopping": True}
    )
    imputer.fit(X_missing)
    assert 1 <= imputer.n_iter_ < 200
    assert len(imputer.history_["train_bound"]) == imputer.n_iter_
    assert len(imputer.history_["validation_bound"]) == imputer.n_iter_
    assert imputer.history_["train_bound"][-1] > imputer.history_["train_bound"][0]
    no_stop = MIWAEImputer(**{**FAST, "early_stopping": False}).fit(X_missing)
    assert no_stop.n_iter_ == 5 and "validation_bound" not in no_stop.history_


def test_divergence_raises_with_advice():
    _, X_missing, _ = _low_rank(n=100)
    imputer = MIWAEImputer(**{**FAST, "learning_rate_init": 1e30})
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        imputer.fit(X_missing)


def test_cuda_request_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    _, X_missing, _ = _low_rank(n=50)
    with pytest.raises(ValueError, match="CUDA is not available"):
        MIWAEImputer(**FAST, device="cuda").fit(X_missing)


def test_verbose_shows_a_progress_bar(capsys):
    _, X_missing, _ = _low_rank(n=50)
    MIWAEImputer(**FAST, verbose=1).fit(X_missing)
    assert "MIWAE fit" in capsys.readouterr().err


@pytest.mark.parametrize(
    "param, value",
    [("K", 0), ("L", -1), ("activation", "sigmoid"), ("latent_dim", "big")],
)
def test_invalid_parameters_are_named(param, value):
    with pytest.raises(ValueError, match=param):
        MIWAEImputer(**{**FAST, param: value}).fit(np.ones((5, 2)))


def _units(network):
    return [type(m).__name__ for m in network[1::2]]


@pytest.mark.parametrize(
    "activation, encoder, decoder",
    [("tanh", "Tanh", "Tanh"), ("elu", "ELU", "ELU"), (("tanh", "elu"), "Tanh", "ELU")],
)
def test_activation_of_both_networks_or_of_each(activation, encoder, decoder, tmp_path):
    _, X_missing, _ = _low_rank(n=50)
    params = dict(FAST, hidden_layer_sizes=(8, 8), activation=activation)
    imputer = MIWAEImputer(**params).fit(X_missing)
    assert _units(imputer.model_.encoder) == [encoder] * 2
    assert _units(imputer.model_.decoder) == [decoder] * 2
    imputer.save(tmp_path / "model")  # the pair is a list in params.json
    loaded = MIWAEImputer.load(tmp_path / "model")
    assert _units(loaded.model_.decoder) == [decoder] * 2
    np.testing.assert_array_equal(
        loaded.transform(X_missing), imputer.transform(X_missing)
    )


@pytest.mark.parametrize("activation", [("tanh",), ("tanh", "sigmoid"), ["elu"] * 3])
def test_a_bad_pair_of_activations_is_named(activation):
    with pytest.raises(ValueError, match="activation must be one of .* a pair"):
        MIWAEImputer(**FAST, activation=activation).fit(np.ones((5, 2)))


def test_save_load_roundtrip_without_pickle(tmp_path):
    _, X_missing, _ = _low_rank(n=80)
    df = pd.DataFrame(X_missing, columns=list("abcdef"))
    imputer = MIWAEImputer(**FAST, add_indicator=True).fit(df)
    imputer.save(tmp_path / "model")
    restored = MIWAEImputer.load(tmp_path / "model")
    pd.testing.assert_frame_equal(restored.transform(df), imputer.transform(df))
    np.testing.assert_array_equal(restored.score_samples(df), imputer.score_samples(df))
    with pytest.raises(ValueError, match="feature names"):
        restored.transform(df.rename(columns={"a": "z"}))


def test_load_refuses_inconsistent_files(tmp_path):
    _, X_missing, _ = _low_rank(n=80)
    MIWAEImputer(**FAST).fit(X_missing).save(tmp_path)
    meta = (tmp_path / "params.json").read_text()
    (tmp_path / "params.json").write_text(
        meta.replace('"n_features_in_": 6', '"n_features_in_": 5')
    )
    with pytest.raises(ValueError, match="scaler does not fit the features"):
        MIWAEImputer.load(tmp_path)


def test_partial_fit_streams_chunks_and_improves_the_bound():
    X, X_missing, missing = _low_rank(n=400)
    imputer = MIWAEImputer(**{**FAST, "hidden_layer_sizes": (32,)})
    for epoch in range(6):
        for chunk in np.array_split(X_missing, 4):
            imputer.partial_fit(chunk)
        if epoch == 0:
            first_score = imputer.score(X_missing)
    assert imputer.n_iter_ == 24 and len(imputer.history_["train_bound"]) == 24
    assert imputer.score(X_missing) > first_score
    X_imputed = imputer.transform(X_missing)
    assert np.array_equal(X_imputed[~missing], X_missing[~missing])
    # A pickle keeps Adam's moments and the random stream: training goes on
    # exactly as it does without the round trip, and not as with fresh moments.
    restored = pickle.loads(pickle.dumps(imputer))
    restarted = pickle.loads(pickle.dumps(imputer))
    restarted.__dict__.pop("_optimizer_state", None)
    for model in (restored, restarted, imputer):
        model.partial_fit(X_missing[:50])
    assert restored.n_iter_ == 25
    weights = imputer.model_.state_dict()
    assert all(
        torch.equal(restored.model_.state_dict()[k], w) for k, w in weights.items()
    )
    assert not all(
        torch.equal(restarted.model_.state_dict()[k], w) for k, w in weights.items()
    )
    with pytest.raises(ValueError, match="features"):
        imputer.partial_fit(X_missing[:, :3])
    # A partial_fit after a fit trains on from the fitted weights.
    warm = MIWAEImputer(**FAST).fit(X_missing).partial_fit(X_missing)
    assert warm.n_iter_ == FAST["max_iter"] + 1


def test_keyboard_interrupt_keeps_the_weights_so_far(monkeypatch):
    _, X_missing, _ = _low_rank(n=100)
    imputer = MIWAEImputer(**{**FAST, "max_iter": 50})
    original, calls = MIWAEImputer._epoch, []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MIWAEImputer, "_epoch", interrupted)
    with pytest.warns(UserWarning, match="interrupted after 2 epoch"):
        imputer.fit(X_missing)
    assert imputer.n_iter_ == 2
    assert np.isfinite(imputer.transform(X_missing)).all()


@pytest.mark.parametrize(
    "n_rows, batch_size, not_miwae, epochs",
    [
        (100, 64, False, 1500),  # 3000 steps of 2 rows' batches
        (640, 64, False, 300),  # 3000 steps
        (960, 64, False, 200),  # 3000 steps, 200 epochs
        (1030, 64, False, 200),  # 3000 steps would be 177 epochs
        (1030, 32, False, 200),  # 6000 steps would be 177 epochs
        (17_379, 64, False, 74),  # 200 epochs would be more than 20,000 steps
        (640, 64, True, 1200),  # not-MIWAE: four times the rows
        (4898, 64, True, 200),  # and at least MIWAE's epochs
    ],
)
def test_auto_budget_is_3000_steps_and_at_least_200_epochs(
    n_rows, batch_size, not_miwae, epochs
):
    imputer = MIWAEImputer(batch_size=batch_size)
    assert imputer._max_iter(n_rows, not_miwae) == epochs
    assert imputer.set_params(max_iter=7)._max_iter(n_rows, not_miwae) == 7


def test_max_time_stops_training():
    _, X_missing, _ = _low_rank(n=100)
    imputer = MIWAEImputer(**{**FAST, "max_iter": 10000, "max_time": 0.5}).fit(
        X_missing
    )
    assert 1 <= imputer.n_iter_ < 10000


def test_partial_fit_goes_on_from_a_generator_state_of_another_device():
    # A model trained on a GPU carries a CUDA (Philox) generator state of 16
    # bytes, which a CPU generator refuses; training restarts the stream instead.
    _, X_missing, _ = _low_rank(n=100)
    runs = []
    for _ in range(2):
        imputer = MIWAEImputer(**FAST).partial_fit(X_missing)
        imputer._generator_state = torch.zeros(16, dtype=torch.uint8)
        runs.append(imputer.partial_fit(X_missing))
    assert runs[0].n_iter_ == 2
    assert np.array_equal(runs[0].transform(X_missing), runs[1].transform(X_missing))


# -- point masses ---------------------------------------------------------------
def _zero_inflated(n=400, rate=0.3, seed=0):
    """x1 ~ N(0, 1); x2 is exactly 0 when x1 < 0, else 2 x1 plus a little noise."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = np.where(x1 < 0, 0.0, 2 * x1 + 0.1 * rng.normal(size=n))
    X = np.column_stack([x1, x2, x1 + 0.3 * rng.normal(size=n)])
    missing = np.zeros(X.shape, dtype=bool)
    missing[:, 1] = rng.random(n) < rate
    return X, np.where(missing, np.nan, X), missing


def test_point_mass_values_follow_the_threshold():
    from miwae_impute._columns import _point_mass_values

    def column(value, count, n=100):
        values = np.arange(n, dtype=float) + 0.5
        values[:count] = value
        return values

    X = np.column_stack(
        [
            column(0.0, 30),  # 30% at 0
            np.arange(100.0),  # no repeated value
            np.full(100, 7.0),  # constant: imputed by its value, no mass needed
            column(1.0, 20),  # 20% at 1, 20 times
            np.r_[column(2.0, 10, n=20), np.full(80, np.nan)],  # 50%, 10 times
        ]
    )
    X[50:, 0] = np.nan  # 30 of 50 observed at 0
    np.testing.assert_array_equal(
        _point_mass_values(X, 0.2), [0.0, np.nan, np.nan, 1.0, np.nan]
    )
    np.testing.assert_array_equal(
        _point_mass_values(X, 0.3), [0.0, np.nan, np.nan, np.nan, np.nan]
    )
    assert np.isnan(_point_mass_values(X, None)).all()
    # Among all rows, column 0's 30 zeros are 30%, under 0.35; among the
    # observed ones, 60%.
    assert _point_mass_values(X, 0.35)[0] == 0.0
    assert np.isnan(_point_mass_values(X, 0.35, of_rows=True)[0])


def test_not_miwae_counts_a_point_mass_among_all_rows():
    # 8% of the rows at -1; with the values above the mean removed, 15% of
    # the observed ones: MIWAE's rule gives a point mass, not-MIWAE's not.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    X[:32, 0] = -1.0
    X_missing = X.copy()
    X_missing[X[:, 0] > X[:, 0].mean(), 0] = np.nan
    fits = {
        missingness: MIWAEImputer(missingness=missingness, **FAST).fit(X_missing)
        for missingness in ("ignorable", "self-masking-high")
    }
    assert fits["ignorable"].point_mass_values_[0] == -1.0
    assert np.isnan(fits["self-masking-high"].point_mass_values_).all()


def test_point_mass_imputes_and_draws_the_repeated_value():
    X, X_missing, missing = _zero_inflated()
    imputer = MIWAEImputer(max_iter=60, L=200, random_state=0).fit(X_missing)
    np.testing.assert_array_equal(imputer.point_mass_values_, [np.nan, 0.0, np.nan])
    imputed, std = imputer.transform(X_missing, return_std=True)
    clearly_zero = missing[:, 1] & (X[:, 0] < -1)
    assert clearly_zero.sum() > 10
    assert np.abs(imputed[clearly_zero, 1]).max() < 0.2
    draws = np.stack([d[:, 1] for d in imputer.sample(X_missing, n_imputations=20)])
    # SIR draws hit the mass exactly; a Student-t alone never would.
    assert (draws[:, clearly_zero] == 0.0).mean() > 0.8
    assert (draws[:, missing[:, 1] & (X[:, 0] > 1)] == 0.0).mean() < 0.2
    assert (std[missing] > 0).all() and (std[~missing] == 0).all()
    plain = MIWAEImputer(max_iter=60, L=200, point_mass_threshold=None, random_state=0)
    draws = np.stack([d[:, 1] for d in plain.fit(X_missing).sample(X_missing, 5)])
    assert not (draws[:, missing[:, 1]] == 0.0).any()


def test_point_mass_survives_save_and_load(tmp_path):
    _, X_missing, _ = _zero_inflated(n=120)
    imputer = MIWAEImputer(**FAST).fit(X_missing)
    assert imputer.point_mass_values_[1] == 0.0
    imputer.save(tmp_path)
    restored = MIWAEImputer.load(tmp_path)
    np.testing.assert_array_equal(
        restored.point_mass_values_, imputer.point_mass_values_
    )
    np.testing.assert_array_equal(
        restored.transform(X_missing), imputer.transform(X_missing)
    )
    np.testing.assert_array_equal(
        restored.score_samples(X_missing), imputer.score_samples(X_missing)
    )


def test_discrete_values_follow_max_levels():
    from miwae_impute._columns import _discrete_values

    X = np.column_stack(
        [
            [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, np.nan, np.nan],  # 3 values
            np.arange(10.0),  # 10 values, one observation each
            np.full(10, 7.0),  # constant
        ]
    )
    values = _discrete_values(X, 5)
    np.testing.assert_array_equal(values[0], [1.0, 2.0, 3.0])
    assert values[1] is None and values[2] is None
    assert _discrete_values(X, 2) == [None] * 3
    assert _discrete_values(X, None) == [None] * 3


def test_discrete_features_draw_their_values_and_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=300)
    X = np.column_stack(
        [z, np.digitize(z, [-0.5, 0.5]) * 2.5 + 10, z + 0.2 * rng.normal(size=300)]
    )
    missing = rng.random(X.shape) < 0.3
    X_missing = np.where(missing, np.nan, X)
    imputer = MIWAEImputer(**{**FAST, "max_iter": 30}, max_discrete_levels=5)
    imputed = imputer.fit_transform(X_missing)
    np.testing.assert_array_equal(imputer.discrete_values_[1], [10.0, 12.5, 15.0])
    assert np.isnan(imputer.point_mass_values_[1])  # discrete, so no mass
    assert imputer.discrete_values_[0] is None
    low, high = imputed[missing[:, 1], 1].min(), imputed[missing[:, 1], 1].max()
    assert 10.0 <= low < high <= 15.0  # conditional means between the values
    draws = imputer.sample(X_missing, n_imputations=3)
    assert set(np.unique([d[:, 1] for d in draws])) <= {10.0, 12.5, 15.0}
    imputer.save(tmp_path)
    restored = MIWAEImputer.load(tmp_path)
    np.testing.assert_array_equal(restored.transform(X_missing), imputed)
    np.testing.assert_array_equal(
        restored.sample(X_missing, n_imputations=3)[2], draws[2]
    )


# -- shrinkage towards the mean ---------------------------------------------------
def test_shrinkage_mutes_an_unpredictable_feature():
    """Pure noise is imputed near its mean; predictable features keep weight 1."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=600)
    X = np.column_stack(
        [z, -z + 0.1 * rng.normal(size=600), rng.standard_t(3, size=600)]
    )
    missing = rng.random(X.shape) < 0.3
    X_missing = np.where(missing, np.nan, X)
    imputer = MIWAEImputer(max_iter=20, L=100, holdout_fraction=0.1, random_state=0)
    imputer.fit(X_missing)
    assert imputer.shrinkage_.shape == (3,)
    assert imputer.shrinkage_[:2].min() > 0.8
    assert 0.0 <= imputer.shrinkage_[2] <= 1.0
    assert len(imputer.history_["holdout_mse"]) >= 10  # the checkpoints
    imputed = imputer.transform(X_missing)
    observed_mean = np.nanmean(X_missing[:, 2])
    mse = _mse(X[:, 2], imputed[:, 2], missing[:, 2])
    mse_mean = _mse(X[:, 2], np.full(600, observed_mean), missing[:, 2])
    assert mse < 1.02 * mse_mean
    plain = MIWAEImputer(max_iter=20, L=100, random_state=0).fit(X_missing)
    np.testing.assert_array_equal(plain.shrinkage_, np.ones(3))  # the default
    assert "holdout_mse" not in plain.history_


def test_shrinkage_is_one_after_partial_fit_alone():
    _, X_missing, _ = _low_rank(n=100)
    imputer = MIWAEImputer(**FAST).partial_fit(X_missing)
    np.testing.assert_array_equal(imputer.shrinkage_, np.ones(6))


def test_shrinkage_is_the_least_squares_weight_clipped_to_0_1(monkeypatch):
    from miwae_impute._selection import HeldOutEntries

    rng = np.random.default_rng(0)
    truth = rng.normal(size=(200, 4))
    held = np.ones((200, 4), dtype=bool)
    held[3:, 3] = False  # 3 entries: too few for a weight
    imputed = np.column_stack(
        [2 * truth[:, 0], truth[:, 1], rng.normal(size=200), truth[:, 3]]
    )
    imputed[:, 2] -= truth[:, 2]  # anti-correlated: the weight clips at 0
    entries = HeldOutEntries(torch.zeros(200, 4), torch.ones(200, 4), 0.0, 0)
    monkeypatch.setattr(
        entries,
        "_impute",
        lambda *args: (np.where(held, imputed, 0), np.where(held, truth, 0), held),
    )
    np.testing.assert_allclose(entries.shrinkage(None, 100), [0.5, 1.0, 0.0, 1.0])


def test_weight_averaging_keeps_the_averaged_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)) @ rng.normal(size=(3, 3))
    X[rng.random(X.shape) < 0.2] = np.nan
    params = dict(max_iter=4, L=20, hidden_layer_sizes=(8,), random_state=0)
    last = MIWAEImputer(ema_decay=None, **params).fit(X)
    averaged = MIWAEImputer(ema_decay=0.9, **params).fit(X)
    again = MIWAEImputer(ema_decay=0.9, **params).fit(X)
    # The same steps are taken; only the kept weights differ.
    assert last.history_["train_bound"] == averaged.history_["train_bound"]
    weights = [p.detach() for p in averaged.model_.parameters()]
    assert not all(torch.equal(a, b) for a, b in zip(weights, last.model_.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(weights, again.model_.parameters()))
    assert np.isfinite(averaged.transform(X)).all()


def test_weight_averaging_with_early_stopping_monitors_the_average():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    X[rng.random(X.shape) < 0.2] = np.nan
    imputer = MIWAEImputer(
        ema_decay=0.5,
        early_stopping=True,
        n_iter_no_change=2,
        max_iter=30,
        L=10,
        hidden_layer_sizes=(8,),
        random_state=0,
    ).fit(X)
    assert len(imputer.history_["validation_bound"]) == imputer.n_iter_
    assert np.isfinite(imputer.history_["validation_bound"]).all()


def test_remask_weight_trains_on_hidden_cells_reproducibly():
    _, X_missing, _ = _low_rank(n=100)
    plain = MIWAEImputer(**FAST, remask_weight=0.0).fit_transform(X_missing)
    a = MIWAEImputer(**FAST).fit_transform(X_missing)  # remask_weight=1 by default
    b = MIWAEImputer(**FAST, remask_weight=1.0).fit_transform(X_missing)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, plain)
    observed = ~np.isnan(X_missing)
    np.testing.assert_array_equal(a[observed], X_missing[observed])
    other = MIWAEImputer(**FAST, remask_weight=1.0, remask_rate=0.5)
    assert not np.array_equal(other.fit_transform(X_missing), a)


def test_remask_weight_is_ignored_by_not_miwae():
    _, X_missing, _ = _low_rank(n=100)
    params = {**FAST, "missingness": "self-masking-high"}
    plain = MIWAEImputer(**params, remask_weight=0.0).fit_transform(X_missing)
    remasked = MIWAEImputer(**params, remask_weight=1.0).fit_transform(X_missing)
    np.testing.assert_array_equal(plain, remasked)


@pytest.mark.parametrize(
    "params", [{"remask_weight": -1.0}, {"remask_rate": 0.0}, {"remask_rate": 1.0}]
)
def test_remask_parameters_are_validated(params):
    _, X_missing, _ = _low_rank(n=50)
    with pytest.raises(ValueError, match="remask"):
        MIWAEImputer(**FAST, **params).fit(X_missing)


@pytest.mark.parametrize("sampler", ["metropolis-within-gibbs", "pseudo-gibbs"])
def test_chain_samplers_impute_and_draw(sampler):
    X, X_missing, missing = _low_rank(n=100)
    imputer = MIWAEImputer(**{**FAST, "max_iter": 200}).fit(X_missing)
    snis = imputer.transform(X_missing)
    imputer.set_params(sampler=sampler)
    imputed, std = imputer.transform(X_missing, return_std=True)
    np.testing.assert_array_equal(imputed[~missing], X_missing[~missing])
    np.testing.assert_array_equal(imputed, imputer.transform(X_missing))
    assert not np.array_equal(imputed, snis)
    assert np.isfinite(imputed).all() and (std[missing] > 0).all()
    mean_mse = np.mean((np.nanmean(X_missing, 0) - X)[missing] ** 2)
    assert np.mean((imputed - X)[missing] ** 2) < mean_mse
    draws = imputer.sample(X_missing, n_imputations=3)
    assert len(draws) == 3 and not np.array_equal(draws[0], draws[1])
    for draw in draws:
        np.testing.assert_array_equal(draw[~missing], X_missing[~missing])
        assert np.isfinite(draw).all()


@pytest.mark.parametrize("sampler", ["metropolis-within-gibbs", "pseudo-gibbs"])
def test_chain_samplers_take_categorical_columns(sampler):
    # The chains' encoder read one mask for all chains, which the one-hot
    # codes of a categorical column could not take (a crash inside torch).
    _, X_missing, _ = _low_rank(n=80)
    df = pd.DataFrame(X_missing[:, :3], columns=["a", "b", "c"])
    levels = np.random.default_rng(0).choice(["x", "y", None], size=len(df))
    df["g"] = pd.Categorical(levels)
    imputer = MIWAEImputer(**FAST, sampler=sampler).fit(df)
    imputed = imputer.transform(df)
    assert imputed.notna().all().all() and imputed.dtypes.equals(df.dtypes)
    pd.testing.assert_frame_equal(imputed[df.notna()], df[df.notna()])
    assert set(imputed["g"]) <= {"x", "y"}
    draw = imputer.sample(df, n_imputations=1)[0]
    assert draw.notna().all().all()


def test_chain_samplers_refuse_not_miwae():
    _, X_missing, _ = _low_rank(n=60)
    imputer = MIWAEImputer(**FAST, missingness="self-masking-high").fit(X_missing)
    imputer.set_params(sampler="pseudo-gibbs")
    with pytest.raises(ValueError, match="sampler='pseudo-gibbs'.*ignorable"):
        imputer.transform(X_missing)


@pytest.mark.parametrize("decoder", ["linear", "ppca"])
def test_a_linear_decoder_fits_saves_and_loads(tmp_path, decoder):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)) @ rng.normal(size=(4, 4))
    X[rng.random(X.shape) < 0.3] = np.nan
    imputer = MIWAEImputer(decoder=decoder, max_iter=3, L=50, random_state=0)
    imputed = imputer.fit_transform(X)
    observed = ~np.isnan(X)
    assert np.array_equal(imputed[observed], X[observed])
    assert np.isfinite(imputed).all()
    assert len(imputer.model_.decoder) == 1
    imputer.save(tmp_path / decoder)
    loaded = MIWAEImputer.load(tmp_path / decoder)
    assert loaded.decoder == decoder
    np.testing.assert_array_equal(loaded.transform(X), imputer.transform(X))
    with pytest.raises(ValueError, match="decoder"):
        MIWAEImputer(decoder="pca").fit(X)
