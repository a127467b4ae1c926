"""Data for the gallery's examples (not an example itself).

The examples live beside ``benchmarks/``, whose loaders read the paper's UCI
data sets from ``../shared/datasets`` beside the repository (or from
``$MIWAE_DATA_HOME``). Without those files, and offline, ``load_table`` falls
back to scikit-learn's breast cancer data, which ships with scikit-learn, and
says so.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

#: The repository's top folder, which holds ``benchmarks/``.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_table(name, max_columns=None):
    """A UCI data set of the paper as a DataFrame, or breast cancer if absent.

    Parameters
    ----------
    name : str
        A data set of ``benchmarks.datasets.DATASETS``.
    max_columns : int, optional
        Keep at most this many columns of the fallback (breast cancer has 30).

    Returns
    -------
    frame : DataFrame
        The complete table, one column per feature.
    name : str
        The data set actually loaded.
    """
    from benchmarks.datasets import load_dataset

    try:
        X, columns = load_dataset(name, download=False)
        return pd.DataFrame(X, columns=columns), name
    except FileNotFoundError:
        frame = load_breast_cancer(as_frame=True).data.iloc[:, :max_columns]
        print(f"{name} not found (see benchmarks/datasets.py): using breast cancer.")
        return frame.astype(float), "breast (fallback)"


def load_gappy_table(n_rows=1000):
    """UCI Adult with its own missing cells, or breast cancer with some removed.

    Parameters
    ----------
    n_rows : int, default=1000
        Rows kept, the first of the 5,000-row subsample of
        ``benchmarks.datasets.load_mixed("adult")``.

    Returns
    -------
    frame : DataFrame
        Adult's six numeric and eight categorical columns, its ``?`` cells
        missing; without the file, breast cancer's first eight columns with
        10% of their cells removed at random.
    name : str
        The data set actually loaded.
    """
    from benchmarks.datasets import load_mixed

    try:
        return load_mixed("adult", download=False).iloc[:n_rows], "adult"
    except FileNotFoundError:
        frame, _ = load_table("breast", max_columns=8)
        gaps = np.random.default_rng(0).random(frame.shape) < 0.1
        print("adult not found (see benchmarks/datasets.py): breast, 10% removed.")
        return frame.mask(gaps), "breast (fallback)"
