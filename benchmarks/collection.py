"""A development collection of quirky tables, scored per column.

The UCI table of the MIWAE paper (``benchmarks.uci``) has six smooth,
continuous data sets; this collection adds tables with the quirks of real data,
each small enough that a MIWAE fit takes about a minute:

- ``concrete`` (zero-inflated mix columns, a 14-value age grid), and the
  numeric columns of UCI Adult (``adult-num``, a seeded subsample; capital gain
  and loss over 90% zeros) and German credit (``german-num``, 2 to 4 value scales);
- scikit-learn's ``wine``, ``diabetes`` (raw units, a binary sex column),
  ``iris`` and ``digits`` (0-16 pixel grids, mostly zeros, constant columns);
- ``synth-*``: x = tanh(z W1 + b1) W2 + noise, z a 2-dimensional Gaussian
  latent, with one quirk: none (``smooth``), zero inflation (``pointmass``),
  coarse grids (``grid``), rare predictable outliers (``outliers``), few rows
  (``smalln``), repeated measurements of units (``lookup``);
- thirteen real tables, ``autompg`` (392 x 8) to ``bike`` (17379 x 18), every
  column kept as ``x0``, ``x1``, ...: read from the ``collection/`` subfolder
  of the data folder (``MANIFEST.md`` there describes each), never downloaded.

Every table is deterministic and complete. The protocol is the paper's (50%
MCAR by default, no multiple-imputation draws); each run also stores the MSE
of every column (``column_mse``, a JSON list), so the report shows where MIWAE
loses to the mean imputation column by column::

    python -m benchmarks.collection --methods mean pca knn missforest --seeds 5
    python -m benchmarks.collection --report-only --compare OTHER_RESULTS_DIR
"""

import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import expit

from . import _report, _runner, uci
from ._results import FIELDS
from ._runner import describe
from .datasets import (
    DATASETS,
    ENV_VAR,
    Dataset,
    data_folders,
    load_dataset,
    load_mixed,
    standardize,
)

__all__ = [
    "COLLECTION", "METHODS", "CollectionSettings", "column_lines", "column_mse",
    "column_ratios", "load_any", "load_table", "main", "render",
]  # fmt: skip

#: Rows and columns of each real table of ``collection/``, as in ``MANIFEST.md``.
_REAL = {
    "autompg": (392, 8), "concreteslump": (103, 8), "machine": (209, 8),
    "servo": (167, 5), "pendulum": (630, 10), "stock": (536, 12),
    "forest": (517, 13), "solar": (1066, 11), "fertility": (100, 10),
    "sml": (4137, 27), "phoneme": (5404, 6), "pumadyn32nm": (8192, 33),
    "bike": (17379, 18),
}  # fmt: skip
_SKLEARN = ("wine", "diabetes", "iris", "digits")
_SYNTHETIC = tuple(
    f"synth-{quirk}"
    for quirk in ("smooth", "pointmass", "grid", "outliers", "smalln", "lookup")
)

#: Names of the tables, in report order.
COLLECTION = ("concrete", "adult-num", "german-num", *_SKLEARN, *_SYNTHETIC, *_REAL)

#: Imputers run by default (names of ``make_imputer``).
METHODS = ("miwae", "missforest", "pca", "knn", "mean")

#: Bump when a table changes, so that stored rows of the old table are not reused.
#: (Adding a table needs no bump: a run's key holds its table's name.)
_COLLECTION_VERSION = 1

#: A column whose MSE is above this factor of the mean imputation's is flagged.
THRESHOLD = 1.02


def load_table(name, *, data_home=None, download=True):
    """A table of :data:`COLLECTION`, unstandardised, as a ``Dataset(X, columns)``."""
    if name not in COLLECTION:
        raise ValueError(f"Unknown table {name!r}; choose from {COLLECTION}.")
    if name == "concrete":
        return load_dataset("concrete", data_home=data_home, download=download)
    if name in ("adult-num", "german-num"):
        frame = load_mixed(name.split("-")[0], data_home=data_home, download=download)
        numeric = frame.select_dtypes("number")
        return Dataset(numeric.to_numpy(np.float64), list(numeric.columns))
    if name in _SKLEARN:
        from sklearn import datasets

        raw = {"scaled": False} if name == "diabetes" else {}  # sex coded 1/2
        bunch = getattr(datasets, f"load_{name}")(**raw)
        X = np.asarray(bunch.data, dtype=np.float64)
        return Dataset(X, [str(c) for c in bunch.feature_names])
    return _load_real(name, data_home) if name in _REAL else _synthetic(name)


