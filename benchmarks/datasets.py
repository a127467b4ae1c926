"""Loaders of the UCI data sets of the MIWAE paper's table and of the mixed tables.

``load_dataset(name)`` returns the feature columns the paper used as a float64
array, with their names; ``load_labelled(name)`` adds the class label, and
``load_mixed(name)`` returns the mixed-type tables ``adult`` and ``german``
(numeric and categorical columns) as DataFrames. Files are looked up, in this
order, in

1. the ``data_home`` argument, when given;
2. the folder named by the environment variable ``MIWAE_DATA_HOME``, when set;
3. ``../shared/datasets`` beside the repository (resolved from this file, then
   from the current directory), when that folder exists;
4. a user cache folder, ``$XDG_CACHE_HOME/miwae_impute`` or
   ``~/.cache/miwae_impute``.

A folder given by 1. or 2. is the only one searched. When no searched folder
holds the file, it is downloaded from its original UCI address into the last
searched folder. Offline, the error says which file to put where. ``breast``
ships with scikit-learn and always loads.

The files keep their original UCI formats (see ``shared/datasets/MANIFEST.md``);
``Concrete_Data.csv`` is a ';'-separated export of the original ``.xls`` (with
values rounded to two decimals), read in preference to the ``.xls``, which needs
the optional ``xlrd`` dependency (``pip install miwae-impute[excel]``).
"""

import os
import sys
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "DATASETS", "ENV_VAR", "LABELLED_DATASETS", "MIXED_DATASETS", "Dataset",
    "data_folders", "load_dataset", "load_labelled", "load_mixed", "standardize",
]  # fmt: skip

ENV_VAR = "MIWAE_DATA_HOME"
_REPO_ROOT = Path(__file__).resolve().parents[1]
_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/"

#: Names of the data sets, in the column order of the paper's table.
DATASETS = ("banknote", "breast", "concrete", "red", "white", "yeast")
#: The data sets with a class label, for :func:`load_labelled`.
LABELLED_DATASETS = ("banknote", "breast", "red", "white", "yeast")
#: The mixed-type tables; ``adult`` is a seeded 5,000-row subsample of ``adult-full``.
MIXED_DATASETS = ("adult", "adult-full", "german")


class Dataset(NamedTuple):
    """A loaded data set: unpacks as ``X, columns = load_dataset(name)``."""

    X: np.ndarray
    columns: list


@dataclass(frozen=True)
class _Source:
    """A UCI file: accepted names (the last is downloaded from ``url``), its
    columns, the features among them, the numeric target (or None), the number
    of rows, its reader, and the numeric features of a mixed-type table."""

    files: tuple
    url: str
    columns: tuple
    features: tuple
    target: str | None
    n_rows: int
    read: Callable[[Path], pd.DataFrame]
    numeric: tuple | None = None


def _read_concrete(path):
    if path.suffix == ".csv":
        return pd.read_csv(path, sep=";", header=0, index_col=False)
    try:
        import xlrd  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"Reading {path} needs the optional dependency xlrd "
            "(pip install 'miwae-impute[excel]'), or put the ';'-separated export "
            f"Concrete_Data.csv beside it."
        ) from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecates the xlrd engine
        return pd.read_excel(path, engine="xlrd")


def _csv(sep, header):
    return partial(pd.read_csv, sep=sep, header=header, index_col=False)


def _read_german(path):  # german.csv: a comma-separated copy of german.data
    return _csv("," if path.suffix == ".csv" else r"\s+", None)(path)


_WINE = (
    "fixed acidity", "volatile acidity", "citric acid", "residual sugar",
    "chlorides", "free sulfur dioxide", "total sulfur dioxide", "density", "pH",
    "sulphates", "alcohol",
)  # fmt: skip
_CONCRETE = (
    "Cement", "Blast Furnace Slag", "Fly Ash", "Water", "Superplasticizer",
    "Coarse Aggregate", "Fine Aggregate", "Age (day)",
)  # fmt: skip
_STRENGTH = "Concrete compressive strength"
_YEAST = ("mcg", "gvh", "alm", "mit", "erl", "pox", "vac", "nuc")
_BANKNOTE = ("variance", "skewness", "curtosis", "entropy")
_ADULT = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
)  # fmt: skip
_GERMAN = (
    "checking account", "duration", "credit history", "purpose", "credit amount",
    "savings", "employment since", "installment rate", "personal status and sex",
    "other debtors", "residence since", "property", "age",
    "other installment plans", "housing", "existing credits", "job",
    "people liable", "telephone", "foreign worker", "credit risk",
)  # fmt: skip


