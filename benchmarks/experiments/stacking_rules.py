"""StackingImputer's blend under other weighting rules, from the same fits.

``run`` fits ``StackingImputer(random_state=SEED)`` (its default, MIWAE and
missForest) on each table with the harness's MCAR mask, and keeps what its
weights are learned from (the held-out cells and each imputer's guesses of
them) and each refitted imputer's completion, in ``OUT/npz``. ``rows`` then
blends those completions by each rule's weights and writes the MSE as
result rows, one method ``stacking-RULE`` per rule, to ``OUT/results.csv``,
for ``python -m benchmarks report rates --after-method stacking-RULE``. Usage::

    python -m benchmarks.experiments.stacking_rules run --rate 0.3 --seed 0 \\
        --out benchmarks/results/stacking-rules concrete servo
    python -m benchmarks.experiments.stacking_rules rows \\
        --out benchmarks/results/stacking-rules
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from miwae_impute import StackingImputer
from miwae_impute._stacking import _simplex_weights

from .._runner import run_context
from ..collection import column_mse, load_any
from ..datasets import standardize
from ..missingness import make_mask


class _Recorded(StackingImputer):
    """StackingImputer keeping its held-out guesses, the held-out fits'
    imputations of all of ``X`` (``unrefitted``), and the final completions."""

    def _fit_members(self, members, X):
        self._fitted = members
        return super()._fit_members(members, X)

    def _learn_weights(self, X, held, guesses):
        unrefitted = np.stack([fit.transform(X) for fit in self._fitted])
        self.record_ = {"held": held, "guesses": guesses, "unrefitted": unrefitted}
        return super()._learn_weights(X, held, guesses)

    def _blend(self, imputations, weights=None):
        if weights is None:
            self.record_["completions"] = imputations
        return super()._blend(imputations, weights)


def rules(truth, guesses):
    """Weights (k,) of each rule, from held-out ``truth`` (n,) and
    ``guesses`` (k, n): the pooled least squares (today's), each imputer
    alone, equal weights, the pooled weights shrunk toward equal ones
    (``shrinkN0``) or toward the first imputer (``firstN0``, the rule of
    ``StackingImputer(prior_cells=N0)``) with the strength of ``N0``
    held-out cells, and the pooled weights only where they pass a test
    (``testZ``)."""
    k, n = guesses.shape
    pooled, equal = _simplex_weights(truth, guesses), np.full(k, 1 / k)
    out = {"pooled": pooled, "equal": equal}
    out.update({f"alone{i}": np.eye(k)[i] for i in range(k)})
    for n0 in (50, 100, 300):
        out[f"shrink{n0}"] = (n * pooled + n0 * equal) / (n + n0)
        out[f"first{n0}"] = (n * pooled + n0 * np.eye(k)[0]) / (n + n0)
    # the pooled weights only where they beat the first imputer by more than
    # one or two standard errors on the held-out cells
    gain = ((guesses[0] - truth) ** 2) - ((pooled @ guesses - truth) ** 2)
    spread = gain.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
    z = gain.mean() / spread if spread > 0 else 0.0
    for level in (1, 2):
        out[f"test{level}"] = pooled if z > level else np.eye(k)[0]
    return out


def _run(args):
    folder = Path(args.out) / "npz"
    folder.mkdir(parents=True, exist_ok=True)
    with run_context(1):
        for name in args.tables:
            path = folder / f"{name}-{args.rate}-{args.seed}.npz"
            if path.exists():
                continue
            X = standardize(load_any(name))
            mask = make_mask("mcar", X, args.rate, args.seed)
            start = time.perf_counter()
            imputer = _Recorded(random_state=args.seed)
            imputer.fit_transform(np.where(mask, np.nan, X))
            seconds = time.perf_counter() - start
            np.savez(path, X=X, mask=mask, seconds=seconds, **imputer.record_)
            print(f"{name} {args.rate} {args.seed}: {seconds:.0f} s", flush=True)


def safeguards(X, mask, held, blend_held):
    """Per feature, the factor beta (p,) of each safeguard that shrinks the
    blend toward the feature's mean m, as ``m + beta (blend - m)``: beta
    fitted by least squares on the held-out cells (in [0, 1]), per feature
    and pulled toward 1 by N0 cells (``colN0``) or once for all features
    (``poolN0``), or 0 where the mean beats the blend there by two standard
    errors (``test2``)."""
    p = X.shape[1]
    train = ~mask & ~held
    means = np.nansum(np.where(train, X, 0), axis=0) / np.maximum(train.sum(0), 1)
    out = {f"col{n0}": np.ones(p) for n0 in (30, 100)} | {"test2": np.ones(p)}
    sums = np.zeros(2)
    for j in np.flatnonzero(held.any(axis=0)):
        truth, guess = X[held[:, j], j] - means[j], blend_held[held[:, j], j] - means[j]
        fit = np.array([truth @ guess, guess @ guess])
        sums += fit
        beta, n = np.clip(fit[0] / fit[1], 0, 1) if fit[1] > 0 else 1.0, len(truth)
        for n0 in (30, 100):
            out[f"col{n0}"][j] = (n * beta + n0) / (n + n0)
        gain = (guess - truth) ** 2 - truth**2
        spread = gain.std(ddof=1) / np.sqrt(n) if n > 2 else 0.0
        if spread > 0 and gain.mean() > 2 * spread:
            out["test2"][j] = 0.0
    beta, n = np.clip(sums[0] / sums[1], 0, 1) if sums[1] > 0 else 1.0, held.sum()
    out["pool300"] = np.full(p, (n * beta + 300) / (n + 300))
    return out


def _completions(X, mask, held, z):
    """Each method's completion of ``X``: the blend of each rule, and the
    default rule's blend of the held-out fits (``first100-unrefitted``) and
    under each safeguard (``first100-SAFEGUARD``)."""
    guesses = z["guesses"]
    out = {}
    for rule, w in rules(X[held], guesses[:, held]).items():
        out[rule] = (w, np.einsum("knp,k->np", z["completions"], w))
    w = out["first100"][0]
    if "unrefitted" in z.files:
        out["first100-unrefitted"] = (w, np.einsum("knp,k->np", z["unrefitted"], w))
    blend_held = np.einsum("knp,k->np", guesses, w)
    means = np.nanmean(np.where(mask, np.nan, X), axis=0)
    for name, beta in safeguards(X, mask, held, blend_held).items():
        out[f"first100-{name}"] = (w, means + beta * (out["first100"][1] - means))
    return out


def _rows(args):
    rows = []
    for path in sorted((Path(args.out) / "npz").glob("*.npz")):
        name, rate, seed = path.stem.rsplit("-", 2)
        z = np.load(path)
        X, mask, held = z["X"], z["mask"], z["held"]
        for method, (w, blend) in _completions(X, mask, held, z).items():
            rows.append(
                {
                    "method": f"stacking-{method}",
                    "dataset": name,
                    "seed": int(seed),
                    "missing_rate": float(rate),
                    "quick": False,
                    "mse": float(np.mean((blend[mask] - X[mask]) ** 2)),
                    "weights": json.dumps(np.round(w, 4).tolist()),
                    "held_out_cells": int(held.sum()),
                    "fit_impute_seconds": float(z["seconds"])
                    if "seconds" in z.files
                    else np.nan,
                    "finished_at": path.stat().st_mtime,
                    "column_mse": json.dumps(column_mse(X, blend, mask)),
                }
            )
    for rate, group in pd.DataFrame(rows).groupby("missing_rate"):
        out = Path(args.out) / f"rate-{rate}"
        out.mkdir(exist_ok=True)
        group.to_csv(out / "results.csv", index=False)
        print(f"{len(group)} rows in {out / 'results.csv'}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.stacking_rules"
    )
    parser.add_argument("command", choices=["run", "rows"])
    parser.add_argument("tables", nargs="*")
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/stacking-rules")
    args = parser.parse_intermixed_args(argv)
    _run(args) if args.command == "run" else _rows(args)


if __name__ == "__main__":
    main()
