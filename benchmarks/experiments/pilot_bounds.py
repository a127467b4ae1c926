"""The bound's choice of direction, row by row (issue 25 diagnostic).

``missingness="self-masking"`` fits three short pilots (missing at random,
high values missing, low values missing) and keeps the one with the highest
mean bound per row. For each data set, this runs the pilots alone (the fit
stops after them) on a mask of the benchmark harness, and prints, for
"high" and "low", the mean per-row gain over the at-random pilot in nats
and its paired z (the rows share their importance draws), as JSON lines.
Usage::

    python -m benchmarks.experiments.pilot_bounds --datasets yeast breast \\
        --mechanism above-mean --rate 0.9 [--fill zero|learned]
"""

import argparse
import json

import numpy as np

import miwae_impute._training as training
from miwae_impute import MIWAEImputer
from miwae_impute._missingness import SelfMasking

from ..datasets import DATASETS, load_dataset, standardize
from ..missingness import MECHANISMS, make_mask
from ..uci import _run_context


class _Stop(Exception):
    """Raised after the third pilot's bound: the fit goes no further."""


def _pilot_bounds(X_missing, fill, seed):
    """Per-row bounds of the at-random, high and low pilots, as the chooser
    scores them (the at-random one with the Bernoulli term of the mask)."""
    bounds, bound_per_row = [], training.bound_per_row

    def record(model, x, m, n_samples, seeds):
        bound = bound_per_row(model, x, m, n_samples, seeds)
        if model.missingness is None:  # as the chooser adds it: w = 0
            at_random = SelfMasking(np.flatnonzero(model._numeric.numpy()))
            at_random.start_at(m)
            bound = bound + at_random.log_prob(m, x).sum(-1)
        bounds.append(bound.detach().numpy().copy())
        if len(bounds) == 3:
            raise _Stop
        return bound

    training.bound_per_row = record
    imputer = MIWAEImputer(missingness="self-masking", random_state=seed)
    try:
        imputer.set_params(encoder_fill=fill).fit(X_missing)
    except _Stop:
        pass
    finally:
        training.bound_per_row = bound_per_row
    return bounds


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.pilot_bounds"
    )
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, required=True)
    parser.add_argument("--mechanism", choices=MECHANISMS, default="above-mean")
    parser.add_argument("--rate", type=float, default=0.9)
    parser.add_argument("--fill", choices=("zero", "learned"), default="zero")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with _run_context(1):
        for name in args.datasets:
            X = standardize(load_dataset(name).X)
            mask = make_mask(args.mechanism, X, args.rate, args.seed)
            at_random, *pilots = _pilot_bounds(
                np.where(mask, np.nan, X), args.fill, args.seed
            )
            row = {"dataset": name, "mechanism": args.mechanism, "rate": args.rate}
            for direction, bound in zip(("high", "low"), pilots):
                gain = bound - at_random
                z = gain.mean() / gain.std() * np.sqrt(len(gain))
                row[direction] = {
                    "gain": round(float(gain.mean()), 4),
                    "z": round(float(z), 1),
                }
            print(json.dumps(row | {"fill": args.fill}), flush=True)


if __name__ == "__main__":
    main()
