"""Cross-fitted members of issue 24: an ensemble, and a per-column safeguard.

A random ``--share`` of the observed cells of each table is split into
``--members`` folds; member k is a default MIWAE fit with fold k hidden as
well (so it trains on the other observed cells), and imputes the fold it did
not see. From those out-of-fold imputations, each column gets the weight
alpha in [0, 1] that fits them best as ``mean + alpha (imputed - mean)``
(least squares, ``mean`` the column's observed mean): alpha near 0 is a
column that the model predicts no better than its mean. The fallback is
cruder: a column whose out-of-fold imputations are worse than its mean is
imputed by its mean (alpha 0), any other as it is (alpha 1). Scored, on the MCAR
mask of the harness (MSE of the removed cells, standardised units):

- ``member``: member 0 alone (one fit that lost a fold);
- ``member_safe``: member 0 with the safeguard;
- ``ensemble``: the mean of the members' imputations;
- ``ensemble_safe``: the ensemble with the safeguard;
- ``member_fallback``, ``ensemble_fallback``: the same with the fallback.

Each line also has the columns' MSE over their mean imputation's for each
variant, and the alphas. Usage::

    python -m benchmarks.experiments.crossfit --datasets concrete wine \\
        --rate 0.2 --seeds 0 --members 2 --share 0.2
"""

import argparse
import json

import numpy as np

from miwae_impute import MIWAEImputer

from ..collection import COLLECTION
from ..datasets import DATASETS
from ..missingness import mcar
from ..uci import _run_context
from .samplers import _table


def _folds(observed, share, members, seed):
    """Fold of each cell: -1, or if observed and drawn (``share``) 0 to members-1."""
    rng = np.random.default_rng([seed, 24])
    drawn = observed & (rng.random(observed.shape) < share)
    return np.where(drawn, rng.integers(members, size=observed.shape), -1)


def _alpha(y, imputed, mean):
    """Least-squares weight of ``imputed - mean`` for ``y - mean``, in [0, 1]."""
    signal = imputed - mean
    denominator = float(np.sum(signal**2))
    if denominator == 0:
        return 0.0
    return float(np.clip(np.sum((y - mean) * signal) / denominator, 0.0, 1.0))


def _scores(X, mask, imputed, mean):
    error = (imputed - X) ** 2
    columns = [
        float(error[mask[:, j], j].mean() / ((X[mask[:, j], j] - mean[j]) ** 2).mean())
        for j in range(X.shape[1])
    ]
    return float(error[mask].mean()), [round(c, 3) for c in columns]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.crossfit")
    names = tuple(dict.fromkeys((*DATASETS, *COLLECTION)))
    parser.add_argument("--datasets", nargs="+", choices=names, required=True)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument("--share", type=float, default=0.2)
    args = parser.parse_args(argv)
    with _run_context(1):
        for name in args.datasets:
            X = _table(name)
            for seed in args.seeds:
                mask = mcar(X.shape, args.rate, seed)
                X_missing = np.where(mask, np.nan, X)
                mean = np.nanmean(X_missing, axis=0)
                folds = _folds(~mask, args.share, args.members, seed)
                imputations, out_of_fold = [], np.full(X.shape, np.nan)
                for k in range(args.members):
                    hidden = np.where(folds == k, np.nan, X_missing)
                    imputer = MIWAEImputer(random_state=seed + 100 * k).fit(hidden)
                    imputations.append(imputer.transform(X_missing))
                    out_of_fold[folds == k] = imputer.transform(hidden)[folds == k]
                alpha = np.array(
                    [
                        _alpha(
                            X[folds[:, j] >= 0, j],
                            out_of_fold[folds[:, j] >= 0, j],
                            mean[j],
                        )
                        for j in range(X.shape[1])
                    ]
                )
                fallback = np.array(
                    [
                        float(
                            np.sum((out_of_fold[on, j] - X[on, j]) ** 2)
                            <= np.sum((mean[j] - X[on, j]) ** 2)
                        )
                        for j, on in enumerate((folds >= 0).T)
                    ]
                )
                ensemble = np.mean(imputations, axis=0)
                variants = {
                    "member": imputations[0],
                    "member_safe": mean + alpha * (imputations[0] - mean),
                    "ensemble": ensemble,
                    "ensemble_safe": mean + alpha * (ensemble - mean),
                    "member_fallback": mean + fallback * (imputations[0] - mean),
                    "ensemble_fallback": mean + fallback * (ensemble - mean),
                }
                row = {"dataset": name, "rate": args.rate, "seed": seed}
                row.update(members=args.members, share=args.share)
                row["alpha"] = [round(a, 3) for a in alpha]
                for variant, imputed in variants.items():
                    row[variant], row[f"{variant}_columns"] = _scores(
                        X, mask, imputed, mean
                    )
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
