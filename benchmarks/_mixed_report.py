"""The Markdown report of ``benchmarks.mixed``: the MSE of the removed numeric
cells and the PFC of the removed categorical cells per table and method, the
per-column errors, the calibration of the categorical probabilities and the
wall times."""

import numpy as np
import pandas as pd

from . import _report
from ._collection_report import _argmin, _commits_legend, column_means
from ._runner import describe
from .datasets import load_mixed

__all__ = ["pool_bins", "report"]


def report(settings, rows, bins):
    """The report of the stored rows (and of their reliability bins), as Markdown."""
    datasets, seeds = settings.datasets, settings.seeds
    bins = bins[bins["key"].isin(set(rows["key"]))]
    present = set(rows["method"])
    methods = [
        m for m in dict.fromkeys(settings.methods + settings.report_methods)
        if m in present
    ] or list(dict.fromkeys(settings.methods))  # fmt: skip
    columns = {
        name: {
            c: "categorical" if isinstance(t, pd.CategoricalDtype) else "numeric"
            for c, t in load_mixed(name, data_home=settings.data_home).dtypes.items()
        }
        for name in datasets
    }
    summary = _summarize(rows)
    legend = (
        "Mean (std) over seeds; [k]: only k seeds; best method of each table in "
        "bold. " + _commits_legend(rows)
    )
    parts = [
        f"### MSE on the removed numeric cells ({describe(settings)})",
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
        f"{settings.threads} thread(s) per run.",
        _report.time_table(summary, methods, datasets),
    ]
    return "\n\n".join(parts) + "\n"


def pool_bins(bins):
    """Reliability bins pooled over runs: counts summed, ``mean_p`` and
    ``observed`` averaged with the counts as weights (NaN in empty bins)."""
    count = bins["count"].to_numpy(dtype=np.float64)
    sums = bins[["bin", "p_low", "p_high"]].assign(
        mean_p=bins["mean_p"].astype(np.float64).fillna(0.0).to_numpy() * count,
        observed=bins["observed"].astype(np.float64).fillna(0.0).to_numpy() * count,
        count=count,
    )
    pooled = sums.groupby(["bin", "p_low", "p_high"], as_index=False).sum()
    for name in ("mean_p", "observed"):
        pooled[name] = pooled[name] / pooled["count"]
    pooled["count"] = pooled["count"].astype(int)
    return pooled


def _summarize(rows):
    """:func:`benchmarks._report.summarize` with the PFC and ECE mean and std."""
    metrics = ("mse", "pfc", "ece", "coverage90", "fit_impute_seconds")
    rows = rows.astype(dict.fromkeys(metrics, np.float64))
    summary = _report.summarize(rows)
    grouped = rows.groupby(["method", "dataset"])
    for metric in ("pfc", "ece"):
        summary[f"{metric}_mean"] = grouped[metric].mean()
        summary[f"{metric}_std"] = grouped[metric].std(ddof=1)
    return summary


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
    """Mean (std) per method and table, [k] with only k seeds, the best in bold."""
    means = summary[f"{metric}_mean"]
    best = {
        d: _argmin({m: means[(m, d)] for m in methods if (m, d) in means.index})
        for d in datasets
    }

    def cell(method, dataset):
        text = _report._mean_std(summary, method, dataset, metric)
        if text == "–":
            return text
        n = int(summary.loc[(method, dataset), "n_seeds"])
        text += f" [{n}]" if n < seeds else ""
        return f"**{text}**" if best[dataset] == method else text

    return _report._markdown(methods, datasets, cell)


def _column_tables(rows, columns, methods, datasets):
    parts, rows = [], rows.rename(columns={"column_error": "column_mse"})
    for dataset in datasets:
        table = rows[rows["dataset"] == dataset]
        means = {m: column_means(table[table["method"] == m]) for m in methods}
        means = {m: values for m, values in means.items() if values is not None}
        if not means:
            continue
        lines = []
        for j, (name, kind) in enumerate(columns[dataset].items()):
            best = _argmin({m: v[j] for m, v in means.items()})
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
    header = ["p_c", *[f"{d}: mean p_c / observed (pairs)" for d in datasets]]
    for method in calibrated:
        own = bins[bins["method"] == method].groupby("dataset")
        pooled = {d: pool_bins(group).set_index("bin") for d, group in own}
        if not pooled:
            continue
        lines = []
        for b, edges in next(iter(pooled.values())).iterrows():
            cells = [f"{edges['p_low']:.1f}–{edges['p_high']:.1f}"]
            for dataset in datasets:
                line = pooled[dataset].loc[b] if dataset in pooled else {"count": 0}
                cells.append(
                    f"{line['mean_p']:.3f} / {line['observed']:.3f} "
                    f"({int(line['count'])})"
                    if line["count"]
                    else "–"
                )
            lines.append(cells)
        parts += [
            f"#### {method}: reliability, pooled over seeds",
            _report.markdown_table(header, lines),
        ]
    return parts
