"""StackingImputer: imputers blended per feature by held-out cells."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from miwae_impute import (
    MeanImputer,
    MissForestImputer,
    MIWAEImputer,
    NearestNeighborsImputer,
    PCAImputer,
    StackingImputer,
    make_imputer,
)
from miwae_impute._stacking import (
    _default_imputers,
    _held_out_cells,
    _simplex_weights,
)


def _linear_table(seed=0, n=300, rate=0.2):
    """Two features that are one up to small noise, and an independent one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    X = np.column_stack([x, 3.0 * x + 0.05 * rng.normal(size=n), rng.normal(size=n)])
    return X, np.where(rng.random(X.shape) < rate, np.nan, X)


def test_simplex_weights_recover_a_convex_blend():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    weights = _simplex_weights(0.3 * a + 0.7 * b, np.stack([a, b]))
    assert_allclose(weights, [0.3, 0.7], atol=1e-4)


def test_simplex_weights_stay_in_the_simplex():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=40)
    # The best least-squares blend would put a negative weight on the noise.
    guesses = np.stack([truth + 0.1 * rng.normal(size=40), -truth, rng.normal(size=40)])
    weights = _simplex_weights(truth, guesses)
    assert (weights >= 0).all()
    assert weights.sum() == pytest.approx(1.0)
    assert weights[0] > 0.9


def test_held_out_cells_are_observed_and_leave_every_feature_a_value():
    rng = np.random.default_rng(0)
    mask = rng.random((30, 4)) < 0.3
    mask[:, 3] = True
    mask[0, 3] = False  # a single observed value: it must stay
    held = _held_out_cells(mask, 0.9, rng)
    assert not (held & mask).any()
    assert (~(held | mask)).any(axis=0).all()
    assert held.sum() > 0.5 * (~mask).sum()


def test_weights_follow_the_better_imputer():
    X, X_missing = _linear_table()
    imputer = StackingImputer([PCAImputer(), MeanImputer()], random_state=0)
    imputer.fit(X_missing)
    # PCA predicts the two linked features; the mean cannot.
    assert (imputer.weights_[:2, 0] > 0.9).all()
    assert_allclose(imputer.weights_.sum(axis=1), 1.0)
    assert imputer.held_out_mse_.shape == (3, 3)
    errors = imputer.held_out_mse_[:2]
    assert (errors[:, 0] < 0.5 * errors[:, 1]).all()
    assert (errors[:, 2] <= errors[:, :2].min(axis=1) + 1e-12).all()


def test_prior_cells_pull_the_blend_toward_the_first_imputer():
    X, X_missing = _linear_table()

    def first_weight(prior_cells):
        imputer = StackingImputer(
            [MeanImputer(), PCAImputer()], prior_cells=prior_cells, random_state=0
        )
        weights = imputer.fit(X_missing).weights_
        assert_allclose(weights.sum(axis=1), 1.0)
        assert_allclose(weights, weights[:1].repeat(3, axis=0))
        return weights[0, 0]

    alone = first_weight(0)
    assert alone < 0.1  # PCA, the better imputer, wins on the held-out cells
    # (n * alone + c) / (n + c) with the same n held-out cells for every c:
    # each prior gives back the same n, a whole number.
    counts = []
    for c in (20, 80):
        pulled = first_weight(c)
        assert alone < pulled < 1
        counts.append(c * (1 - pulled) / (pulled - alone))
    assert counts[0] == pytest.approx(counts[1], rel=1e-6)
    assert counts[0] == pytest.approx(round(counts[0]), abs=1e-6)
    assert first_weight(1e9) > 0.999


def test_blend_imputes_no_worse_than_its_members_on_linked_features():
    X, X_missing = _linear_table(seed=3, n=400)
    missing = np.isnan(X_missing)
    stack = StackingImputer([PCAImputer(), MeanImputer()], random_state=0)
    mse = {
        name: np.mean((imputer.fit_transform(X_missing) - X)[missing] ** 2)
        for name, imputer in {
            "stack": stack,
            "pca": PCAImputer(),
            "mean": MeanImputer(),
        }.items()
    }
    assert mse["stack"] <= 1.02 * mse["pca"] < mse["mean"]


