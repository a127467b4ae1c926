#!/bin/bash
# The not-MIWAE authors' own code (github.com/nbip/notMIWAE at ed90ac3), run
# on our copies of the paper's data sets by run.py beside this file (their
# task01.py for one set and seed). Their TensorFlow 1 code runs under
# TensorFlow 2's compat.v1 after two import lines are changed.
# Usage: bash setup.sh DIR  (then: cd DIR && python run.py breast 0)
set -euo pipefail
DIR=${1:?usage: bash setup.sh DIR}
python3.11 -m venv "$DIR/env"
"$DIR/env/bin/pip" install -q tensorflow-cpu==2.21.0 tensorflow-probability==0.25.0 \
    tf-keras==2.21.0 pandas scikit-learn
git clone -q https://github.com/nbip/notMIWAE "$DIR/notMIWAE"
git -C "$DIR/notMIWAE" checkout -q ed90ac39892426eeb8143d5e25393a880754c08b
cd "$DIR/notMIWAE"
sed -i 's/^import tensorflow as tf$/import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()/; s/^import keras$/import tf_keras as keras/' notMIWAE.py MIWAE.py
cp "$OLDPWD/run.py" .
# The data: our loader's arrays, one .npy per set, where run.py reads them
# (DATA, default /tmp/s25), written with the project's environment:
#   PYTHONPATH=. MIWAE_DATA_HOME=../shared/datasets python -c "import numpy as np
#   from benchmarks.datasets import load_dataset, DATASETS
#   [np.save(f'/tmp/s25/{n}.npy', np.asarray(load_dataset(n), float)) for n in DATASETS]"
