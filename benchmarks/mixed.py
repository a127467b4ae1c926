"""Mixed-type tables (numeric and categorical columns): runner and command line.

Protocol:

- Tables (see :func:`benchmarks.datasets.load_mixed`): ``adult``, a seeded
  5,000-row subsample of UCI Adult (6 numeric, 8 categorical features; its
  ``?`` cells are really missing), ``adult-full``, all 32,561 rows, and
  ``german``, UCI German credit (1,000 rows; 7 numeric, 13 categorical). The
  labels are dropped.
- The numeric columns are standardised with the mean and standard deviation
  (ddof=0) of the full table's non-missing values, before any cell is
  removed; the imputers see and return standardised numeric columns, and
  categorical columns as pandas ``category``.
- Each cell is removed completely at random with probability
  ``--missing-rate`` (0.3), seeded by the run's seed, on top of the cells
  already missing; only the removed cells are scored, cells missing in the
  original data never are.
- Numeric cells are scored by the MSE in those standardised units, categorical
  cells by the PFC, the proportion imputed with a wrong level. Each run also
  stores the error of every column (``column_error``, a JSON list: MSE of a
  numeric column, PFC of a categorical one; null without removed cells).
- Calibration, for imputers whose ``transform(X, return_proba=True)`` returns
  ``(X_imputed, proba)``, ``proba`` a dict of per-level probability
  DataFrames per categorical column: over the removed categorical cells and
  every level c of their column, the pairs (p_c, 1[true level == c]) are
  binned by p_c into ten equal-width bins; per bin the mean p_c, the observed
  frequency and the count go to ``reliability.csv``, and the expected
  calibration error (ECE, the count-weighted mean of |mean p_c - frequency|)
  to the run's row.

Methods: the package's imputers by their ``make_imputer`` names, called as
``fit_transform(frame)`` on the DataFrame (a method that raises a
``TypeError`` or ``ValueError`` on categorical input is skipped with a
message and nothing is stored for it), and two peers implemented here:
``mode`` (mean of each numeric column, most frequent level of each categorical
one, with scikit-learn's ``SimpleImputer``; its probabilities are the observed
level frequencies) and ``miceforest`` (miceforest's LightGBM chained
equations, ``mean_match_candidates=0``, 5 iterations; the optional dependency
of ``pip install 'miwae-impute[bench]'``, skipped when not installed).

Rows are stored and resumed as in :mod:`benchmarks.uci` (``OUT/results.csv``);
``OUT/table.md`` gets the report.

Usage::

    python -m benchmarks.mixed --out benchmarks/results/mixed     # all, seeds 0-4
    python -m benchmarks.mixed --datasets german adult --methods mode miceforest \\
        --seeds 1 --out /tmp/mixed
    python -m benchmarks.mixed --datasets german --methods mode --quick \\
        --seeds 1 --out /tmp/smoke
"""

import datetime
import importlib.util
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.impute import SimpleImputer

from . import _mixed_report, _runner, uci
from ._results import FIELDS, ResultStore, settings_key
from ._runner import Skip, Study, describe
from .datasets import MIXED_DATASETS, load_mixed
from .missingness import mcar

__all__ = [
    "DATASETS",
    "METHODS",
    "RELIABILITY_FIELDS",
    "MiceForestImputer",
    "MixedSettings",
    "ModeImputer",
    "expected_calibration_error",
    "main",
    "reliability_table",
    "removal_mask",
    "score",
]

#: Tables run by default (``adult-full`` on request).
DATASETS = ("adult", "german")

#: Imputers run by default: names of ``make_imputer``, then the peers of
#: :data:`_PEERS`.
METHODS = ("miwae", "missforest", "knn", "pca", "mean", "mode", "miceforest")

#: Columns of ``reliability.csv``.
RELIABILITY_FIELDS = (
    "key",
    "method",
    "dataset",
    "seed",
    "bin",
    "p_low",
    "p_high",
    "mean_p",
    "observed",
    "count",
)

#: Bins of the reliability table.
N_BINS = 10

#: Bump when the protocol or a table changes, so that old rows are not reused.
_MIXED_VERSION = 1

# Smoke-test budgets of --quick for the peers (uci's for the package's imputers).
_QUICK_PARAMS = {"miceforest": {"iterations": 1}}


