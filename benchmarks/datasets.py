"""Loaders of the six UCI data sets of the MIWAE paper's table.

``load_dataset(name)`` returns the feature columns the paper used as a float64
array, with their names. Files are looked up, in this order, in

1. the ``data_home`` argument, when given;
2. the folder named by the environment variable ``MIWAE_DATA_HOME``, when set;
3. ``../shared/datasets`` beside the repository (resolved from this file, then
   from the current directory), when that folder exists;
4. a user cache folder, ``$XDG_CACHE_HOME/miwae_impute`` or
   ``~/.cache/miwae_impute``.

A folder given by 1. or 2. is the only one searched. When no searched folder
holds the file, it is downloaded from its original UCI address into the folder
of 1./2., else into the cache folder. Offline, the error says which file to put
where. ``breast`` ships with scikit-learn and always loads.

The files keep their original UCI formats (see ``shared/datasets/MANIFEST.md``);
``Concrete_Data.csv`` is a ';'-separated export of the original ``.xls`` (with
values rounded to two decimals), read in preference to the ``.xls``, which needs
the optional ``xlrd`` dependency (``pip install miwae-impute[excel]``).

``load_mixed(name)`` returns the mixed-type tables ``adult`` and ``german``
(numeric and categorical columns) as DataFrames, from the same folders.
"""

import os
import sys
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "DATASETS",
    "ENV_VAR",
    "LABELLED_DATASETS",
    "MIXED_DATASETS",
    "Dataset",
    "data_folders",
    "load_dataset",
    "load_labelled",
    "load_mixed",
    "standardize",
]

ENV_VAR = "MIWAE_DATA_HOME"
_REPO_ROOT = Path(__file__).resolve().parents[1]
_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/"
_DOWNLOAD_TIMEOUT = 60  # seconds

_WINE = (
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
)
_CONCRETE = (
    "Cement",
    "Blast Furnace Slag",
    "Fly Ash",
    "Water",
    "Superplasticizer",
    "Coarse Aggregate",
    "Fine Aggregate",
    "Age (day)",
)
_YEAST = ("mcg", "gvh", "alm", "mit", "erl", "pox", "vac", "nuc")


class Dataset(NamedTuple):
    """A loaded data set: unpacks as ``X, columns = load_dataset(name)``."""

    X: np.ndarray
    columns: list


@dataclass(frozen=True)
class _Source:
    """Where a data set lives and how to read it.

    ``read(path)`` returns the whole file as a DataFrame, whose columns are
    then named ``columns``; ``files`` lists the accepted file names in order of
    preference, and ``url`` downloads the last of them. A mixed-type table
    names its numeric features in ``numeric``; its other features are
    categorical.
    """

    files: tuple
    url: str
    columns: tuple
    features: tuple
    target: str | None
    n_rows: int
    read: Callable[[Path], pd.DataFrame]
    numeric: tuple | None = None  # of a mixed table: its numeric features

    @property
    def download_name(self):
        return Path(urllib.parse.urlparse(self.url).path).name


def _read_csv(sep, header):
    def read(path):
        return pd.read_csv(path, sep=sep, header=header, index_col=False)

    return read


def _read_concrete(path):
    if path.suffix == ".csv":
        return _read_csv(";", 0)(path)
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


