"""Tables and plot from the benchmark rows, and the Markdown table every report
of ``benchmarks`` is written with (:func:`markdown_table`)."""

import numpy as np
import pandas as pd

from .datasets import DATASETS

__all__ = [
    "PAPER_MSE",
    "coverage_table",
    "markdown_table",
    "mse_table",
    "plot_mse",
    "summarize",
    "time_table",
]


def markdown_table(header, rows):
    """A Markdown table: the ``header`` cells, the rule, then a line per row."""
    lines = [_line(header), "|---" * len(header) + "|"]
    return "\n".join(lines + [_line(row) for row in rows])


def _line(cells):
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _paper(*cells):
    return dict(zip(DATASETS, cells))


#: The paper's UCI table: mean (std) MSE over 5 MCAR copies at 50% missing,
#: on data standardised with full-data statistics (Mattei & Frellsen, 2019).
PAPER_MSE = {
    "miwae": _paper(
        (0.446, 0.038), (0.280, 0.021), (0.501, 0.040),
        (0.643, 0.026), (0.735, 0.033), (0.964, 0.057),
    ),
    "mvae": _paper(
        (0.593, 0.059), (0.318, 0.018), (0.587, 0.026),
        (0.686, 0.120), (0.782, 0.018), (0.997, 0.064),
    ),
    "missforest": _paper(
        (0.676, 0.040), (0.291, 0.026), (0.510, 0.11),
        (0.697, 0.050), (0.798, 0.019), (1.41, 0.02),
    ),
    "pca": _paper(
        (0.682, 0.016), (0.729, 0.068), (0.938, 0.033),
        (0.890, 0.033), (0.865, 0.024), (1.05, 0.061),
    ),
    "knn": _paper(
        (0.744, 0.033), (0.831, 0.029), (0.962, 0.034),
        (0.981, 0.037), (0.929, 0.025), (1.17, 0.048),
    ),
    "mean": _paper(
        (1.02, 0.032), (1.00, 0.04), (1.01, 0.035),
        (1.00, 0.03), (1.00, 0.02), (1.06, 0.052),
    ),
}  # fmt: skip


def summarize(rows):
    """Per (method, dataset): ``mse_mean``, ``mse_std`` (over seeds, ddof=1;
    NaN for one seed), ``n_seeds``, ``seconds_median``, ``coverage_mean`` and
    ``coverage_std`` of the rows of ``results.csv``."""
    grouped = rows.groupby(["method", "dataset"])
    return pd.DataFrame(
        {
            "mse_mean": grouped["mse"].mean(),
            "mse_std": grouped["mse"].std(ddof=1),
            "n_seeds": grouped["seed"].nunique(),
            "seconds_median": grouped["fit_impute_seconds"].median(),
            "coverage_mean": grouped["coverage90"].mean(),
            "coverage_std": grouped["coverage90"].std(ddof=1),
        }
    )


def mse_table(summary, methods, datasets, *, compare_paper=True):
    """Markdown table of :func:`summarize`'s MSE, each cell ``ours mean (std)
    / paper = ours/paper`` with ``compare_paper`` (meaningful on the paper's
    protocol only: MCAR, 50%, features only)."""

    def cell(method, dataset):
        ours = _mean_std(summary, method, dataset, "mse")
        paper = PAPER_MSE.get(method, {}).get(dataset)
        if not compare_paper or paper is None:
            return ours
        # The paper's precision: three decimals below 1, two from 1 on.
        shown = f"{paper[0]:.3f}" if paper[0] < 1 else f"{paper[0]:.2f}"
        if ours == "–":
            return f"– / {shown}"
        ratio = summary.loc[(method, dataset), "mse_mean"] / paper[0]
        return f"{ours} / {shown} = {ratio:.2f}"

    return _markdown(methods, datasets, cell)


def time_table(summary, methods, datasets):
    """Markdown table of the median fit+impute wall time in seconds."""

    def cell(method, dataset):
        if (method, dataset) not in summary.index:
            return "–"
        seconds = summary.loc[(method, dataset), "seconds_median"]
        return "<0.01" if seconds < 0.01 else f"{seconds:.3g}"

    return _markdown(methods, datasets, cell)


def coverage_table(summary, methods, datasets):
    """Markdown table of the coverage of the 90% multiple-imputation intervals
    of the methods that have one; empty when none has."""
    covered = set(summary.index[summary["coverage_mean"].notna()].get_level_values(0))
    methods = [m for m in methods if m in covered]
    if not methods:
        return ""
    return _markdown(
        methods, datasets, lambda m, d: _mean_std(summary, m, d, "coverage")
    )


def plot_mse(summary, methods, datasets, path, *, compare_paper=True):
    """Bar chart of the MSE per data set into the PNG ``path``, with the
    paper's figures marked (``compare_paper``); False, writing nothing, when
    matplotlib is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    n_cols = min(3, len(datasets))
    n_rows = -(-len(datasets) // n_cols)
    fig = Figure(figsize=(4.2 * n_cols, 3.4 * n_rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    x = np.arange(len(methods))
    for ax, dataset in zip(axes, datasets):
        stats = summary.reindex([(m, dataset) for m in methods])
        ax.bar(
            x,
            stats["mse_mean"],
            yerr=stats["mse_std"].fillna(0),
            color="tab:blue",
            alpha=0.7,
            capsize=3,
            label="ours (mean ± std)",
        )
        if compare_paper:
            paper = [PAPER_MSE.get(m, {}).get(dataset, (np.nan,))[0] for m in methods]
            ax.scatter(
                x, paper, marker="_", s=600, lw=2.5, color="tab:red", label="paper"
            )
        ax.set_title(dataset)
        ax.set_xticks(x, methods, rotation=30)
        ax.set_ylabel("MSE (standardised)")
    for ax in axes[len(datasets) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small")
    fig.savefig(path, dpi=120)
    return True


def _mean_std(summary, method, dataset, metric):
    """``mean (std)`` of a metric, ``mean`` for one seed, ``–`` when absent."""
    if (method, dataset) not in summary.index:
        return "–"
    mean = summary.loc[(method, dataset), f"{metric}_mean"]
    std = summary.loc[(method, dataset), f"{metric}_std"]
    if np.isnan(mean):
        return "–"
    return f"{mean:.3f}" if np.isnan(std) else f"{mean:.3f} ({std:.3f})"


def _markdown(methods, datasets, cell):
    rows = [[m, *(cell(m, d) for d in datasets)] for m in methods]
    return markdown_table(["method", *datasets], rows)