def load_any(name, *, data_home=None):
    """One of the paper's sets (without its target) or a table of the
    collection, as a complete float64 array, unstandardised; never downloaded."""
    if name in DATASETS:
        return load_dataset(name, data_home=data_home, download=False)[0]
    return load_table(name, data_home=data_home, download=False).X


def column_mse(X, X_imputed, mask):
    """Mean squared error of each column over its removed cells (``mask``), None
    without any; weighted by those counts, they average to the total MSE."""
    squared = np.where(mask, (np.asarray(X_imputed) - np.asarray(X)) ** 2, 0.0)
    return [
        float(total / count) if count else None
        for total, count in zip(squared.sum(axis=0), mask.sum(axis=0))
    ]


@dataclass(frozen=True)
class CollectionSettings(uci.Settings):
    """:class:`benchmarks.uci.Settings` on the tables of :data:`COLLECTION`,
    without multiple-imputation draws; rows also store ``column_mse``."""

    fields: ClassVar[tuple] = (*FIELDS, "column_mse")
    label: ClassVar[str] = "collection"
    module: ClassVar[str] = "benchmarks.collection"
    key_version: ClassVar[tuple] = ("collection", _COLLECTION_VERSION)
    description: ClassVar[str] = (
        "Imputation benchmark on a collection of quirky tables, with per-column errors."
    )
    title: ClassVar[str] = "Quirky collection"
    out: ClassVar[str] = "benchmarks/results/collection"
    report_methods: ClassVar[tuple] = uci.METHODS
    draws_help: ClassVar[str] = "0: skipped"

    datasets: tuple = COLLECTION
    methods: tuple = METHODS
    n_imputations: int | None = 0

    def load(self, name):
        """The standardised complete table."""
        return standardize(load_table(name, data_home=self.data_home).X)

    def extra_columns(self, X, X_imputed, mask):
        return {"column_mse": json.dumps(column_mse(X, X_imputed, mask))}

    def report(self, rows, out, args):
        """:func:`render`, with the MIWAE rows of ``--compare``; printed whole."""
        compare = None if args.compare is None else _compare_rows(args.compare, self)
        columns = {
            name: load_table(name, data_home=self.data_home).columns
            for name in self.datasets
        }
        markdown = render(self, rows, columns, compare, args.compare_label)
        return markdown, markdown

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--compare", metavar="DIR", help="results folder of MIWAE rows to compare"
        )
        parser.add_argument(
            "--compare-label", default="before", metavar="LABEL", help="MIWAE (LABEL)"
        )

    @classmethod
    def check(cls, parser, args):
        if args.compare is not None:
            path = Path(args.compare) / "results.csv"
            if not path.is_file():
                parser.error(f"--compare: {path} does not exist.")


def main(argv=None):
    """``python -m benchmarks.collection`` (:func:`benchmarks._runner.main`)."""
    return _runner.main(CollectionSettings, argv)


def _compare_rows(folder, settings):
    """The MIWAE rows of another results folder (of this study or uci's) under
    the settings' protocol, whatever their parameters; the last per table and seed."""
    rows = pd.read_csv(
        Path(folder) / "results.csv", dtype={"key": str, "git_commit": str}
    )
    keep = (
        (rows["method"] == "miwae")
        & rows["dataset"].isin(settings.datasets)
        & (rows["seed"] < settings.seeds)
        & (rows["mechanism"] == settings.mechanism)
        & np.isclose(rows["missing_rate"], settings.missing_rate)
        & (rows["quick"].astype(bool) == settings.quick)
    )
    return rows[keep].drop_duplicates(["dataset", "seed"], keep="last")