class ModeImputer(BaseEstimator):
    """Mean of each numeric column, most frequent level of each categorical one.

    Categorical columns are those of ``category`` dtype; ties go to the
    smallest level (``SimpleImputer(strategy="most_frequent")``).
    """

    def fit(self, X, y=None):
        """Learn the column means and most frequent levels.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Data with missing values as NaN.
        y : None
            Ignored.

        Returns
        -------
        self : ModeImputer
        """
        self.categorical_ = [c for c in X.columns if _is_categorical(X[c])]
        self.numeric_ = [c for c in X.columns if c not in self.categorical_]
        self.dtypes_ = X.dtypes
        if self.numeric_:
            self.means_ = SimpleImputer(keep_empty_features=True).fit(X[self.numeric_])
        if self.categorical_:
            self.modes_ = SimpleImputer(strategy="most_frequent").fit(
                X[self.categorical_].astype(object)
            )
        self.frequencies_ = {
            c: X[c].value_counts(normalize=True, sort=False) for c in self.categorical_
        }
        return self

    def transform(self, X, return_proba=False):
        """Fill the missing values.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Data with the columns seen in ``fit``.
        return_proba : bool, default=False
            Also return the per-level probabilities of each categorical column:
            the observed level frequencies, the same for every row.

        Returns
        -------
        X_imputed : DataFrame of shape (n_samples, n_features)
            With the dtypes of ``X``.
        proba : dict of DataFrame
            Only with ``return_proba``: per categorical column, a frame of shape
            (n_samples, n_levels) whose columns are the levels.
        """
        out = X.copy()
        if self.numeric_:
            out[self.numeric_] = self.means_.transform(X[self.numeric_])
        if self.categorical_:
            modes = self.modes_.transform(X[self.categorical_].astype(object))
            for k, column in enumerate(self.categorical_):
                out[column] = pd.Categorical(modes[:, k], dtype=self.dtypes_[column])
        if not return_proba:
            return out
        proba = {
            column: pd.DataFrame(
                np.tile(freq.to_numpy(), (len(X), 1)), columns=list(freq.index)
            )
            for column, freq in self.frequencies_.items()
        }
        return out, proba

    def fit_transform(self, X, y=None):
        """``fit(X).transform(X)``; see :meth:`transform`."""
        return self.fit(X).transform(X)


class MiceForestImputer(BaseEstimator):
    """miceforest's chained equations with LightGBM random forests.

    Uses the API of miceforest 6 (``ImputationKernel(data, num_datasets=...)``,
    ``complete_data(0)``). It imputes rare levels far more often than they
    occur: on adult's native-country (90% one level) its PFC was 0.70 against
    the mode's 0.10 (seed 0), with miceforest's warning about very rare levels.

    Parameters
    ----------
    iterations : int, default=5
        MICE iterations.
    mean_match_candidates : int, default=0
        0: no mean matching, the forests' predictions (numeric) and most
        probable levels (categorical) are the imputations.
    num_threads : int, default=1
        LightGBM threads.
    random_state : int, default=None
        Seed of the kernel.
    """

    def __init__(
        self, iterations=5, mean_match_candidates=0, num_threads=1, random_state=None
    ):
        self.iterations = iterations
        self.mean_match_candidates = mean_match_candidates
        self.num_threads = num_threads
        self.random_state = random_state

    def fit_transform(self, X, y=None):
        """Impute ``X`` with one miceforest kernel.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Numeric columns float, categorical ones ``category``.
        y : None
            Ignored.

        Returns
        -------
        X_imputed : DataFrame of shape (n_samples, n_features)
        """
        import miceforest

        data = X.copy()
        data.columns = [f"c{j}" for j in range(X.shape[1])]  # LightGBM-safe names
        kernel = miceforest.ImputationKernel(
            data,
            num_datasets=1,
            mean_match_candidates=self.mean_match_candidates,
            random_state=self.random_state,
        )
        kernel.mice(self.iterations, num_threads=self.num_threads)
        out = kernel.complete_data(0)
        out.columns = X.columns
        return out


#: The peers implemented here, by method name.
_PEERS = {"mode": ModeImputer, "miceforest": MiceForestImputer}


