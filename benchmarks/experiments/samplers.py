"""SNIS against the Markov chain samplers, on one fitted model (issue 24).

For each table, rate and seed: fit the default MIWAE once on the MCAR copy,
then impute with ``sampler="snis"``, ``"metropolis-within-gibbs"`` and
``"pseudo-gibbs"`` (each with the default L), and print the MSE of the
removed cells in standardised units, the share of them inside the central
90% interval mean +- 1.645 std of ``transform(return_std=True)``, and the
transform's seconds. One line of JSON per case. Usage::

    python -m benchmarks.experiments.samplers --datasets banknote concrete \\
        --rates 0.2 0.5 --seeds 0
"""

import argparse
import json
import time

import numpy as np
import torch

from miwae_impute import MIWAEImputer

from .._runner import run_context
from ..collection import COLLECTION, load_table
from ..datasets import DATASETS, load_dataset, standardize
from ..missingness import mcar

SAMPLERS = ("snis", "metropolis-within-gibbs", "pseudo-gibbs")


def _table(name):
    loader = load_table if name in COLLECTION else load_dataset
    return standardize(loader(name).X)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.samplers")
    names = tuple(dict.fromkeys((*DATASETS, *COLLECTION)))
    parser.add_argument("--datasets", nargs="+", choices=names, required=True)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.2, 0.3, 0.5])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    with run_context(1):
        for name in args.datasets:
            X = _table(name)
            for rate in args.rates:
                for seed in args.seeds:
                    mask = mcar(X.shape, rate, seed)
                    X_missing = np.where(mask, np.nan, X)
                    imputer = MIWAEImputer(random_state=seed).fit(X_missing)
                    for sampler in SAMPLERS:
                        imputer.set_params(sampler=sampler)
                        start = time.perf_counter()
                        mean, std = imputer.transform(X_missing, return_std=True)
                        seconds = time.perf_counter() - start
                        inside = np.abs(mean - X) <= 1.645 * std
                        row = {
                            "dataset": name,
                            "rate": rate,
                            "seed": seed,
                            "sampler": sampler,
                            "mse": float(np.mean((mean - X)[mask] ** 2)),
                            "coverage90": float(inside[mask].mean()),
                            "transform_s": round(seconds, 2),
                            "torch_threads": torch.get_num_threads(),
                        }
                        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
