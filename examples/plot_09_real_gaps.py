"""
===================================
A table with gaps of its own: adult
===================================

UCI Adult marks the values its respondents did not give with ``?``: the
workclass and the occupation of one person in twenty, and the country of
birth of about one in fifty. Those gaps are real, and they are not spread at
random over the table; they come in patterns (workclass and occupation
together). :func:`~miwae_impute.compare_imputers` hides observed cells in
those same patterns, so the comparison scores each imputer on gaps like the
ones it will fill.

.. note::

   To run in about a minute, MIWAE trains for 20 epochs on 1,000 rows here
   and imputes with 200 importance samples (the defaults, ``max_iter="auto"``
   and ``L=1000``, train at least 200 epochs and draw 1,000).
"""

# %%
# The table and its gaps
# ----------------------
import matplotlib.pyplot as plt
from _example_data import load_gappy_table
from sklearn.base import clone

from miwae_impute import (
    MeanImputer,
    MissForestImputer,
    MIWAEImputer,
    NearestNeighborsImputer,
    compare_imputers,
    summarize_comparison,
)
from miwae_impute.plotting import plot_comparison, plot_distributions

X, name = load_gappy_table()
gaps = X.isna()
print(f"{name}: {X.shape[0]} rows, {gaps.any(axis=1).mean():.1%} of them with gaps")
print(gaps.sum()[gaps.sum() > 0].to_string())

# %%
# Which imputer for these gaps?
# -----------------------------
#
# Each hiding copies the gaps of randomly chosen incomplete rows onto
# complete rows. Categorical columns are scored by the proportion of falsely
# classified cells (PFC), numeric ones by MSE in standard deviations.
imputers = {
    "miwae": MIWAEImputer(max_iter=20, L=200, random_state=0),
    "missforest": MissForestImputer(max_iter=3, random_state=0),
    "knn": NearestNeighborsImputer(),
    "mean": MeanImputer(),
}
scores = compare_imputers(X, imputers, n_repeats=2, random_state=0)
summary = summarize_comparison(scores)
print(summary.by_column.round(3))
print(summary.recommendation)

# %%
ax = plot_comparison(scores)
ax.set_title(f"{name}: error per column on hidden cells")
plt.tight_layout()

# %%
# The imputed cells against the observed ones
# -------------------------------------------
#
# The recommended imputer fills the real gaps. For a categorical column,
# the bars compare the shares of each level among the imputed and the
# observed cells. People who did not give their occupation need not be like
# those who did; the comparison above assumes that they are alike given
# the rest of their row (missing at random), and cannot check it.
X_imputed = clone(imputers[summary.best]).fit_transform(X)
columns = list(gaps.columns[gaps.any()])[:2]
plot_distributions(X, X_imputed, columns=columns)
plt.tight_layout()