# -- report -----------------------------------------------------------------------
def render(settings, rows, columns, compare=None, label="before"):
    """The report of the rows as Markdown (``columns``: each table's column
    names): Tables 1 to 3 and the wall times, with the MIWAE rows of
    ``compare`` after MIWAE's, as ``MIWAE (label)``."""
    present = set(settings.methods) | set(rows["method"])
    methods = [m for m in uci.METHODS if m in present]
    rows, other, legend = rows[rows["method"].isin(methods)], None, ""
    if compare is not None and len(compare):
        other = f"MIWAE ({label})"
        rows = pd.concat([rows, compare.assign(method=other)], ignore_index=True)
        params = ", ".join(sorted(set(compare["params"].dropna().astype(str))))
        legend = (
            f" {other}: {len(compare)} rows, commit(s) {_report.commits(compare)}, "
            f"parameters {params}."
        )
    summary, shown = _report.summarize(rows), _with(methods, other)
    candidates = [m for m in ("miwae", other) if m]
    rated = [m for m in candidates if m in shown]
    header = ["data set", "n x p", *map(_name, shown)]
    header += [f"{_name(m)} / best peer" for m in rated]
    worst_header = ["data set"]
    for m in candidates:
        worst_header += [f"{_name(m)}: worst column", "ratio", f"columns > {THRESHOLD}"]
    totals, worst, details = [], [], []
    for dataset in settings.datasets:
        table = _Table(dataset, rows[rows["dataset"] == dataset], columns[dataset])
        means = {m: summary["mse_mean"].get((m, dataset)) for m in shown}
        top = _report.argmin({m: means[m] for m in methods})
        peers = [means[m] for m in methods if m != "miwae" and means[m] is not None]
        peer = min(peers, default=None)
        cells = [dataset, f"{table.n_rows} x {len(table.names)}"]
        for m in shown:
            cell = _report.mean_std(summary, m, dataset, seeds=settings.seeds)
            cells.append(_report.bold(cell, m == top))
        for m in rated:
            ok = means[m] is not None and peer
            cells.append(f"{means[m] / peer:.2f}" if ok else "–")
        totals.append(cells)
        ratios = {m: table.ratios(m) for m in candidates}
        worst.append([dataset])
        for m in candidates:
            worst[-1] += _worst(ratios[m], table.names)
        mine = ratios["miwae"]
        if mine is not None and (top != "miwae" or np.any(mine > THRESHOLD)):
            details += table.detail(methods, other, ratios)
    if not details:
        miwae = rows.loc[rows["method"] == "miwae", "dataset"]
        details = [
            f"MIWAE is the best on every table, with no column above {THRESHOLD}."
            if miwae.isin(settings.datasets).any()
            else "No MIWAE rows."
        ]
    parts = [
        f"### Table 1: total MSE on the removed cells ({describe(settings)})",
        "Standardised units, mean (std) over seeds; [k]: only k seeds. Best "
        "method of each table in bold (among this folder's methods). Last "
        "column(s): MIWAE / best peer, the peers being every other method. "
        + _report.commits_legend(rows)
        + legend,
        _report.markdown_table(header, totals),
        "### Table 2: MIWAE's worst column against the mean imputation",
        "Per column, MIWAE's MSE / the mean imputation's MSE, each averaged over "
        "the seeds both have; the worst column, and the number of columns above "
        f"{THRESHOLD} (a constant column that both impute exactly is not counted).",
        _report.markdown_table(worst_header, worst),
        "### Table 3: per-column MSE where MIWAE is not the best or has a column "
        f"above {THRESHOLD}",
        "Mean over the seeds MIWAE has, for every method"
        + (f" ({other} over its own)" if other else "")
        + f"; best method of each column in bold, MIWAE / mean in bold above "
        f"{THRESHOLD}.",
        *details,
        _report.time_section(summary, shown, settings.datasets, settings.threads),
    ]
    return "\n\n".join(parts) + "\n"


def column_lines(labels, means, shown, among=None):
    """A table line per column: its ``labels`` cells, then the errors of the
    ``shown`` methods (``means``: per method, a figure per column, or None; ``–``
    for None), the smallest of ``among`` (default: all of ``means``) in bold."""
    lines = []
    for j, label in enumerate(labels):
        column = {m: None if v is None else v[j] for m, v in means.items()}
        top = _report.argmin({m: column.get(m) for m in among or column})
        cells = ["–" if column.get(m) is None else f"{column[m]:.3f}" for m in shown]
        lines.append([*label, *map(_report.bold, cells, [m == top for m in shown])])
    return lines


def column_ratios(miwae, mean):
    """MIWAE's column MSE over the mean imputation's: inf where the mean
    imputation is exact and MIWAE is not, nan where both are exact (a constant
    column) or a figure is missing."""
    miwae, mean = np.asarray(miwae, float), np.asarray(mean, float)
    exact = mean <= 1e-12  # a constant column imputed exactly
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = miwae / np.where(exact, 1.0, mean)
    ratios[exact] = np.where(miwae[exact] > 1e-12, np.inf, np.nan)
    return ratios


