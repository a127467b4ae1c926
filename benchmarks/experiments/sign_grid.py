"""The learned direction against MIWAE, mechanism by mechanism (issue 25).

Issue 25's goal for ``make_imputer("not-miwae")`` (the sign learned, the
default) is an MSE at or below MIWAE's at every self-masking mechanism (rates
0.3 to 1; half of the columns or all; high or low values missing), on every
set and seed, and the right sign on at least 90% of the masked columns. For
each (mechanism, rate, data set, seed) this fits the given methods with their
defaults on one mask of the harness (standardised data, one thread), and
appends a JSON line per fit to ``--out``: the MSE on the removed cells, the
direction the bound chose and its pilot bounds (not-MIWAE), and the seconds.
Fits already in ``--out`` are skipped, so a stopped run resumes; ``--report``
prints the table of not-MIWAE / MIWAE and the share of masked columns whose
sign was right, from one or more such files (the latest line of a fit wins)::

    python -m benchmarks.experiments.sign_grid --out sign.jsonl \\
        --mechanisms above-mean:0.3 below-mean-all:1 --datasets yeast breast
    python -m benchmarks.experiments.sign_grid --report sign.jsonl
"""

import argparse
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

#: The fields that name one fit.
_KEY = ("method", "dataset", "mechanism", "rate", "seed")

#: The direction each self-masking mechanism masks, as ``chosen_missingness_``
#: names it ("ignorable" is right for MCAR and MAR).
_RIGHT = {"above": "self-masking-high", "below": "self-masking-low"}


def _right(mechanism):
    if mechanism in ("mcar", "mar"):
        return "ignorable"
    side = "above" if mechanism.startswith(("above", "paper")) else "below"
    return _RIGHT[side]


class _DirectionOnly(MIWAEImputer):
    """not-MIWAE's choice of direction alone: its pilots, not the fit. A fit
    that chooses a direction goes on from that direction's pilot, and one
    that chooses missing at random is MIWAE's, so the choice tells which."""

    def _fit(self, X, mask):
        self._choose_direction(*self._prepare_fit(X, mask))

    def _max_iter(self, n_train, not_miwae=None):  # the pilots' budget only
        return super()._max_iter(n_train, not_miwae) if not_miwae else 0


def _fit(method, X, mechanism, rate, seed):
    """One fit on one mask: the JSON row ("not-miwae-direction": the choice
    of direction alone, without an MSE)."""
    mask = make_mask(mechanism, X, rate, seed)
    X_missing = np.where(mask, np.nan, X)
    start = time.perf_counter()
    if method == "not-miwae-direction":
        imputer = _DirectionOnly(missingness="self-masking", random_state=seed)
        imputer.fit(X_missing)
        row = {}
    else:
        imputer = make_imputer(method, random_state=seed)
        X_imputed = np.asarray(imputer.fit_transform(X_missing))
        row = {"mse": float(np.mean((X_imputed[mask] - X[mask]) ** 2))}
    row |= {
        "seconds": round(time.perf_counter() - start, 1),
        "n_masked_columns": int(mask.any(axis=0).sum()),
    }
    if hasattr(imputer, "chosen_missingness_"):
        row["chosen"] = imputer.chosen_missingness_
        row["pilot_bound"] = imputer.history_.get("pilot_bound")
        row["pilot_observed_bound"] = imputer.history_.get("pilot_observed_bound")
        row["pilot_shift_z"] = imputer.history_.get("pilot_shift_z")
        row["pilot_margin_z"] = imputer.history_.get("pilot_margin_z")
    return row


def run(args):
    """Fit what ``--out`` lacks, one JSON line a fit."""
    out = Path(args.out)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            done.add(tuple(row[k] for k in _KEY))
    commit = versions()["git_commit"]  # of the code this process runs
    with run_context(1), out.open("a") as file:
        for spec in args.mechanisms:
            mechanism, _, rate = spec.partition(":")
            for name in args.datasets:
                X = standardize(load_any(name))
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    for method in args.methods:
                        key = (method, name, mechanism, float(rate), seed)
                        if key in done:
                            continue
                        row = dict(zip(_KEY, key))
                        row |= _fit(method, X, mechanism, float(rate), seed)
                        row["git_commit"] = commit
                        file.write(json.dumps(row) + "\n")
                        file.flush()
                        print(json.dumps(row), flush=True)


def report(paths):
    """Markdown: not-MIWAE / MIWAE per mechanism and set, and the signs."""
    rows = [
        json.loads(line) for p in paths for line in Path(p).read_text().splitlines()
    ]
    frame = pd.DataFrame(rows).drop_duplicates(list(_KEY), keep="last")
    keys = ["mechanism", "rate", "dataset", "seed"]
    wide = frame.pivot_table(index=keys, columns="method", values="mse")
    wide = wide.dropna(subset=["miwae", "not-miwae"]).reset_index()
    chosen = frame[frame.method == "not-miwae"].set_index(keys)[
        ["chosen", "n_masked_columns"]
    ]
    wide = wide.join(chosen, on=keys)
    wide["ratio"] = wide["not-miwae"] / wide["miwae"]
    wide["right"] = wide.chosen == wide.mechanism.map(_right)
    names = sorted(wide.dataset.unique())
    lines = []
    for (mechanism, rate), group in wide.groupby(["mechanism", "rate"]):
        cells = []
        for name in names:
            ratios = group[group.dataset == name].ratio
            cells.append(" / ".join(f"{r:.2f}" for r in ratios) or "")
        columns = group.n_masked_columns
        right = (columns * group.right).sum() / columns.sum()
        lines.append(
            [mechanism, f"{rate:g}", *cells, f"{group.ratio.max():.2f}", f"{right:.0%}"]
        )
    header = ["mechanism", "rate", *names, "worst", "sign right"]
    lines = [markdown_table(header, lines)]
    mnar = wide[~wide.mechanism.isin(["mcar", "mar"])]
    masked = mnar.n_masked_columns
    lines.append(
        f"\nnot-MIWAE / MIWAE MSE (seeds separated by /). Self-masking: "
        f"{len(mnar)} fits, {(mnar.ratio <= 1).mean():.0%} at or below MIWAE, "
        f"sign right on {(masked * mnar.right).sum() / masked.sum():.0%} of the "
        "masked columns (right at random: missing at random chosen)."
    )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.sign_grid")
    parser.add_argument("--out", help="JSON-lines file the fits are appended to")
    parser.add_argument(
        "--mechanisms",
        nargs="+",
        default=[
            "above-mean:0.3",
            "above-mean-all:0.6",
            "below-mean:0.9",
            "below-mean-all:1",
            "paper-above-mean:1",
        ],
        help="MECHANISM:RATE pairs",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=sorted({*DATASETS, *COLLECTION}),
        default=["banknote", "breast", "concrete", "red", "white", "yeast"],
    )
    parser.add_argument("--methods", nargs="+", default=["miwae", "not-miwae"])
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--report", nargs="+", help="JSON-lines files to tabulate")
    args = parser.parse_args(argv)
    if args.report:
        print(report(args.report))
    else:
        run(args)


if __name__ == "__main__":
    main()
