"""Can the bound of held-out rows choose not-MIWAE's decoder? (issue 25)

On the not-MIWAE paper's Table 1 mask (``paper-above-mean``, rate 1, the
direction known), fit not-MIWAE with each decoder on a random 80% of the
rows, impute every row, and print one line of JSON per fit: the RMSE on the
removed cells (standardised units), on those of the held-out rows, and the
bound of log p(x_o, s) (``score``, nats a row, data units) on the training
rows and on the held-out rows.

Usage::

    python -m benchmarks.experiments.decoder_bound --datasets breast banknote \\
        --decoders mlp ppca
"""

import argparse
import json
import time

import numpy as np

from miwae_impute import MIWAEImputer

from .._runner import run_context
from ..datasets import DATASETS, load_dataset, standardize
from ..missingness import paper_above_mean


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.decoder_bound"
    )
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, required=True)
    parser.add_argument("--decoders", nargs="+", default=["mlp", "ppca"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-fraction", type=float, default=0.8)
    args = parser.parse_args(argv)
    with run_context(1):
        for name in args.datasets:
            X = standardize(load_dataset(name).X)
            removed = paper_above_mean(X, 1.0, args.seed)
            X_missing = np.where(removed, np.nan, X)
            rows = np.random.default_rng(args.seed).permutation(len(X))
            cut = int(args.train_fraction * len(X))
            train, held = rows[:cut], rows[cut:]
            for decoder in args.decoders:
                start = time.perf_counter()
                imputer = MIWAEImputer(
                    missingness="self-masking-high", decoder=decoder,
                    random_state=args.seed,
                ).fit(X_missing[train])  # fmt: skip
                error = (imputer.transform(X_missing) - X) ** 2
                row = {"dataset": name, "seed": args.seed, "decoder": decoder}
                row["rmse"] = float(np.sqrt(error[removed].mean()))
                row["rmse_held_out"] = float(np.sqrt(error[held][removed[held]].mean()))
                row["bound_train"] = imputer.score(X_missing[train])
                row["bound_held_out"] = imputer.score(X_missing[held])
                row["seconds"] = round(time.perf_counter() - start, 1)
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