_SOURCES = {
    "banknote": _Source(
        files=("data_banknote_authentication.txt",),
        url=_UCI + "00267/data_banknote_authentication.txt",
        columns=("variance", "skewness", "curtosis", "entropy", "class"),
        features=("variance", "skewness", "curtosis", "entropy"),
        target="class",
        n_rows=1372,
        read=_read_csv(",", None),
    ),
    "concrete": _Source(
        files=("Concrete_Data.csv", "Concrete_Data.xls"),
        url=_UCI + "concrete/compressive/Concrete_Data.xls",
        columns=(*_CONCRETE, "Concrete compressive strength"),
        features=_CONCRETE,
        target="Concrete compressive strength",
        n_rows=1030,
        read=_read_concrete,
    ),
    "red": _Source(
        files=("winequality-red.csv",),
        url=_UCI + "wine-quality/winequality-red.csv",
        columns=(*_WINE, "quality"),
        features=_WINE,
        target="quality",
        n_rows=1599,
        read=_read_csv(";", 0),
    ),
    "white": _Source(
        files=("winequality-white.csv",),
        url=_UCI + "wine-quality/winequality-white.csv",
        columns=(*_WINE, "quality"),
        features=_WINE,
        target="quality",
        n_rows=4898,
        read=_read_csv(";", 0),
    ),
    "yeast": _Source(
        files=("yeast.data",),
        url=_UCI + "yeast/yeast.data",
        columns=("sequence name", *_YEAST, "class"),
        features=_YEAST,
        target=None,  # the class is a label, not a number
        n_rows=1484,
        read=_read_csv(r"\s+", None),
    ),
}

#: Names of the data sets, in the column order of the paper's table.
DATASETS = ("banknote", "breast", "concrete", "red", "white", "yeast")

_ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)
_GERMAN_COLUMNS = (
    "checking account",
    "duration",
    "credit history",
    "purpose",
    "credit amount",
    "savings",
    "employment since",
    "installment rate",
    "personal status and sex",
    "other debtors",
    "residence since",
    "property",
    "age",
    "other installment plans",
    "housing",
    "existing credits",
    "job",
    "people liable",
    "telephone",
    "foreign worker",
    "credit risk",
)

#: Rows of the adult subsample, and its seed.
_ADULT_ROWS = 5000
_ADULT_SEED = 0


def _read_adult(path):
    # ", " separates the values; "?" marks the values that are really missing
    # (only in the categorical columns workclass, occupation, native-country).
    return pd.read_csv(
        path, sep=",", skipinitialspace=True, header=None, na_values=["?"]
    )


def _read_german(path):
    # german.csv is the comma-separated copy of UCI's space-separated german.data.
    sep = "," if path.suffix == ".csv" else r"\s+"
    return pd.read_csv(path, sep=sep, header=None, index_col=False)


#: The mixed-type tables: every column but the label is a feature.
MIXED_SOURCES = {
    "adult": _Source(
        files=("adult.csv", "adult.data"),
        url=_UCI + "adult/adult.data",
        columns=_ADULT_COLUMNS,
        features=_ADULT_COLUMNS[:-1],
        target=None,  # income, a label
        n_rows=32561,
        read=_read_adult,
        numeric=(
            "age",
            "fnlwgt",
            "education-num",
            "capital-gain",
            "capital-loss",
            "hours-per-week",
        ),
    ),
    "german": _Source(
        files=("german.csv", "german.data"),
        url=_UCI + "statlog/german/german.data",
        columns=_GERMAN_COLUMNS,
        features=_GERMAN_COLUMNS[:-1],
        target=None,  # credit risk, a label
        n_rows=1000,
        read=_read_german,
        numeric=(  # attributes 2, 5, 8, 11, 13, 16 and 18
            "duration",
            "credit amount",
            "installment rate",
            "residence since",
            "age",
            "existing credits",
            "people liable",
        ),
    ),
}

#: Names of the mixed-type tables: ``adult`` is a seeded subsample of 5,000 rows
#: of ``adult-full``.
MIXED_DATASETS = ("adult", "adult-full", "german")


def load_dataset(name, *, data_home=None, keep_target=False, download=True):
    """Load one of the paper's UCI data sets as a float64 array.

    Parameters
    ----------
    name : {"banknote", "breast", "concrete", "red", "white", "yeast"}
        The data set.
    data_home : str or Path, default=None
        Folder holding the files; see the module docstring for the search
        order when it is None.
    keep_target : bool, default=False
        Also keep the numeric target as the last column: banknote ``class``,
        breast ``diagnosis`` (1 = benign), concrete compressive strength, wine
        ``quality``. Yeast has no numeric target and is unchanged.
    download : bool, default=True
        Download a missing file from its original UCI address.

    Returns
    -------
    dataset : Dataset
        Named tuple ``(X, columns)``: the float64 array of shape
        (n_samples, n_features) and the list of its column names.

    Raises
    ------
    FileNotFoundError
        When the file is in no searched folder and cannot be downloaded; the
        message names the file, its address and the folder to put it in.
    ValueError
        When a file does not parse to the documented number of rows and
        columns.
    """
    if name == "breast":
        return _load_breast(keep_target)
    if name not in _SOURCES:
        raise ValueError(f"Unknown data set {name!r}; choose from {DATASETS}.")
    return _load_source(name, _SOURCES[name], data_home, keep_target, download)