class _Table:
    """The rows of one table of a report, by method."""

    def __init__(self, dataset, rows, names):
        self.dataset, self.rows, self.names = dataset, rows, names
        self.n_rows = int(rows["n_rows"].iloc[0]) if len(rows) else "?"

    def seeds(self, method):
        return set(self.rows.loc[self.rows["method"] == method, "seed"].astype(int))

    def means(self, method, seeds=None):
        """The method's MSE per column, averaged over its seeds (``seeds``)."""
        means = _report.column_means(self.rows[self.rows["method"] == method], seeds)
        if means is not None and len(means) != len(self.names):
            raise ValueError(
                f"{method} rows of {self.dataset} have {len(means)} column errors, "
                f"the table has {len(self.names)} columns."
            )
        return means

    def ratios(self, method):
        """Column ratios to the mean imputation over the seeds both have."""
        common = self.seeds(method) & self.seeds("mean")
        ours, mean = (self.means(m, common) for m in (method, "mean"))
        return None if ours is None or mean is None else column_ratios(ours, mean)

    def detail(self, methods, other, ratios):
        """Table 3's heading and per-column MSE of the table."""
        reference = self.seeds("miwae")
        present = [m for m in methods if self.seeds(m)]
        means = {m: self.means(m, reference) for m in present}
        if other and self.seeds(other):
            means[other] = self.means(other)
        shown = _with(present, other if other in means else None)
        flagged = [m for m in ("miwae", other) if m in shown]
        header = ["column", *map(_name, shown)]
        header += [f"{_name(m)} / mean" for m in flagged]
        lines = column_lines([[name] for name in self.names], means, shown, methods)
        for j, cells in enumerate(lines):
            for r in (ratios[m] for m in flagged):
                flag = r is not None and r[j] > THRESHOLD
                cells.append(_report.bold("–" if r is None else _ratio(r[j]), flag))
        seeds = ", ".join(map(str, sorted(reference)))
        heading = f"#### {self.dataset} (seeds {seeds})"
        return [heading, _report.markdown_table(header, lines)]


def _worst(ratios, names):
    """Table 2's cells: the worst column, its ratio, the count above THRESHOLD."""
    if ratios is None or np.isnan(ratios).all():
        return ["–", "–", "–"]
    j = int(np.nanargmax(ratios))
    above = f"{int(np.sum(ratios > THRESHOLD))} of {len(ratios)}"
    return [names[j], _ratio(ratios[j]), above]


def _with(methods, other):
    """``methods`` with the compared MIWAE rows ``other`` after ``miwae``."""
    shown = list(methods)
    if other:
        shown.insert(shown.index("miwae") + 1 if "miwae" in shown else 0, other)
    return shown


def _name(method):
    return "MIWAE" if method == "miwae" else method


def _ratio(value):
    return "inf" if np.isinf(value) else ("–" if np.isnan(value) else f"{value:.2f}")


