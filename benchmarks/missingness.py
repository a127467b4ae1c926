"""Seeded missing-data mechanisms: boolean masks with True = missing.

- :func:`mcar` removes each cell independently with probability ``rate``: the
  paper's protocol, kept exact (rows that lose every value are not repaired).
- :func:`mar` keeps a few columns fully observed and removes cells of the other
  columns with a logistic model of the observed ones.
- :func:`mnar` is self-masking: a value is missing with a probability that is a
  logistic function of that value.
- :func:`above_mean` is self-masking as in the not-MIWAE paper (Ipsen et
  al., 2021): in a random half of the columns, values above the column's
  mean go missing (with probability ``rate``), values below it stay;
  :func:`self_masking` also gives "below-mean", and the "-all" forms of both
  that mask every column.
- :func:`paper_above_mean` is that paper's Table 1 protocol as its code
  runs it: the first half of the columns, and (at ``rate=1``) every value
  above the mean.

For MAR and MNAR the logistic intercepts are calibrated so that the expected
share of missing cells is ``rate``; the realised share differs from it only by
Bernoulli noise. Every mask is a function of its arguments and ``seed`` alone.
"""

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from .datasets import standardize

__all__ = [
    "MECHANISMS",
    "above_mean",
    "make_mask",
    "mar",
    "mcar",
    "mnar",
    "paper_above_mean",
    "self_masking",
]


def mcar(shape, rate, seed):
    """Missing completely at random: each cell missing with probability ``rate``."""
    _check_rate(rate)
    return np.random.default_rng(seed).random(shape) < rate


def mar(X, rate, seed, *, observed_fraction=0.3, strength=2.0):
    """Missing at random: a logistic model of fully observed columns.

    A random ``observed_fraction`` of the columns (at least one, and at least
    one fewer than all) stays observed. Each other column j loses row i's cell
    with probability ``sigmoid(z_i @ w_j + b_j)``: z_i the row's standardised
    observed columns, w_j Gaussian weights rescaled so that the logit has
    standard deviation ``strength``, and b_j calibrated so that ``rate`` of
    *all* cells are missing in expectation.
    """
    _check_rate(rate)
    Z = standardize(_check_complete(X))
    n_features = Z.shape[1]
    if n_features < 2:
        raise ValueError("MAR needs at least two columns: one stays observed.")
    rng = np.random.default_rng(seed)
    n_observed = min(n_features - 1, max(1, round(observed_fraction * n_features)))
    observed = np.zeros(n_features, dtype=bool)
    observed[rng.choice(n_features, n_observed, replace=False)] = True
    column_rate = rate * n_features / (n_features - n_observed)
    if column_rate >= 1:
        raise ValueError(
            f"A missing rate of {rate} cannot be reached with {n_observed} of "
            f"{n_features} columns fully observed; lower observed_fraction."
        )
    weights = rng.normal(size=(n_observed, n_features - n_observed))
    logits = _rescaled(Z[:, observed] @ weights, strength)
    mask = np.zeros(Z.shape, dtype=bool)
    mask[:, ~observed] = _calibrated_draw(logits, column_rate, rng)
    return mask


def mnar(X, rate, seed, *, strength=2.0):
    """Self-masking: cell (i, j) is missing with probability ``sigmoid(strength
    * z_ij + b_j)``, z_ij the standardised value and b_j calibrated so that
    each column misses ``rate`` of its cells in expectation."""
    _check_rate(rate)
    Z = standardize(_check_complete(X))
    return _calibrated_draw(strength * Z, rate, np.random.default_rng(seed))


def above_mean(X, rate, seed):
    """ "above-mean": :func:`self_masking` above the mean, in half of the columns."""
    return self_masking(X, rate, seed)


