"""
=============================
Which imputer for my table?
=============================

No imputer wins on every table. :func:`~miwae_impute.compare_imputers`
measures it on yours: it hides observed cells the way the table's own gaps
fall, imputes them with each candidate, and scores the imputations against
the values that were there. ``miwae_impute.plotting`` then draws the
scores, the imputations against the observed values, and MIWAE's training.

.. note::

   To run in about a minute, MIWAE trains for 30 epochs here (the default,
   ``max_iter="auto"``, trains at least 200 on a table of this size). With
   its defaults it imputes better than here; see the benchmarks in the
   README.
"""

# %%
# A table with gaps
# -----------------
#
# The concrete data of the MIWAE paper (or breast cancer, offline), with 20%
# of its cells removed at random to stand for a user's gaps.
import matplotlib.pyplot as plt
import numpy as np
from _example_data import load_table
from sklearn.base import clone

from miwae_impute import (
    MeanImputer,
    MissForestImputer,
    MIWAEImputer,
    NearestNeighborsImputer,
    PCAImputer,
    compare_imputers,
    summarize_comparison,
)
from miwae_impute.plotting import plot_comparison, plot_distributions, plot_history

frame, name = load_table("concrete", max_columns=8)
rng = np.random.default_rng(0)
X = frame.mask(rng.random(frame.shape) < 0.2)
print(f"{name}: {X.shape[0]} rows, {X.isna().mean().mean():.0%} of the cells missing")

# %%
# Compare five imputers on the table's own cells
# ----------------------------------------------
#
# Each candidate imputes the same three hidings. The scores are tidy rows:
# one per method, repeat, column and metric.
imputers = {
    "miwae": MIWAEImputer(max_iter=30, random_state=0),
    "missforest": MissForestImputer(random_state=0),
    "knn": NearestNeighborsImputer(),
    "pca": PCAImputer(random_state=0),
    "mean": MeanImputer(),
}
scores = compare_imputers(X, imputers, random_state=0)
summary = summarize_comparison(scores)
print(summary.by_method.round(3))
print(summary.recommendation)

# %%
# The scores per column: a column may prefer another method than the table.
ax = plot_comparison(scores)
ax.set_title("MSE per column, in standard deviations")
plt.tight_layout()

# %%
# Imputations against the observed values
# ---------------------------------------
#
# The recommended imputer fills the table; its imputations of three columns
# are drawn over the observed values. Under MAR they need not match, but a
# shape far from the observed one is worth a look.
X_imputed = clone(imputers[summary.best]).fit_transform(X)
plot_distributions(X, X_imputed, columns=list(X.columns[:3]))
plt.tight_layout()

# %%
# MIWAE's training
# ----------------
#
# The bound per row over the epochs, and its moving average: still rising
# after 30 epochs, which is why the default trains longer.
miwae = clone(imputers["miwae"]).fit(X)
ax = plot_history(miwae, window=5)
plt.tight_layout()
