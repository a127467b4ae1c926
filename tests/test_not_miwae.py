"""not-MIWAE: MIWAEImputer with a model of the missingness (MNAR)."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torch.nn import functional as F

from miwae_impute import MIWAEImputer, _direction, make_imputer
from miwae_impute._missingness import SelfMasking, observed_rate


def _self_masked(n=1500, seed=0, columns=2):
    """Three correlated columns; the first ``columns`` lose their high values."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    X = z @ np.array([[1.0, 0.8, -0.6]]) + 0.4 * rng.normal(size=(n, 3))
    X = (X - X.mean(0)) / X.std(0)
    # p(missing) = sigmoid(3 (x - 0.2)) in the first columns
    p_missing = 1 / (1 + np.exp(-3 * (X[:, :columns] - 0.2)))
    mask = np.zeros(X.shape, bool)
    mask[:, :columns] = rng.random((n, columns)) < p_missing
    return X, mask, np.where(mask, np.nan, X)


@pytest.fixture(scope="module")
def fitted():
    X, mask, X_missing = _self_masked(columns=3)  # see ``directions``
    params = dict(max_iter=25, random_state=0)
    miwae = make_imputer("miwae", **params).fit(X_missing)
    not_miwae = make_imputer("not-miwae", **params).fit(X_missing)
    return X, mask, X_missing, miwae, not_miwae


def test_not_miwae_learns_the_mechanism_and_imputes_better(fitted):
    X, mask, X_missing, miwae, not_miwae = fitted
    weight = not_miwae.model_.missingness.weight.detach().numpy()
    assert (weight[:2] > 0.5).all()  # high values go missing: w > 0
    errors = {}
    for name, imputer in (("miwae", miwae), ("not-miwae", not_miwae)):
        imputed = imputer.transform(X_missing)
        assert np.array_equal(imputed[~mask], X[~mask])
        errors[name] = np.mean((imputed[mask] - X[mask]) ** 2)
        # MIWAE imputes the missing high values too low; not-MIWAE less so
        bias = np.mean(imputed[mask] - X[mask])
        errors[name + " bias"] = bias
    assert errors["not-miwae"] < 0.8 * errors["miwae"]
    assert errors["miwae bias"] < errors["not-miwae bias"]


def test_not_miwae_has_the_whole_contract(fitted, tmp_path):
    X, mask, X_missing, _, not_miwae = fitted
    frame = pd.DataFrame(X_missing, columns=["a", "b", "c"])
    imputed, std = not_miwae.transform(frame.to_numpy(), return_std=True)
    assert np.isfinite(imputed).all() and (std[mask] > 0).all()
    assert (std[~mask] == 0).all()
    draws = np.stack(not_miwae.sample(X_missing[:50], n_imputations=3))
    assert draws.shape == (3, 50, 3)
    assert np.array_equal(
        draws[:, ~mask[:50]],
        np.broadcast_to(X[:50][~mask[:50]], (3, (~mask[:50]).sum())),
    )
    not_miwae.save(tmp_path / "model")
    loaded = MIWAEImputer.load(tmp_path / "model")
    assert loaded.missingness == "self-masking"
    np.testing.assert_array_equal(
        loaded.transform(X_missing), not_miwae.transform(X_missing)
    )
    assert np.isfinite(not_miwae.score(X_missing))


@pytest.mark.parametrize("direction, sign", [("high", 1), ("low", -1)])
def test_a_stated_direction_fixes_the_sign_of_w(direction, sign):
    X, mask, X_missing = _self_masked(n=300, seed=2)
    imputer = MIWAEImputer(
        missingness=f"self-masking-{direction}", max_iter=3, random_state=0
    )
    imputed = imputer.fit_transform(X_missing)
    assert np.array_equal(imputed[~mask], X[~mask])
    weight = imputer.model_.missingness.weight.detach().numpy()
    assert weight.shape == (3,) and (np.sign(weight) == sign).all()


