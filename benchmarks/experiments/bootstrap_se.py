"""Bootstrap imputation: how much wider are the pooled standard errors? (issue 15)

An exploration, not a benchmark. On replications of ``benchmarks.pooling``'s
simulation, fit MIWAE on B bootstrap resamples of the rows, draw m / B
completions of the original rows from each, pool OLS by Rubin's rules, and
divide the pooled standard errors by those of the plain run (one fit, m draws)
stored in ``benchmarks/results/pooling-coverage-MECHANISM``. Usage::

    python -m benchmarks.experiments.bootstrap_se --mechanism mcar \\
        --replications 0 1 2 3 4
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from miwae_impute import MIWAEImputer

from ..pooling import _pooled, simulate

_RESULTS = Path(__file__).resolve().parents[1] / "results"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.bootstrap_se"
    )
    parser.add_argument("--mechanism", default="mcar")
    parser.add_argument("--replications", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--fits", type=int, default=5, help="bootstrap fits B")
    parser.add_argument("--n-imputations", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    stored = pd.read_csv(
        _RESULTS / f"pooling-coverage-{args.mechanism}" / "results.csv"
    )
    plain = stored[stored.analysis == f"MIWAE MI, m={args.n_imputations}"]
    ratios = []
    for replication in args.replications:
        _, incomplete = simulate(replication, args.mechanism, 0.4)
        rng = np.random.default_rng(1000 + replication)
        draws = []
        for b in range(args.fits):
            rows = rng.integers(0, len(incomplete), len(incomplete))
            resample = incomplete.iloc[rows].reset_index(drop=True)
            imputer = MIWAEImputer(random_state=100 * replication + b).fit(resample)
            draws += imputer.sample(incomplete, args.n_imputations // args.fits)
        _, total, _ = _pooled(draws)
        base = plain[plain.replication == replication].std_err.to_numpy()
        ratios.append(np.sqrt(total) / base)
        print(
            f"replication {replication}: SE ratio {np.round(ratios[-1], 2)}", flush=True
        )
    ratios = np.array(ratios)
    print(
        f"{args.mechanism}: bootstrap / plain pooled SE per term (intercept, x0..x3) "
        f"{np.round(ratios.mean(axis=0), 2)}; slopes {ratios[:, 1:].mean():.2f}"
    )


if __name__ == "__main__":
    main()
