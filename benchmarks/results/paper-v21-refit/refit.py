# Scratch wrapper (issue 25, twenty-fifth session): not-MIWAE fitted twice.
# The first fit, as the default, standardises with the observed cells; under
# self-masking their mean and SD are biased (the removed values are the high
# ones). The second fit standardises with the mean and SD of the first fit's
# completed data, the model's estimate of the complete data's, and is the one
# that imputes; with REFITS=n, n fits follow the first, each in the units of
# the one before (1 by default). MIWAE (missingness="ignorable") is fitted
# once, as before. With UNITS=draws, the units are the mean and SD of ten
# completed copies drawn by the first fit's ``sample`` (pooled), not of its
# single imputation.
import os
import sys

import numpy as np
from sklearn.base import clone

from miwae_impute import MIWAEImputer, _building

_STATE = {"inner": False, "units": None}
_standardization = _building._standardization


def _units(X, mask):
    mean, scale = _standardization(X, mask)
    if _STATE["units"] is not None:
        completed_mean, completed_scale = _STATE["units"]
        good = np.isfinite(completed_scale) & (completed_scale > 0)
        mean = np.where(good, completed_mean, mean)
        scale = np.where(good, completed_scale, scale)
    return mean, scale


_fit_transform = MIWAEImputer.fit_transform


def fit_transform(self, X, y=None):
    if self.missingness == "ignorable" or _STATE["inner"]:
        return _fit_transform(self, X, y)
    _STATE["inner"] = True
    try:
        for _ in range(int(os.environ.get("REFITS", "1"))):
            first = clone(self)
            completed = np.asarray(first.fit_transform(X), dtype=float)
            if os.environ.get("UNITS") == "draws":
                draws = first.sample(X, n_imputations=10)
                completed = np.concatenate([np.asarray(d, dtype=float) for d in draws])
            _STATE["units"] = completed.mean(0), completed.std(0)
    finally:
        _STATE["inner"] = False
    try:
        return _fit_transform(self, X, y)
    finally:
        _STATE["units"] = None


_building._standardization = _units
MIWAEImputer.fit_transform = fit_transform
from benchmarks.__main__ import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
