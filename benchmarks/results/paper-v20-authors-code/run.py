"""The not-MIWAE authors' ``task01.py`` for one data set and seed.

Run inside their repository (see setup.sh): not-MIWAE with
``missing_process="selfmasking_known"``, 100,000 steps of 16 rows, K = 20,
128 hidden units, a latent size of D - 1, and L = 10,000, on the paper's
protocol (every column standardised with the complete data's mean and SD,
then every value above the mean removed in the first D // 2 columns). The
data are our loader's, one ``DATA/NAME.npy`` per set. ``np.random`` and
TensorFlow are seeded with SEED (the authors' run is unseeded).

With ``RESTD`` the model gets the data in other units, and its imputations
are mapped back before the RMSE: "1", standardised with the observed cells'
mean and SD, as our imputer does; "center", the observed mean and the
complete data's SD; "scale", the complete data's mean and the observed SD.

Usage: ``[RESTD=1] python run.py NAME SEED [STEPS]``; prints one line
``RESULT {json}``.
"""

import json
import os
import sys
import time

import numpy as np
import tensorflow.compat.v1 as tf
import trainer
import utils
from notMIWAE import notMIWAE

name, seed = sys.argv[1], int(sys.argv[2])
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
restd = os.environ.get("RESTD", "0")
if restd not in ("0", "1", "center", "scale"):
    sys.exit(f"RESTD must be 0, 1, center or scale, got {restd!r}.")
np.random.seed(seed)  # noqa: NPY002 (their code shuffles with np.random)


def introduce_missing(X):
    """task01.py's ``introduce_mising``: NaN above the mean, first D // 2."""
    Xnan = X.copy()
    half = Xnan[:, : X.shape[1] // 2]
    half[half > half.mean(axis=0)] = np.nan
    return Xnan


data = np.load(os.path.join(os.environ.get("DATA", "/tmp/s25"), f"{name}.npy"))
n, d = data.shape
data = (data - data.mean(0)) / data.std(0)
data = data[np.random.permutation(n)]  # noqa: NPY002 (task01.py's order)
Xnan = introduce_missing(data)
S = (~np.isnan(Xnan)).astype(float)
mean, sd = np.zeros(d), np.ones(d)
if restd in ("1", "center"):
    mean = np.nanmean(Xnan, 0)
if restd in ("1", "scale"):
    sd = np.nanstd(Xnan, 0)
Xin = (Xnan - mean) / sd
Xz = np.where(np.isnan(Xin), 0.0, Xin)

tf.set_random_seed(seed)
tag = f"/tmp/notmiwae-ckpt/{name}-{seed}-{restd}"
start = time.time()
model = notMIWAE(
    Xin,
    Xin.copy(),
    n_latent=d - 1,
    n_samples=20,
    n_hidden=128,
    missing_process="selfmasking_known",
    name=tag,
)
trainer.train(model, batch_size=16, max_iter=steps, name=tag)
fitted = time.time()
_, XM = utils.not_imputationRMSE(model, Xz, Xz, Xin, S, 10_000)
XM = XM * sd + mean
rmse = np.sqrt(np.sum((data - XM) ** 2 * (1 - S)) / np.sum(1 - S))
result = {
    "dataset": name,
    "seed": seed,
    "steps": steps,
    "restd": restd,
    "rmse": float(rmse),
    "fit_s": round(fitted - start, 1),
    "impute_s": round(time.time() - fitted, 1),
}
print("RESULT", json.dumps(result))