@dataclass(frozen=True)
class MixedSettings(Study):
    """What to run: a :class:`~benchmarks._runner.Study` on the mixed-type tables.

    The tables of :data:`DATASETS`, the methods of :data:`METHODS`, 30%
    missing and no multiple-imputation draws. Only MCAR. Rows also store
    ``pfc``, ``ece`` and the per-column errors, and ``reliability.csv`` the
    reliability tables of the runs with probabilities.
    """

    fields: ClassVar[tuple] = (
        *FIELDS,
        "pfc",
        "ece",
        "n_missing_numeric",
        "n_missing_categorical",
        "proba_seconds",
        "column_error",
    )
    label: ClassVar[str] = "mixed"
    module: ClassVar[str] = "benchmarks.mixed"
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
        """The table with its numeric columns standardised.

        Parameters
        ----------
        name : str
            One of :data:`benchmarks.datasets.MIXED_DATASETS`.

        Returns
        -------
        X : DataFrame of shape (n_samples, n_features)
            Numeric columns centred and scaled with the mean and standard
            deviation (ddof=0) of their non-missing values in the whole table;
            categorical columns unchanged.
        """
        return standardize_numeric(load_mixed(name, data_home=self.data_home))

    def _key(self, method, dataset, seed):
        base = super()._key(method, dataset, seed)
        return settings_key({"mixed": _MIXED_VERSION, "run": base})

    def unavailable(self, methods):
        """miceforest, when it is not installed."""
        if "miceforest" in methods and not _has("miceforest"):
            return {
                "miceforest": "miceforest is not installed (pip install "
                "'miwae-impute[bench]'); its runs are skipped."
            }
        return {}

    def run_one(self, method, X, seed):
        """Mask, impute and score one run; its row and reliability table."""
        if self.mechanism != "mcar":
            raise ValueError("The mixed-type benchmark removes cells MCAR only.")
        try:
            return _run_one(self, method, X, seed)
        except _Unsupported as exc:
            raise Skip(
                f"{method} does not impute categorical columns yet ({exc}); "
                "nothing is stored for it."
            ) from exc

    def progress_line(self, row):
        """The run's MSE, PFC and time."""
        return (
            f"{row['method']:>10} {row['dataset']:<10} seed {row['seed']}: "
            f"mse {row['mse']:.3f}  pfc {row['pfc']:.3f}  "
            f"{row['fit_impute_seconds']:.1f} s"
        )

    def report(self, rows, out, args):
        """The report (scores, per-column errors, reliability of the runs in
        ``out/reliability.csv``), printed whole."""
        bins = ResultStore(Path(out) / "reliability.csv", RELIABILITY_FIELDS).load()
        present = set(self.methods) | set(rows["method"])
        methods = [m for m in dict.fromkeys((*self.methods, *METHODS)) if m in present]
        columns = {
            name: load_mixed(name, data_home=self.data_home).dtypes.map(_kind).to_dict()
            for name in self.datasets
        }
        markdown = _mixed_report.report(
            rows,
            bins[bins["key"].isin(set(rows["key"]))],
            columns,
            methods,
            self.datasets,
            description=describe(self),
            seeds=self.seeds,
            threads=self.threads,
        )
        return markdown, markdown

    @classmethod
    def check(cls, parser, args):
        """MCAR only, and no multiple imputations."""
        if args.mechanism != "mcar":
            parser.error(
                "--mechanism: the mixed-type benchmark removes cells MCAR only."
            )
        if args.n_imputations:
            parser.error("--n-imputations: no multiple imputations on mixed tables.")


def standardize_numeric(X):
    """Standardise the numeric columns of a frame with their non-missing values.

    Parameters
    ----------
    X : DataFrame
        Numeric and ``category`` columns; NaN allowed.

    Returns
    -------
    X_std : DataFrame
        A copy, each numeric column minus its mean over its non-missing values,
        divided by their standard deviation (ddof=0; a constant column is only
        centred).
    """
    X = X.copy()
    for column in X.columns:
        if not _is_categorical(X[column]):
            values = X[column].astype(np.float64)
            scale = values.std(ddof=0)
            X[column] = (values - values.mean()) / (scale if scale > 0 else 1.0)
    return X


def removal_mask(X, rate, seed):
    """The cells removed from a table: MCAR among its non-missing cells.

    Parameters
    ----------
    X : DataFrame of shape (n_samples, n_features)
        The table, NaN where a value is really missing.
    rate : float in (0, 1)
        Probability that a cell is drawn.
    seed : int
        Seed of the draw (:func:`benchmarks.missingness.mcar`).

    Returns
    -------
    mask : ndarray of bool of shape (n_samples, n_features)
        True where a cell is removed: drawn, and not missing already. Drawn
        cells that are missing already stay missing and are not scored.
    """
    return mcar(X.shape, rate, seed) & X.notna().to_numpy()


