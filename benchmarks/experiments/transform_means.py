"""What imputation by the means alone saves (issue 27's inference goal).

``transform`` computes E[x_m | x_o] alone, and ``transform(return_std=True)``
the second moments beside it, as every ``transform`` did before. On the
speed study's inference case, a synthetic 5,000 x 30 table at L = 10,000
(``--rows`` of its rows, 50% MCAR, the imputer of ``benchmarks.speed``), the
two are timed in turn in one process, median of ``--repeats``; the imputed
values must be the same bit for bit. Run it alone on the machine. Usage::

    python -m benchmarks.experiments.transform_means --threads 2
"""

import argparse
import time

import numpy as np

from .._runner import run_context
from ..speed import _built_imputer, _synthetic


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.transform_means"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--L", type=int, default=10_000)
    args = parser.parse_args(argv)
    X = _synthetic(5000, n_features=30)[2]  # the masked copy
    with run_context(args.threads):
        imputer = _built_imputer(X, L=args.L)
        rows = X[: args.rows]
        imputer.transform(rows[:8])  # warm-up
        seconds = {"means": [], "with std": []}
        for _ in range(args.repeats):
            start = time.perf_counter()
            means = imputer.transform(rows)
            seconds["means"].append(time.perf_counter() - start)
            start = time.perf_counter()
            both = imputer.transform(rows, return_std=True)[0]
            seconds["with std"].append(time.perf_counter() - start)
    same = np.array_equal(means, both)
    median = {name: float(np.median(times)) for name, times in seconds.items()}
    print(
        f"{args.rows} rows x 30, L = {args.L}, {args.threads} thread(s), "
        f"median of {args.repeats}:"
    )
    for name, value in median.items():
        print(f"  transform, {name:9s} {value:7.2f} s  {args.rows / value:6.1f} rows/s")
    print(f"  ratio {median['means'] / median['with std']:.3f}; same means: {same}")


if __name__ == "__main__":
    main()
