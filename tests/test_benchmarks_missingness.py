"""Missing-data mechanisms: rates, reproducibility, what drives missingness."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks.missingness import (
    above_mean,
    make_mask,
    mar,
    mcar,
    mnar,
    paper_above_mean,
    self_masking,
)


@pytest.fixture(scope="module")
def X():
    # Independent columns on different scales: a column tells nothing of another.
    rng = np.random.default_rng(123)
    return rng.normal(size=(4000, 10)) * np.arange(1, 11) + np.arange(10)


def test_mcar_is_the_paper_protocol():
    mask = mcar((569, 30), 0.5, seed=3)
    expected = np.random.default_rng(3).random((569, 30)) < 0.5
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == bool
    # Rows that lose every value are kept as they are (not repaired).
    assert mcar((20000, 2), 0.5, seed=0).all(axis=1).any()


@pytest.mark.parametrize("mechanism", ["mcar", "mar", "mnar"])
@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_rate_is_hit(X, mechanism, rate):
    mask = make_mask(mechanism, X, rate, seed=0)
    assert mask.shape == X.shape
    assert abs(mask.mean() - rate) < 0.01


@pytest.mark.parametrize("mechanism", ["mcar", "mar", "mnar"])
def test_reproducible_and_seeded(X, mechanism):
    first = make_mask(mechanism, X, 0.3, seed=7)
    np.testing.assert_array_equal(first, make_mask(mechanism, X, 0.3, seed=7))
    assert (first != make_mask(mechanism, X, 0.3, seed=8)).any()


def test_mar_depends_on_the_observed_columns(X):
    mask = mar(X, 0.4, seed=1)
    observed = ~mask.any(axis=0)
    assert observed.sum() == 3  # 30% of 10 columns stay complete
    for j in np.flatnonzero(~observed):
        # Missingness is predictable from the observed columns ...
        score = (
            X[:, observed]
            @ np.linalg.lstsq(
                X[:, observed] - X[:, observed].mean(0), mask[:, j] - 0.5, rcond=None
            )[0]
        )
        assert roc_auc_score(mask[:, j], score) > 0.75
        # ... and not from the (independent) value that goes missing.
        assert abs(roc_auc_score(mask[:, j], X[:, j]) - 0.5) < 0.05


def test_mnar_depends_on_the_value_itself(X):
    mask = mnar(X, 0.5, seed=2)
    for j in range(X.shape[1]):
        assert abs(mask[:, j].mean() - 0.5) < 0.03  # calibrated per column
        assert roc_auc_score(mask[:, j], X[:, j]) > 0.8  # large values go missing
        other = (j + 1) % X.shape[1]
        assert abs(roc_auc_score(mask[:, j], X[:, other]) - 0.5) < 0.05
    flipped = mnar(X, 0.5, seed=2, strength=-2.0)
    assert roc_auc_score(flipped[:, 0], X[:, 0]) < 0.2


def test_invalid_arguments(X):
    with pytest.raises(ValueError, match="rate"):
        mcar((3, 3), 1.0, seed=0)
    with pytest.raises(ValueError, match="cannot be reached"):
        mar(X, 0.8, seed=0, observed_fraction=0.5)
    with pytest.raises(ValueError, match="complete"):
        mnar(np.where(X > 0, np.nan, X), 0.5, seed=0)
    with pytest.raises(ValueError, match="Unknown mechanism"):
        make_mask("mixed", X, 0.5, seed=0)
    assert not mar(X, 0.0, seed=0).any()


def test_above_mean_removes_high_values_in_half_of_the_columns(X):
    mask = make_mask("above-mean", X, 0.9, seed=0)
    np.testing.assert_array_equal(mask, above_mean(X, 0.9, seed=0))
    touched = mask.any(axis=0)
    assert touched.sum() == X.shape[1] // 2
    above = np.greater(X, X.mean(axis=0))
    assert not (mask & ~above).any()  # values below the mean all stay
    share = mask[:, touched].sum() / above[:, touched].sum()
    assert abs(share - 0.9) < 0.02
    assert not mask.all(axis=1).any()
    assert (mask != above_mean(X, 0.9, seed=1)).any()


def test_paper_above_mean_removes_every_high_value_of_the_first_half(X):
    """The not-MIWAE paper's Table 1: no randomness at rate 1."""
    mask = make_mask("paper-above-mean", X, 1.0, seed=3)
    half = X.shape[1] // 2
    expected = np.zeros(X.shape, dtype=bool)
    expected[:, :half] = X[:, :half] > X[:, :half].mean(axis=0)
    np.testing.assert_array_equal(mask, expected)
    np.testing.assert_array_equal(mask, paper_above_mean(X, 1.0, seed=0))
    thinned = paper_above_mean(X, 0.5, seed=0)
    assert not (thinned & ~expected).any()
    assert 0.4 < thinned.sum() / expected.sum() < 0.6
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        paper_above_mean(X, 1.5)


@pytest.mark.parametrize(
    "mechanism, below, n_columns",
    [
        ("below-mean", True, "half"),
        ("above-mean-all", False, "all"),
        ("below-mean-all", True, "all"),
    ],
)
def test_self_masking_masks_one_side_of_the_mean(X, mechanism, below, n_columns):
    mask = make_mask(mechanism, X, 0.6, seed=2)
    touched = mask.any(axis=0)
    expected = X.shape[1] if n_columns == "all" else X.shape[1] // 2
    assert touched.sum() == expected
    side = np.less(X, X.mean(axis=0)) if below else np.greater(X, X.mean(axis=0))
    assert not (mask & ~side).any()  # the other side all stays
    share = mask[:, touched].sum() / side[:, touched].sum()
    assert abs(share - 0.6) < 0.03
    full = make_mask(mechanism, X, 1.0, seed=2)
    np.testing.assert_array_equal(full[:, touched], side[:, touched])
    np.testing.assert_array_equal(
        make_mask("above-mean", X, 0.6, seed=2),
        self_masking(X, 0.6, seed=2),
    )
    with pytest.raises(ValueError, match="side"):
        self_masking(X, 0.6, seed=2, side="left")