@pytest.mark.parametrize("refit", [True, False])
def test_transform_blends_the_fitted_imputers(refit):
    X, X_missing = _linear_table()
    imputer = StackingImputer(
        [PCAImputer(), MeanImputer()], refit=refit, random_state=0
    )
    imputer.fit(X_missing)
    parts = [member.transform(X_missing) for member in imputer.imputers_]
    expected = sum(w * part for w, part in zip(imputer.weights_.T, parts))
    assert_allclose(imputer.transform(X_missing), expected)
    observed = ~np.isnan(X_missing)
    assert_array_equal(imputer.transform(X_missing)[observed], X_missing[observed])


@pytest.mark.parametrize("refit", [True, False])
def test_refit_decides_which_cells_train_the_imputers(refit):
    X, X_missing = _linear_table()
    imputer = StackingImputer(
        [PCAImputer(), MeanImputer()], refit=refit, random_state=0
    ).fit(X_missing)
    all_cells = np.nanmean(X_missing, axis=0)
    means = imputer.imputers_[1].statistics_
    if refit:
        assert_allclose(means, all_cells)
    else:  # trained without the held-out cells, which it imputes
        assert np.all(np.abs(means - all_cells) > 1e-6)


def test_same_random_state_same_output_and_seeds_reach_the_members():
    X, X_missing = _linear_table(n=120)
    make = lambda: StackingImputer(  # noqa: E731
        [MissForestImputer(n_estimators=5, max_iter=2), MeanImputer()],
        random_state=7,
    )
    first, second = make(), make()
    assert_array_equal(first.fit_transform(X_missing), second.fit_transform(X_missing))
    assert first.imputers_[0].random_state is not None
    assert first.imputers[0].random_state is None  # the given one is not changed


def test_a_categorical_feature_takes_one_imputer():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    level = np.where(x > 0, "high", "low").astype(object)
    level[rng.random(200) < 0.2] = None
    frame = pd.DataFrame(
        {
            "x": np.where(rng.random(200) < 0.2, np.nan, x),
            "level": pd.Categorical(level),
        },
        index=np.arange(200) + 10,
    )
    imputer = StackingImputer(
        [MissForestImputer(n_estimators=20, random_state=0), MeanImputer()],
        random_state=0,
    )
    out = imputer.fit_transform(frame)
    assert_array_equal(imputer.weights_[1], [1.0, 0.0])  # the forest reads x
    assert out.index.equals(frame.index)
    assert out["level"].dtype == frame["level"].dtype
    assert out["level"].notna().all()
    kept = frame["level"].notna()
    assert (out["level"][kept] == frame["level"][kept]).all()


def test_errors_name_the_problem():
    X, X_missing = _linear_table(n=50)
    with pytest.raises(ValueError, match="at least one imputer"):
        StackingImputer([]).fit(X_missing)
    with pytest.raises(TypeError, match="imputers of this package"):
        StackingImputer([object()]).fit(X_missing)
    with pytest.raises(ValueError, match="held_out"):
        StackingImputer([MeanImputer()], held_out=1.0).fit(X_missing)


def test_default_blends_miwae_and_missforest():
    imputer = make_imputer("stacking", random_state=0)
    assert isinstance(imputer, StackingImputer)
    kinds = [type(member) for member in _default_imputers()]
    assert kinds == [MIWAEImputer, MissForestImputer]


def test_knn_member_on_a_frame_with_a_placeholder():
    X, _ = _linear_table(n=80)
    rng = np.random.default_rng(2)
    X_marked = np.where(rng.random(X.shape) < 0.2, -999.0, X)
    imputer = StackingImputer(
        [NearestNeighborsImputer(n_neighbors=3), MeanImputer()],
        missing_values=-999.0,
        random_state=0,
    )
    out = imputer.fit_transform(X_marked)
    assert not (out == -999.0).any()
    kept = X_marked != -999.0
    assert_array_equal(out[kept], X_marked[kept])


def test_one_blend_for_the_numeric_features_whatever_their_units():
    X, X_missing = _linear_table(n=200)
    imputers = [PCAImputer(), MeanImputer()]
    plain = StackingImputer(imputers, random_state=0).fit(X_missing)
    assert_allclose(plain.weights_, plain.weights_[:1].repeat(3, axis=0))
    scaled = StackingImputer(imputers, random_state=0).fit(X_missing * [1, 1e4, 1])
    assert_allclose(scaled.weights_, plain.weights_, atol=1e-6)
