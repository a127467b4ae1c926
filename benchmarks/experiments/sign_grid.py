"""The learned direction against MIWAE, mechanism by mechanism (issue 25).

Fits each method with its defaults on one mask per (mechanism, rate, data set,
seed) and appends a JSON line per fit to ``--out`` (resumable): the MSE, and
for not-MIWAE the direction chosen and its pilot statistics. ``--report FILE
...`` tabulates not-MIWAE / MIWAE and the share of masked columns whose sign
was right (the latest line of a fit wins).
"""

import argparse
import functools
import itertools
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from miwae_impute import MIWAEImputer, make_imputer

from .._report import markdown_table
from .._runner import run_context, versions
from ..collection import COLLECTION, load_any
from ..datasets import DATASETS, standardize
from ..missingness import make_mask

_KEY = ("method", "dataset", "mechanism", "rate", "seed")
_PILOTS = ("bound", "observed_bound", "shift_z", "margin_z")
_MECHANISMS = "above-mean:0.3 above-mean-all:0.6 below-mean:0.9 below-mean-all:1"


def _right(mechanism):
    """The direction ``chosen_missingness_`` should name under ``mechanism``."""
    if mechanism in ("mcar", "mar"):
        return "ignorable"
    high = mechanism.startswith(("above", "paper"))
    return "self-masking-high" if high else "self-masking-low"


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
    out = Path(args.out)
    lines = out.read_text().splitlines() if out.exists() else []
    done = {tuple(json.loads(line)[k] for k in _KEY) for line in lines}
    commit = versions()["git_commit"]  # of the code this process runs
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    grid = itertools.product(args.mechanisms, args.datasets, seeds, args.methods)
    table = functools.cache(lambda name: standardize(load_any(name)))  # loaded once
    with run_context(1), out.open("a") as file:
        for spec, name, seed, method in grid:
            mechanism, rate = spec.split(":")
            key = (method, name, mechanism, float(rate), seed)
            if key not in done:
                row = dict(zip(_KEY, key)) | _fit(method, table(name), *key[2:])
                file.write(json.dumps(row | {"git_commit": commit}) + "\n")
                file.flush()
                print(json.dumps(row), flush=True)


def _right_share(fits):
    """The share of masked columns whose direction was right."""
    return (fits.n_masked_columns * fits.right).sum() / fits.n_masked_columns.sum()


def report(paths):
    """Markdown: not-MIWAE / MIWAE per mechanism and set, and the signs."""
    rows = [json.loads(s) for p in paths for s in Path(p).read_text().splitlines()]
    frame = pd.DataFrame(rows).drop_duplicates(list(_KEY), keep="last")
    keys = ["mechanism", "rate", "dataset", "seed"]
    wide = frame.pivot_table(index=keys, columns="method", values="mse")
    wide = wide.dropna(subset=["miwae", "not-miwae"]).reset_index()
    chosen = frame[frame.method == "not-miwae"].set_index(keys)
    wide = wide.join(chosen[["chosen", "n_masked_columns"]], on=keys)
    wide["ratio"] = wide["not-miwae"] / wide["miwae"]
    wide["right"] = wide.chosen == wide.mechanism.map(_right)
    names, lines = sorted(wide.dataset.unique()), []
    for (mechanism, rate), group in wide.groupby(["mechanism", "rate"]):
        ratio = group.set_index("dataset").ratio
        cells = [" / ".join(f"{r:.2f}" for r in ratio[ratio.index == n]) for n in names]
        worst, right = f"{group.ratio.max():.2f}", f"{_right_share(group):.0%}"
        lines.append([mechanism, f"{rate:g}", *cells, worst, right])
    table = markdown_table(["mechanism", "rate", *names, "worst", "sign right"], lines)
    mnar = wide[~wide.mechanism.isin(["mcar", "mar"])]
    return (
        f"{table}\n\nnot-MIWAE / MIWAE MSE (seeds separated by /). Self-masking: "
        f"{len(mnar)} fits, {(mnar.ratio <= 1).mean():.0%} at or below MIWAE, "
        f"sign right on {_right_share(mnar):.0%} of the "
        "masked columns (right at random: missing at random chosen)."
    )


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
    print(report(args.report)) if args.report else run(args)


if __name__ == "__main__":
    main()
