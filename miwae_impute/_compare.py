"""compare_imputers: which imputer suits the user's own table.

Observed cells of the table are hidden, the way its own gaps fall, and each
candidate imputes them; the scores are tidy rows, summarised by
:func:`summarize_comparison`.
"""

import numbers
import time
from typing import NamedTuple

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._categorical import holds_labels
from ._frames import to_floats
from ._holdout import _hide_observed
from ._registry import make_imputer

__all__ = ["compare_imputers", "summarize_comparison"]

_DEFAULT_IMPUTERS = ("miwae", "missforest", "knn", "pca", "mean")

# Rate of the uniform hiding of a table without a gap to copy.
_FALLBACK_RATE = 0.2


def _candidates(imputers, random_state):
    """``{name: unfitted estimator}`` from the ``imputers`` argument."""
    if imputers is None:
        imputers = _DEFAULT_IMPUTERS
    if isinstance(imputers, dict):
        items = list(imputers.items())
    else:
        items = []
        for imputer in imputers:
            name = imputer if isinstance(imputer, str) else type(imputer).__name__
            items.append((name, imputer))
    candidates = {}
    for name, imputer in items:
        if name in candidates:
            raise ValueError(
                f"Two imputers are named {name!r}: pass a dict to name them."
            )
        if isinstance(imputer, str):
            imputer = make_imputer(imputer)
            if "random_state" in imputer.get_params():
                imputer.set_params(random_state=random_state)
        elif not (hasattr(imputer, "fit") and hasattr(imputer, "transform")):
            raise TypeError(
                f"The imputer {name!r} is neither a name nor an estimator with "
                f"fit and transform: got {imputer!r}."
            )
        candidates[name] = imputer
    if not candidates:
        raise ValueError("imputers is empty: give at least one imputer.")
    return candidates