def _wine(colour, n_rows):
    name = f"winequality-{colour}.csv"
    return _Source(
        files=(name,), url=f"{_UCI}wine-quality/{name}", columns=(*_WINE, "quality"),
        features=_WINE, target="quality", n_rows=n_rows, read=_csv(";", 0),
    )  # fmt: skip


_SOURCES = {
    "banknote": _Source(
        files=("data_banknote_authentication.txt",),
        url=_UCI + "00267/data_banknote_authentication.txt",
        columns=(*_BANKNOTE, "class"), features=_BANKNOTE, target="class",
        n_rows=1372, read=_csv(",", None),
    ),
    "concrete": _Source(
        files=("Concrete_Data.csv", "Concrete_Data.xls"),
        url=_UCI + "concrete/compressive/Concrete_Data.xls",
        columns=(*_CONCRETE, _STRENGTH), features=_CONCRETE, target=_STRENGTH,
        n_rows=1030, read=_read_concrete,
    ),
    "red": _wine("red", 1599),
    "white": _wine("white", 4898),
    "yeast": _Source(
        files=("yeast.data",), url=_UCI + "yeast/yeast.data",
        columns=("sequence name", *_YEAST, "class"), features=_YEAST,
        target=None,  # the class is a label, not a number
        n_rows=1484, read=_csv(r"\s+", None),
    ),
}  # fmt: skip

#: The mixed-type tables: every column but the label is a feature.
MIXED_SOURCES = {
    "adult": _Source(
        files=("adult.csv", "adult.data"), url=_UCI + "adult/adult.data",
        columns=_ADULT, features=_ADULT[:-1], target=None, n_rows=32561,
        # ", " separates the values; "?" marks those really missing (categorical)
        read=partial(
            pd.read_csv, sep=",", skipinitialspace=True, header=None, na_values=["?"]
        ),
        numeric=(
            "age", "fnlwgt", "education-num", "capital-gain", "capital-loss",
            "hours-per-week",
        ),
    ),
    "german": _Source(
        files=("german.csv", "german.data"), url=_UCI + "statlog/german/german.data",
        columns=_GERMAN, features=_GERMAN[:-1], target=None, n_rows=1000,
        read=_read_german,
        numeric=(  # attributes 2, 5, 8, 11, 13, 16 and 18
            "duration", "credit amount", "installment rate", "residence since",
            "age", "existing credits", "people liable",
        ),
    ),
}  # fmt: skip


def load_dataset(name, *, data_home=None, keep_target=False, download=True):
    """Load one of :data:`DATASETS` as a :class:`Dataset` ``(X, columns)``.

    ``keep_target`` also keeps the numeric target as the last column: banknote
    ``class``, breast ``diagnosis`` (1 = benign), concrete compressive strength,
    wine ``quality``; yeast has none. ``download=False`` refuses to download a
    missing file. A file not of its documented shape is a ``ValueError``.
    """
    if name == "breast":
        return _load_breast(keep_target)
    if name not in _SOURCES:
        raise ValueError(f"Unknown data set {name!r}; choose from {DATASETS}.")
    source = _SOURCES[name]
    frame, path = _read(name, source, data_home, download)
    columns = list(source.features)
    if keep_target and source.target is not None:
        columns.append(source.target)
    try:
        return Dataset(frame[columns].to_numpy(dtype=np.float64), columns)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{path} has non-numeric values in the {name!r} feature columns ({exc})."
        ) from exc


def load_mixed(name, *, data_home=None, download=True):
    """Load one of :data:`MIXED_DATASETS` as a DataFrame of its features.

    ``adult-full`` is UCI Adult's training split (32,561 rows; 6 numeric and 8
    categorical features, ``?`` cells as NaN); ``adult`` the seeded (seed 0)
    subsample of 5,000 of its rows that ``benchmarks.collection``'s
    ``adult-num`` uses; ``german`` UCI German credit (1,000 rows; 7 numeric
    features and 13 categorical ones coded ``A11``, ``A12``, ..., complete).
    The labels are dropped. Numeric columns are float64, the others
    ``category`` with the levels present, sorted; the index a ``RangeIndex``.
    """
    if name not in MIXED_DATASETS:
        raise ValueError(f"Unknown mixed table {name!r}; choose from {MIXED_DATASETS}.")
    key = "adult" if name.startswith("adult") else name
    source = MIXED_SOURCES[key]
    frame = _read(key, source, data_home, download)[0][list(source.features)]
    if name == "adult":
        rows = np.random.default_rng(0).choice(len(frame), 5000, replace=False)
        frame = frame.iloc[np.sort(rows)].reset_index(drop=True)
    return frame.astype(
        {c: np.float64 if c in source.numeric else "category" for c in frame.columns}
    )


