# Scratch wrapper (issue 25, twenty-fourth session): the self-masking model's
# parameters trained at the networks' learning rate, as in the authors' code
# (one Adam for every variable), instead of 10 times it (_MISSINGNESS_LR).
# Run from the repository root with PYTHONPATH=. as `python THIS run uci ...`.
import sys

from miwae_impute import _training

_training._MISSINGNESS_LR = 1.0
from benchmarks.__main__ import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
