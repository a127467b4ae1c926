"""The Markdown report of ``benchmarks.collection``.

Table 1 has the total MSE per table and method, Table 2 MIWAE's worst column
against the mean imputation, Table 3 the per-column MSE of the tables where
MIWAE loses, then the wall times. The compared MIWAE rows of ``--compare``
(method ``MIWAE (label)``) are shown after MIWAE's.
"""

import json

import numpy as np
import pandas as pd

from . import _report

__all__ = ["THRESHOLD", "column_means", "column_ratios", "report"]

#: A column where MIWAE's MSE exceeds the mean imputation's by this factor is
#: flagged.
THRESHOLD = 1.02

#: Below this an MSE counts as zero (a constant column imputed exactly).
_ZERO = 1e-12


def report(
    rows,
    columns,
    methods,
    datasets,
    *,
    description,
    seeds,
    threads,
    compare=None,
    compare_label="before",
):
    """The report of the stored rows (with ``column_mse``), as Markdown.

    ``columns`` maps each data set to its column names; ``methods`` are shown
    in order, ``"miwae"`` compared with the others (its peers); ``seeds`` is
    the number asked for (cells with fewer say how many they have);
    ``compare`` holds the MIWAE rows of another folder, shown as
    ``MIWAE (compare_label)``.
    """
    methods = list(methods)
    other = f"MIWAE ({compare_label})"
    rows = rows[rows["method"].isin(methods)]
    legend_compare = ""
    if compare is not None and len(compare):
        rows = pd.concat([rows, compare.assign(method=other)], ignore_index=True)
        legend_compare = _compare_legend(compare, other)
    else:
        other = None
    summary = _report.summarize(rows)
    data = _Data(rows, columns, summary, seeds)
    parts = [
        f"### Table 1: total MSE on the removed cells ({description})",
        "Standardised units, mean (std) over seeds; [k]: only k seeds. Best "
        "method of each table in bold (among this folder's methods). Last "
        "column(s): MIWAE / best peer, the peers being every other method. "
        + _commits_legend(rows)
        + legend_compare,
        total_table(data, methods, datasets, other),
        "### Table 2: MIWAE's worst column against the mean imputation",
        f"Per column, MIWAE's MSE / the mean imputation's MSE, each averaged over "
        f"the seeds both have; the worst column, and the number of columns above "
        f"{THRESHOLD} (a constant column that both impute exactly is not counted).",
        worst_table(data, datasets, other),
        "### Table 3: per-column MSE where MIWAE is not the best or has a column "
        f"above {THRESHOLD}",
        "Mean over the seeds MIWAE has, for every method"
        + (f" ({_display(other)} over its own)" if other else "")
        + f"; best method of each column in bold, MIWAE / mean in bold above "
        f"{THRESHOLD}.",
        *detail_tables(data, methods, datasets, other),
        "### Fit + impute wall time (median seconds)",
        f"{threads} thread(s) per run.",
        _report.time_table(summary, _with_compare(methods, other), datasets),
    ]
    return "\n\n".join(parts) + "\n"


def column_means(rows, seeds=None):
    """Per-column MSE of rows of one method and data set, averaged over their
    seeds (only ``seeds`` when given); None without rows with ``column_mse``."""
    if "column_mse" not in rows:
        return None
    if seeds is not None:
        rows = rows[rows["seed"].isin(seeds)]
    lists = [json.loads(text) for text in rows["column_mse"] if isinstance(text, str)]
    if not lists:
        return None
    stacked = np.array(lists, dtype=np.float64)  # None (no removed cell) -> nan
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(stacked).sum(axis=0)
        return np.where(counts > 0, np.nansum(stacked, axis=0) / counts, np.nan)


def column_ratios(miwae, mean):
    """MIWAE's column MSE over the mean imputation's: inf where the mean
    imputation is exact and MIWAE is not, nan where both are exact (a constant
    column) or a figure is missing."""
    miwae, mean = np.asarray(miwae, float), np.asarray(mean, float)
    exact = mean <= _ZERO
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = miwae / np.where(exact, 1.0, mean)
    ratios[exact] = np.where(miwae[exact] > _ZERO, np.inf, np.nan)
    return ratios


def total_table(data, methods, datasets, other=None):
    """Table 1: total MSE per data set and method, and MIWAE / best peer."""
    shown = _with_compare(methods, other)
    ratios = [m for m in ("miwae", other) if m in shown]
    header = ["data set", "n x p", *map(_display, shown)]
    header += [f"{_display(m)} / best peer" for m in ratios]
    lines = []
    peers = [m for m in methods if m != "miwae"]
    for dataset in datasets:
        means = {m: data.mean(m, dataset) for m in shown}
        best = _argmin({m: means[m] for m in methods})
        cells = [dataset, data.shape(dataset)]
        for method in shown:
            cell = data.cell(method, dataset)
            cells.append(f"**{cell}**" if method == best else cell)
        best_peer = min((means[m] for m in peers if means[m] is not None), default=None)
        for method in ratios:
            ok = means[method] is not None and best_peer
            cells.append(f"{means[method] / best_peer:.2f}" if ok else "–")
        lines.append(cells)
    return _report.markdown_table(header, lines)


