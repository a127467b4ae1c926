"""Mixed-type tables (numeric and categorical columns): runner and command line.

Protocol:

- Tables: ``adult`` (a 5,000-row subsample of ``adult-full``, UCI Adult; its
  ``?`` cells are really missing) and ``german`` of
  :func:`benchmarks.datasets.load_mixed`, labels dropped.
- Numeric columns are standardised with the mean and SD (ddof=0) of the full
  table's non-missing values, before any removal; the imputers see and return
  them so, and categorical columns as pandas ``category``.
- Each non-missing cell is removed MCAR with probability ``--missing-rate``
  (0.3), seeded by the run's seed; only removed cells are scored, numeric ones
  by the MSE, categorical ones by the PFC (share imputed with a wrong level);
  ``column_error`` stores each column's MSE or PFC (null without removed cells).
- Calibration, for imputers whose ``transform(X, return_proba=True)`` returns
  ``(X_imputed, proba)`` (per categorical column, a frame of per-level
  probabilities): each removed categorical cell and level c of its column give
  a pair (p_c, 1[true level == c]), binned by p_c into ten equal-width bins
  (the last closed); per bin the mean p_c, observed frequency and count go to
  ``reliability.csv``, the expected calibration error (ECE, the count-weighted
  mean of |mean p_c - frequency|) to the run's row.

Methods: the package's imputers by their ``make_imputer`` names, called on the
DataFrame (one that raises ``TypeError`` or ``ValueError`` on categorical input
is skipped), and two peers, ``mode`` (:class:`ModeImputer`) and ``miceforest``
(:class:`MiceForestImputer`, skipped unless ``pip install
'miwae-impute[bench]'``)::

    python -m benchmarks.mixed --out benchmarks/results/mixed     # all, seeds 0-4
    python -m benchmarks.mixed --datasets german --methods mode --quick \\
        --seeds 1 --out /tmp/smoke
"""

import importlib.util
import json
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer

from . import _report, _runner, uci
from ._results import FIELDS, ResultStore
from ._runner import Skip, Study, describe
from .collection import column_lines
from .datasets import MIXED_DATASETS, load_mixed
from .missingness import mcar

__all__ = [
    "DATASETS", "METHODS", "RELIABILITY_FIELDS", "MiceForestImputer",
    "MixedSettings", "ModeImputer", "expected_calibration_error", "main",
    "pool_bins", "reliability_table", "removal_mask", "score",
]  # fmt: skip

#: Tables run by default (``adult-full`` on request).
DATASETS = ("adult", "german")

#: Imputers run by default: names of ``make_imputer``, then the peers.
METHODS = ("miwae", "missforest", "knn", "pca", "mean", "mode", "miceforest")

_BIN_FIELDS = ("bin", "p_low", "p_high", "mean_p", "observed", "count")

#: Columns of ``reliability.csv``: the run, then the bin.
RELIABILITY_FIELDS = ("key", "method", "dataset", "seed", *_BIN_FIELDS)

#: Bump when the protocol or a table changes, so that old rows are not reused.
_MIXED_VERSION = 1


class ModeImputer(TransformerMixin, BaseEstimator):
    """Mean of each numeric column, most frequent level (ties: the smallest) of
    each ``category`` one; ``transform(X, return_proba=True)`` also returns, per
    categorical column, the observed level frequencies on every row."""

    def fit(self, X, y=None):
        categorical = [c for c in X.columns if _is_categorical(X[c])]
        numeric = [c for c in X.columns if c not in categorical]
        self.fill_ = {}
        if numeric:
            means = SimpleImputer(keep_empty_features=True).fit(X[numeric]).statistics_
            self.fill_ |= dict(zip(numeric, means))
        if categorical:
            objects = X[categorical].astype(object)
            modes = SimpleImputer(strategy="most_frequent").fit(objects).statistics_
            self.fill_ |= dict(zip(categorical, modes))
        self.frequencies_ = {
            c: X[c].value_counts(normalize=True, sort=False) for c in categorical
        }
        return self

    def transform(self, X, return_proba=False):
        """Fill the missing values, keeping the dtypes of ``X``."""
        out = X.fillna(self.fill_)
        if not return_proba:
            return out
        proba = {
            c: pd.DataFrame(np.tile(f.to_numpy(), (len(X), 1)), columns=list(f.index))
            for c, f in self.frequencies_.items()
        }
        return out, proba


