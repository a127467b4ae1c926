"""A development collection of quirky tables, scored per column.

The UCI table of the MIWAE paper (``benchmarks.uci``) has six smooth,
continuous data sets. This collection adds tables with the quirks real data
have, each small enough that a MIWAE fit takes about a minute:

- ``concrete``: three zero-inflated mix columns and a 14-value age grid;
- ``adult-num``: the 6 numeric columns of UCI Adult, a seeded subsample of
  5,000 rows; capital-gain and capital-loss are more than 90% zeros;
- ``german-num``: the 7 numeric attributes of UCI German credit (1,000 rows),
  several on 2 to 4 value scales;
- ``wine``, ``diabetes`` (raw units, a binary sex column), ``iris`` and
  ``digits`` (0-16 pixel grids, mostly zeros, some columns constant): the
  scikit-learn copies;
- ``synth-*``: a smooth nonlinear table, x = tanh(z W1 + b1) W2 + noise with a
  2-dimensional Gaussian latent z, with exactly one quirk switched on:
  none (``synth-smooth``), zero inflation (``synth-pointmass``), coarse grids
  (``synth-grid``), rare predictable outliers (``synth-outliers``), few rows
  (``synth-smalln``), or repeated measurements of units (``synth-lookup``);
- thirteen more real tables, read from the local copies in the
  ``collection/`` subfolder of the data folder (``../shared/datasets``, see
  :mod:`benchmarks.datasets`; ``MANIFEST.md`` there), every column kept (a
  regression target is a column like the others), columns named ``x0``,
  ``x1``, ... (the files have no header):

  - ``autompg`` (392 x 8): car fuel economy; columns with 5, 13 and 3 values;
  - ``concreteslump`` (103 x 8): concrete mixes; two columns with a value
    held by about a quarter of the rows;
  - ``machine`` (209 x 8): computer hardware; 15 to 62 values a column, modes
    holding up to 45%;
  - ``servo`` (167 x 5): a servo system; four coded settings of 4 or 5 values;
  - ``pendulum`` (630 x 10): smooth continuous columns;
  - ``stock`` (536 x 12): three calendar-like grid columns, then continuous
    ones;
  - ``forest`` (517 x 13): forest fires; grid columns, one column 98% one
    value, the last 48% one value;
  - ``solar`` (1066 x 11): solar flares; every column has 1 to 8 values (one
    is constant);
  - ``fertility`` (100 x 10): a clinical questionnaire; binary and coded
    answers (2 to 18 values);
  - ``sml`` (4137 x 27): sensor readings; continuous columns beside grids and
    four constant columns;
  - ``phoneme`` (5404 x 6): speech features; the last column is a 0/1 class;
  - ``pumadyn32nm`` (8192 x 33): a simulated robot arm; 32 continuous inputs
    and the output;
  - ``bike`` (17379 x 18): hourly bike rentals; calendar grids (2 to 31
    values), weather, counts.

  These are never downloaded: a missing copy is an error that names the
  expected path.

Every table is offline, deterministic and complete. The protocol is the
paper's (see ``benchmarks.uci``): standardise with full-data statistics, remove
50% of the cells completely at random with seeds 0 to N-1, impute, and score
the removed cells in standardised units. Each run also stores the MSE of every
column (``column_mse``, a JSON list), so the report shows where MIWAE loses to
the mean imputation column by column. No multiple-imputation draws by default
(``--n-imputations 0``).

Usage::

    python -m benchmarks.collection --methods mean pca knn missforest --seeds 5
    python -m benchmarks.collection --methods miwae --seeds 3
    python -m benchmarks.collection --report-only --compare \\
        benchmarks/results/collection-before
    python -m benchmarks.collection --datasets iris synth-smalln \\
        --methods mean knn --quick --seeds 1 --out /tmp/smoke
"""

import json
import sys
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import expit

from . import _collection_report, _runner, uci
from ._results import FIELDS, settings_key
from ._runner import describe
from .datasets import (
    DATASETS,
    ENV_VAR,
    MIXED_SOURCES,
    Dataset,
    _adult_subsample,
    _load_source,
    data_folders,
    load_dataset,
    standardize,
)

