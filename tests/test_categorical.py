"""Categorical, boolean and string columns: detection, round trip, MIWAE's model."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from miwae_impute import (
    MeanImputer,
    MissForestImputer,
    MIWAEImputer,
    NearestNeighborsImputer,
    PCAImputer,
)
from miwae_impute._categorical import categorical_mask, observed_levels
from miwae_impute._likelihoods import Categorical, make_likelihood

FAST = {"max_iter": 3, "L": 20, "hidden_layer_sizes": (8,), "random_state": 0}


def _mixed(n=60, seed=0, missing=0.25):
    """A mixed frame (every label dtype) with missing cells, and its complete copy."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    full = pd.DataFrame(
        {
            "num": z + 0.1 * rng.normal(size=n),
            "cat": pd.Categorical(
                np.where(z > 0.5, "hi", np.where(z < -0.5, "lo", "mid")),
                categories=["lo", "mid", "hi", "never"],
                ordered=True,
            ),
            "obj": np.where(z > 0, "up", "down").astype(object),
            "str": pd.array(np.where(rng.random(n) < 0.5, "x", "y"), dtype="string"),
            "flag": pd.array(z > 0, dtype="boolean"),
            "int": rng.integers(0, 5, size=n),
        },
        index=pd.RangeIndex(100, 100 + n, name="row"),
    )
    frame = full.copy()
    hide = rng.random(frame.shape) < missing
    hide[:, list(frame.columns).index("int")] = False  # int64 holds no NaN
    for j, column in enumerate(frame.columns):
        frame.loc[hide[:, j], column] = None
    return frame, full, hide


# -- which columns are categorical ----------------------------------------------
def test_from_dtype_takes_label_columns_only():
    frame, _, _ = _mixed()
    frame["objnum"] = pd.Series([1.5, None] * 30, dtype=object, index=frame.index)
    mask = categorical_mask("from_dtype", frame, frame.columns.to_numpy())
    expected = [False, True, True, True, True, False, False]
    np.testing.assert_array_equal(mask, expected)


def test_from_dtype_of_an_array_is_none():
    assert not categorical_mask("from_dtype", np.zeros((3, 2))).any()


@pytest.mark.parametrize(
    "spec", [[1], ["b"], np.array([False, True, False]), [-2], ("b",)]
)
def test_categorical_features_by_index_name_or_mask(spec):
    frame = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})
    np.testing.assert_array_equal(
        categorical_mask(spec, frame, frame.columns.to_numpy()), [False, True, False]
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["zz"], "lacks"),
        ([5], "out of range"),
        (np.array([True, False]), "shape"),
        ([1.5], "must be"),
    ],
)
def test_bad_categorical_features_name_the_problem(spec, message):
    frame = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})
    with pytest.raises(ValueError, match=message):
        MeanImputer(categorical_features=spec).fit(frame)


def test_names_without_feature_names_are_refused():
    with pytest.raises(ValueError, match="no column names"):
        MeanImputer(categorical_features=["a"]).fit(np.zeros((3, 2)))


def test_label_column_left_out_is_refused_by_name():
    frame = pd.DataFrame({"a": [1.0, 2.0], "s": ["u", "v"]})
    with pytest.raises(TypeError, match=r"\['s'\].*categorical_features"):
        MeanImputer(categorical_features=None).fit(frame)


def test_levels_keep_category_order_and_sort_others():
    values = pd.Series(pd.Categorical(["b", "a", None], categories=["c", "b", "a"]))
    assert observed_levels(values, np.nan, "x").tolist() == ["b", "a"]
    assert observed_levels(np.array([3.0, 1.0, np.nan, 1.0]), np.nan, "x").tolist() == [
        1.0,
        3.0,
    ]


def test_identifier_column_gets_a_warning():
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(200)], "x": np.arange(200.0)})
    with pytest.warns(UserWarning, match="'id'.*identifier"):
        MeanImputer().fit(frame)


# -- round trip through the imputers -------------------------------------------
IMPUTERS = [
    MeanImputer(),
    MIWAEImputer(**FAST),
    MissForestImputer(n_estimators=5, max_iter=3, random_state=0),
    NearestNeighborsImputer(n_neighbors_grid=(1, 5), random_state=0),
    PCAImputer(n_components_grid=(0, 2), random_state=0),
]


@pytest.mark.parametrize("imputer", IMPUTERS, ids=lambda e: type(e).__name__)
def test_mixed_frame_round_trips(imputer):
    frame, _, hide = _mixed()
    out = imputer.fit_transform(frame)
    assert out.index.equals(frame.index) and out.columns.equals(frame.columns)
    assert out.dtypes.drop("int").equals(frame.dtypes.drop("int"))
    assert out["int"].dtype == np.float64  # numeric columns come back as float64
    assert not out.isna().any().any()
    for j, column in enumerate(frame.columns):
        observed = ~hide[:, j]
        assert out[column][observed].equals(frame[column][observed]), column
        if column != "num":
            # No level is invented: the imputed ones were observed in fit.
            seen = set(frame[column].dropna())
            assert set(out[column][hide[:, j]]) <= seen, column
    assert list(out["cat"].cat.categories) == ["lo", "mid", "hi", "never"]
    assert out["cat"].cat.ordered