class MiceForestImputer(BaseEstimator):
    """miceforest's chained equations with LightGBM random forests: one kernel
    (miceforest 6's API), ``mean_match_candidates=0`` imputing the forests'
    predictions and most probable levels. It imputes rare levels far too often:
    on adult's native-country (90% one level) its PFC was 0.70 against the
    mode's 0.10 (seed 0)."""

    def __init__(
        self, iterations=5, mean_match_candidates=0, num_threads=1, random_state=None
    ):
        self.iterations = iterations
        self.mean_match_candidates = mean_match_candidates
        self.num_threads = num_threads
        self.random_state = random_state

    def fit_transform(self, X, y=None):
        import miceforest

        names = [f"c{j}" for j in range(X.shape[1])]  # LightGBM-safe names
        kernel = miceforest.ImputationKernel(
            X.set_axis(names, axis=1),
            num_datasets=1,
            mean_match_candidates=self.mean_match_candidates,
            random_state=self.random_state,
        )
        kernel.mice(self.iterations, num_threads=self.num_threads)
        return kernel.complete_data(0).set_axis(X.columns, axis=1)


_PEERS = {"mode": ModeImputer, "miceforest": MiceForestImputer}


@dataclass(frozen=True)
class MixedSettings(Study):
    """The :class:`~benchmarks._runner.Study` of the mixed-type tables: MCAR
    only, no multiple imputations; rows also store the PFC, ECE and per-column
    errors, ``reliability.csv`` the reliability tables."""

    fields: ClassVar[tuple] = (
        *FIELDS, "pfc", "ece", "n_missing_numeric", "n_missing_categorical",
        "proba_seconds", "column_error",
    )  # fmt: skip
    label: ClassVar[str] = "mixed"
    module: ClassVar[str] = "benchmarks.mixed"
    key_version: ClassVar[tuple] = ("mixed", _MIXED_VERSION)
    description: ClassVar[str] = (
        "Imputation benchmark on mixed-type tables (numeric and categorical "
        "columns): MSE, PFC and calibration on the removed cells."
    )
    title: ClassVar[str] = "Mixed-type tables"
    out: ClassVar[str] = "benchmarks/results/mixed"
    dataset_choices: ClassVar[tuple] = MIXED_DATASETS
    method_choices: ClassVar[tuple] = METHODS
    report_methods: ClassVar[tuple] = METHODS
    side_store: ClassVar[tuple] = ("reliability.csv", RELIABILITY_FIELDS)
    draws_help: ClassVar[str] = "unused here"

    datasets: tuple = DATASETS
    methods: tuple = METHODS
    missing_rate: float = 0.3
    n_imputations: int | None = 0

    def load(self, name):
        return standardize_numeric(load_mixed(name, data_home=self.data_home))

    def unavailable(self, methods):
        if "miceforest" not in methods or importlib.util.find_spec("miceforest"):
            return {}
        return {
            "miceforest": "miceforest is not installed (pip install "
            "'miwae-impute[bench]'); its runs are skipped."
        }

    def run_one(self, method, X, seed):
        """Mask, impute and score one run; its row and reliability table."""
        if self.mechanism != "mcar":
            raise ValueError("The mixed-type benchmark removes cells MCAR only.")
        mask = removal_mask(X, self.missing_rate, seed)
        X_missing = X.mask(mask)
        imputer, params = uci._build_imputer(  # a peer runs settings.threads threads
            method, seed, self, _PEERS.get(method), {"num_threads": self.threads}
        )
        start = time.perf_counter()
        try:
            X_imputed = imputer.fit_transform(X_missing)
        except (TypeError, ValueError) as exc:
            if method in _PEERS:
                raise
            raise Skip(
                f"{method} does not impute categorical columns yet "
                f"({type(exc).__name__}: {exc}); nothing is stored for it."
            ) from exc
        seconds = time.perf_counter() - start
        same = isinstance(X_imputed, pd.DataFrame) and X_imputed.shape == X.shape
        if not same or list(X_imputed.columns) != list(X.columns):
            raise ValueError(f"{method} changed the table's type, shape or columns.")
        scores = score(X, X_imputed, mask)
        proba, proba_seconds = None, float("nan")
        if hasattr(imputer, "transform"):
            start = time.perf_counter()
            with suppress(TypeError):  # no return_proba
                _, proba = imputer.transform(X_missing, return_proba=True)
                proba_seconds = time.perf_counter() - start
        table = None if proba is None else reliability_table(proba, X, mask)
        scores["column_error"] = json.dumps(scores["column_error"])
        scores["ece"] = np.nan if table is None else expected_calibration_error(table)
        row = uci.standard_row(
            self, method, seed, X, mask, params, seconds, **scores,
            keep_target=False, n_imputations=0, proba_seconds=proba_seconds,
        )  # fmt: skip
        return row, table

    def progress_line(self, row):
        return (
            f"{row['method']:>10} {row['dataset']:<10} seed {row['seed']}: "
            f"mse {row['mse']:.3f}  pfc {row['pfc']:.3f}  "
            f"{row['fit_impute_seconds']:.1f} s"
        )

    def report(self, rows, out, args):
        """The report, printed whole: MSE, PFC, per-column errors, calibration
        (from the rows' bins of ``reliability.csv``) and wall times."""
        bins = ResultStore(Path(out) / "reliability.csv", RELIABILITY_FIELDS).load()
        bins = bins[bins["key"].isin(set(rows["key"]))]
        datasets, seeds = self.datasets, self.seeds
        methods = [
            m for m in dict.fromkeys(self.methods + self.report_methods)
            if m in set(rows["method"])
        ] or list(dict.fromkeys(self.methods))  # fmt: skip
        summary = _report.summarize(rows, ("mse", "pfc", "ece"))
        legend = (
            "Mean (std) over seeds; [k]: only k seeds; best method of each table in "
            "bold. " + _report.commits_legend(rows)
        )
        shapes, per_column = [], []
        for name in datasets:
            table = rows[rows["dataset"] == name]
            frame = load_mixed(name, data_home=self.data_home)
            kinds = frame.apply(_is_categorical).map(
                {True: "categorical", False: "numeric"}
            )
            n_rows, n = table["n_rows"], int((kinds == "numeric").sum())
            size = f"{int(n_rows.iloc[0])} x {len(kinds)}" if len(n_rows) else "?"
            shapes.append(f"{name} {size} ({n} numeric, {len(kinds) - n} categorical)")
            per_column += _column_table(name, table, kinds, methods)
        parts = [
            f"### MSE on the removed numeric cells ({describe(self)})",
            "Numeric columns in units of their standard deviation: centred and "
            "scaled with the mean and SD (ddof=0) of the full table's non-missing "
            "values, before removal. " + legend,
            "Tables: " + "; ".join(shapes) + ".",
            _report.metric_table(summary, methods, datasets, "mse", seeds),
            "### PFC on the removed categorical cells",
            "Proportion of the removed categorical cells imputed with a wrong level. "
            + legend,
            _report.metric_table(summary, methods, datasets, "pfc", seeds),
            "### Per-column errors",
            "MSE of each numeric column, PFC of each categorical one, mean over "
            "seeds; best method in bold.",
            *(per_column or ["No rows."]),
            "### Calibration of the categorical probabilities",
            *_calibration(summary, bins, methods, datasets, seeds),
            _report.time_section(summary, methods, datasets, self.threads),
        ]
        markdown = "\n\n".join(parts) + "\n"
        return markdown, markdown

    @classmethod
    def check(cls, parser, args):
        if args.mechanism != "mcar":
            parser.error("--mechanism: mixed tables lose cells MCAR only.")
        if args.n_imputations:
            parser.error("--n-imputations: no multiple imputations on mixed tables.")