def worst_table(data, datasets, other=None):
    """Table 2: MIWAE's worst column ratio to the mean imputation per data set."""
    candidates = [m for m in ("miwae", other) if m]
    header = ["data set"]
    for method in candidates:
        name = _display(method)
        header += [f"{name}: worst column", "ratio", f"columns > {THRESHOLD}"]
    lines = []
    for dataset in datasets:
        cells = [dataset]
        for method in candidates:
            ratios = data.ratios(method, dataset)
            if ratios is None or np.isnan(ratios).all():
                cells += ["–", "–", "–"]
                continue
            worst = int(np.nanargmax(ratios))
            cells += [
                data.columns[dataset][worst],
                _ratio(ratios[worst]),
                f"{int(np.sum(ratios > THRESHOLD))} of {len(ratios)}",
            ]
        lines.append(cells)
    return _report.markdown_table(header, lines)


def detail_tables(data, methods, datasets, other=None):
    """Table 3: a heading and the per-column MSE of each data set where MIWAE
    is not the best in total or has a column above :data:`THRESHOLD`; one line
    when there is none."""
    parts = []
    for dataset in datasets:
        reference = data.seeds("miwae", dataset)
        ratios = data.ratios("miwae", dataset)
        if ratios is None:
            continue
        means = {m: data.mean(m, dataset) for m in methods}
        if _argmin(means) == "miwae" and not np.any(ratios > THRESHOLD):
            continue
        present = [m for m in methods if data.seeds(m, dataset)]
        per_column = {m: data.column_means(m, dataset, reference) for m in present}
        if other and data.seeds(other, dataset):
            per_column[other] = data.column_means(other, dataset)
        shown = _with_compare(present, other if other in per_column else None)
        ratio_of = [m for m in ("miwae", other) if m in shown]
        header = ["column", *map(_display, shown)]
        header += [f"{_display(m)} / mean" for m in ratio_of]
        lines = []
        all_ratios = {m: data.ratios(m, dataset) for m in ratio_of}
        for j, name in enumerate(data.columns[dataset]):
            values = {
                m: per_column[m][j] for m in methods if per_column.get(m) is not None
            }
            best = _argmin(values)
            cells = [name]
            for method in shown:
                figures = per_column.get(method)
                cell = "–" if figures is None else f"{figures[j]:.3f}"
                cells.append(f"**{cell}**" if method == best else cell)
            for method in ratio_of:
                ratio = all_ratios[method]
                text = "–" if ratio is None else _ratio(ratio[j])
                flagged = ratio is not None and ratio[j] > THRESHOLD
                cells.append(f"**{text}**" if flagged else text)
            lines.append(cells)
        seeds = f"seeds {', '.join(map(str, sorted(reference)))}"
        parts += [f"#### {dataset} ({seeds})", _report.markdown_table(header, lines)]
    if parts:
        return parts
    if not any(data.seeds("miwae", dataset) for dataset in datasets):
        return ["No MIWAE rows."]
    return [f"MIWAE is the best on every table, with no column above {THRESHOLD}."]


class _Data:
    """Rows of a report, with look-ups by method and data set."""

    def __init__(self, rows, columns, summary, seeds):
        self.rows = rows
        self.columns = columns
        self.summary = summary
        self.n_seeds = seeds
        self._groups = dict(tuple(rows.groupby(["method", "dataset"])))

    def group(self, method, dataset):
        return self._groups.get((method, dataset), self.rows.iloc[:0])

    def seeds(self, method, dataset):
        return set(self.group(method, dataset)["seed"].astype(int))

    def mean(self, method, dataset):
        if (method, dataset) not in self.summary.index:
            return None
        return float(self.summary.loc[(method, dataset), "mse_mean"])

    def cell(self, method, dataset):
        text = _report._mean_std(self.summary, method, dataset, "mse")
        n = len(self.seeds(method, dataset))
        return f"{text} [{n}]" if 0 < n < self.n_seeds else text

    def shape(self, dataset):
        rows = self.rows[self.rows["dataset"] == dataset]
        n_rows = int(rows["n_rows"].iloc[0]) if len(rows) else "?"
        return f"{n_rows} x {len(self.columns[dataset])}"

    def column_means(self, method, dataset, seeds=None):
        means = column_means(self.group(method, dataset), seeds)
        if means is not None and len(means) != len(self.columns[dataset]):
            raise ValueError(
                f"{method} rows of {dataset} have {len(means)} column errors, "
                f"the table has {len(self.columns[dataset])} columns."
            )
        return means

    def ratios(self, method, dataset):
        """Column ratios to the mean imputation over the seeds both have."""
        common = self.seeds(method, dataset) & self.seeds("mean", dataset)
        if not common:
            return None
        method_mse = self.column_means(method, dataset, common)
        mean_mse = self.column_means("mean", dataset, common)
        if method_mse is None or mean_mse is None:
            return None
        return column_ratios(method_mse, mean_mse)


def _with_compare(methods, other):
    """``methods`` with the compared MIWAE rows ``other`` after ``miwae``."""
    shown = list(methods)
    if other:
        shown.insert(shown.index("miwae") + 1 if "miwae" in shown else 0, other)
    return shown


def _display(method):
    return "MIWAE" if method == "miwae" else method


def _argmin(values):
    """Key of the smallest non-missing value; None when there is none."""
    present = {k: v for k, v in values.items() if v is not None and np.isfinite(v)}
    return min(present, key=present.get) if present else None


def _ratio(value):
    return "inf" if np.isinf(value) else ("–" if np.isnan(value) else f"{value:.2f}")


def _commits_legend(rows):
    commits = sorted(set(rows["git_commit"].dropna().astype(str)))
    return f"Rows from commit(s) {', '.join(commits)}." if commits else ""


def _compare_legend(compare, name):
    commits = ", ".join(sorted(set(compare["git_commit"].dropna().astype(str))))
    params = ", ".join(sorted(set(compare["params"].dropna().astype(str))))
    return f" {name}: {len(compare)} rows, commit(s) {commits}, parameters {params}."