@pytest.mark.parametrize("missingness", ["self-masking-high", "logistic"])
def test_missingness_in_data_units_gives_the_model_probabilities(missingness):
    X, mask, X_missing = _self_masked(n=300, seed=3)
    frame = pd.DataFrame(
        X_missing * [10.0, 0.1, 2.0] + [5.0, -1.0, 0.0], columns=list("abc")
    )
    imputer = MIWAEImputer(missingness=missingness, max_iter=2, random_state=0)
    imputer.fit(frame)
    table = imputer.missingness_
    assert list(table.index) == ["a", "b", "c"]
    x = frame.fillna(0.0).to_numpy()
    if missingness == "self-masking-high":
        logits = table["intercept"].to_numpy() - table["weight"].to_numpy() * x
        np.testing.assert_allclose(
            table["intercept"] / table["weight"], table["bias"], rtol=1e-9
        )
    else:
        logits = x @ table[list("abc")].to_numpy().T + table["intercept"].to_numpy()
    model = imputer.model_.missingness
    standardised = torch.as_tensor((x - imputer.mean_) / imputer.scale_)
    expected = model.double().logits(standardised).detach().numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-6, atol=1e-7)
    with pytest.raises(AttributeError, match="missingness='ignorable'"):
        _ = MIWAEImputer(max_iter=1).fit(frame).missingness_


def test_logistic_missingness_fits_a_dataframe_in_one_line():
    X, mask, X_missing = _self_masked(n=300, seed=1)
    frame = pd.DataFrame(X_missing, columns=["a", "b", "c"])
    imputer = MIWAEImputer(missingness="logistic", max_iter=3, random_state=0)
    out = imputer.fit_transform(frame)
    assert list(out.columns) == ["a", "b", "c"] and not out.isna().any().any()
    assert imputer.model_.missingness.linear.weight.shape == (3, 3)
    imputer.partial_fit(frame)
    assert imputer.n_iter_ == 4


def test_self_masking_starts_at_the_observed_rates():
    mask = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    model = SelfMasking([1, 2])
    model.start_at(mask)
    # (n_observed + 1/2) / (n + 1) of columns 1 and 2: at x = 0, and at any x
    # while w = 0, p(s = 1) is that rate.
    rates = torch.sigmoid(model.logits(torch.randn(5, 2)))
    torch.testing.assert_close(rates, torch.tensor([1.5 / 4, 2.5 / 4]).expand(5, 2))
    # The rival at random's rate where it has no regression is the same.
    observed = mask.numpy() > 0
    np.testing.assert_allclose(observed_rate(observed), [3.5 / 4, 1.5 / 4, 2.5 / 4])
    torch.testing.assert_close(observed_rate(mask), torch.tensor([3.5, 1.5, 2.5]) / 4)


@pytest.mark.parametrize("sign", [None, 1, -1])
def test_self_masking_reads_a_model_saved_with_the_papers_bias(sign):
    """A state saved before the intercept holds b of sigmoid(-w (x - b))."""
    old = {
        "columns": torch.tensor([0, 1]),
        "raw_weight": torch.tensor([0.7, -1.2]),
        "bias": torch.tensor([0.3, -0.5]),
    }
    model = SelfMasking([0, 1], sign=sign)
    model.load_state_dict(dict(old))
    w = old["raw_weight"] if sign is None else sign * F.softplus(old["raw_weight"])
    x = torch.randn(6, 2)
    torch.testing.assert_close(model.logits(x), -w * (x - old["bias"]))
    table = model.in_units(np.zeros(2), np.ones(2), ["a", "b"])
    np.testing.assert_allclose(table["bias"], old["bias"].numpy(), rtol=1e-6)


@pytest.fixture(scope="module")
def directions():
    """not-MIWAE with the direction chosen, on high values missing, on low
    values missing (the same data, negated) and on values missing at random."""
    # Every column masked: with a complete column, correlated with the
    # masked ones, a logistic regression on it explains much of the mask
    # at random, and beats these short fits of self-masking (see the test of
    # a mask at random given a complete column, below).
    X, mask, X_missing = _self_masked(n=600, seed=4, columns=3)
    at_random = np.random.default_rng(4).random(X.shape) < mask.mean()
    fits = {}
    for name, data in (
        ("high", X_missing),
        ("low", -X_missing),
        ("at random", np.where(at_random, np.nan, X)),
    ):
        imputer = make_imputer("not-miwae", max_iter=24, random_state=0)
        fits[name] = imputer.fit(data), data
    return fits