__all__ = [
    "COLLECTION",
    "METHODS",
    "CollectionSettings",
    "column_mse",
    "load_any",
    "load_table",
    "main",
]

#: Names of the tables, in report order.
COLLECTION = (
    "concrete",
    "adult-num",
    "german-num",
    "wine",
    "diabetes",
    "iris",
    "digits",
    "synth-smooth",
    "synth-pointmass",
    "synth-grid",
    "synth-outliers",
    "synth-smalln",
    "synth-lookup",
    "autompg",
    "concreteslump",
    "machine",
    "servo",
    "pendulum",
    "stock",
    "forest",
    "solar",
    "fertility",
    "sml",
    "phoneme",
    "pumadyn32nm",
    "bike",
)

#: Imputers run by default (names of ``make_imputer``).
METHODS = ("miwae", "missforest", "pca", "knn", "mean")

#: Bump when a table changes, so that stored rows of the old table are not reused.
#: (Adding a table needs no bump: a run's key holds its table's name.)
_COLLECTION_VERSION = 1

#: Seed of every synthetic table; the four n=1000 tables share their base.
_SYNTH_SEED = 0

# The numeric columns of the mixed-type tables of ``benchmarks.datasets``.
_SOURCES = {
    f"{name}-num": replace(source, features=source.numeric)
    for name, source in MIXED_SOURCES.items()
}


def load_table(name, *, data_home=None, download=True):
    """Load a table of the collection as a complete float64 array.

    Parameters
    ----------
    name : str
        One of :data:`COLLECTION`.
    data_home : str or Path, default=None
        Folder of the UCI files (concrete, adult, german), whose
        ``collection/`` subfolder holds the real tables' copies (autompg to
        bike); see :mod:`benchmarks.datasets` for the search order when None.
    download : bool, default=True
        Download a missing UCI file from its original address. The real
        tables of ``collection/`` are never downloaded.

    Returns
    -------
    dataset : Dataset
        Named tuple ``(X, columns)``: the float64 array of shape
        (n_samples, n_features), unstandardised, and its column names.

    Raises
    ------
    ValueError
        For an unknown name, or a file that does not parse to its table's
        documented shape of finite numbers.
    FileNotFoundError
        When a table's file is in no searched folder (and, for a UCI file,
        cannot be downloaded); the message names the file and where to put it.
    """
    if name not in COLLECTION:
        raise ValueError(f"Unknown table {name!r}; choose from {COLLECTION}.")
    if name == "concrete":
        return load_dataset("concrete", data_home=data_home, download=download)
    if name in _SOURCES:
        X, columns = _load_source(name, _SOURCES[name], data_home, False, download)
        if name == "adult-num":
            X = X[_adult_subsample(len(X))]
        return Dataset(X, columns)
    if name in _SKLEARN:
        return _load_sklearn(name)
    if name in _REAL:
        return _load_real(name, data_home)
    return _SYNTHETIC[name]()


def load_any(name, *, data_home=None):
    """One of the paper's sets (:data:`benchmarks.datasets.DATASETS`, without
    its target) or a table of the collection, as a complete float64 array,
    unstandardised; never downloaded."""
    if name in DATASETS:
        return load_dataset(name, data_home=data_home, download=False)[0]
    return load_table(name, data_home=data_home, download=False).X


def column_mse(X, X_imputed, mask):
    """Mean squared error of each column over its removed cells.

    Parameters
    ----------
    X, X_imputed : ndarray of shape (n_samples, n_features)
        Complete data and its completion.
    mask : ndarray of bool of shape (n_samples, n_features)
        True where a cell was removed.

    Returns
    -------
    mse : list of float or None
        One entry per column; None for a column without removed cells.
        Weighted by the columns' numbers of removed cells, the entries average
        to the total MSE.
    """
    squared = np.where(mask, (np.asarray(X_imputed) - np.asarray(X)) ** 2, 0.0)
    counts = mask.sum(axis=0)
    return [
        float(total / count) if count else None
        for total, count in zip(squared.sum(axis=0), counts)
    ]


