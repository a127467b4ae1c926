"""The terms behind not-MIWAE's choice of direction (issue 25).

For each DATASET:MECHANISM:RATE mask (standardised, ``--seed``), the pilots
of ``missingness="self-masking"`` (``history_``); appends to ``--out`` the
mean per row of the self-masking bound ``sm``, the same with its mask model
ignored ``sm_xo``, the pilot at random's ``at_random_xo``, and the
cross-fitted ``regression``'s log p(s | x_F). ``--report``: self-masking's
margin over the rival at random by the whole bounds (sm - at_random_xo -
regression, the rule until 2026-12-06) and by the mask terms (sm - sm_xo -
regression), and the wrong choices by each and by both (the rule since)::

    python -m benchmarks.experiments.direction_terms servo:mar:0.2 --out t.jsonl
    python -m benchmarks.experiments.direction_terms --report t.jsonl
"""

import argparse
import json
from pathlib import Path

import numpy as np

from .._runner import run_context
from ..collection import load_any
from ..datasets import standardize
from ..missingness import make_mask
from .sign_grid import _DirectionOnly, _right


def terms_of(spec, seed):
    """The terms of mask ``spec``, DATASET:MECHANISM:RATE."""
    name, mechanism, rate = spec.split(":")
    X = standardize(load_any(name))
    imputer = _DirectionOnly(missingness="self-masking", random_state=seed)
    imputer.fit(np.where(make_mask(mechanism, X, float(rate), seed), np.nan, X))
    history = imputer.history_
    observed, bounds = history["pilot_observed_bound"], history["pilot_bound"]
    terms = {"at_random_xo": observed["ignorable"]}
    for direction in set(bounds) - {"ignorable"}:  # where its pilot ran
        terms["sm"], terms["sm_xo"] = bounds[direction], observed[direction]
        terms["regression"] = bounds["ignorable"] - max(observed.values())
    z, chosen = history["pilot_shift_z"], imputer.chosen_missingness_
    return terms | {"chosen": chosen, "pilot_shift_z": z}


def report(paths):
    """Markdown: self-masking's margins (nats a row), and the wrong choices."""
    print("| mask | right | z | whole | mask terms |\n|---|---|---|---|---|")
    wrong = {"whole": 0, "mask terms": 0, "both": 0}
    for p in paths:
        for r in map(json.loads, Path(p).read_text().splitlines()):
            right = _right(r["mask"].split(":")[1])
            side = "high" if r["pilot_shift_z"] > 0 else "low"
            sm = r.get("sm", np.nan) - r.get("regression", np.nan)
            margins = [sm - r["at_random_xo"], sm - r.get("sm_xo", np.nan)]
            for kind, margin in zip(wrong, [*margins, min(margins)]):
                chosen = f"self-masking-{side}" if margin > 0 else "ignorable"
                wrong[kind] += chosen != right
            cells = " | ".join(f"{v:+.3f}" for v in margins)
            print(f"| {r['mask']} | {right} | {r['pilot_shift_z']:.1f} | {cells} |")
    print(f"\nWrong choices: {wrong}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("masks", nargs="*", help="DATASET:MECHANISM:RATE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    parser.add_argument("--report", nargs="+")
    if (args := parser.parse_args(argv)).report:
        return report(args.report)
    with run_context(1), Path(args.out).open("a") as file:
        for spec in args.masks:
            row = {"mask": spec, "seed": args.seed} | terms_of(spec, args.seed)
            print(json.dumps(row), file=file, flush=True)


if __name__ == "__main__":
    main()
