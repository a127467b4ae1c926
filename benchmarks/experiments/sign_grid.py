"""The learned direction against MIWAE, mechanism by mechanism (issue 25).

Fits each method with its defaults on one mask per (mechanism, rate, data set,
seed) and appends a JSON line per fit to ``--out`` (resumable): the MSE, and
for not-MIWAE the direction chosen and its pilot statistics. ``--report FILE
...`` tabulates not-MIWAE / MIWAE and the share of masked columns whose sign
was right (:func:`benchmarks.mnar.sign_table`, also ``python -m benchmarks
report mnar --sign-grid FILE ...``).
"""

import argparse
import itertools
import json
import time
from functools import cache
from pathlib import Path

import numpy as np

from miwae_impute import MIWAEImputer, make_imputer

from .._runner import run_context, versions
from ..collection import COLLECTION, load_any
from ..datasets import DATASETS, standardize
from ..missingness import make_mask
from ..mnar import SIGN_GRID_KEY, sign_table

_PILOTS = ("bound", "observed_bound", "shift_z", "margin_z")
_MECHANISMS = "above-mean:0.3 above-mean-all:0.6 below-mean:0.9 below-mean-all:1"


class _DirectionOnly(MIWAEImputer):
    """not-MIWAE's pilots and choice of direction, without the full fit."""

    def _fit(self, X, mask):
        self._choose_direction(*self._prepare_fit(X, mask))

    def _max_iter(self, n_train, not_miwae=None):  # the pilots' budget only
        return super()._max_iter(n_train, not_miwae) if not_miwae else 0


def _fit(method, X, mechanism, rate, seed):
    """One fit on one mask, as a JSON row ("not-miwae-direction": no MSE)."""
    mask = make_mask(mechanism, X, rate, seed)
    X_missing, start, row = np.where(mask, np.nan, X), time.perf_counter(), {}
    if method == "not-miwae-direction":
        imputer = _DirectionOnly(missingness="self-masking", random_state=seed)
        imputer.fit(X_missing)
    else:
        imputer = make_imputer(method, random_state=seed)
        X_imputed = np.asarray(imputer.fit_transform(X_missing))
        row = {"mse": float(np.mean((X_imputed[mask] - X[mask]) ** 2))}
    row["seconds"] = round(time.perf_counter() - start, 1)
    row["n_masked_columns"] = int(mask.any(axis=0).sum())
    if hasattr(imputer, "chosen_missingness_"):
        row["chosen"] = imputer.chosen_missingness_
        row |= {f"pilot_{k}": imputer.history_.get(f"pilot_{k}") for k in _PILOTS}
    return row


def run(args):
    """Fit what ``--out`` lacks, one JSON line a fit."""
    out, commit = Path(args.out), versions()["git_commit"]  # of the code run here
    lines = out.read_text().splitlines() if out.exists() else []
    done = {tuple(json.loads(line)[k] for k in SIGN_GRID_KEY) for line in lines}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    grid = itertools.product(args.mechanisms, args.datasets, seeds, args.methods)
    table = cache(lambda name: standardize(load_any(name)))  # loaded once
    with run_context(1), out.open("a") as file:
        for spec, name, seed, method in grid:
            mechanism, rate = spec.split(":")
            key = (method, name, mechanism, float(rate), seed)
            if key not in done:
                fit = _fit(method, table(name), *key[2:])
                row = dict(zip(SIGN_GRID_KEY, key)) | fit
                file.write(json.dumps(row | {"git_commit": commit}) + "\n")
                file.flush()
                print(json.dumps(row), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.sign_grid")
    add = parser.add_argument
    add("--out", help="JSON-lines file the fits are appended to")
    add("--mechanisms", nargs="+", default=[*_MECHANISMS.split(), "paper-above-mean:1"])
    add("--datasets", nargs="+", choices=sorted({*DATASETS, *COLLECTION}))
    add("--methods", nargs="+", default=["miwae", "not-miwae"])
    add("--seeds", type=int, default=1, help="how many seeds")
    add("--first-seed", type=int, default=0)
    add("--report", nargs="+", help="JSON-lines files to tabulate")
    args = parser.parse_args(argv)
    args.datasets = args.datasets or list(DATASETS)
    print(sign_table(args.report)) if args.report else run(args)


if __name__ == "__main__":
    main()