@pytest.mark.parametrize(
    "data, chosen",
    [
        ("high", "self-masking-high"),
        ("low", "self-masking-low"),
        ("at random", "ignorable"),
    ],
)
def test_the_bound_chooses_the_direction_of_self_masking(directions, data, chosen):
    imputer, X_missing = directions[data]
    assert imputer.missingness == "self-masking"
    assert imputer.chosen_missingness_ == chosen
    # The at-random fit imputes higher (lower) where high (low) values went
    # missing, which decides the direction that is fitted beside it.
    shift, bounds = imputer.history_["pilot_shift_z"], imputer.history_["pilot_bound"]
    expected = {"high": shift > 3, "low": shift < -3, "at random": abs(shift) <= 3}
    assert expected[data], shift
    assert sorted(bounds) == sorted({"ignorable", chosen})
    assert max(bounds, key=bounds.get) == chosen
    # Each pilot's bound of log p(x_o); the rival at random adds to the
    # better one the log-likelihood of the mask, and self-masking's bound of
    # log p(x_o, s) is below its own of log p(x_o).
    observed = imputer.history_["pilot_observed_bound"]
    assert sorted(observed) == sorted(bounds)
    if chosen == "ignorable":
        assert bounds == observed
    else:
        assert bounds["ignorable"] < max(observed.values())
        assert bounds[chosen] < observed[chosen]
    # The short fits of 24 // 8 epochs, then the chosen one to 24.
    assert imputer.n_iter_ == len(imputer.history_["train_bound"]) == 24
    if chosen == "ignorable":
        assert imputer.model_.missingness is None
        with pytest.raises(AttributeError, match="missing at random was chosen"):
            _ = imputer.missingness_
        # At random, the fit is MIWAE's own, bit for bit.
        miwae = MIWAEImputer(max_iter=24, random_state=0).fit(X_missing)
        np.testing.assert_array_equal(
            imputer.transform(X_missing), miwae.transform(X_missing)
        )
        np.testing.assert_array_equal(
            imputer.point_mass_values_, miwae.point_mass_values_
        )
        assert imputer.history_["train_bound"] == miwae.history_["train_bound"]
    else:
        weight = imputer.missingness_["weight"].to_numpy()
        assert (np.sign(weight) == (1 if data == "high" else -1)).all()
    imputed = imputer.transform(X_missing)
    observed = ~np.isnan(X_missing)
    assert np.array_equal(imputed[observed], X_missing[observed])


def test_self_masking_must_win_decisively(directions, monkeypatch):
    # The same data and seed with every margin and shift below the bar: the
    # bound still prefers self-masking, but the fit stays at random.

    fitted, X_missing = directions["high"]
    margin = fitted.history_["pilot_margin_z"]
    assert margin > 0
    monkeypatch.setattr(_direction, "_MARGIN_Z", margin + 1)
    monkeypatch.setattr(_direction, "_DECISIVE_SHIFT_Z", np.inf)
    imputer = make_imputer("not-miwae", max_iter=24, random_state=0).fit(X_missing)
    bounds = imputer.history_["pilot_bound"]
    assert max(bounds, key=bounds.get) == "self-masking-high"
    assert imputer.chosen_missingness_ == "ignorable"
    assert imputer.history_["pilot_margin_z"] == margin


def test_the_chosen_direction_is_saved_with_the_model(directions, tmp_path):
    imputer, X_missing = directions["low"]
    imputer.save(tmp_path / "model")
    loaded = MIWAEImputer.load(tmp_path / "model")
    assert loaded.chosen_missingness_ == "self-masking-low"
    assert loaded.model_.missingness.sign == -1
    np.testing.assert_array_equal(
        loaded.transform(X_missing), imputer.transform(X_missing)
    )


