"""The report layer of ``benchmarks``: the Markdown tables of every study.

A cell is ``mean (std)`` of a metric over seeds (``mean`` for one seed; with
`` [k]`` after it where only k of the seeds asked for are there; ``–`` where
there is none); a table has a line per method and a column per data set; the
smallest mean of a column is in bold where a table says so. Per-column errors
are the JSON lists stored by the rows (``column_mse``), averaged per column.
"""

import json

import numpy as np

from .datasets import DATASETS


def markdown_table(header, rows):
    """A Markdown table: the ``header`` cells, the rule, then a line per row."""
    lines = ["| " + " | ".join(map(str, cells)) + " |" for cells in [header, *rows]]
    lines.insert(1, "|---" * len(header) + "|")
    return "\n".join(lines)


def grid(methods, datasets, cell):
    """A table of ``cell(method, dataset)``, a line per method."""
    rows = [[m, *(cell(m, d) for d in datasets)] for m in methods]
    return markdown_table(["method", *datasets], rows)


def summarize(rows, metrics=("mse", "coverage90"), by="method"):
    """Per (``by``, dataset): ``n_seeds``, ``seconds_median`` (of
    ``fit_impute_seconds``), and each metric's ``{metric}_mean`` and
    ``{metric}_std`` over seeds (ddof=1; NaN for one seed)."""
    rows = rows.astype(dict.fromkeys([*metrics, "fit_impute_seconds"], np.float64))
    grouped = rows.groupby([by, "dataset"])
    summary = grouped["seed"].nunique().to_frame("n_seeds")
    summary["seconds_median"] = grouped["fit_impute_seconds"].median()
    for metric in metrics:
        summary[f"{metric}_mean"] = grouped[metric].mean()
        summary[f"{metric}_std"] = grouped[metric].std(ddof=1)
    return summary


def mean_std(summary, method, dataset, metric="mse", seeds=None):
    """The cell of a metric in :func:`summarize`'s ``summary``; `` [k]`` after
    it with only k of ``seeds``."""
    if (method, dataset) not in summary.index:
        return "–"
    line = summary.loc[(method, dataset)]
    mean, std, n = line[f"{metric}_mean"], line[f"{metric}_std"], line["n_seeds"]
    if np.isnan(mean):
        return "–"
    text = f"{mean:.3f}" if np.isnan(std) else f"{mean:.3f} ({std:.3f})"
    return f"{text} [{int(n)}]" if seeds and n < seeds else text


def metric_table(summary, methods, datasets, metric="mse", seeds=None, top=True):
    """The table of a metric's :func:`mean_std` cells, the smallest mean of
    each data set in bold (with ``top``)."""
    means = summary[f"{metric}_mean"]

    def cell(method, dataset):
        best = argmin({m: means.get((m, dataset)) for m in methods})
        text = mean_std(summary, method, dataset, metric, seeds)
        return bold(text, top and method == best)

    return grid(methods, datasets, cell)


def bold(text, flag=True):
    """``text`` in bold where ``flag``."""
    return f"**{text}**" if flag else text


def argmin(values):
    """Key of the smallest non-missing value; None when there is none."""
    present = {k: v for k, v in values.items() if v is not None and np.isfinite(v)}
    return min(present, key=present.get) if present else None


def commits(rows):
    """The rows' commits, sorted, as one string."""
    return ", ".join(sorted(set(rows["git_commit"].dropna().astype(str))))


def commits_legend(rows):
    """``Rows from commit(s) ...``; empty without any."""
    return f"Rows from commit(s) {commits(rows)}." if commits(rows) else ""


def column_means(rows, seeds=None, column="column_mse"):
    """The per-column errors of rows of one method and data set, averaged
    over their seeds (only ``seeds`` when given; nan where no seed has a
    figure); None without any."""
    if column not in rows:
        return None
    if seeds is not None:
        rows = rows[rows["seed"].isin(seeds)]
    lists = [json.loads(text) for text in rows[column] if isinstance(text, str)]
    if not lists:
        return None
    stacked = np.array(lists, dtype=np.float64)  # None (no removed cell) -> nan
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(stacked).sum(axis=0)
        return np.where(counts > 0, np.nansum(stacked, axis=0) / counts, np.nan)


def time_section(summary, methods, datasets, threads):
    """The section of the median fit+impute wall times, in seconds."""

    def cell(method, dataset):
        if (method, dataset) not in summary.index:
            return "–"
        seconds = summary.loc[(method, dataset), "seconds_median"]
        return "<0.01" if seconds < 0.01 else f"{seconds:.3g}"

    heading = "### Fit + impute wall time (median seconds)"
    table = grid(methods, datasets, cell)
    return f"{heading}\n\n{threads} thread(s) per run.\n\n{table}"


# -- the MIWAE paper's UCI table -----------------------------------------------------
def _paper(*cells):
    return dict(zip(DATASETS, cells))


#: The paper's UCI table: mean (std) MSE over 5 MCAR copies at 50% missing,
#: on data standardised with full-data statistics (Mattei & Frellsen, 2019).
PAPER_MSE = {
    "miwae": _paper((0.446, 0.038), (0.280, 0.021), (0.501, 0.040),
                    (0.643, 0.026), (0.735, 0.033), (0.964, 0.057)),
    "mvae": _paper((0.593, 0.059), (0.318, 0.018), (0.587, 0.026),
                   (0.686, 0.120), (0.782, 0.018), (0.997, 0.064)),
    "missforest": _paper((0.676, 0.040), (0.291, 0.026), (0.510, 0.11),
                         (0.697, 0.050), (0.798, 0.019), (1.41, 0.02)),
    "pca": _paper((0.682, 0.016), (0.729, 0.068), (0.938, 0.033),
                  (0.890, 0.033), (0.865, 0.024), (1.05, 0.061)),
    "knn": _paper((0.744, 0.033), (0.831, 0.029), (0.962, 0.034),
                  (0.981, 0.037), (0.929, 0.025), (1.17, 0.048)),
    "mean": _paper((1.02, 0.032), (1.00, 0.04), (1.01, 0.035),
                   (1.00, 0.03), (1.00, 0.02), (1.06, 0.052)),
}  # fmt: skip


def mse_table(summary, methods, datasets, *, compare_paper=True):
    """The MSE cells, each ``ours / paper = ours/paper`` with ``compare_paper``
    (meaningful on the paper's protocol only: MCAR, 50%, features only)."""

    def cell(method, dataset):
        ours = mean_std(summary, method, dataset)
        paper = PAPER_MSE.get(method, {}).get(dataset)
        if not compare_paper or paper is None:
            return ours
        # The paper's precision: three decimals below 1, two from 1 on.
        shown = f"{paper[0]:.3f}" if paper[0] < 1 else f"{paper[0]:.2f}"
        if ours == "–":
            return f"– / {shown}"
        ratio = summary.loc[(method, dataset), "mse_mean"] / paper[0]
        return f"{ours} / {shown} = {ratio:.2f}"

    return grid(methods, datasets, cell)


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
