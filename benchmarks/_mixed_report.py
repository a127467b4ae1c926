"""The Markdown report of ``benchmarks.mixed``.

The MSE of the removed numeric cells and the PFC of the removed categorical
cells per table and method, the per-column errors, the calibration of the
categorical probabilities and the wall times.
"""

import numpy as np
import pandas as pd

from . import _collection_report, _report

__all__ = ["pool_bins", "report", "summarize"]

_METRICS = ("mse", "pfc", "ece")


def summarize(rows):
    """Aggregate the rows over seeds, per method and data set.

    Parameters
    ----------
    rows : DataFrame
        Rows of ``results.csv`` of ``benchmarks.mixed``.

    Returns
    -------
    summary : DataFrame
        Indexed by (method, dataset): ``{metric}_mean`` and ``{metric}_std``
        (over seeds, ddof=1) of ``mse``, ``pfc`` and ``ece``, ``n_seeds`` and
        ``seconds_median``.
    """
    rows = rows.astype(dict.fromkeys((*_METRICS, "fit_impute_seconds"), np.float64))
    grouped = rows.groupby(["method", "dataset"])
    columns = {"n_seeds": grouped["seed"].nunique()}
    for metric in _METRICS:
        columns[f"{metric}_mean"] = grouped[metric].mean()
        columns[f"{metric}_std"] = grouped[metric].std(ddof=1)
    columns["seconds_median"] = grouped["fit_impute_seconds"].median()
    return pd.DataFrame(columns)


def pool_bins(bins):
    """Reliability bins pooled over runs (seeds).

    Parameters
    ----------
    bins : DataFrame
        Rows of ``reliability.csv`` (``bin``, ``p_low``, ``p_high``,
        ``mean_p``, ``observed``, ``count``), of one method and data set.

    Returns
    -------
    pooled : DataFrame
        One row per bin with the same columns: counts summed, ``mean_p`` and
        ``observed`` averaged with the counts as weights (NaN in empty bins).
    """
    count = bins["count"].astype(np.float64)
    frame = pd.DataFrame(
        {
            "bin": bins["bin"],
            "p_low": bins["p_low"],
            "p_high": bins["p_high"],
            "p_sum": bins["mean_p"].astype(np.float64).fillna(0.0) * count,
            "hit_sum": bins["observed"].astype(np.float64).fillna(0.0) * count,
            "count": count,
        }
    )
    pooled = frame.groupby(["bin", "p_low", "p_high"], as_index=False).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled["mean_p"] = pooled["p_sum"] / pooled["count"]
        pooled["observed"] = pooled["hit_sum"] / pooled["count"]
    pooled["count"] = pooled["count"].astype(int)
    return pooled[["bin", "p_low", "p_high", "mean_p", "observed", "count"]]


def report(rows, bins, columns, methods, datasets, *, description, seeds, threads):
    """The report of the stored rows, as Markdown.

    Parameters
    ----------
    rows : DataFrame
        Stored rows (``results.csv``).
    bins : DataFrame
        Stored reliability rows of ``rows`` (``reliability.csv``).
    columns : dict
        Per data set, a dict of its column names to ``"numeric"`` or
        ``"categorical"``, in order.
    methods, datasets : sequence of str
        Methods and data sets to show, in order.
    description : str
        The protocol in words (rate, seeds).
    seeds : int
        Seeds asked for; cells with fewer say how many they have.
    threads : int
        Threads per run, for the wall-time table.

    Returns
    -------
    markdown : str
    """
    methods = [m for m in methods if m in set(rows["method"])] or list(methods)
    summary = summarize(rows)
    legend = (
        "Mean (std) over seeds; [k]: only k seeds; best method of each table in "
        "bold. " + _collection_report._commits_legend(rows)
    )
    parts = [
        f"### MSE on the removed numeric cells ({description})",
        "Numeric columns in units of their standard deviation: centred and "
        "scaled with the mean and SD (ddof=0) of the full table's non-missing "
        "values, before removal. " + legend,
        _shapes(rows, columns, datasets),
        _metric_table(summary, methods, datasets, "mse", seeds),
        "### PFC on the removed categorical cells",
        "Proportion of the removed categorical cells imputed with a wrong level. "
        + legend,
        _metric_table(summary, methods, datasets, "pfc", seeds),
        "### Per-column errors",
        "MSE of each numeric column, PFC of each categorical one, mean over "
        "seeds; best method in bold.",
        *_column_tables(rows, columns, methods, datasets),
        "### Calibration of the categorical probabilities",
        *_calibration(summary, bins, methods, datasets, seeds),
        "### Fit + impute wall time (median seconds)",
        f"{threads} thread(s) per run.",
        _report.time_table(summary, methods, datasets),
    ]
    return "\n\n".join(parts) + "\n"