@pytest.mark.parametrize("mechanism", ["at random", "high", "low"])
def test_shift_z_compares_the_imputations_with_those_of_hidden_cells(
    monkeypatch, mechanism
):
    """A model that imputes E[x_j | x_k] one unit too high: its own bias
    cancels out, and the sign of z names the values that went missing."""
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.8], [0.8, 1.0]], 2000)
    tail = {"at random": 0.0 * X, "high": X, "low": -X}[mechanism]
    missing = rng.random(X.shape) < np.where(tail > 0.5, 0.8, 0.1)
    x = torch.tensor(np.where(missing, 0.0, X))
    mask = torch.tensor(~missing, dtype=x.dtype)

    def biased_moments(model, x, mask, n_samples, seeds, variances=True):
        means = x.clone()
        for j in (0, 1):
            other = x[:, 1 - j] * mask[:, 1 - j]
            means[:, j] = torch.where(mask[:, j] > 0, x[:, j], 0.8 * other + 1.0)
        return means, None, None

    monkeypatch.setattr(_direction, "posterior_moments", biased_moments)
    z = _direction._shift_z(None, x, mask, 10, 0, [0, 1])
    expected = {"at random": abs(z) < 3, "high": z > 3, "low": z < -3}
    assert expected[mechanism], z
    # Beside the raw observed values, the bias alone is a false alarm.
    imputed = biased_moments(None, x, mask, 10, None)[0]
    assert imputed[missing[:, 0], 0].mean() - x[~missing[:, 0], 0].mean() > 0.5


def test_the_pilots_read_zeros_and_the_fit_at_random_the_gaussian(monkeypatch):
    trained = []
    train = MIWAEImputer._train

    def spy(self, *args, **kwargs):
        trained.append((self.chosen_missingness_, self.model_.fill is not None))
        return train(self, *args, **kwargs)

    monkeypatch.setattr(MIWAEImputer, "_train", spy)
    X = _self_masked(n=300)[0]
    at_random = np.where(np.random.default_rng(1).random(X.shape) < 0.3, np.nan, X)
    fit = MIWAEImputer(missingness="self-masking", max_iter=8, random_state=0)
    fit.fit(at_random)
    assert abs(fit.history_["pilot_shift_z"]) < 3
    # the pilot, without the fill; then MIWAE's fit, with it
    assert trained == [("ignorable", False), ("ignorable", True)]


def test_the_mask_at_random_is_cross_fitted_on_the_complete_columns():
    rng = np.random.default_rng(0)
    n = 400
    x0 = rng.normal(size=n)
    noise = rng.normal(size=(n, 30))
    X = np.column_stack([x0, x0 + 0.5 * rng.normal(size=n), noise])
    mask = np.zeros(X.shape, bool)
    mask[:, 1] = rng.random(n) < 1 / (1 + np.exp(-3 * x0))  # at random, by x0
    mask[:, 2] = rng.random(n) < 0.3  # completely at random
    x, m = torch.tensor(np.where(mask, 0.0, X)), torch.tensor(1.0 - mask)
    columns = np.arange(X.shape[1])
    log_p = _direction._log_p_mask_at_random(x, m, columns, seed=0).numpy()
    assert log_p.shape == (n,)

    def at_rate(s):
        rate = (s.sum() + 0.5) / (len(s) + 1)
        return np.where(s, np.log(rate), np.log1p(-rate)).mean()

    complete = X[:, np.r_[0, 3 : X.shape[1]]]
    in_sample = {}
    for j in (1, 2):
        logit = LogisticRegression().fit(complete, ~mask[:, j])
        f = logit.decision_function(complete)
        in_sample[j] = -np.logaddexp(0, np.where(mask[:, j], f, -f)).mean()
    # the complete columns' terms are those of their rates
    rest = sum(at_rate(~mask[:, j]) for j in columns if j not in (1, 2))
    # x0 explains column 1's mask well beyond its rate; column 2's mask is
    # explained by none of the 31 complete columns, though fitted to the same
    # rows they seem to explain it: held out, that optimism is gone
    assert in_sample[1] > at_rate(~mask[:, 1]) + 0.2
    assert in_sample[2] > at_rate(~mask[:, 2]) + 0.02
    total = log_p.mean() - rest
    assert total > at_rate(~mask[:, 1]) + at_rate(~mask[:, 2]) + 0.15
    assert total < in_sample[1] + in_sample[2] - 0.02


