"""not-MIWAE on its paper's protocol: two imputation estimators, one fit (issue 25).

For each data set, fit not-MIWAE once on the not-MIWAE paper's Table 1 mask
(``paper-above-mean``, rate 1), then impute the removed cells from the same
L importance samples in two ways, and print the RMSE of each (standardised
units), with the fit's bound (``score``), as one line of JSON:

- "draws": sum_l w_l x_m,l, the draws x_m,l ~ p(x_m | z_l) that the weights
  score, i.e. ``transform`` (a consistent estimate of E[x_m | x_o, s]);
- "means": sum_l w_l E[x_m | z_l], the decoder means with the same weights,
  as the authors' ``utils.not_imputationRMSE`` imputes.

``--lever gaussian`` floors the degrees of freedom of the encoder's and
the decoder's Student-t at 1,000 instead of 3, which makes both all but
Gaussian, as in the authors' code (a patch, not a parameter).

Usage::

    python -m benchmarks.experiments.notmiwae_estimators --datasets breast concrete \\
        --param encoder_fill=zero --param point_mass_threshold=None
"""

import argparse
import json
import time

import numpy as np
import torch

from miwae_impute import MIWAEImputer
from miwae_impute._model import MIWAE, _drawn

from .._runner import parse_params, run_context
from ..datasets import DATASETS, load_dataset, standardize
from ..missingness import paper_above_mean


@torch.inference_mode()
def _two_estimates(imputer, X_missing, n_samples, seed, rows=256):
    """Imputations of the "draws" and "means" estimators, in the data's units."""
    model, mask = imputer.model_, np.isnan(X_missing)
    x, m = imputer._to_tensors(X_missing, mask, "cpu")
    generator = torch.Generator().manual_seed(seed)
    draws, means = np.empty(x.shape), np.empty(x.shape)
    for start in range(0, len(x), rows):
        xb, mb = x[start : start + rows], m[start : start + rows]
        log_r, out, completion = model.log_weights(xb, mb, n_samples, generator)
        w = torch.softmax(log_r, 0).unsqueeze(-1)
        mu = model.likelihood.mean(out)
        drawn = _drawn(model, completion.moments()[0], mu)
        draws[start : start + rows] = (w * drawn).sum(0).numpy()
        means[start : start + rows] = (w * mu).sum(0).numpy()
    unit = imputer.mean_, imputer.scale_
    return draws * unit[1] + unit[0], means * unit[1] + unit[0]


def _patch(lever):
    if lever == "gaussian":
        defaults = list(MIWAE.__init__.__defaults__)  # activation, min_scale, min_df
        defaults[2] = 1000.0
        MIWAE.__init__.__defaults__ = tuple(defaults)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.notmiwae_estimators"
    )
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--L", type=int, default=1000)
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--lever", choices=("gaussian",))
    args = parser.parse_args(argv)
    _patch(args.lever)
    items = [f"not-miwae.{item}" for item in args.param]
    params = {"missingness": "self-masking-high"}
    params |= parse_params(items, ("not-miwae",)).get("not-miwae", {})
    with run_context(1):
        for name in args.datasets:
            X = standardize(load_dataset(name).X)
            removed = paper_above_mean(X, 1.0, args.seed)
            X_missing = np.where(removed, np.nan, X)
            start = time.perf_counter()
            imputer = MIWAEImputer(random_state=args.seed, **params).fit(X_missing)
            seconds = time.perf_counter() - start
            estimates = _two_estimates(imputer, X_missing, args.L, args.seed)
            rmse = {
                kind: float(np.sqrt(np.mean((value - X)[removed] ** 2)))
                for kind, value in zip(("draws", "means"), estimates)
            }
            row = {"dataset": name, "seed": args.seed, "params": params, **rmse}
            row |= {"lever": args.lever, "fit_seconds": round(seconds, 1)}
            row["bound"] = imputer.score(X_missing)  # of log p(x_o, s), data units
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
