"""Per-column coverage of sample()'s 50% and 90% intervals (issue 15 diagnostic).

The paper's protocol (standardised, 50% MCAR), MIWAE's defaults, 100 draws,
one seed. Prints, per column, the share of its most frequent value and the
coverage of the removed cells. Usage::

    python -m benchmarks.experiments.calibration_columns concrete yeast
"""

import argparse

import numpy as np
import torch

from miwae_impute import MIWAEImputer

from ..datasets import load_dataset, standardize
from ..missingness import mcar
from ..uci import interval_coverage


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.calibration_columns"
    )
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for name in args.datasets:
        X, columns = load_dataset(name)
        X = standardize(X)
        mask = mcar(X.shape, 0.5, args.seed)
        X_missing = np.where(mask, np.nan, X)
        imputer = MIWAEImputer(random_state=args.seed).fit(X_missing)
        draws = np.stack(imputer.sample(X_missing, n_imputations=100))
        print(name)
        for j, column in enumerate(columns):
            _, counts = np.unique(X[:, j], return_counts=True)
            rows = mask[:, j]
            cover = interval_coverage(draws[:, rows, j], X[rows, j], [0.5, 0.9])
            print(
                f"  {column:28s} most frequent value {counts.max() / len(X):.2f}"
                f"  coverage 50% {cover[0]:.3f}  90% {cover[1]:.3f}"
            )


if __name__ == "__main__":
    main()
