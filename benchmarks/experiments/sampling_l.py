"""Does finer sampling change the pooled slopes? (issue 15 diagnostic)

On replications of ``benchmarks.pooling``'s simulation, fit MIWAE once, draw
20 completions with L = 1,000 and with L = 20,000 importance samples, and
pool OLS on each by Rubin's rules. Usage::

    python -m benchmarks.experiments.sampling_l --mechanism mar --replications 0 1
"""

import argparse

import numpy as np
import torch

from miwae_impute import MIWAEImputer

from ..pooling import _pooled, simulate


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.sampling_l")
    parser.add_argument("--mechanism", default="mar")
    parser.add_argument("--replications", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for replication in args.replications:
        _, incomplete = simulate(replication, args.mechanism, 0.4)
        imputer = MIWAEImputer(random_state=replication).fit(incomplete)
        pooled = {}
        for L in (1000, 20000):
            imputer.set_params(L=L)
            draws = imputer.sample(incomplete, n_imputations=20)
            pooled[L] = _pooled(draws)[0]
        shift = np.abs(pooled[20000] - pooled[1000]).max()
        print(
            f"replication {replication}: L=1000 {np.round(pooled[1000], 3)}, "
            f"L=20000 {np.round(pooled[20000], 3)}, largest shift {shift:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