@pytest.mark.parametrize("imputer", IMPUTERS, ids=lambda e: type(e).__name__)
def test_unseen_level_is_kept_and_named(imputer):
    frame, _, _ = _mixed()
    imputer.fit(frame)
    new = frame.copy()
    new["obj"] = new["obj"].astype(object)
    new.iloc[0, 2] = "sideways"
    new.iloc[1, 2] = None
    with pytest.warns(UserWarning, match=r"'obj'.*\['sideways'\]"):
        out = imputer.transform(new)
    assert out["obj"].iloc[0] == "sideways"
    assert out["obj"].iloc[1] in {"up", "down"}


@pytest.mark.parametrize("imputer", IMPUTERS, ids=lambda e: type(e).__name__)
def test_all_missing_categorical_column(imputer):
    frame, _, _ = _mixed()
    frame["empty"] = pd.Series([None] * len(frame), dtype=object, index=frame.index)
    frame["empty"] = frame["empty"].astype("category")
    with pytest.warns(UserWarning, match="empty"):
        out = imputer.fit_transform(frame)
    assert "empty" not in out.columns
    with pytest.raises(ValueError, match=r"\['empty'\] have no observed level"):
        type(imputer)(keep_empty_features=True).fit(frame)


@pytest.mark.parametrize("imputer", IMPUTERS, ids=lambda e: type(e).__name__)
def test_single_level_column_imputes_that_level(imputer):
    frame, _, _ = _mixed()
    frame["one"] = pd.Series(["only"] * len(frame), dtype=object, index=frame.index)
    frame.loc[frame.index[::3], "one"] = None
    out = imputer.fit_transform(frame)
    assert (out["one"] == "only").all()


@pytest.mark.parametrize("imputer", IMPUTERS, ids=lambda e: type(e).__name__)
def test_integer_codes_in_an_array(imputer):
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(size=50), rng.integers(3, 6, 50).astype(float)])
    X_missing = X.copy()
    X_missing[::4, 1] = np.nan
    X_missing[1::5, 0] = np.nan
    out = type(imputer)(**imputer.get_params() | {"categorical_features": [1]})
    out = out.fit_transform(X_missing)
    assert out.dtype == np.float64
    assert set(np.unique(out[:, 1])) <= {3.0, 4.0, 5.0}
    observed = ~np.isnan(X_missing)
    np.testing.assert_array_equal(out[observed], X_missing[observed])


def test_object_array_with_labels():
    X = np.array([[1.0, "a"], [np.nan, "b"], [3.0, None], [2.0, "b"]], dtype=object)
    out = MeanImputer(categorical_features=[1]).fit_transform(X)
    assert out.dtype == object
    assert out[2, 1] == "b" and out[1, 0] == 2.0 and out[0, 1] == "a"


def test_mean_imputer_takes_the_most_frequent_level():
    frame = pd.DataFrame({"s": ["a", "b", "b", None], "x": [1.0, 2.0, None, 4.0]})
    out = MeanImputer().fit_transform(frame)
    assert out["s"].tolist() == ["a", "b", "b", "b"]
    assert out["x"].tolist() == [1.0, 2.0, 7 / 3, 4.0]


def test_missing_indicator_marks_only_missing_cells():
    frame, _, hide = _mixed()
    out = MeanImputer(add_indicator=True).fit_transform(frame)
    indicator = out.iloc[:, frame.shape[1] :].to_numpy()
    np.testing.assert_array_equal(indicator, hide[:, hide.any(axis=0)])
    names = [f"missingindicator_{c}" for c in frame.columns[hide.any(axis=0)]]
    assert list(out.columns[frame.shape[1] :]) == names


# -- MIWAE's categorical model ----------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    frame, full, hide = _mixed(n=200, seed=3)
    imputer = MIWAEImputer(max_iter=20, L=200, hidden_layer_sizes=(16,), random_state=0)
    return imputer.fit(frame), frame, full, hide


def test_probabilities_sum_to_one_and_give_the_imputation(fitted):
    imputer, frame, _, hide = fitted
    out, std, proba = imputer.transform(frame, return_std=True, return_proba=True)
    assert set(proba) == {"cat", "obj", "str", "flag"}
    for j, column in enumerate(frame.columns):
        if column not in proba:
            continue
        p = proba[column]
        assert list(p.columns) == list(imputer.categories_[j])
        assert p.index.equals(frame.index)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        missing = hide[:, j]
        # Observed cells are certain; missing ones get their most probable level.
        assert (p[~missing].max(axis=1) == 1.0).all()
        argmax = p.columns.to_numpy()[p.to_numpy().argmax(axis=1)]
        assert (out[column][missing].to_numpy() == argmax[missing]).all()
        assert std[column][missing].isna().all()
        assert (std[column][~missing] == 0).all()
    assert (std["num"][hide[:, 0]] > 0).all()


