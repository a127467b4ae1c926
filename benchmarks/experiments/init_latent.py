"""MIWAE with Glorot-initialised weights and/or a latent dimension of 10.

One run of the UCI protocol (50% MCAR, seed ``--seed``, one thread), printed as
a JSON line. Usage::

    python -m benchmarks.experiments.init_latent breast --glorot --latent-dim 10
"""

import argparse
import json
import time

import numpy as np
import torch

from miwae_impute import MIWAEImputer, _model

from ..datasets import load_dataset, standardize
from ..missingness import make_mask


def _glorot_mlp(mlp):
    def build(*args, **kwargs):
        net = mlp(*args, **kwargs)
        for layer in net:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(layer.weight)
        return net

    return build


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.init_latent"
    )
    parser.add_argument("dataset")
    parser.add_argument("--glorot", action="store_true", help="Glorot uniform weights")
    parser.add_argument("--latent-dim", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.glorot:
        _model._mlp = _glorot_mlp(_model._mlp)
    X = standardize(load_dataset(args.dataset)[0])
    mask = make_mask("mcar", X, 0.5, args.seed)
    params = {"random_state": args.seed}
    if args.latent_dim is not None:
        params["latent_dim"] = args.latent_dim
    start = time.perf_counter()
    X_imputed = MIWAEImputer(**params).fit_transform(np.where(mask, np.nan, X))
    row = vars(args) | {
        "mse": round(float(np.mean((X_imputed[mask] - X[mask]) ** 2)), 4),
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
