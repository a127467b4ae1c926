"""Fit and transform time of MIWAEImputer's defaults on one UCI set, separately.

At torch's default threads (both cores here), 50% MCAR, seed 0. Usage::

    python -m benchmarks.experiments.fit_time breast
"""

import argparse
import time

import numpy as np
import torch

from miwae_impute import MIWAEImputer

from ..datasets import load_dataset, standardize
from ..missingness import make_mask


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.fit_time")
    parser.add_argument("dataset")
    args = parser.parse_args(argv)
    X = standardize(load_dataset(args.dataset)[0])
    mask = make_mask("mcar", X, 0.5, 0)
    X_missing = np.where(mask, np.nan, X)
    start = time.perf_counter()
    imputer = MIWAEImputer(random_state=0).fit(X_missing)
    fitted = time.perf_counter()
    X_imputed = imputer.transform(X_missing)
    done = time.perf_counter()
    mse = np.mean((X_imputed[mask] - X[mask]) ** 2)
    print(
        f"{args.dataset}, {torch.get_num_threads()} threads: "
        f"fit {fitted - start:.1f} s, transform {done - fitted:.1f} s, MSE {mse:.4f}"
    )


if __name__ == "__main__":
    main()
