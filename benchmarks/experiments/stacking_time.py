"""What ``StackingImputer``'s default (MIWAE + missForest) costs against MIWAE.

Times, in one process, fit plus transform of ``MIWAEImputer()``,
``MissForestImputer()``, ``StackingImputer()`` and
``StackingImputer(refit=False)`` on each named set at 20% MCAR (seed 0,
standardised), the median of ``--repeats`` runs each, and prints their
ratios to MIWAE's. Run it alone on the machine. Usage::

    python -m benchmarks.experiments.stacking_time concrete --threads 2
"""

import argparse

import numpy as np

from miwae_impute import MissForestImputer, MIWAEImputer, StackingImputer

from .._runner import run_context
from ..collection import load_any
from ..datasets import standardize
from ..missingness import make_mask
from ..speed import _median_seconds


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.stacking_time"
    )
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--missing-rate", type=float, default=0.2)
    args = parser.parse_args(argv)
    imputers = {
        "miwae": MIWAEImputer(random_state=0),
        "missforest": MissForestImputer(random_state=0),
        "stacking": StackingImputer(random_state=0),
        "stacking-unrefitted": StackingImputer(refit=False, random_state=0),
    }
    print(
        f"threads {args.threads}, {args.missing_rate:.0%} MCAR, "
        f"median of {args.repeats} runs"
    )
    with run_context(args.threads):
        MIWAEImputer(max_iter=1).fit(np.eye(3))  # warm up torch
        for name in args.datasets:
            X = standardize(load_any(name))
            X_missing = np.where(make_mask("mcar", X, args.missing_rate, 0), np.nan, X)
            seconds = {
                method: _median_seconds(
                    lambda imputer=imputer, X=X_missing: imputer.fit_transform(X),
                    args.repeats,
                    0,
                )
                for method, imputer in imputers.items()
            }
            ratios = ", ".join(
                f"{method} {s:.1f} s ({s / seconds['miwae']:.2f} x MIWAE)"
                for method, s in seconds.items()
            )
            print(f"  {name} {X.shape[0]} x {X.shape[1]}: {ratios}")


if __name__ == "__main__":
    main()