def remove(X, mask):
    """The table with the masked cells set to NaN, dtypes kept.

    Parameters
    ----------
    X : DataFrame of shape (n_samples, n_features)
    mask : ndarray of bool of shape (n_samples, n_features)

    Returns
    -------
    X_missing : DataFrame of shape (n_samples, n_features)
    """
    return pd.DataFrame(
        {c: X[c].where(~mask[:, j]) for j, c in enumerate(X.columns)}, index=X.index
    )


def score(X, X_imputed, mask):
    """MSE of the removed numeric cells, PFC of the removed categorical cells.

    Parameters
    ----------
    X : DataFrame of shape (n_samples, n_features)
        The table before removal (numeric columns standardised).
    X_imputed : DataFrame of shape (n_samples, n_features)
        An imputer's completion, with the columns of ``X`` in order; rows are
        matched by position.
    mask : ndarray of bool of shape (n_samples, n_features)
        True where a cell was removed; only these cells are scored.

    Returns
    -------
    scores : dict
        ``mse`` (over every removed numeric cell) and ``pfc`` (share of the
        removed categorical cells imputed with a wrong level), NaN without such
        cells; ``column_error``, per column its MSE or PFC (None without
        removed cells); ``n_missing_numeric`` and ``n_missing_categorical``.

    Raises
    ------
    ValueError
        When a removed cell is still missing in ``X_imputed``.
    """
    errors, numeric, categorical = [], [], []
    for j, column in enumerate(X.columns):
        rows = mask[:, j]
        truth = X[column].to_numpy(dtype=object)[rows]
        imputed = X_imputed.iloc[:, j].to_numpy(dtype=object)[rows]
        if pd.isna(imputed).any():
            raise ValueError(
                f"{int(pd.isna(imputed).sum())} removed cells of {column!r} are "
                "still missing after imputation."
            )
        if _is_categorical(X[column]):
            error = (truth != imputed).astype(np.float64)
            categorical.append(error)
        else:
            error = (imputed.astype(np.float64) - truth.astype(np.float64)) ** 2
            numeric.append(error)
        errors.append(float(error.mean()) if rows.any() else None)
    numeric = np.concatenate([np.zeros(0), *numeric])
    categorical = np.concatenate([np.zeros(0), *categorical])
    return {
        "mse": float(numeric.mean()) if numeric.size else float("nan"),
        "pfc": float(categorical.mean()) if categorical.size else float("nan"),
        "column_error": errors,
        "n_missing_numeric": int(numeric.size),
        "n_missing_categorical": int(categorical.size),
    }


def reliability_table(proba, X, mask, n_bins=N_BINS):
    """Reliability of per-level probabilities over the removed categorical cells.

    Every removed cell of a column in ``proba`` and every level c of that
    column give a pair (p_c, 1[true level == c]); the pairs are binned by p_c
    into ``n_bins`` equal-width bins of [0, 1] (the last one closed).

    Parameters
    ----------
    proba : dict
        Per categorical column name, a DataFrame of shape (n_samples, n_levels)
        whose columns are the levels, rows matched to ``X`` by position.
    X : DataFrame of shape (n_samples, n_features)
        The table before removal.
    mask : ndarray of bool of shape (n_samples, n_features)
        True where a cell was removed.
    n_bins : int, default=10
        Number of bins.

    Returns
    -------
    table : DataFrame or None
        One row per bin: ``bin``, ``p_low``, ``p_high``, ``mean_p`` (mean
        p_c), ``observed`` (share of pairs whose level is the true one) and
        ``count`` (pairs; NaN means in empty bins). None without any pair.
    """
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
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "p_low": edges[:-1],
            "p_high": edges[1:],
            "mean_p": mean_p,
            "observed": observed,
            "count": count,
        }
    )


def expected_calibration_error(table):
    """Count-weighted mean of |mean p - observed frequency| over the bins.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`reliability_table` (or bins pooled from several).

    Returns
    -------
    ece : float
    """
    count = table["count"].to_numpy(dtype=np.float64)
    gap = np.abs(table["mean_p"] - table["observed"]).to_numpy(dtype=np.float64)
    filled = count > 0
    return float(np.sum(count[filled] * gap[filled]) / count.sum())


def main(argv=None):
    """``python -m benchmarks.mixed``: :func:`benchmarks._runner.main` of
    :class:`MixedSettings`."""
    return _runner.main(MixedSettings, argv)