@dataclass(frozen=True)
class CollectionSettings(uci.Settings):
    """What to run: :class:`benchmarks.uci.Settings` on the collection's tables.

    The defaults differ: the tables of :data:`COLLECTION`, the methods of
    :data:`METHODS`, and no multiple-imputation draws (``n_imputations=0``).
    Rows also store ``column_mse``, and their keys change with the tables'
    version.
    """

    fields: ClassVar[tuple] = (*FIELDS, "column_mse")
    label: ClassVar[str] = "collection"
    module: ClassVar[str] = "benchmarks.collection"
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
        """The standardised complete table.

        Parameters
        ----------
        name : str
            One of :data:`COLLECTION`.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        """
        return standardize(load_table(name, data_home=self.data_home).X)

    def extra_columns(self, X, X_imputed, mask):
        """``{"column_mse": json}``: the run's per-column MSE (:func:`column_mse`)."""
        return {"column_mse": json.dumps(column_mse(X, X_imputed, mask))}

    def _key(self, method, dataset, seed):
        base = super()._key(method, dataset, seed)
        return settings_key({"collection": _COLLECTION_VERSION, "run": base})

    def report(self, rows, out, args):
        """The report (total MSE, worst columns, per-column detail, wall
        times), with the MIWAE rows of ``--compare`` beside; printed whole."""
        compare = None
        if args.compare is not None:
            compare = _compare_rows(args.compare, self)
        methods = [m for m in uci.METHODS if m in set(self.methods) | set(rows.method)]
        columns = {
            name: load_table(name, data_home=self.data_home).columns
            for name in self.datasets
        }
        markdown = _collection_report.report(
            rows,
            columns,
            methods,
            self.datasets,
            description=describe(self),
            seeds=self.seeds,
            threads=self.threads,
            compare=compare,
            compare_label=args.compare_label,
        )
        return markdown, markdown

    @classmethod
    def add_arguments(cls, parser):
        """``--compare`` and ``--compare-label``."""
        parser.add_argument(
            "--compare",
            metavar="DIR",
            default=None,
            help="results folder whose MIWAE rows are shown beside this one's",
        )
        parser.add_argument(
            "--compare-label",
            default="before",
            metavar="LABEL",
            help="name of the compared MIWAE column: MIWAE (LABEL) (before)",
        )

    @classmethod
    def check(cls, parser, args):
        """``--compare`` names a results folder."""
        if args.compare is not None:
            path = Path(args.compare) / "results.csv"
            if not path.is_file():
                parser.error(f"--compare: {path} does not exist.")


def main(argv=None):
    """``python -m benchmarks.collection``: :func:`benchmarks._runner.main` of
    :class:`CollectionSettings`."""
    return _runner.main(CollectionSettings, argv)


# -- scikit-learn tables --------------------------------------------------------
def _load_sklearn(name):
    from sklearn import datasets

    if name == "diabetes":
        bunch = datasets.load_diabetes(scaled=False)  # raw units, sex coded 1/2
    else:
        bunch = getattr(datasets, _SKLEARN[name])()
    return Dataset(
        np.asarray(bunch.data, dtype=np.float64), [str(c) for c in bunch.feature_names]
    )


_SKLEARN = {
    "wine": "load_wine",
    "diabetes": "load_diabetes",
    "iris": "load_iris",
    "digits": "load_digits",
}


# -- real tables of shared/datasets/collection ----------------------------------
#: Subfolder of a data folder that holds the real tables' files.
_REAL_FOLDER = "collection"

#: File, rows and columns of each real table, as in ``MANIFEST.md``.
_REAL = {
    "autompg": ("autompg.csv.gz", 392, 8),
    "concreteslump": ("concreteslump.csv.gz", 103, 8),
    "machine": ("machine.csv.gz", 209, 8),
    "servo": ("servo.csv.gz", 167, 5),
    "pendulum": ("pendulum.csv.gz", 630, 10),
    "stock": ("stock.csv.gz", 536, 12),
    "forest": ("forest.csv.gz", 517, 13),
    "solar": ("solar.csv.gz", 1066, 11),
    "fertility": ("fertility.csv.gz", 100, 10),
    "sml": ("sml.csv.gz", 4137, 27),
    "phoneme": ("phoneme.csv", 5404, 6),
    "pumadyn32nm": ("pumadyn32nm.csv.gz", 8192, 33),
    "bike": ("bike.csv.gz", 17379, 18),
}