def load_mixed(name, *, data_home=None, download=True):
    """Load a mixed-type table: numeric and categorical features.

    Parameters
    ----------
    name : {"adult", "adult-full", "german"}
        The table. ``adult-full`` is UCI Adult's training split (32,561 rows;
        6 numeric, 8 categorical features); ``adult`` a seeded subsample of
        5,000 of its rows, the rows of ``benchmarks.collection``'s
        ``adult-num``. ``german`` is UCI German credit (1,000 rows; 7 numeric
        features, attributes 2, 5, 8, 11, 13, 16 and 18, and 13 categorical
        ones coded ``A11``, ``A12``, ...). The labels (income, credit risk) are
        dropped.
    data_home : str or Path, default=None
        Folder holding the files; see the module docstring for the search
        order when it is None.
    download : bool, default=True
        Download a missing file from its original UCI address.

    Returns
    -------
    frame : DataFrame of shape (n_samples, n_features)
        The features in the file's order with a ``RangeIndex``: numeric
        columns as float64, categorical ones as ``category`` with the levels
        present in the rows, sorted. Adult's ``?`` cells (workclass,
        occupation, native-country) are NaN; german is complete.

    Raises
    ------
    ValueError
        For an unknown name, or a file that does not parse to the documented
        shape.
    FileNotFoundError
        When the file is in no searched folder and cannot be downloaded.
    """
    if name not in MIXED_DATASETS:
        raise ValueError(f"Unknown mixed table {name!r}; choose from {MIXED_DATASETS}.")
    key = "adult" if name.startswith("adult") else name
    source = MIXED_SOURCES[key]
    frame, _ = _read_source(key, source, data_home, download)
    frame = frame[list(source.features)]
    if name == "adult":
        frame = frame.iloc[_adult_subsample(len(frame))].reset_index(drop=True)
    return frame.astype(
        {
            column: np.float64 if column in source.numeric else "category"
            for column in frame.columns
        }
    )


#: The data sets with a class label, for ``load_labelled``.
LABELLED_DATASETS = ("banknote", "breast", "red", "white", "yeast")


def load_labelled(name, *, data_home=None, download=True):
    """Load a UCI data set's features with its class label.

    Parameters
    ----------
    name : {"banknote", "breast", "red", "white", "yeast"}
        The data set. The labels: banknote ``class`` (0/1), breast
        ``diagnosis`` (0 = malignant, 1 = benign), the wines' ``quality``
        (integer grades) and yeast's ``class`` (ten localisation sites, as
        strings).
    data_home : str or Path, default=None
        Folder holding the files; see the module docstring.
    download : bool, default=True
        Download a missing file from its original UCI address.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features of :func:`load_dataset`, float64.
    y : ndarray of shape (n_samples,)
        The labels.
    columns : list of str
        The feature names.
    """
    if name not in LABELLED_DATASETS:
        raise ValueError(
            f"Unknown labelled data set {name!r}; choose from {LABELLED_DATASETS}."
        )
    if name == "breast":
        X, columns = _load_breast(keep_target=True)
        return X[:, :-1], X[:, -1].astype(int), columns[:-1]
    source = _SOURCES[name]
    frame, _ = _read_source(name, source, data_home, download)
    X = frame[list(source.features)].to_numpy(dtype=np.float64)
    return X, frame[source.target or "class"].to_numpy(), list(source.features)


