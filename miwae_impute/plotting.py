"""Diagnostic plots of imputations, training and comparisons (needs matplotlib).

Each function draws on the given Axes (new ones if None) and returns them, so
that plots compose with the user's own figures. Install the extra with
``pip install 'miwae-impute[plot]'``.
"""

import numpy as np
import pandas as pd

from ._categorical import holds_labels
from ._frames import to_floats

__all__ = [
    "plot_comparison",
    "plot_coverage",
    "plot_distributions",
    "plot_history",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - the extra is installed in tests
        raise ImportError(
            "miwae_impute.plotting needs matplotlib: pip install 'miwae-impute[plot]'."
        ) from None
    return plt


def _frame(X):
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))


def plot_distributions(X, X_imputed, *, draws=None, columns=None, bins=30, axes=None):
    """Observed against imputed values, per column.

    A numeric column gets two density histograms, of its observed values and
    of its imputed ones (and of every draw's imputed values, faintly, with
    ``draws``); a categorical one gets bars of the share of each level among
    the observed and the imputed cells (and a grey tick per draw's share).
    Imputations far from the observed distribution are worth a look, though
    under MAR they need not match it.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The table with its missing values.
    X_imputed : {array-like, DataFrame} of shape (n_samples, n_features)
        Its imputation, e.g. ``imputer.transform(X)``.
    draws : list of {array-like, DataFrame}, default=None
        Multiple imputations, e.g. ``imputer.sample(X, 5)``.
    columns : list, default=None
        Columns to draw (labels of a DataFrame, or positions); None for every
        column with a missing cell.
    bins : int, default=30
        Bins of the numeric histograms.
    axes : array of matplotlib Axes, default=None
        One per column; None makes a figure with a row of them.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        The Axes, one per column.
    """
    plt = _pyplot()
    X, X_imputed = _frame(X), _frame(X_imputed)
    draws = [] if draws is None else [_frame(d) for d in draws]
    if columns is None:
        columns = [c for c in X.columns if X[c].isna().any()]
    if not len(columns):
        raise ValueError("X has no missing cell: there is no imputation to plot.")
    if axes is None:
        _, axes = plt.subplots(1, len(columns), figsize=(3.5 * len(columns), 3))
    axes = np.atleast_1d(axes).ravel()
    if len(axes) != len(columns):
        raise ValueError(f"Got {len(axes)} Axes for {len(columns)} columns.")
    for ax, column in zip(axes, columns):
        missing = X[column].isna().to_numpy()
        observed = X[column][~missing]
        imputed = X_imputed[column][missing]
        if holds_labels(X[column]):
            shares = pd.DataFrame(
                {
                    "observed": observed.value_counts(normalize=True),
                    "imputed": imputed.value_counts(normalize=True),
                }
            ).fillna(0.0)
            positions = np.arange(len(shares))
            ax.bar(positions - 0.2, shares["observed"], 0.4, label="observed")
            ax.bar(positions + 0.2, shares["imputed"], 0.4, label="imputed")
            for draw in draws:
                share = draw[column][missing].value_counts(normalize=True)
                share = share.reindex(shares.index, fill_value=0.0)
                ax.plot(positions + 0.2, share, "_", color="grey", alpha=0.6)
            rotation = 90 if len(shares) > 6 else 0
            labels = [str(level) for level in shares.index]
            ax.set_xticks(positions, labels, rotation=rotation)
            ax.set_ylabel("share")
        else:
            values = to_floats(observed)
            filled = [to_floats(imputed)]
            filled += [to_floats(d[column][missing]) for d in draws]
            edges = np.histogram_bin_edges(np.concatenate([values, *filled]), bins)
            style = dict(bins=edges, density=True, histtype="step")
            ax.hist(values, label="observed", **style)
            ax.hist(filled[0], label="imputed", **style)
            for draw in filled[1:]:
                ax.hist(draw, color="grey", alpha=0.3, **style)
            ax.set_ylabel("density")
        ax.set_title(str(column))
        ax.legend()
    return axes


