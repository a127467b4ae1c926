"""Where MIWAE loses to missForest: the columns, and what they are like.

For each table where MIWAE's MSE (mean over the seeds) is above 1.02 times
missForest's, the columns that account for most of the gap: MIWAE's and
missForest's column MSE, PCA's (a linear imputer, for scale), and traits of
the complete column: its number of distinct values, the share of its most
common value, and its excess kurtosis. A column that missForest imputes far
better than PCA depends on the others in a sharp, nonlinear way; a column
with few values is a grid, one with a large mode share zero-inflated. It
runs nothing: it reads the rows of ``benchmarks.collection`` and
``benchmarks.uci`` (folders joined by "+", the last row of a run kept).

Usage::

    R=benchmarks/results
    python -m benchmarks.experiments.loss_columns \\
        $R/collection-mcar-0.2-peers+$R/collection-mcar-0.2-seed1 --seed 0 1
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kurtosis

from benchmarks._collection_report import column_means
from benchmarks.collection import load_any

_METHODS = ("miwae", "missforest", "pca")


def _column_errors(folders, seeds):
    """{(dataset, method): mean column MSE over the seeds} of complete runs."""
    rows = pd.concat(pd.read_csv(Path(f) / "results.csv") for f in folders.split("+"))
    rows = rows[rows["method"].isin(_METHODS) & rows["seed"].isin(seeds)]
    rows = rows.drop_duplicates(["method", "dataset", "seed"], keep="last")
    out = {}
    for (dataset, method), group in rows.groupby(["dataset", "method"]):
        texts = group.get("column_mse", [None])
        if len(group) == len(seeds) and all(isinstance(t, str) for t in texts):
            out[dataset, method] = column_means(group)
    return out


def losses(folders, seeds, top=3):
    """One row per (losing table, column among its ``top`` largest gaps)."""
    errors = _column_errors(folders, seeds)
    lines = []
    for dataset in sorted({d for d, _ in errors}):
        if not all((dataset, m) in errors for m in _METHODS):
            continue
        ours, forest, pca = (errors[dataset, m] for m in _METHODS)
        if np.nanmean(ours) <= 1.02 * np.nanmean(forest):
            continue
        X = load_any(dataset)
        gap = np.nan_to_num(ours - forest)
        for j in np.argsort(-gap)[:top]:
            column = X[:, j]
            values, counts = np.unique(column, return_counts=True)
            lines.append(
                f"| {dataset} | {np.nanmean(ours) / np.nanmean(forest):.2f} | {j} "
                f"| {ours[j]:.3f} | {forest[j]:.3f} | {pca[j]:.3f} "
                f"| {gap[j] / gap.clip(0).sum():.0%} | {len(values)} "
                f"| {counts.max() / len(column):.0%} | {kurtosis(column):.1f} |"
            )
    header = (
        "| table | MIWAE / missForest | column | MIWAE | missForest | PCA "
        "| share of the gap | values | mode share | excess kurtosis |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    return "\n".join([header, *lines])


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.loss_columns"
    )
    parser.add_argument("folders", help="result folders, joined by '+'")
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--top", type=int, default=3, help="columns per table")
    args = parser.parse_args(argv)
    print(losses(args.folders, args.seed, args.top))


if __name__ == "__main__":
    main()
