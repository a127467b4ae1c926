"""Does an ensemble of MIWAE fits widen sample()'s intervals honestly? (issue 24)

For each table of the collection and rate (MCAR, seed 0, standardised,
defaults): the MSE and the coverage of the 50% and 90% intervals of 100
draws of one fit (seed 0), and of an ensemble of M fits (seeds 0 to M - 1,
trained side by side by ``fit_side_by_side``): the mean of their
imputations, and 100 / M draws from each. With ``--proxy``, also the
coverage of the one fit on observed cells hidden after training (20%, in
sample): whether a fit can tell its own coverage. Usage::

    python -m benchmarks.experiments.ensemble_calibration servo machine autompg \\
        --rates 0.3 0.5 --proxy
"""

import argparse

import numpy as np
import torch

from miwae_impute import MIWAEImputer, fit_side_by_side

from ..collection import load_table
from ..datasets import standardize
from ..missingness import mcar
from ..uci import interval_coverage

_DRAWS = 100


def _scores(means, draws, X, cells):
    mse = float(np.mean((np.mean(means, 0) - X)[cells] ** 2))
    cover = interval_coverage(np.concatenate(draws)[:, cells], X[cells], [0.5, 0.9])
    return f"MSE {mse:.4f}  coverage 50% {cover[0]:.3f}  90% {cover[1]:.3f}"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.ensemble_calibration"
    )
    parser.add_argument("tables", nargs="+")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.3, 0.5])
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--proxy", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for name in args.tables:
        X = standardize(load_table(name).X)
        for rate in args.rates:
            mask = mcar(X.shape, rate, 0)
            X_missing = np.where(mask, np.nan, X)
            fits = fit_side_by_side(
                MIWAEImputer(), X_missing, random_states=range(args.models)
            )
            one = fits[0]
            print(f"{name} {rate:.0%}")
            draws = np.stack(one.sample(X_missing, n_imputations=_DRAWS))
            scores = _scores([one.transform(X_missing)], [draws], X, mask)
            print(f"  one fit        {scores}")
            means = [fit.transform(X_missing) for fit in fits]
            draws = [
                np.stack(fit.sample(X_missing, _DRAWS // args.models)) for fit in fits
            ]
            print(f"  {args.models} fits side by side {_scores(means, draws, X, mask)}")
            if args.proxy:
                rng = np.random.default_rng(1)
                hidden = ~mask & (rng.random(X.shape) < 0.2)
                X_less = np.where(hidden, np.nan, X_missing)
                draws = np.stack(one.sample(X_less, n_imputations=_DRAWS))
                means = [one.transform(X_less)]
                print(f"  in sample      {_scores(means, [draws], X, hidden)}")


if __name__ == "__main__":
    main()