def load_labelled(name, *, data_home=None, download=True):
    """Load one of :data:`LABELLED_DATASETS`: ``(X, y, columns)``, ``X`` and
    ``columns`` as :func:`load_dataset`'s; ``y`` banknote ``class`` (0/1), breast
    ``diagnosis`` (0 = malignant, 1 = benign), the wines' ``quality`` grades and
    yeast's ``class`` (ten localisation sites, as strings)."""
    if name not in LABELLED_DATASETS:
        raise ValueError(
            f"Unknown labelled data set {name!r}; choose from {LABELLED_DATASETS}."
        )
    if name == "breast":
        X, columns = _load_breast(keep_target=True)
        return X[:, :-1], X[:, -1].astype(int), columns[:-1]
    source = _SOURCES[name]
    frame, _ = _read(name, source, data_home, download)
    X = frame[list(source.features)].to_numpy(dtype=np.float64)
    return X, frame[source.target or "class"].to_numpy(), list(source.features)


def data_folders(data_home=None):
    """The folders searched for the data files, in order (see above)."""
    explicit = data_home if data_home is not None else os.environ.get(ENV_VAR)
    if explicit:
        return [Path(explicit).expanduser()]
    shared = []
    for base in (_REPO_ROOT, Path.cwd()):
        folder = (base.parent / "shared" / "datasets").resolve()
        if folder.is_dir() and folder not in shared:
            shared.append(folder)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return [*shared, Path(cache).expanduser() / "miwae_impute"]


def standardize(X):
    """Centre and scale each column with its full-data mean and standard
    deviation (``ddof=0``), the paper's protocol; a constant column is only
    centred."""
    X = np.asarray(X, dtype=np.float64)
    scale = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)


def _load_breast(keep_target):
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    X, columns = bunch.data.astype(np.float64), [str(c) for c in bunch.feature_names]
    if keep_target:
        X = np.column_stack([X, bunch.target.astype(np.float64)])
        columns.append("diagnosis")
    return Dataset(X, columns)


def _read(name, source, data_home, download):
    """The whole file of a source, its shape checked and its columns named;
    and its path."""
    path = _locate(name, source, data_home, download)
    try:
        frame = source.read(path)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"Could not parse {path} as the {name!r} data set ({exc}). Replace it "
            f"with the original file from {source.url}."
        ) from exc
    if frame.shape != (source.n_rows, len(source.columns)):
        raise ValueError(
            f"{path} parsed to {frame.shape[0]} rows x {frame.shape[1]} columns, "
            f"but the {name!r} data set has {source.n_rows} x {len(source.columns)}."
            " The file is truncated or not the original; delete it to download it "
            "again."
        )
    frame.columns = list(source.columns)
    return frame, path


def _locate(name, source, data_home, download):
    """Path of the source's file, downloaded when allowed and needed."""
    folders = data_folders(data_home)
    for folder in folders:
        for filename in source.files:
            if (folder / filename).is_file():
                return folder / filename
    target = folders[-1] / source.files[-1]
    reason = "downloads are disabled"
    if download:
        try:
            _download(source.url, target)
            return target
        except OSError as exc:  # URLError, timeouts and disk errors
            reason = f"the download failed: {exc}"
    wanted = " or ".join(repr(f) for f in source.files)
    raise FileNotFoundError(
        f"The {name!r} data set needs the file {wanted}, which is in none of the "
        f"searched folders ({', '.join(map(str, folders))}), and {reason}. "
        f"Download {source.files[-1]!r} from {source.url} and put it into "
        f"{folders[-1]}, or point data_home / ${ENV_VAR} at a folder holding it."
    )


def _download(url, path):
    """Download ``url`` to ``path`` atomically (via a ``.part`` file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_name(path.name + ".part")
    print(f"Downloading {url} to {path}", file=sys.stderr)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            partial_path.write_bytes(response.read())
        partial_path.replace(path)
    finally:
        partial_path.unlink(missing_ok=True)