def self_masking(X, rate, seed, *, side="above", columns="half"):
    """Self-masking on one ``side`` ("above" or "below") of the mean, in a random
    half of the columns (at least one; the others complete) or in ``columns="all"``.

    In each chosen column, every value on ``side`` of the column's mean is
    missing with probability ``rate`` in [0, 1], and the other values are
    observed. The sign a not-MIWAE model should learn is + above, - below.
    """
    _check_probability(rate)
    if side not in ("above", "below") or columns not in ("half", "all"):
        raise ValueError(f"Unknown side {side!r} or columns {columns!r}.")
    X = _check_complete(X)
    rng = np.random.default_rng(seed)
    n_features = X.shape[1]
    n_chosen = n_features if columns == "all" else max(1, n_features // 2)
    chosen = rng.permutation(n_features)[:n_chosen]
    sign = 1 if side == "above" else -1
    return _above_mean_in(sign * X, chosen, rate, rng)


def paper_above_mean(X, rate=1.0, seed=0):
    """The not-MIWAE paper's Table 1 protocol (Ipsen, Mattei & Frellsen, 2021).

    In the first ``n_features // 2`` columns (at least one), each value above
    its column's mean is missing with probability ``rate``; the authors'
    ``task01.py`` removes every one (``rate=1``, where the seed does not
    matter). The other columns are complete.
    """
    _check_probability(rate)
    X = _check_complete(X)
    first_half = np.arange(max(1, X.shape[1] // 2))
    return _above_mean_in(X, first_half, rate, np.random.default_rng(seed))


def _above_mean_in(X, columns, rate, rng):
    """Mask of the values above their column's mean in ``columns``, each
    missing with probability ``rate`` (one uniform draw from ``rng`` a cell of
    those columns); the other columns are complete."""
    mask = np.zeros(X.shape, dtype=bool)
    above = X[:, columns] > X[:, columns].mean(axis=0)
    mask[:, columns] = above & (rng.random(above.shape) < rate)
    return mask


#: Names of the mechanisms understood by :func:`make_mask`.
_SELF_MASKING = {
    "above-mean": {},
    "below-mean": {"side": "below"},
    "above-mean-all": {"columns": "all"},
    "below-mean-all": {"side": "below", "columns": "all"},
}

MECHANISMS = ("mcar", "mar", "mnar", *_SELF_MASKING, "paper-above-mean")

#: Mechanisms whose rate may be 1 (a probability within chosen cells).
RATE_ONE = (*_SELF_MASKING, "paper-above-mean")


def make_mask(mechanism, X, rate, seed):
    """The mask (True = missing) of complete ``X`` drawn by ``mechanism``, one of
    :data:`MECHANISMS`, with its default settings: ``rate`` is the share of
    missing cells, or for the self-masking mechanisms (:data:`RATE_ONE`) the
    probability in [0, 1] that a value on the masked side goes missing."""
    if mechanism == "mcar":
        return mcar(np.shape(X), rate, seed)
    makers = {"mar": mar, "mnar": mnar, "paper-above-mean": paper_above_mean}
    if mechanism in _SELF_MASKING:
        return self_masking(X, rate, seed, **_SELF_MASKING[mechanism])
    if mechanism in makers:
        return makers[mechanism](X, rate, seed)
    raise ValueError(f"Unknown mechanism {mechanism!r}; choose from {MECHANISMS}.")


def _check_rate(rate):
    if not 0 <= rate < 1:
        raise ValueError(f"The missing rate must be in [0, 1), got {rate}.")


def _check_probability(rate):
    if not 0 <= rate <= 1:
        raise ValueError(f"The rate must be in [0, 1], got {rate}.")


def _check_complete(X):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise ValueError("Expected complete, finite data of shape (n, p).")
    return X


def _rescaled(logits, strength):
    """Scale each column of ``logits`` to standard deviation ``strength``."""
    scale = logits.std(axis=0)
    return logits * (strength / np.where(scale > 0, scale, 1.0))


def _calibrated_draw(logits, rate, rng):
    """Bernoulli mask with P = sigmoid(logit + b_j), mean P of each column = rate."""
    if rate == 0:
        return np.zeros(logits.shape, dtype=bool)
    intercepts = [_intercept(column, rate) for column in logits.T]
    return rng.random(logits.shape) < expit(logits + np.array(intercepts))


def _intercept(logits, rate):
    """The b with mean(sigmoid(logits + b)) == rate (monotone in b)."""
    bound = np.abs(logits).max() + 50.0
    return brentq(lambda b: expit(logits + b).mean() - rate, -bound, bound, xtol=1e-10)