def _adult_subsample(n_rows):
    """Sorted row numbers of the seeded 5,000-row adult subsample."""
    rng = np.random.default_rng(_ADULT_SEED)
    return np.sort(rng.choice(n_rows, _ADULT_ROWS, replace=False))


def _read_source(name, source, data_home, download):
    """Locate (or download), parse and check the file of a ``_Source``.

    Returns the whole file as a DataFrame with the columns ``source.columns``,
    and its path.
    """
    path = _locate(name, source, data_home, download)
    try:
        frame = source.read(path)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"Could not parse {path} as the {name!r} data set ({exc}). Replace it "
            f"with the original file from {source.url}."
        ) from exc
    _check_shape(name, path, frame.shape, (source.n_rows, len(source.columns)))
    frame.columns = list(source.columns)
    return frame, path


def _load_source(name, source, data_home, keep_target, download):
    """The feature columns of a ``_Source``'s file as a float64 array.

    The body of :func:`load_dataset`, shared with ``benchmarks.collection``.
    """
    frame, path = _read_source(name, source, data_home, download)
    columns = list(source.features)
    if keep_target and source.target is not None:
        columns.append(source.target)
    try:
        X = frame[columns].to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{path} has non-numeric values in the {name!r} feature columns ({exc})."
        ) from exc
    return Dataset(X, columns)


def data_folders(data_home=None):
    """Folders searched for the data files, in order.

    Parameters
    ----------
    data_home : str or Path, default=None
        Explicit folder; when given (or when ``MIWAE_DATA_HOME`` is set) it is
        the only folder searched.

    Returns
    -------
    folders : list of Path
        The searched folders; a missing file is downloaded into the last one.
    """
    explicit = data_home if data_home is not None else os.environ.get(ENV_VAR)
    if explicit:
        return [Path(explicit).expanduser()]
    shared = []
    for base in (_REPO_ROOT, Path.cwd()):
        folder = (base.parent / "shared" / "datasets").resolve()
        if folder.is_dir() and folder not in shared:
            shared.append(folder)
    return [*shared, _cache_folder()]


def standardize(X):
    """Centre and scale each column with its mean and standard deviation.

    The paper's protocol: full-data statistics with ``ddof=0``. A constant
    column is only centred.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Complete data.

    Returns
    -------
    X_std : ndarray of shape (n_samples, n_features)
        The standardised data, float64.
    """
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


def _cache_folder():
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "miwae_impute"


def _locate(name, source, data_home, download):
    """Path of the data set's file, downloading it when allowed and needed."""
    folders = data_folders(data_home)
    for folder in folders:
        for filename in source.files:
            if (folder / filename).is_file():
                return folder / filename
    target = folders[-1] / source.download_name
    reason = "downloads are disabled"
    if download:
        try:
            _download(source.url, target)
            return target
        except OSError as exc:  # URLError, timeouts and disk errors
            reason = f"the download failed: {exc}"
    wanted = " or ".join(repr(f) for f in source.files)
    searched = ", ".join(str(f) for f in folders)
    raise FileNotFoundError(
        f"The {name!r} data set needs the file {wanted}, which is in none of the "
        f"searched folders ({searched}), and {reason}. Download "
        f"{source.download_name!r} from {source.url} and put it into "
        f"{folders[-1]}, or point data_home / ${ENV_VAR} at a folder holding it."
    )


def _download(url, path):
    """Download ``url`` to ``path`` atomically (via a ``.part`` file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    print(f"Downloading {url} to {path}", file=sys.stderr)
    try:
        with (
            urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as response,
            open(partial, "wb") as out,
        ):
            while chunk := response.read(1 << 16):
                out.write(chunk)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _check_shape(name, path, shape, expected):
    if tuple(shape) != tuple(expected):
        raise ValueError(
            f"{path} parsed to {shape[0]} rows x {shape[1]} columns, but the "
            f"{name!r} data set has {expected[0]} x {expected[1]}. The file is "
            "truncated or not the original; delete it to download it again."
        )
