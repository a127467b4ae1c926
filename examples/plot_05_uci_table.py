"""
=================================
The paper's UCI table, reproduced
=================================

The MIWAE paper (Mattei & Frellsen, 2019) compares imputers on six UCI data
sets: standardise every column, remove 50% of the cells completely at random,
impute, and report the mean squared error on the removed cells, averaged
over five random masks. ``benchmarks.uci`` runs that protocol; this example
draws its results, stored in ``benchmarks/results``, beside the paper's
figures. It trains nothing.

The runs and their commands are described in ``benchmarks/HISTORY.md`` ("UCI table:
how it was run" and "The paper's table with the new defaults"):

- ``benchmarks/results/uci/results.csv``: every method at its defaults,
  seeds 0-4, one thread per run (2026-11-21/22);
- ``benchmarks/results/uci_likelihoods/results.csv``: MIWAE with the
  point-mass likelihood, the default since 2026-11-29, seeds 0-4. Its rows
  replace MIWAE's of the first file.

The paper's figures come from ``benchmarks/_report.py`` (``PAPER_MSE``).
"""

# %%
# Read the stored rows
# --------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from _example_data import ROOT

from benchmarks._report import PAPER_MSE
from benchmarks.datasets import DATASETS

results = ROOT / "benchmarks" / "results"
rows = pd.read_csv(results / "uci" / "results.csv")
miwae_now = pd.read_csv(results / "uci_likelihoods" / "results.csv")
rows = pd.concat([rows[rows.method != "miwae"], miwae_now], ignore_index=True)
table = rows.groupby(["method", "dataset"]).mse.agg(["mean", "std", "count"])
methods = ["miwae", "mvae", "missforest", "pca", "knn", "mean"]
table["mean"].unstack("dataset").loc[methods, list(DATASETS)].round(3)

# %%
# Ours beside the paper's
# -----------------------
#
# Bars: our mean MSE over five masks, with the standard deviation over masks.
# Black ticks: the paper's mean. Mean imputation scores about 1 by
# construction.
colors = dict(zip(methods, plt.cm.tab10.colors))
width = 0.13
fig, ax = plt.subplots(figsize=(12, 4.8))
for i, method in enumerate(methods):
    x = np.arange(len(DATASETS)) + (i - 2.5) * width
    ours = table.loc[method].reindex(DATASETS)
    ax.bar(
        x,
        ours["mean"],
        width,
        yerr=ours["std"],
        color=colors[method],
        label=method,
        error_kw={"lw": 1, "capsize": 2},
    )
    paper = [PAPER_MSE[method][d][0] for d in DATASETS]
    ax.plot(x, paper, "_", color="k", ms=9, mew=2, label=None if i else "paper")
ax.set_xticks(np.arange(len(DATASETS)), DATASETS)
ax.set_ylabel("MSE on the removed cells (standardised)")
ax.set_title("50% MCAR, mean of 5 masks: ours (bars) and the paper's (ticks)")
ax.legend(ncols=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
ax.set_ylim(0, 1.5)
fig.tight_layout()
plt.show()

# %%
# MIWAE against the paper and the best baseline
# ---------------------------------------------
#
# The ratio of our MIWAE to the paper's, and to our best baseline (missForest,
# PCA, kNN or the mean) on each data set: below 1, ours is better.
best_peer = table["mean"].unstack("dataset").loc[["missforest", "pca", "knn", "mean"]]
summary = pd.DataFrame(
    {
        "MIWAE": table.loc["miwae", "mean"],
        "paper's MIWAE": {d: PAPER_MSE["miwae"][d][0] for d in DATASETS},
        "best baseline": best_peer.min(),
        "which": best_peer.idxmin(),
    }
).reindex(DATASETS)
summary["MIWAE / paper"] = summary["MIWAE"] / summary["paper's MIWAE"]
summary["MIWAE / best baseline"] = summary["MIWAE"] / summary["best baseline"]
summary.round(3)

# %%
# Our MIWAE matches the paper on white, beats it on yeast, is within 5% on
# red and 12% on breast, and falls short on banknote and concrete.
# ``benchmarks/HISTORY.md`` traces the gap to the training budget: the paper trains
# 500,000 gradient steps on a GPU, the default here about 3,000 on a CPU
# (about a minute), and tripling the training moved banknote only from 0.533
# to 0.522. Our baselines beat the paper's PCA and kNN everywhere except PCA
# on banknote, because they choose their rank and number of neighbours on
# held-out cells.
