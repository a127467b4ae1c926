"""Tests of fit_side_by_side: MIWAE fits trained side by side as one batch."""

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from miwae_impute import MIWAEImputer, fit_side_by_side

# Two epochs of a small table: enough steps for the members to move apart.
_SMALL = {"max_iter": 2, "hidden_layer_sizes": (16, 16), "L": 50}


def _data(n=80, p=4, seed=0, frac=0.25):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, 1] += X[:, 0]
    X[:, -1] = np.round(X[:, -1])  # a discrete column, with its own likelihood
    X[rng.random(X.shape) < frac] = np.nan
    return X


def _weights_gap(a, b):
    sa, sb = a.model_.state_dict(), b.model_.state_dict()
    assert sa.keys() == sb.keys()
    return max(float((sa[k].double() - sb[k].double()).abs().max()) for k in sa)


def test_each_member_is_the_fit_of_its_seed_alone():
    X = _data()
    members = fit_side_by_side(MIWAEImputer(**_SMALL), X, random_states=[3, 7, 11])
    for seed, member in zip([3, 7, 11], members):
        alone = MIWAEImputer(**_SMALL, random_state=seed).fit(X)
        assert member.random_state == seed
        # Only the summation order of the matmuls differs (float32).
        assert _weights_gap(alone, member) < 1e-5
        assert_allclose(
            member.history_["train_bound"], alone.history_["train_bound"], rtol=1e-5
        )
        assert_allclose(member.transform(X), alone.transform(X), atol=1e-4)
    # Different seeds give different fits.
    assert _weights_gap(members[0], members[1]) > 1e-2


def test_a_member_does_not_depend_on_the_others():
    X = _data()
    rows = np.random.default_rng(1).integers(len(X), size=(3, len(X)))
    three = fit_side_by_side(
        MIWAEImputer(**_SMALL), X, random_states=[0, 1, 2], rows=rows
    )
    one = fit_side_by_side(MIWAEImputer(**_SMALL), X, random_states=[1], rows=rows[1:2])
    assert _weights_gap(three[1], one[0]) < 1e-5
    everything = fit_side_by_side(MIWAEImputer(**_SMALL), X, random_states=[1])
    assert _weights_gap(everything[0], one[0]) > 1e-3  # the rows matter


def test_rows_all_of_x_is_the_default():
    X = _data()
    default = fit_side_by_side(MIWAEImputer(**_SMALL), X, random_states=[5])
    explicit = fit_side_by_side(
        MIWAEImputer(**_SMALL), X, random_states=[5], rows=[np.arange(len(X))]
    )
    assert _weights_gap(default[0], explicit[0]) == 0.0


def test_members_share_the_preparation_of_the_whole_table():
    X = _data()
    rows = [np.arange(40), np.arange(40, 80)]
    a, b = fit_side_by_side(MIWAEImputer(**_SMALL), X, n_models=2, rows=rows)
    whole = MIWAEImputer(**_SMALL, random_state=0).fit(X)
    for member in (a, b):
        assert_array_equal(member.mean_, whole.mean_)
        assert_array_equal(member.scale_, whole.scale_)


def test_same_random_state_same_fits_and_global_rng_untouched():
    X = _data()
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    first = fit_side_by_side(MIWAEImputer(**_SMALL, random_state=4), X, n_models=2)
    second = fit_side_by_side(MIWAEImputer(**_SMALL, random_state=4), X, n_models=2)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state[1], np.random.get_state()[1])  # noqa: NPY002
    for a, b in zip(first, second):
        assert a.random_state == b.random_state
        assert _weights_gap(a, b) == 0.0
    assert first[0].random_state != first[1].random_state


def test_frames_keep_their_observed_cells_and_columns():
    X = pd.DataFrame(_data(), columns=list("abcd"), index=np.arange(100, 180))
    (member,) = fit_side_by_side(MIWAEImputer(**_SMALL), X, n_models=1)
    out = member.transform(X)
    assert list(out.columns) == list("abcd") and out.index.equals(X.index)
    observed = X.notna().to_numpy()
    assert_array_equal(out.to_numpy()[observed], X.to_numpy()[observed])
    assert not out.isna().any().any()
    draws = member.sample(X, n_imputations=2)
    assert all(
        d.to_numpy()[observed].tolist() == X.to_numpy()[observed].tolist()
        for d in draws
    )


def test_categorical_columns_train_side_by_side():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "x": rng.normal(size=90),
            "colour": pd.Categorical(rng.choice(["red", "blue", "green"], 90)),
        }
    )
    X.loc[rng.random(90) < 0.2, "x"] = np.nan
    X.loc[rng.random(90) < 0.2, "colour"] = np.nan
    members = fit_side_by_side(MIWAEImputer(**_SMALL), X, random_states=[0, 1])
    alone = MIWAEImputer(**_SMALL, random_state=1).fit(X)
    assert _weights_gap(alone, members[1]) < 1e-5
    assert members[1].transform(X)["colour"].isin(["red", "blue", "green"]).all()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"missingness": "self-masking-high"}, "missingness='ignorable'"),
        ({"early_stopping": True}, "early_stopping=False"),
        ({"holdout_fraction": 0.1}, "holdout_fraction=0.0"),
        ({"max_time": 5.0}, "max_time=None"),
        ({"encoder_fill": "learned"}, "this imputer has encoder_fill='learned'"),
    ],
)
def test_settings_it_does_not_train_are_refused(params, match):
    with pytest.raises(ValueError, match=match):
        fit_side_by_side(MIWAEImputer(**_SMALL, **params), _data(), n_models=2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "Pass n_models, random_states or rows"),
        ({"n_models": 0}, "positive integer"),
        ({"n_models": 2, "random_states": [1, 2, 3]}, "disagree"),
        ({"rows": [np.arange(10), np.arange(12)]}, "one length"),
        ({"rows": [np.array([0, 80])]}, r"\[0, 80\)"),
        ({"rows": [np.array([0.5, 1.0])]}, "integer indices"),
    ],
)
def test_bad_arguments_get_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_side_by_side(MIWAEImputer(**_SMALL), _data(), **kwargs)


@pytest.mark.parametrize("decoder", ["linear", "ppca"])
def test_linear_decoders_train_side_by_side(decoder):
    X = _data()
    small = _SMALL | {"decoder": decoder}
    (member,) = fit_side_by_side(MIWAEImputer(**small), X, random_states=[3])
    alone = MIWAEImputer(**small, random_state=3).fit(X)
    assert len(member.model_.decoder) == 1
    assert _weights_gap(alone, member) < 1e-5
