"""not-MIWAE: MIWAEImputer with a model of the missingness (MNAR)."""

import numpy as np
import pandas as pd
import pytest

from miwae_impute import MIWAEImputer, make_imputer


def _self_masked(n=1500, seed=0):
    """Three correlated columns; the first two lose their high values."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    X = z @ np.array([[1.0, 0.8, -0.6]]) + 0.4 * rng.normal(size=(n, 3))
    X = (X - X.mean(0)) / X.std(0)
    # p(missing) = sigmoid(3 (x - 0.2)) in the first two columns
    p_missing = 1 / (1 + np.exp(-3 * (X[:, :2] - 0.2)))
    mask = np.zeros(X.shape, bool)
    mask[:, :2] = rng.random((n, 2)) < p_missing
    return X, mask, np.where(mask, np.nan, X)


@pytest.fixture(scope="module")
def fitted():
    X, mask, X_missing = _self_masked()
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


def test_logistic_missingness_fits_a_dataframe_in_one_line():
    X, mask, X_missing = _self_masked(n=300, seed=1)
    frame = pd.DataFrame(X_missing, columns=["a", "b", "c"])
    imputer = MIWAEImputer(missingness="logistic", max_iter=3, random_state=0)
    out = imputer.fit_transform(frame)
    assert list(out.columns) == ["a", "b", "c"] and not out.isna().any().any()
    assert imputer.model_.missingness.linear.weight.shape == (3, 3)
    imputer.partial_fit(frame)
    assert imputer.n_iter_ == 4