def _load_real(name, data_home):
    """A real table: its whole comma-separated file, without header, as float64.

    The file is looked up in the ``collection/`` subfolder of each of
    :func:`benchmarks.datasets.data_folders`, never downloaded, and checked
    against the shape of ``MANIFEST.md``.
    """
    filename, n_rows, n_cols = _REAL[name]
    origin = (
        "phoneme.csv of jbrownlee/Datasets"
        if name == "phoneme"
        else f"uci_datasets/{name}/data.csv.gz of treforevans/uci_datasets"
    )
    paths = [folder / _REAL_FOLDER / filename for folder in data_folders(data_home)]
    path = next((p for p in paths if p.is_file()), None)
    if path is None:
        searched = ", ".join(str(p) for p in paths)
        raise FileNotFoundError(
            f"The {name!r} table needs the file {filename!r}, which is not in any "
            f"searched place ({searched}); it is never downloaded. Put the copy "
            f"from shared/datasets/{_REAL_FOLDER} (taken from {origin}) at "
            f"{paths[0]}, or point data_home / ${ENV_VAR} at a folder whose "
            f"{_REAL_FOLDER}/ subfolder holds it."
        )
    fix = (
        f"Replace it with the copy from shared/datasets/{_REAL_FOLDER} (taken "
        f"from {origin}; SHA256SUMS there checks it)."
    )
    try:
        X = pd.read_csv(path, header=None).to_numpy(dtype=np.float64)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        # gzip and zlib errors, parser errors, non-numeric cells
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
        raise ValueError(
            f"{path} has empty or non-finite cells, but the {name!r} table is "
            f"complete. {fix}"
        )
    return Dataset(X, _names("x", n_cols))


# -- synthetic tables -----------------------------------------------------------
def _smooth_base(rng, n_rows, n_cols, *, n_latent=2, n_hidden=16, noise=0.15):
    """A smooth nonlinear table x = tanh(z W1 + b1) W2 + noise, and its latent z.

    The noise of each column has ``noise`` times the standard deviation of the
    column's signal.
    """
    z = rng.normal(size=(n_rows, n_latent))
    W1 = rng.normal(size=(n_latent, n_hidden))
    b1 = rng.normal(scale=0.5, size=n_hidden)
    W2 = rng.normal(size=(n_hidden, n_cols)) / np.sqrt(n_hidden)
    signal = np.tanh(z @ W1 + b1) @ W2
    X = signal + noise * signal.std(axis=0) * rng.normal(size=signal.shape)
    return X, z


def _names(prefix, n, start=0):
    return [f"{prefix}{j}" for j in range(start, start + n)]


def _synth_smooth():
    """The control: the smooth base, 1000 x 8, no quirk."""
    X, _ = _smooth_base(np.random.default_rng(_SYNTH_SEED), 1000, 8)
    return Dataset(X, _names("x", 8))


def _synth_pointmass():
    """The base with columns 0-3 zero-inflated (about 40%, 50%, 60%, 70% zeros).

    A row's value is 0 with probability sigmoid(4 (u - t)), u a standardised
    linear function of the latent and t set for the column's zero share; else
    a positive amount, exp(0.7 x) of the standardised base column x.
    """
    rng = np.random.default_rng(_SYNTH_SEED)
    X, z = _smooth_base(rng, 1000, 8)
    for j, share in enumerate((0.4, 0.5, 0.6, 0.7)):
        u = z @ rng.normal(size=z.shape[1])
        u = (u - u.mean()) / u.std()
        zero = rng.random(len(u)) < expit(4 * (u - np.quantile(u, 1 - share)))
        amount = np.exp(0.7 * standardize(X[:, [j]])[:, 0])
        X[:, j] = np.where(zero, 0.0, amount)
    return Dataset(X, [*_names("zero", 4), *_names("x", 4, 4)])


