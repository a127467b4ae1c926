#!/bin/bash
# The not-MIWAE authors' own code (github.com/nbip/notMIWAE at ed90ac3), set
# up to run on our copies of the paper's data sets by run.py beside this file
# (their task01.py for one set and seed). Their TensorFlow 1 code runs under
# TensorFlow 2's compat.v1 once two import lines are changed.
#
# Usage: bash setup.sh DIR [REPO]
#   REPO: a local clone of nbip/notMIWAE, if github.com cannot be reached.
# Then write the data (from this repository's root, with its environment):
#   PYTHONPATH=. MIWAE_DATA_HOME=../shared/datasets python -c "import numpy as np
#   from benchmarks.datasets import load_dataset, DATASETS
#   [np.save(f'DIR/data/{n}.npy', np.asarray(load_dataset(n), float)) for n in DATASETS]"
# and run: cd DIR/notMIWAE && DATA=../data ../env/bin/python run.py breast 0
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1/data"
DIR=$(cd "$1" && pwd)
REPO=${2:-https://github.com/nbip/notMIWAE}
python3.11 -m venv "$DIR/env"
"$DIR/env/bin/pip" install -q tensorflow-cpu==2.21.0 tensorflow-probability==0.25.0 \
    tf-keras==2.21.0 pandas scikit-learn
git clone -q "$REPO" "$DIR/notMIWAE"
git -C "$DIR/notMIWAE" checkout -q ed90ac39892426eeb8143d5e25393a880754c08b
sed -i 's/^import tensorflow as tf$/import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()/; s/^import keras$/import tf_keras as keras/' \
    "$DIR/notMIWAE/notMIWAE.py" "$DIR/notMIWAE/MIWAE.py"
cp "$HERE/run.py" "$DIR/notMIWAE/"
