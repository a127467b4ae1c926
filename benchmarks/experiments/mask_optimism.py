"""How much a logistic model of the mask at random overfits (issue 25).

``missingness="self-masking"`` compares self-masking with a model at random
whose mask is a logistic regression on the columns observed in every row,
cross-fitted (``_training._log_p_mask_at_random``). For each
DATASET:MECHANISM:RATE mask (seed 0, standardised data), this prints the mean
log-likelihood of the masked columns' masks, summed over the columns: at the
observed rates, under the regression fitted to the same rows, under the
regression fitted without each row (5 folds), and the optimism between the
two. ``--toy``: the same for the unit tests' toy data (600 rows, seed 4, two
of three columns self-masked), the true model's log-likelihood, and the
choice of ``make_imputer("not-miwae")`` at ``max_iter`` 16 and 96::

    python -m benchmarks.experiments.mask_optimism breast:above-mean:0.3 wine:mar:0.3
    python -m benchmarks.experiments.mask_optimism --toy
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from miwae_impute import make_imputer
from miwae_impute._missingness import observed_rate

from ..collection import load_any
from ..datasets import standardize
from ..missingness import make_mask


def _log_lik(observed, logit):
    return -np.logaddexp(0.0, np.where(observed, -logit, logit)).mean()


def mask_fits(X, mask):
    """(at the rates, in sample, cross-fitted), summed over masked columns."""
    observed = ~mask
    complete = observed.all(0)
    Z = standardize(X[:, complete])
    totals = np.zeros(3)
    for j in np.flatnonzero(~complete):
        s = observed[:, j]
        rate = observed_rate(s)
        fit = LogisticRegression().fit(Z, s)
        split = StratifiedKFold(5, shuffle=True, random_state=0)
        held_out = cross_val_predict(
            LogisticRegression(), Z, s, cv=split, method="decision_function"
        )
        totals += [
            np.where(s, np.log(rate), np.log1p(-rate)).mean(),
            _log_lik(s, fit.decision_function(Z)),
            _log_lik(s, held_out),
        ]
    return totals


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.mask_optimism"
    )
    parser.add_argument("masks", nargs="*", help="DATASET:MECHANISM:RATE")
    parser.add_argument("--toy", action="store_true")
    args = parser.parse_args(argv)
    print(
        "| mask | rates | in sample | cross-fitted | optimism |\n|---|---|---|---|---|"
    )
    for spec in args.masks:
        name, mechanism, rate = spec.split(":")
        X = standardize(load_any(name))
        fits = mask_fits(X, make_mask(mechanism, X, float(rate), 0))
        print(
            f"| {spec} | {fits[0]:.3f} | {fits[1]:.3f} | {fits[2]:.3f} | "
            f"{fits[1] - fits[2]:.3f} |"
        )
    if args.toy:
        sys.path.insert(0, str(Path(__file__).parents[2] / "tests"))
        from test_not_miwae import _self_masked

        X, mask, _ = _self_masked(n=600, seed=4)
        fits = mask_fits(X, mask)
        p_observed = 1 / (1 + np.exp(3 * (X[:, :2] - 0.2)))
        true = np.where(~mask[:, :2], np.log(p_observed), np.log1p(-p_observed))
        print(
            f"| toy | {fits[0]:.3f} | {fits[1]:.3f} | {fits[2]:.3f} | "
            f"{fits[1] - fits[2]:.3f} |\n\nThe toy's true self-masking "
            f"model: {true.mean(0).sum():.3f}"
        )
        for max_iter in (16, 96):
            fit = make_imputer("not-miwae", max_iter=max_iter, random_state=0)
            history = fit.fit(np.where(mask, np.nan, X)).history_
            bounds = {k: round(v, 3) for k, v in history["pilot_bound"].items()}
            print(f"max_iter={max_iter}: {fit.chosen_missingness_}, {bounds}")


if __name__ == "__main__":
    main()