# -- one run -------------------------------------------------------------------
class _Unsupported(Exception):
    """A package imputer refused the categorical input."""


def _run_one(settings, method, X, seed):
    """Mask, impute and score one run; its row and reliability table (or None)."""
    mask = removal_mask(X, settings.missing_rate, seed)
    X_missing = remove(X, mask)
    imputer, params = _build_imputer(method, seed, settings)
    start = time.perf_counter()
    try:
        X_imputed = imputer.fit_transform(X_missing)
    except (TypeError, ValueError) as exc:
        if method in _PEERS:
            raise
        raise _Unsupported(f"{type(exc).__name__}: {exc}") from exc
    seconds = time.perf_counter() - start
    X_imputed = _as_frame(X_imputed, X_missing, method)
    scores = score(X, X_imputed, mask)
    proba, proba_seconds = _probabilities(imputer, X_missing)
    table = None if proba is None else reliability_table(proba, X, mask)
    row = {
        "method": method,
        "seed": seed,
        "mechanism": settings.mechanism,
        "missing_rate": settings.missing_rate,
        "keep_target": False,
        "quick": settings.quick,
        "params": json.dumps(params, sort_keys=True, default=repr),
        "n_imputations": 0,
        "threads": settings.threads,
        "n_rows": X.shape[0],
        "n_cols": X.shape[1],
        "n_missing": int(mask.sum()),
        "realised_rate": float(mask.mean()),
        "mse": scores["mse"],
        "coverage90": float("nan"),
        "fit_impute_seconds": seconds,
        "sample_seconds": float("nan"),
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        **_runner.versions(),
        "pfc": scores["pfc"],
        "ece": float("nan") if table is None else expected_calibration_error(table),
        "n_missing_numeric": scores["n_missing_numeric"],
        "n_missing_categorical": scores["n_missing_categorical"],
        "proba_seconds": proba_seconds,
        "column_error": json.dumps(scores["column_error"]),
    }
    return row, table


def _build_imputer(method, seed, settings):
    """The imputer of a run, and the parameters it was given beyond its defaults.

    The package's imputers as in :mod:`benchmarks.uci`; a peer gets the run's
    seed, ``settings.threads`` threads and the ``--quick`` budgets of
    :data:`_QUICK_PARAMS` unless ``--param`` set them.
    """
    if method not in _PEERS:
        return uci._build_imputer(method, seed, settings)
    params = dict(settings.params.get(method, {}))
    imputer = _PEERS[method](**params)
    known = imputer.get_params()
    quick = _QUICK_PARAMS.get(method, {}) if settings.quick else {}
    quick = {k: v for k, v in quick.items() if k in known and k not in params}
    if "num_threads" in known and "num_threads" not in params:
        quick["num_threads"] = settings.threads
    seeded = {"random_state": seed} if "random_state" in known else {}
    imputer.set_params(**quick, **seeded)
    params.update(quick)
    return imputer, params


def _as_frame(X_imputed, X_missing, method):
    """The completion as a DataFrame with the columns of ``X_missing``."""
    if not isinstance(X_imputed, pd.DataFrame):
        X_imputed = np.asarray(X_imputed, dtype=object)
        if X_imputed.shape == X_missing.shape:
            X_imputed = pd.DataFrame(X_imputed, columns=X_missing.columns)
    if X_imputed.shape != X_missing.shape:
        raise ValueError(
            f"{method} returned shape {X_imputed.shape} for data of shape "
            f"{X_missing.shape}."
        )
    if list(X_imputed.columns) != list(X_missing.columns):
        raise ValueError(f"{method} returned the columns {list(X_imputed.columns)}.")
    return X_imputed


def _probabilities(imputer, X_missing):
    """``transform(X, return_proba=True)``'s probabilities and time, or None, NaN."""
    if not hasattr(imputer, "transform"):
        return None, float("nan")
    start = time.perf_counter()
    try:
        _, proba = imputer.transform(X_missing, return_proba=True)
    except TypeError:  # no return_proba
        return None, float("nan")
    return proba, time.perf_counter() - start


def _is_categorical(series):
    return isinstance(series.dtype, pd.CategoricalDtype)


def _kind(dtype):
    return "categorical" if isinstance(dtype, pd.CategoricalDtype) else "numeric"


def _has(module):
    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    sys.exit(main())