def main(argv=None):
    """``python -m benchmarks.mixed``; see :func:`benchmarks._runner.main`."""
    return _runner.main(MixedSettings, argv)


def standardize_numeric(X):
    """A copy of ``X`` with each numeric column centred and scaled by the mean
    and SD (ddof=0) of its non-missing values (a constant one only centred)."""
    X = X.copy()
    for column in X.columns:
        if not _is_categorical(X[column]):
            values = X[column].astype(np.float64)
            scale = values.std(ddof=0)
            X[column] = (values - values.mean()) / (scale if scale > 0 else 1.0)
    return X


def removal_mask(X, rate, seed):
    """The removed cells: drawn MCAR (seeded) among the non-missing ones."""
    return mcar(X.shape, rate, seed) & X.notna().to_numpy()


def score(X, X_imputed, mask):
    """The run's ``mse``, ``pfc`` (NaN without such cells), ``column_error`` and
    counts of removed cells; ValueError when a removed cell is still missing."""
    errors, numeric, categorical = [], [np.zeros(0)], [np.zeros(0)]
    for j, column in enumerate(X.columns):
        rows = mask[:, j]
        truth = X[column].to_numpy(dtype=object)[rows]
        imputed = X_imputed.iloc[:, j].to_numpy(dtype=object)[rows]
        if pd.isna(imputed).any():
            raise ValueError(f"Removed cells of {column!r} still missing.")
        if _is_categorical(X[column]):
            error = (truth != imputed).astype(np.float64)
            categorical.append(error)
        else:
            error = (imputed.astype(np.float64) - truth.astype(np.float64)) ** 2
            numeric.append(error)
        errors.append(float(error.mean()) if rows.any() else None)
    numeric, categorical = np.concatenate(numeric), np.concatenate(categorical)
    return {
        "mse": float(numeric.mean()) if numeric.size else float("nan"),
        "pfc": float(categorical.mean()) if categorical.size else float("nan"),
        "column_error": errors,
        "n_missing_numeric": int(numeric.size),
        "n_missing_categorical": int(categorical.size),
    }


