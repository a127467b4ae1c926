"""miwae_impute.plotting: each function draws what it says, on the Agg backend."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from miwae_impute import MIWAEImputer, compare_imputers
from miwae_impute.plotting import (
    plot_comparison,
    plot_coverage,
    plot_distributions,
    plot_history,
)

matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _frame():
    rng = np.random.default_rng(0)
    z = rng.normal(size=200)
    X = pd.DataFrame(
        {"a": z, "b": 2 * z + rng.normal(size=200), "g": np.where(z > 0, "x", "y")}
    )
    X.loc[rng.random(200) < 0.2, "a"] = np.nan
    X.loc[rng.random(200) < 0.3, "g"] = None
    return X


def test_distributions_draw_observed_imputed_and_draws():
    X = _frame()
    imputed = X.fillna({"a": 5.0, "g": "x"})
    draws = [X.fillna({"a": 5.0 + k, "g": "y"}) for k in range(3)]
    axes = plot_distributions(X, imputed, draws=draws)
    assert [ax.get_title() for ax in axes] == ["a", "g"]  # "b" has no gap
    numeric, categorical = axes
    assert len(numeric.patches) == 2 + 3  # observed, imputed, three draws
    # the imputed histogram has all its mass in the bin of 5.0
    heights = [p.get_path().vertices[:, 1].max() for p in numeric.patches]
    assert heights[1] > heights[0]
    bars = categorical.patches  # observed x, y; imputed x, y
    assert [round(b.get_height(), 6) for b in bars[2:]] == [1.0, 0.0]
    observed = X["g"].dropna().value_counts(normalize=True)
    assert bars[0].get_height() == pytest.approx(observed["x"])
    ticks = categorical.get_lines()  # one per draw: every draw imputed "y"
    assert len(ticks) == 3
    for tick in ticks:
        np.testing.assert_allclose(tick.get_ydata(), [0.0, 1.0])
    with pytest.raises(ValueError, match="no missing cell"):
        plot_distributions(X.dropna(), X.dropna())


def test_history_draws_the_bound_and_its_average():
    X = _frame()[["a", "b"]].to_numpy()
    imputer = MIWAEImputer(max_iter=12, random_state=0).fit(X)
    ax = plot_history(imputer, window=5)
    bound, average = ax.get_lines()
    np.testing.assert_allclose(bound.get_ydata(), imputer.history_["train_bound"])
    assert len(average.get_ydata()) == 12 - 5 + 1
    assert average.get_ydata()[0] == pytest.approx(
        np.mean(imputer.history_["train_bound"][:5])
    )
    with pytest.raises(ValueError, match="fitted MIWAEImputer"):
        plot_history(MIWAEImputer())


def test_coverage_of_honest_draws_is_on_the_diagonal():
    rng = np.random.default_rng(0)
    X_true = rng.normal(size=(400, 3))
    draws = rng.normal(size=(200, 400, 3))  # the same law as the truth
    mask = rng.random((400, 3)) < 0.5
    ax = plot_coverage(X_true, draws, mask, levels=[0.5, 0.9])
    diagonal, line = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.5, 0.9], atol=0.04)
    ax = plot_coverage(X_true, 0.1 * draws, mask, levels=[0.9])  # overconfident
    assert ax.get_lines()[1].get_ydata()[0] < 0.2
    with pytest.raises(ValueError, match="draws must have shape"):
        plot_coverage(X_true, draws[:, :10], mask)


def test_comparison_draws_one_bar_per_method_and_column():
    scores = compare_imputers(_frame(), ["pca", "mean"], random_state=0)
    ax = plot_comparison(scores)
    assert len(ax.patches) == 2  # column "a" only has numeric MSE, two methods
    mse = scores[scores["metric"] == "mse"]
    mean = mse[mse["method"] == "mean"]
    expected = np.average(mean["score"], weights=mean["n_hidden"])
    assert ax.patches[1].get_height() == pytest.approx(expected)
    ax = plot_comparison(scores, metric="pfc")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["g"]
    with pytest.raises(ValueError, match="no 'rmse' row"):
        plot_comparison(scores, metric="rmse")