# -- the tables ---------------------------------------------------------------------
def _load_real(name, data_home):
    """A real table: its whole file, checked against ``MANIFEST.md``'s shape."""
    n_rows, n_cols = _REAL[name]
    if name == "phoneme":
        filename, origin = "phoneme.csv", "phoneme.csv of jbrownlee/Datasets"
    else:
        filename = f"{name}.csv.gz"
        origin = f"uci_datasets/{name}/data.csv.gz of treforevans/uci_datasets"
    copy = f"the copy from shared/datasets/collection (taken from {origin})"
    paths = [folder / "collection" / filename for folder in data_folders(data_home)]
    path = next((p for p in paths if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(
            f"The {name!r} table needs the file {filename!r}, which is not in any "
            f"searched place ({', '.join(map(str, paths))}); it is never "
            f"downloaded. Put {copy} at {paths[0]}, or point data_home / "
            f"${ENV_VAR} at a folder whose collection/ subfolder holds it."
        )
    fix = f"Replace it with {copy}; SHA256SUMS there checks it."
    try:
        X = pd.read_csv(path, header=None).to_numpy(dtype=np.float64)
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # gzip, parser, text
        raise ValueError(
            f"Could not read {path} as the {name!r} table, {n_rows} rows x "
            f"{n_cols} comma-separated numbers without header ({exc}). {fix}"
        ) from exc
    if X.shape != (n_rows, n_cols):
        raise ValueError(
            f"{path} parsed to {X.shape[0]} rows x {X.shape[1]} columns, but the "
            f"{name!r} table has {n_rows} x {n_cols}. {fix}"
        )
    if not np.isfinite(X).all():
        raise ValueError(f"{path} has empty or non-finite cells. {fix}")
    return Dataset(X, _names("x", n_cols))


def _names(prefix, n):
    return [f"{prefix}{j}" for j in range(n)]


def _smooth_base(rng, n_rows, n_cols):
    """x = tanh(z W1 + b1) W2 + noise, z of 2 dimensions, 16 hidden units, the
    noise 0.15 times each column's signal's standard deviation; and z."""
    z = rng.normal(size=(n_rows, 2))
    W1 = rng.normal(size=(2, 16))
    b1 = rng.normal(scale=0.5, size=16)
    W2 = rng.normal(size=(16, n_cols)) / 4.0
    signal = np.tanh(z @ W1 + b1) @ W2
    return signal + 0.15 * signal.std(axis=0) * rng.normal(size=signal.shape), z


def _synthetic(name):
    """A synthetic table, seed 0: the smooth base with one quirk."""
    rng = np.random.default_rng(0)
    if name == "synth-smalln":  # few rows for its width
        return Dataset(_smooth_base(rng, 150, 12)[0], _names("x", 12))
    if name == "synth-lookup":
        # 60 units x 15 rows, ordered by unit: 3 unit attributes (a smooth table
        # of the units) repeated on each of the unit's rows, and 5 readings, a
        # smooth function of the attributes plus small noise per row.
        attributes = np.repeat(_smooth_base(rng, 60, 3)[0], 15, axis=0)
        W1 = rng.normal(size=(3, 16))
        W2 = rng.normal(size=(16, 5)) / 4.0
        signal = np.tanh(standardize(attributes) @ W1) @ W2
        readings = signal + 0.1 * signal.std(axis=0) * rng.normal(size=signal.shape)
        X = np.column_stack([attributes, readings])
        return Dataset(X, [*_names("unit", 3), *_names("reading", 5)])
    X, z = _smooth_base(rng, 1000, 8)
    columns = _names("x", 8)
    if name == "synth-pointmass":
        # Columns 0-3 zero-inflated (40% to 70% zeros): 0 with probability
        # sigmoid(4 (u - t)), u a standardised linear function of the latent and
        # t set for the share; else exp(0.7 x) of the standardised base column.
        for j, share in enumerate((0.4, 0.5, 0.6, 0.7)):
            u = z @ rng.normal(size=z.shape[1])
            u = (u - u.mean()) / u.std()
            zero = rng.random(len(u)) < expit(4 * (u - np.quantile(u, 1 - share)))
            amount = np.exp(0.7 * standardize(X[:, [j]])[:, 0])
            X[:, j] = np.where(zero, 0.0, amount)
        columns[:4] = _names("zero", 4)
    elif name == "synth-grid":  # columns 0-3 binned at quantiles to 3 to 6 levels
        for j, levels in enumerate((3, 4, 5, 6)):
            edges = np.quantile(X[:, j], np.linspace(0, 1, levels + 1)[1:-1])
            X[:, j] = np.digitize(X[:, j], edges).astype(np.float64)
        columns[:4] = [f"grid{k}" for k in (3, 4, 5, 6)]
    elif name == "synth-outliers":
        # The last column has Student t(3) noise of a tenth of its standard
        # deviation; ten rare rows have it 8 to 10 standard deviations of the
        # other rows above their mean, and columns 3-6 shifted up by 2.5.
        X[:, 7] += 0.1 * X[:, 7].std() * rng.standard_t(3, size=len(X))
        rare = rng.choice(len(X), 10, replace=False)
        common = np.delete(X, rare, axis=0)
        X[np.ix_(rare, range(3, 7))] += 2.5 * common[:, 3:7].std(axis=0)
        X[rare, 7] = common[:, 7].mean() + common[:, 7].std() * rng.uniform(8, 10, 10)
        columns[7] = "outlier"
    return Dataset(X, columns)


if __name__ == "__main__":
    sys.exit(main())
