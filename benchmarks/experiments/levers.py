"""Model changes of issue 24 that are not parameters, patched in this process.

One MIWAE fit per table and seed on the MCAR mask of the harness
(``benchmarks.missingness.mcar``), scored as ``benchmarks.collection`` does
(MSE of the removed cells, standardised units). ``--lever`` picks the patch:

- ``none``: the default model;
- ``learned-fill``: a learned constant per feature in place of zero in the
  encoder's input (the authors' TF2 notebook);
- ``gaussian-decoder``: the decoder's Student-t with ``min_df=1000``;
- ``L``: the default fit, imputed with L = 100, 1,000 and 10,000, with the
  median effective sample size of 1,000 weights on the first 500 rows.

``--budget F`` trains F times the epochs of ``max_iter="auto"``.

Usage::

    python -m benchmarks.experiments.levers --lever learned-fill \\
        --datasets concrete red --rate 0.2 --seeds 0
"""

import argparse
import json
import time

import numpy as np
import torch

import miwae_impute._model as model_module
from miwae_impute import MIWAEImputer

from .._runner import run_context
from ..missingness import mcar
from .samplers import _table


def _patch(lever):
    if lever == "learned-fill":
        init, encode = model_module.MIWAE.__init__, model_module.MIWAE.encode

        def patched_init(self, n_features, *args, **kwargs):
            init(self, n_features, *args, **kwargs)
            self.fill = torch.nn.Parameter(torch.zeros(n_features))

        def patched_encode(self, x, mask):
            return encode(self, x + self.fill * (1 - mask), mask)

        model_module.MIWAE.__init__ = patched_init
        model_module.MIWAE.encode = patched_encode
    elif lever == "gaussian-decoder":
        make = model_module.make_likelihood
        model_module.make_likelihood = lambda *args: make(*args[:-1], 1000.0)


def _ess(imputer, X_missing):
    x, m = imputer._to_tensors(X_missing[:500], np.isnan(X_missing[:500]), "cpu")
    with torch.no_grad():
        generator = torch.Generator().manual_seed(0)
        log_r = imputer.model_.log_weights(x, m, 1000, generator)[0]
        w = torch.softmax(log_r, 0)
    return float((1 / w.square().sum(0)).median())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.levers")
    parser.add_argument(
        "--lever", choices=("none", "learned-fill", "gaussian-decoder", "L")
    )
    parser.add_argument("--datasets", nargs="+", required=True)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--budget", type=float, default=1.0)
    args = parser.parse_args(argv)
    _patch(args.lever)
    with run_context(1):
        for name in args.datasets:
            X = _table(name)
            for seed in args.seeds:
                mask = mcar(X.shape, args.rate, seed)
                X_missing = np.where(mask, np.nan, X)
                imputer = MIWAEImputer(random_state=seed)
                epochs = np.ceil(args.budget * imputer._max_iter(len(X), False))
                start = time.perf_counter()
                imputer.set_params(max_iter=int(epochs)).fit(X_missing)
                row = {"dataset": name, "rate": args.rate, "seed": seed}
                row.update(budget=args.budget, fit_seconds=time.perf_counter() - start)
                for L in (100, 1000, 10000) if args.lever == "L" else (1000,):
                    imputed = imputer.set_params(L=L).transform(X_missing)
                    row[f"mse_L{L}"] = float(np.mean((imputed - X)[mask] ** 2))
                if args.lever == "L":
                    row["median_ess_of_1000"] = _ess(imputer, X_missing)
                print(json.dumps({"lever": args.lever, **row}), flush=True)


if __name__ == "__main__":
    main()
