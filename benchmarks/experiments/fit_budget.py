"""The time of the default fit before and after a change of its settings (issue 24).

One process, both threads: for each table, MIWAE's fit plus transform at 20%
MCAR (seed 0) with the "before" settings, then with the "after" ones. By
default, before is the old budget of 3,000 steps (``max_iter`` set to its
epochs) and after is ``max_iter="auto"``, the 200-epoch floor; ``--before``
and ``--after`` take other settings as ``NAME=VALUE`` (``--before
encoder_fill=zero --after encoder_fill=gaussian``). Run it alone on the
machine. Usage::

    python -m benchmarks.experiments.fit_budget --datasets red white
"""

import argparse
import json
import math
import time

import numpy as np

from miwae_impute import MIWAEImputer

from .._runner import parse_params
from ..missingness import mcar
from .samplers import _table


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.fit_budget")
    parser.add_argument("--datasets", nargs="+", required=True)
    parser.add_argument("--before", nargs="*", default=None, metavar="NAME=VALUE")
    parser.add_argument("--after", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    for name in args.datasets:
        X = _table(name)
        mask = mcar(X.shape, 0.2, 0)
        X_missing = np.where(mask, np.nan, X)
        old = math.ceil(3000 / math.ceil(len(X) / 64))  # 3,000 steps of 64 rows
        before = {"max_iter": old} if args.before is None else _settings(args.before)
        row = {"dataset": name, "rows": len(X)}
        for label, params in (("before", before), ("after", _settings(args.after))):
            imputer = MIWAEImputer(random_state=0, **params)
            start = time.perf_counter()
            imputed = imputer.fit(X_missing).transform(X_missing)
            row[f"{label}_seconds"] = round(time.perf_counter() - start, 1)
            row[f"{label}_epochs"] = imputer.n_iter_
            row[f"{label}_mse"] = round(float(np.mean((imputed - X)[mask] ** 2)), 4)
        row["ratio"] = round(row["after_seconds"] / row["before_seconds"], 2)
        print(json.dumps(row), flush=True)


def _settings(pairs):
    return parse_params([f"miwae.{pair}" for pair in pairs], ("miwae",)).get(
        "miwae", {}
    )


if __name__ == "__main__":
    main()
