"""What bootstrap multiple imputation (m = 5) costs on the README's example.

Times, in one process: one MIWAE fit on the features and the outcome;
``MultipleImputationEstimator.fit`` with its default bootstrap, whose five
fits train side by side; and the same five fits one after another, as the
estimator ran them before (clones fitted on the resamples). Median of
``--repeats`` runs each; run it alone on the machine. Usage::

    python -m benchmarks.experiments.mi_time --threads 2
"""

import argparse

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LinearRegression

from miwae_impute import MIWAEImputer, MultipleImputationEstimator

from .._runner import run_context
from ..speed import _median_seconds


def _readme_example():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(500, 2)), columns=["age", "dose"])
    y = 1.0 + 2.0 * X["age"] - X["dose"] + rng.normal(size=500)
    X[rng.random(X.shape) < 0.2] = np.nan
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.mi_time")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    X, y = _readme_example()
    model = MultipleImputationEstimator(
        LinearRegression(), imputer=MIWAEImputer(random_state=0), n_imputations=5
    )
    frame = X.assign(y=y)
    rng = np.random.default_rng(0)
    resamples = [rng.integers(len(frame), size=len(frame)) for _ in range(5)]

    def in_turn():
        for k, rows in enumerate(resamples):
            imputer = MIWAEImputer(random_state=k)
            clone(imputer).fit(frame.iloc[rows].reset_index(drop=True))

    with run_context(args.threads):
        MIWAEImputer(max_iter=1).fit(frame)  # warm up torch

        def one_fit():
            MIWAEImputer(random_state=0).fit(frame)

        one = _median_seconds(one_fit, args.repeats, warmup=0)
        bootstrap = _median_seconds(lambda: clone(model).fit(X, y), args.repeats, 0)
        turn = _median_seconds(in_turn, args.repeats, warmup=0)
    print(f"threads {args.threads}, median of {args.repeats} runs:")
    print(f"  one MIWAE fit on [X, y]                 {one:6.1f} s")
    print(
        f"  bootstrap MI, m = 5, fits side by side  {bootstrap:6.1f} s  "
        f"({bootstrap / one:.2f} x one fit)"
    )
    print(
        f"  the five fits one after another        {turn:6.1f} s  "
        f"({turn / one:.2f} x one fit)"
    )


if __name__ == "__main__":
    main()
