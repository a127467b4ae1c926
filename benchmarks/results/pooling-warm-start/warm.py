# Scratch wrapper (issue 27, twenty-sixth session): bootstrap MI whose m fits
# on the resamples start from one fit on all the rows instead of their own
# seeds' weights, and train side by side for a share of the budget. Not in
# the package: under MAR its intervals came out too narrow (HISTORY.md,
# "Bootstrap fits started from one fit").
#   FRACTION=f: the full fit trains its whole budget; each fit on a resample
#               then trains for f of that fit's epochs.
#   SPLIT=g:    the full fit trains g of the budget; each fit on a resample
#               trains the rest.
# Usage: the arguments of `python -m benchmarks.pooling`, e.g.
#   FRACTION=0.25 python warm.py coverage --bootstrap --mechanism mar \
#       --replications 24 --threads 1 --out OUT
import math
import os
import sys

import numpy as np
from sklearn.base import clone

from miwae_impute import _batched, _pooling
from miwae_impute._random import seed_from

FRACTION = float(os.environ.get("FRACTION", "0.25"))
SPLIT = float(os.environ.get("SPLIT", "0"))
_prepare, _start = _batched._prepare, {}


def _prepare_warm(member, X, fill=None):
    """The batch's preparation, then the full fit's weights for the member
    (within the variant's ``_fit_imputers`` only)."""
    prepared = _prepare(member, X, fill)
    if prepared is not None and "fit" in _start:
        member.model_.load_state_dict(_start["fit"].model_.state_dict())
    return prepared


def _fit_imputers(self, frame):
    rng = np.random.default_rng(seed_from(self.random_state))
    imputer = self._make_imputer(self.n_features_in_)
    resamples, seeds = [], []
    for _ in range(self.n_imputations):  # as the estimator draws them
        resamples.append(rng.integers(len(frame), size=len(frame)))
        seeds.append(int(rng.integers(2**31 - 1)))
    full = clone(imputer).set_params(random_state=int(rng.integers(2**31 - 1)))
    if SPLIT:
        total = full._max_iter(len(frame), not_miwae=False)
        full.set_params(max_iter=max(1, round(SPLIT * total))).fit(frame)
        epochs = max(1, total - full.n_iter_)
    else:
        full.fit(frame)
        epochs = max(1, math.ceil(FRACTION * full.n_iter_))
    _start["fit"] = full
    members = clone(imputer).set_params(max_iter=epochs)
    try:
        return _batched.fit_side_by_side(
            members, frame, random_states=seeds, rows=resamples
        )
    finally:
        del _start["fit"]


_batched._prepare = _prepare_warm
_pooling.MultipleImputationEstimator._fit_imputers = _fit_imputers
if __name__ == "__main__":
    from benchmarks.pooling import main

    sys.exit(main(sys.argv[1:]))