def _copy_gaps(missing, rng):
    """Hide observed cells the way the table's own gaps fall.

    As many rows as the table has incomplete rows (at most half of them) each
    take the gaps of a randomly chosen incomplete row, on the cells they
    observe; a row that would be left empty is passed over, and every
    column keeps an observed cell.
    """
    n_rows = len(missing)
    donors = np.flatnonzero(missing.any(axis=1) & ~missing.all(axis=1))
    hidden = np.zeros_like(missing)
    n_recipients = min(len(donors), n_rows // 2)
    for row in rng.choice(n_rows, n_recipients, replace=False):
        gaps = missing[rng.choice(donors)] & ~missing[row]
        if gaps.any() and not (missing[row] | gaps).all():
            hidden[row] = gaps
    for j in np.flatnonzero((missing | hidden).all(axis=0) & ~missing.all(axis=0)):
        hidden[rng.choice(np.flatnonzero(hidden[:, j])), j] = False
    return hidden


def _hide(frame, hidden):
    """``frame`` with the ``hidden`` cells missing."""
    out = frame.copy()
    for j in np.flatnonzero(hidden.any(axis=0)):
        column = out.iloc[:, j]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iub":
            # int64 and bool cannot hold a gap; their nullable dtypes can
            column = column.astype("boolean" if column.dtype == bool else "Int64")
        out.isetitem(j, column.mask(hidden[:, j]))
    return out


def _score(name, imputer, frame, hidden, repeat, categorical, scale, columns):
    """Tidy rows of one imputer on one hiding of the table."""
    X = _hide(frame, hidden)
    imputer = clone(imputer)
    start = time.perf_counter()
    imputer.fit(X)
    fitted = time.perf_counter()
    imputed = imputer.transform(X)
    transform_seconds = time.perf_counter() - fitted
    imputed = pd.DataFrame(imputed) if not hasattr(imputed, "iloc") else imputed
    if imputed.shape[1] < frame.shape[1]:
        raise ValueError(
            f"The imputer {name!r} returned {imputed.shape[1]} columns for a table "
            f"of {frame.shape[1]}: compare_imputers needs every column back."
        )
    rows = []
    for j in np.flatnonzero(hidden.any(axis=0)):
        cells = hidden[:, j]
        true, guess = frame.iloc[cells, j], imputed.iloc[cells, j]
        if categorical[j]:
            wrong = guess.to_numpy(dtype=object) != true.to_numpy(dtype=object)
            scores = {"pfc": float(np.mean(wrong))}
        else:
            error = (to_floats(guess) - to_floats(true)) / scale[j]
            scores = {
                "mse": float(np.mean(error**2)),
                "mae": float(np.mean(abs(error))),
            }
        for metric, score in scores.items():
            rows.append(
                {
                    "method": name,
                    "repeat": repeat,
                    "column": columns[j],
                    "metric": metric,
                    "score": score,
                    "n_hidden": int(cells.sum()),
                    "fit_seconds": fitted - start,
                    "transform_seconds": transform_seconds,
                }
            )
    return rows


@validate_params(
    {
        "X": ["array-like"],
        "imputers": [list, tuple, dict, None],
        "missing_rate": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "n_repeats": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def compare_imputers(
    X, imputers=None, *, missing_rate=None, n_repeats=3, random_state=None, n_jobs=None
):
    """Compare imputers on hidden observed cells of the user's own table.

    Observed cells of ``X`` are hidden, and each imputer imputes the table
    with them missing; its imputations of the hidden cells are scored against
    the values that were there. By default the hidden cells copy the table's
    own gaps: as many rows as the table has incomplete rows (at most half of
    the rows) each take the gaps of a randomly chosen incomplete row, on the
    cells they observe, so that the test gaps look like the real ones.

    This measures accuracy on cells that are missing at random: the hidden
    cells are chosen without regard to their values. It cannot tell how an
    imputer fares where values are missing *because* of what they are
    (MNAR); no comparison on the observed cells can.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The table, with its missing values (NaN, None or pd.NA). DataFrame
        columns that are not numeric, or boolean, are categorical.
    imputers : list or dict, default=None
        The candidates: names of :func:`make_imputer` ("miwae",
        "missforest", ...), estimators with ``fit`` and ``transform``, or a
        dict of them by name. Each is cloned for every repeat. None means
        MIWAE, missForest, kNN, PCA and mean imputation, with
        ``random_state``.
    missing_rate : float in (0, 1) or None, default=None
        Hide each observed cell with this probability (uniformly, MCAR)
        instead of copying the table's gaps. A complete table has no gaps to
        copy, and is hidden uniformly at 0.2.
    n_repeats : int, default=3
        Number of independent hidings; every imputer sees the same ones.
    random_state : int, RandomState instance or None, default=None
        Draws the hidden cells, and seeds the default imputers.
    n_jobs : int or None, default=None
        Fits run in parallel (joblib): -1 uses every core. Their times then
        share the machine.

    Returns
    -------
    scores : DataFrame
        One row per method, repeat, column and metric, with the columns
        "method", "repeat", "column", "metric", "score", "n_hidden",
        "fit_seconds" and "transform_seconds". The metrics: "mse" and "mae"
        of a numeric column, in units of its observed standard deviation
        (mean imputation scores about 1 in MSE), and "pfc" of a categorical
        one, the proportion of hidden cells imputed with a wrong level.
        :func:`summarize_comparison` summarises them.

    See Also
    --------
    summarize_comparison : Per-method and per-column summaries, and a
        recommendation.
    masked_mse_scorer : The same idea as a scorer for model selection.

    Examples
    --------
    >>> import numpy as np
    >>> from miwae_impute import compare_imputers, summarize_comparison
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)) @ [[1.0, 2.0, -1.0], [0.5, 0.0, 1.0]]
    >>> X[rng.random(X.shape) < 0.1] = np.nan
    >>> scores = compare_imputers(X, ["pca", "mean"], random_state=0)
    >>> summary = summarize_comparison(scores)
    >>> summary.best
    'pca'
    """
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    if frame.ndim != 2 or 0 in frame.shape:
        raise ValueError(f"X must be a non-empty 2D table, got shape {frame.shape}.")
    columns = list(frame.columns)
    categorical = np.array(
        [holds_labels(frame.iloc[:, j]) for j in range(frame.shape[1])], dtype=bool
    )
    missing = frame.isna().to_numpy()
    scale = np.ones(frame.shape[1])
    for j in np.flatnonzero(~categorical):
        values = to_floats(frame.iloc[:, j])
        sd = np.nanstd(values) if (~np.isnan(values)).any() else 0.0
        scale[j] = sd if sd > 0 else 1.0
    candidates = _candidates(imputers, random_state)
    rng = check_random_state(random_state)
    hidings = []
    for _ in range(n_repeats):
        if missing_rate is None and missing.any(axis=1).any():
            hidden = _copy_gaps(missing, rng)
        else:
            rate = _FALLBACK_RATE if missing_rate is None else missing_rate
            hidden = _hide_observed(missing, rate, rng)
        if not hidden.any():
            raise ValueError(
                "compare_imputers found no observed cell to hide: every column "
                "needs two observed cells, and a row with a gap needs one."
            )
        hidings.append(hidden)
    tasks = [
        delayed(_score)(
            name, imputer, frame, hidden, repeat, categorical, scale, columns
        )
        for repeat, hidden in enumerate(hidings)
        for name, imputer in candidates.items()
    ]
    results = Parallel(n_jobs=n_jobs)(tasks)
    return pd.DataFrame([row for rows in results for row in rows])


class Comparison(NamedTuple):
    """What :func:`summarize_comparison` returns."""

    by_method: pd.DataFrame
    by_column: pd.DataFrame
    best: str
    recommendation: str


def summarize_comparison(scores):
    """Per-method and per-column summaries of :func:`compare_imputers`.

    Parameters
    ----------
    scores : DataFrame
        The output of :func:`compare_imputers`.

    Returns
    -------
    summary : Comparison
        A named tuple: ``by_method``, a DataFrame of each method's pooled
        score per metric (the mean over hidden cells of all columns and
        repeats) with its mean fit and transform times, best first;
        ``by_column``, each column's pooled score per method (MSE for a
        numeric column, PFC for a categorical one); ``best``, the method of
        the lowest pooled MSE (PFC on a table without numeric columns); and
        ``recommendation``, a sentence naming it and the columns where
        another method did better by more than 2%.
    """
    scores = scores.assign(weighted=scores["score"] * scores["n_hidden"])
    pooled = scores.groupby(["method", "metric"])[["weighted", "n_hidden"]].sum()
    by_method = (pooled["weighted"] / pooled["n_hidden"]).unstack("metric")
    times = scores.groupby(["method", "repeat"])[["fit_seconds", "transform_seconds"]]
    by_method = by_method.join(times.first().groupby("method").mean())
    key = "mse" if "mse" in by_method else "pfc"
    by_method = by_method.sort_values(key)
    best = str(by_method.index[0])
    main = scores[scores["metric"].isin(["mse", "pfc"])]
    pooled = main.groupby(["column", "method"])[["weighted", "n_hidden"]].sum()
    by_column = (pooled["weighted"] / pooled["n_hidden"]).unstack("method")
    by_column = by_column[list(by_method.index)]
    others = []
    for column, row in by_column.iterrows():
        winner = row.idxmin()
        if winner != best and row[winner] < row[best] / 1.02:
            others.append(
                f"{column!r} ({winner}: {row[winner]:.3g} against {row[best]:.3g})"
            )
    unit = "MSE in standard deviations" if key == "mse" else "PFC"
    recommendation = (
        f"{best} imputes best overall ({unit}: {by_method.loc[best, key]:.3g})."
    )
    if others:
        recommendation += " Columns where another method does better: " + (
            "; ".join(others) + "."
        )
    return Comparison(by_method, by_column, best, recommendation)