def test_a_mask_at_random_given_a_complete_column_is_not_taken_for_self_masking():
    """Column 1 goes missing where the complete column 0, correlated with it,
    is high: the at-random fit imputes the missing cells higher (z beyond 3),
    but a logistic regression on x_0 explains the mask, and missing at
    random wins. With the observed rates alone as the rival (before),
    self-masking won here."""
    rng = np.random.default_rng(0)
    n = 600
    x0 = rng.normal(size=n)
    X = np.column_stack([x0, x0 + 0.5 * rng.normal(size=n), rng.normal(size=n)])
    mask = np.zeros(X.shape, bool)
    mask[:, 1] = rng.random(n) < 1 / (1 + np.exp(-3 * x0))
    fit = MIWAEImputer(missingness="self-masking", max_iter=16, random_state=0)
    fit.fit(np.where(mask, np.nan, X))
    assert fit.history_["pilot_shift_z"] > 3
    bounds = fit.history_["pilot_bound"]
    assert bounds["ignorable"] > bounds["self-masking-high"]
    assert fit.history_["pilot_margin_z"] < 0  # the same margin, per row
    assert fit.chosen_missingness_ == "ignorable"


def test_paired_z_is_the_mean_difference_over_its_standard_error():
    z = _direction._paired_z(torch.tensor([1.0, 2.0, 3.0]))
    assert z == pytest.approx(2.0 / (1.0 / np.sqrt(3.0)))
    assert _direction._paired_z(torch.full((4,), 0.5)) == 0.0  # no spread
    assert _direction._paired_z(torch.tensor([1.0])) == 0.0


@pytest.mark.parametrize("log_p_mask, chosen", [(-0.6, "high"), (-0.4, "ignorable")])
def test_self_masking_must_win_by_its_model_of_the_mask(
    monkeypatch, log_p_mask, chosen
):
    """The self-masking pilot with its mask model ignored is a model at
    random too, and the rival at random takes the better of the two pilots'
    bounds of log p(x_o), plus its model of the mask: self-masking cannot
    win by a better fit of x_o alone. Here the pilots' bounds are set, per
    row: -3.0 for the pilot at random's log p(x_o), -2.0 for the
    self-masking pilot's, and -2.5 for its log p(x_o, s). With the
    regression's log p(s) at -0.4, self-masking's model of the mask (-0.5)
    loses; the rule before (-2.5 against -3.0 - 0.4) chose it."""

    def bounds_per_row(model, x, *args):
        if model.missingness is None:  # the pilot at random
            return None, torch.full((len(x),), -3.0)
        return torch.full((len(x),), -2.5), torch.full((len(x),), -2.0)

    def log_p_mask_at_random(x, *args):
        return torch.full((len(x),), log_p_mask, dtype=x.dtype)

    monkeypatch.setattr(_direction, "bounds_per_row", bounds_per_row)
    monkeypatch.setattr(_direction, "_log_p_mask_at_random", log_p_mask_at_random)
    _, _, X_missing = _self_masked(n=600, seed=4, columns=3)
    fit = make_imputer("not-miwae", max_iter=24, random_state=0).fit(X_missing)
    assert fit.history_["pilot_observed_bound"] == pytest.approx(
        {"ignorable": -3.0, "self-masking-high": -2.0}
    )
    assert fit.history_["pilot_bound"] == pytest.approx(
        {"ignorable": -2.0 + log_p_mask, "self-masking-high": -2.5}
    )
    name = "ignorable" if chosen == "ignorable" else f"self-masking-{chosen}"
    assert fit.chosen_missingness_ == name