def _shapes(rows, columns, datasets):
    parts = []
    for dataset in datasets:
        kinds = list(columns[dataset].values())
        n_rows = rows.loc[rows["dataset"] == dataset, "n_rows"]
        size = f"{int(n_rows.iloc[0])} x {len(kinds)}" if len(n_rows) else "?"
        parts.append(
            f"{dataset} {size} ({kinds.count('numeric')} numeric, "
            f"{kinds.count('categorical')} categorical)"
        )
    return "Tables: " + "; ".join(parts) + "."


def _metric_table(summary, methods, datasets, metric, seeds):
    best = {}
    for dataset in datasets:
        values = {
            m: summary.loc[(m, dataset), f"{metric}_mean"]
            for m in methods
            if (m, dataset) in summary.index
        }
        best[dataset] = _collection_report._argmin(values)

    def cell(method, dataset):
        text = _report._mean_std(summary, method, dataset, metric)
        if text == "–":
            return text
        n = int(summary.loc[(method, dataset), "n_seeds"])
        text += f" [{n}]" if n < seeds else ""
        return f"**{text}**" if best[dataset] == method else text

    return _report._markdown(methods, datasets, cell)


def _column_tables(rows, columns, methods, datasets):
    parts = []
    for dataset in datasets:
        means = {}
        for method in methods:
            group = rows[(rows["method"] == method) & (rows["dataset"] == dataset)]
            group = group.rename(columns={"column_error": "column_mse"})
            values = _collection_report.column_means(group)
            if values is not None:
                means[method] = values
        if not means:
            continue
        lines = []
        for j, (name, kind) in enumerate(columns[dataset].items()):
            best = _collection_report._argmin({m: v[j] for m, v in means.items()})
            cells = [name, kind]
            for method, values in means.items():
                cell = "–" if np.isnan(values[j]) else f"{values[j]:.3f}"
                cells.append(f"**{cell}**" if method == best else cell)
            lines.append(cells)
        header = ["column", "type", *means]
        parts += [f"#### {dataset}", _report.markdown_table(header, lines)]
    return parts or ["No rows."]


def _calibration(summary, bins, methods, datasets, seeds):
    has = set(summary.index[summary["ece_mean"].notna()].get_level_values(0))
    calibrated = [m for m in methods if m in has]
    if not calibrated:
        return ["No method gave per-level probabilities."]
    parts = [
        "For methods with `transform(X, return_proba=True)`: every removed "
        "categorical cell and every level c of its column give a pair (p_c, "
        "1[true level = c]), binned by p_c into tenths. Expected calibration "
        "error (ECE: the count-weighted mean of |mean p_c - observed frequency| "
        "over the bins), mean (std) over seeds:",
        _metric_table(summary, calibrated, datasets, "ece", seeds),
    ]
    for method in calibrated:
        header = ["p_c", *[f"{d}: mean p_c / observed (pairs)" for d in datasets]]
        lines = []
        pooled = {}
        for dataset in datasets:
            group = bins[(bins["method"] == method) & (bins["dataset"] == dataset)]
            if len(group):
                pooled[dataset] = pool_bins(group).set_index("bin")
        if not pooled:
            continue
        first = next(iter(pooled.values()))
        for b, bin_row in first.iterrows():
            cells = [f"{bin_row['p_low']:.1f}–{bin_row['p_high']:.1f}"]
            for dataset in datasets:
                table = pooled.get(dataset)
                if table is None or table.loc[b, "count"] == 0:
                    cells.append("–")
                    continue
                line = table.loc[b]
                cells.append(
                    f"{line['mean_p']:.3f} / {line['observed']:.3f} "
                    f"({int(line['count'])})"
                )
            lines.append(cells)
        parts += [
            f"#### {method}: reliability, pooled over seeds",
            _report.markdown_table(header, lines),
        ]
    return parts