def _synth_grid():
    """The base with columns 0-3 binned at quantiles to 3, 4, 5 and 6 levels."""
    X, _ = _smooth_base(np.random.default_rng(_SYNTH_SEED), 1000, 8)
    for j, levels in enumerate((3, 4, 5, 6)):
        edges = np.quantile(X[:, j], np.linspace(0, 1, levels + 1)[1:-1])
        X[:, j] = np.digitize(X[:, j], edges).astype(np.float64)
    return Dataset(X, [f"grid{k}" for k in (3, 4, 5, 6)] + _names("x", 4, 4))


def _synth_outliers():
    """The base with rare outliers in its last column that the others give away.

    The last column has heavy-tailed noise (Student t with 3 degrees of
    freedom, a tenth of its standard deviation). Ten rows (1%) are of a rare
    type: their last column (``outlier``) lies 8 to 10 standard deviations of
    the other rows above their mean, and columns 3 to 6 are shifted up by 2.5
    standard deviations, so the type shows in the other columns.
    """
    rng = np.random.default_rng(_SYNTH_SEED)
    X, _ = _smooth_base(rng, 1000, 8)
    X[:, 7] += 0.1 * X[:, 7].std() * rng.standard_t(3, size=len(X))
    rare = rng.choice(len(X), 10, replace=False)
    common = np.delete(X, rare, axis=0)
    X[np.ix_(rare, range(3, 7))] += 2.5 * common[:, 3:7].std(axis=0)
    X[rare, 7] = common[:, 7].mean() + common[:, 7].std() * rng.uniform(8, 10, 10)
    return Dataset(X, [*_names("x", 7), "outlier"])


def _synth_smalln():
    """The smooth base with few rows for its width: 150 x 12."""
    X, _ = _smooth_base(np.random.default_rng(_SYNTH_SEED), 150, 12)
    return Dataset(X, _names("x", 12))


def _synth_lookup():
    """Repeated measurements: 60 units x 15 rows, 3 unit attributes + 5 readings.

    The unit attributes (a smooth table of the 60 units) repeat on each of the
    unit's rows; the readings are a smooth function of the attributes plus
    small noise per row. Rows are ordered unit by unit.
    """
    rng = np.random.default_rng(_SYNTH_SEED)
    n_units, n_repeats = 60, 15
    units, _ = _smooth_base(rng, n_units, 3)
    attributes = np.repeat(units, n_repeats, axis=0)
    W1 = rng.normal(size=(3, 16))
    W2 = rng.normal(size=(16, 5)) / 4.0
    signal = np.tanh(standardize(attributes) @ W1) @ W2
    readings = signal + 0.1 * signal.std(axis=0) * rng.normal(size=signal.shape)
    return Dataset(
        np.column_stack([attributes, readings]),
        [*_names("unit", 3), *_names("reading", 5)],
    )


_SYNTHETIC = {
    "synth-smooth": _synth_smooth,
    "synth-pointmass": _synth_pointmass,
    "synth-grid": _synth_grid,
    "synth-outliers": _synth_outliers,
    "synth-smalln": _synth_smalln,
    "synth-lookup": _synth_lookup,
}


# -- stored and compared rows ---------------------------------------------------
def _compare_rows(folder, settings):
    """MIWAE rows of another results folder, to show beside this one's.

    Rows of the settings' data sets, seeds, mechanism, rate and quick flag,
    whatever their parameters and commit; the last stored row of each
    (data set, seed) wins. Folders of ``benchmarks.uci`` work too (without
    per-column errors).

    Parameters
    ----------
    folder : str or Path
        The other results folder.
    settings : CollectionSettings
        This report's settings.

    Returns
    -------
    rows : DataFrame
        At most one MIWAE row per (data set, seed).

    Raises
    ------
    FileNotFoundError
        When ``folder`` has no ``results.csv``.
    """
    path = Path(folder) / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(f"--compare: {path} does not exist.")
    rows = pd.read_csv(path, dtype={"key": str, "git_commit": str})
    keep = (
        (rows["method"] == "miwae")
        & rows["dataset"].isin(settings.datasets)
        & (rows["seed"] < settings.seeds)
        & (rows["mechanism"] == settings.mechanism)
        & np.isclose(rows["missing_rate"], settings.missing_rate)
        & (rows["quick"].astype(bool) == settings.quick)
    )
    return rows[keep].drop_duplicates(["dataset", "seed"], keep="last")


if __name__ == "__main__":
    sys.exit(main())
