# The per-column MSE of MIWAE and not-MIWAE on yeast, every value below its
# column's mean removed, seed 2 (issue 25; run from the repository root with
# PYTHONPATH=.). Its rows are yeast-columns.jsonl.
import json

import numpy as np

from benchmarks.collection import load_any
from benchmarks.datasets import standardize
from benchmarks.missingness import make_mask
from miwae_impute import make_imputer

X = standardize(load_any("yeast"))
mask = make_mask("below-mean-all", X, 1.0, 2)
Xm = np.where(mask, np.nan, X)
for method in ("miwae", "not-miwae"):
    imp = make_imputer(method, random_state=2)
    Xi = np.asarray(imp.fit_transform(Xm))
    per = [
        float(((Xi[mask[:, j], j] - X[mask[:, j], j]) ** 2).sum() / mask.sum())
        for j in range(X.shape[1])
    ]
    print(
        json.dumps(
            {
                "method": method,
                "mse": float(np.mean((Xi[mask] - X[mask]) ** 2)),
                "share_by_column": per,
                "col5_values": {
                    str(v): int(c)
                    for v, c in zip(
                        *np.unique(Xi[mask[:, 5], 5].round(3), return_counts=True)
                    )
                },
                "chosen": getattr(imp, "chosen_missingness_", None),
            }
        ),
        flush=True,
    )