def reliability_table(proba, X, mask, n_bins=10):
    """The reliability bins of ``proba``'s pairs over the removed categorical
    cells (NaN means in empty bins), or None without any pair."""
    p, hit = [np.zeros(0)], [np.zeros(0, dtype=bool)]
    for j, column in enumerate(X.columns):
        rows = mask[:, j]
        if column not in proba or not rows.any():
            continue
        levels = np.asarray(proba[column].columns, dtype=object)
        p.append(np.asarray(proba[column], dtype=np.float64)[rows].ravel())
        truth = X[column].to_numpy(dtype=object)[rows]
        hit.append((truth[:, None] == levels[None, :]).ravel())
    p, hit = np.clip(np.concatenate(p), 0.0, 1.0), np.concatenate(hit)
    if not p.size:
        return None
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(bins, weights=p, minlength=n_bins) / count
        observed = np.bincount(bins, weights=hit, minlength=n_bins) / count
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    columns = (np.arange(n_bins), edges[:-1], edges[1:], mean_p, observed, count)
    return pd.DataFrame(dict(zip(_BIN_FIELDS, columns)))


def expected_calibration_error(table):
    """The ECE of a :func:`reliability_table` (or of bins pooled from several)."""
    count = table["count"].to_numpy(dtype=np.float64)
    gap = np.abs(table["mean_p"] - table["observed"]).to_numpy(dtype=np.float64)
    filled = count > 0
    return float(np.sum(count[filled] * gap[filled]) / count.sum())


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


def _column_table(name, rows, kinds, methods):
    """A table's heading and per-column errors (``kinds``: each column's type),
    the best in bold; nothing without rows."""
    means = {}
    for m in methods:
        v = _report.column_means(rows[rows["method"] == m], column="column_error")
        if v is not None:  # a column without removed cells (nan) shows "–"
            means[m] = [None if np.isnan(x) else x for x in v]
    if not means:
        return []
    lines = column_lines(list(kinds.items()), means, list(means))
    return [f"#### {name}", _report.markdown_table(["column", "type", *means], lines)]


def _calibration(summary, bins, methods, datasets, seeds):
    """The ECE per table and method, and each method's reliability bins."""

    def cell(line):
        text = f"{line['mean_p']:.3f} / {line['observed']:.3f} ({int(line['count'])})"
        return text if line["count"] else "–"

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
        _report.metric_table(summary, calibrated, datasets, "ece", seeds),
    ]
    header = ["p_c", *[f"{d}: mean p_c / observed (pairs)" for d in datasets]]
    for method in calibrated:
        own = bins[bins["method"] == method].groupby("dataset")
        pooled = {d: pool_bins(group).set_index("bin") for d, group in own}
        if not pooled:
            continue
        lines = []
        for b, edges in next(iter(pooled.values())).iterrows():
            cells = [cell(pooled[d].loc[b]) if d in pooled else "–" for d in datasets]
            lines.append([f"{edges['p_low']:.1f}–{edges['p_high']:.1f}", *cells])
        parts += [
            f"#### {method}: reliability, pooled over seeds",
            _report.markdown_table(header, lines),
        ]
    return parts


def _is_categorical(series):
    return isinstance(series.dtype, pd.CategoricalDtype)


if __name__ == "__main__":
    sys.exit(main())