def plot_history(imputer, *, window=10, ax=None):
    """The training bound of a fitted MIWAE imputer, epoch by epoch.

    Parameters
    ----------
    imputer : MIWAEImputer
        A fitted imputer (its ``history_``).
    window : int, default=10
        Epochs of the moving average drawn over the bound.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a figure.

    Returns
    -------
    ax : matplotlib Axes
        The Axes: the bound per epoch, its moving average, and the held-out
        rows' bound where early stopping recorded one.
    """
    plt = _pyplot()
    history = getattr(imputer, "history_", None)
    if not history or not history.get("train_bound"):
        raise ValueError("plot_history needs a fitted MIWAEImputer (history_).")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    bound = np.asarray(history["train_bound"])
    epochs = np.arange(1, len(bound) + 1)
    ax.plot(epochs, bound, alpha=0.4, label="training bound")
    if len(bound) >= window:
        average = np.convolve(bound, np.ones(window) / window, mode="valid")
        ax.plot(epochs[window - 1 :], average, label=f"moving average ({window})")
    if history.get("validation_bound"):
        validation = history["validation_bound"]
        ax.plot(epochs[: len(validation)], validation, label="held-out rows")
    ax.set_xlabel("epoch")
    ax.set_ylabel("bound per row (nats)")
    ax.legend()
    return ax


def plot_coverage(X_true, draws, mask, *, levels=None, ax=None):
    """Reliability of multiple imputations: coverage against nominal level.

    For each level, the central interval of the draws of every hidden cell
    (its quantiles at (1 - level) / 2 and (1 + level) / 2) is checked for the
    true value; honest draws fall on the diagonal.

    Parameters
    ----------
    X_true : array-like of shape (n_samples, n_features)
        The values that were hidden (others may be anything).
    draws : array-like of shape (n_draws, n_samples, n_features)
        Imputations of the table with the ``mask`` cells hidden, e.g.
        ``imputer.sample(X_hidden, 100)``.
    mask : array-like of bool of shape (n_samples, n_features)
        True at the hidden cells, the only ones scored.
    levels : array-like of float, default=None
        Nominal levels in (0, 1); None for 0.1, 0.2, ..., 0.9 and 0.95.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a figure.

    Returns
    -------
    ax : matplotlib Axes
        The Axes, with the coverage line and the diagonal.
    """
    plt = _pyplot()
    X_true = np.asarray(X_true, dtype=float)
    draws = np.asarray(draws, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if draws.ndim != 3 or not draws.shape[1:] == X_true.shape == mask.shape:
        raise ValueError(
            "draws must have shape (n_draws, *X_true.shape) and mask X_true's "
            f"shape; got {draws.shape}, {X_true.shape} and {mask.shape}."
        )
    if not mask.any():
        raise ValueError("mask has no True cell: there is nothing to score.")
    levels = np.append(np.arange(1, 10) / 10, 0.95) if levels is None else levels
    levels = np.asarray(levels, dtype=float)
    cells, truth = draws[:, mask], X_true[mask]
    coverage = []
    for level in levels:
        low, high = np.quantile(cells, [(1 - level) / 2, (1 + level) / 2], axis=0)
        coverage.append(np.mean((low <= truth) & (truth <= high)))
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 3.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="ideal")
    ax.plot(levels, coverage, marker="o", label="draws")
    ax.set_xlabel("nominal level")
    ax.set_ylabel("coverage of the hidden cells")
    ax.legend()
    return ax


def plot_comparison(scores, *, metric=None, ax=None):
    """Draw each method's error per column as bars.

    The scores are those of :func:`~miwae_impute.compare_imputers`, pooled
    over the hidden cells of its repeats.

    Parameters
    ----------
    scores : DataFrame
        The output of :func:`~miwae_impute.compare_imputers`.
    metric : {"mse", "mae", "pfc"}, default=None
        The metric to draw; None for "mse" (or "pfc" without numeric columns).
    ax : matplotlib Axes, default=None
        Where to draw; None makes a figure.

    Returns
    -------
    ax : matplotlib Axes
        The Axes: one group of bars per column, one bar per method (the
        score pooled over the repeats' hidden cells).
    """
    plt = _pyplot()
    if metric is None:
        metric = "mse" if (scores["metric"] == "mse").any() else "pfc"
    rows = scores[scores["metric"] == metric]
    if rows.empty:
        raise ValueError(f"scores has no {metric!r} row.")
    rows = rows.assign(weighted=rows["score"] * rows["n_hidden"])
    pooled = rows.groupby(["column", "method"], sort=False)[["weighted", "n_hidden"]]
    table = pooled.sum().eval("weighted / n_hidden").unstack("method")
    if ax is None:
        _, ax = plt.subplots(figsize=(1 + 0.8 * len(table) * len(table.columns), 3))
    width = 0.8 / len(table.columns)
    positions = np.arange(len(table))
    for k, method in enumerate(table.columns):
        ax.bar(positions + k * width, table[method], width, label=str(method))
    ax.set_xticks(positions + 0.4 - width / 2, [str(c) for c in table.index])
    ax.set_ylabel(metric.upper())
    ax.legend()
    return ax
