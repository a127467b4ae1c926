"""The time of the default fit before and after the 200-epoch floor (issue 24).

One process, both threads: for each table, the default MIWAE's fit plus
transform at 20% MCAR (seed 0), with the old budget of 3,000 steps
(``max_iter`` set to its epochs) and with ``max_iter="auto"``, in turn.
Run it alone on the machine. Usage::

    python -m benchmarks.experiments.fit_budget --datasets red white
"""

import argparse
import json
import math
import time

import numpy as np

from miwae_impute import MIWAEImputer

from ..missingness import mcar
from .samplers import _table


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.fit_budget")
    parser.add_argument("--datasets", nargs="+", required=True)
    args = parser.parse_args(argv)
    for name in args.datasets:
        X = _table(name)
        mask = mcar(X.shape, 0.2, 0)
        X_missing = np.where(mask, np.nan, X)
        old = math.ceil(3000 / math.ceil(len(X) / 64))  # 3,000 steps of 64 rows
        row = {"dataset": name, "rows": len(X)}
        for label, max_iter in (("before", old), ("after", "auto")):
            imputer = MIWAEImputer(max_iter=max_iter, random_state=0)
            start = time.perf_counter()
            imputed = imputer.fit(X_missing).transform(X_missing)
            row[f"{label}_seconds"] = round(time.perf_counter() - start, 1)
            row[f"{label}_epochs"] = imputer.n_iter_
            row[f"{label}_mse"] = round(float(np.mean((imputed - X)[mask] ** 2)), 4)
        row["ratio"] = round(row["after_seconds"] / row["before_seconds"], 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
