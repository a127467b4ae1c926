# Scratch wrapper (issue 25, twenty-fifth session): our not-MIWAE with every
# choice of the authors' code that a parameter or a patch reaches: glorot.py
# with AUTHORS=1 and AUTHORS_THRESHOLD=1 (Student-t df floored at 1,000,
# Keras's initialisation, the mask model started at the complete data's
# mean), and the mask model at the networks' learning rate (MASK_LR, 1).
# Their training is parameters: batch_size=16, max_iter=2812 (100,000 steps
# of 16 on breast's 569 rows), ema_decay=None, L=10000, latent_dim=29.
import os
import sys
from pathlib import Path

from miwae_impute import _training

os.environ.setdefault("AUTHORS", "1")
os.environ.setdefault("AUTHORS_THRESHOLD", "1")
_training._MISSINGNESS_LR = float(os.environ.get("MASK_LR", "1"))
exec(Path("benchmarks/results/paper-v18-authors-breast/glorot.py").read_text())