def test_model_learns_a_dependent_category(fitted):
    imputer, frame, full, hide = fitted
    out = imputer.transform(frame)
    # obj is the sign of the latent; str is a coin flip.
    j = list(frame.columns).index("obj")
    pfc = (out["obj"][hide[:, j]] != full["obj"][hide[:, j]]).mean()
    mode_pfc = (
        MeanImputer().fit_transform(frame)["obj"][hide[:, j]] != full["obj"][hide[:, j]]
    ).mean()
    assert pfc < 0.5 * mode_pfc


def test_sample_draws_observed_levels(fitted):
    imputer, frame, _, hide = fitted
    draws = imputer.sample(frame, n_imputations=4)
    j = list(frame.columns).index("str")
    values = pd.concat([d["str"][hide[:, j]] for d in draws])
    assert set(values) == {"x", "y"}  # a coin flip draws both levels
    for d in draws:
        assert d.dtypes.equals(frame.dtypes)


def test_save_load_and_pickle_keep_categories(fitted, tmp_path):
    imputer, frame, _, _ = fitted
    expected = imputer.transform(frame)
    imputer.save(tmp_path / "m")
    loaded = MIWAEImputer.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.transform(frame), expected)
    pd.testing.assert_frame_equal(
        pickle.loads(pickle.dumps(imputer)).transform(frame), expected
    )
    assert loaded.score(frame) == imputer.score(frame)


def test_score_counts_categorical_terms(fitted):
    imputer, frame, _, _ = fitted
    # Observing one more categorical cell lowers the likelihood of the row:
    # log p(x_o, x_j) <= log p(x_o) for a probability, up to the bound's slack.
    rows = frame.dropna()
    fewer = rows.copy()
    fewer["cat"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (imputer.score_samples(rows) < imputer.score_samples(fewer)).mean() > 0.9


def test_categorical_likelihood_matches_torch_distributions():
    likelihood = Categorical([3, 2])
    out = torch.randn(5, 4, 5, dtype=torch.float64)
    x = torch.tensor([[2.0, 1.0], [0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]).double()
    expected = torch.stack(
        [
            torch.distributions.Categorical(logits=out[..., :3]).log_prob(x[:, 0]),
            torch.distributions.Categorical(logits=out[..., 3:]).log_prob(x[:, 1]),
        ],
        dim=-1,
    )
    torch.testing.assert_close(likelihood.log_prob(x, out), expected)
    p = likelihood.probabilities(out)
    torch.testing.assert_close(p[..., :3], out[..., :3].softmax(-1))
    torch.testing.assert_close(p[..., 3:], out[..., 3:].softmax(-1))


def test_encoder_sees_one_hot_levels_and_zeros_when_missing():
    likelihood = make_likelihood(3, n_levels=[0, 3, 2])
    x = torch.tensor([[0.5, 2.0, 1.0], [0.0, 0.0, 1.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    assert likelihood.input_width == 6
    expected = torch.tensor(
        [[0.5, 0.0, 0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]
    )
    torch.testing.assert_close(likelihood.encoder_input(x, mask), expected)


def test_numeric_tables_keep_the_plain_encoder_input():
    likelihood = make_likelihood(3, point_mass_values=[np.nan, 0.0, np.nan])
    x = torch.randn(4, 3)
    assert likelihood.encoder_input(x, torch.ones(4, 3)) is x


# -- the baselines' categorical imputation ------------------------------------------
BASELINES = [
    MissForestImputer(n_estimators=20, random_state=0),
    NearestNeighborsImputer(random_state=0),
    PCAImputer(random_state=0),
]


@pytest.mark.parametrize("imputer", BASELINES, ids=lambda e: type(e).__name__)
def test_baselines_learn_a_dependent_category(imputer):
    frame, full, hide = _mixed(n=200, seed=3)
    out = imputer.fit_transform(frame)
    mode = MeanImputer().fit_transform(frame)
    for column in ["obj", "cat", "flag"]:  # functions of the latent
        missing = hide[:, list(frame.columns).index(column)]
        pfc = (out[column][missing] != full[column][missing]).mean()
        mode_pfc = (mode[column][missing] != full[column][missing]).mean()
        assert pfc < 0.5 * mode_pfc, column


def test_many_levels_fit_with_flat_memory():
    # An identifier-like column: 600 levels for 1200 rows. The warning names
    # it, and the decoder's 600 outputs are processed in chunks at inference.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=1200),
            "id": pd.Categorical([f"u{i % 600}" for i in range(1200)]),
        }
    )
    frame.loc[::7, "id"] = None
    frame.loc[3::5, "x"] = np.nan
    imputer = MIWAEImputer(max_iter=1, L=50, hidden_layer_sizes=(8,), random_state=0)
    with pytest.warns(UserWarning, match="'id'.*600 levels.*identifier"):
        imputer.fit(frame)
    out, proba = imputer.transform(frame, return_proba=True)
    assert proba["id"].shape == (1200, 600)
    assert out["id"].notna().all()
