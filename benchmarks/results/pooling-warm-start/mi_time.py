# Scratch timing (issue 27, twenty-sixth session): on the README's example,
# in one process, one MIWAE fit on [X, y], bootstrap MI (m = 5) as the
# package runs it (five fits side by side from their own seeds), and the
# warm-started variant of warm.py (FRACTION or SPLIT as there); median of
# REPEATS each, both threads. Run it alone on the machine:
#   PYTHONPATH=. FRACTION=0.25 python benchmarks/results/pooling-warm-start/mi_time.py 3
import importlib.util
import sys
from pathlib import Path

from sklearn.base import clone
from sklearn.linear_model import LinearRegression

from benchmarks._runner import run_context
from benchmarks.experiments.mi_time import _readme_example
from benchmarks.speed import _median_seconds
from miwae_impute import MIWAEImputer, MultipleImputationEstimator

package = MultipleImputationEstimator._fit_imputers
spec = importlib.util.spec_from_file_location(
    "warm", Path(__file__).with_name("warm.py")
)
warm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(warm)  # patches the estimator and the batch's preparation
variant = MultipleImputationEstimator._fit_imputers
X, y = _readme_example()
model = MultipleImputationEstimator(
    LinearRegression(), imputer=MIWAEImputer(random_state=0), n_imputations=5
)
repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
with run_context(2):
    MIWAEImputer(max_iter=1).fit(X.assign(y=y))  # warm up torch
    one = _median_seconds(
        lambda: MIWAEImputer(random_state=0).fit(X.assign(y=y)), repeats, 0
    )
    seconds = {}
    for name, fit_imputers in (("side by side", package), ("warm-started", variant)):
        MultipleImputationEstimator._fit_imputers = fit_imputers
        seconds[name] = _median_seconds(lambda: clone(model).fit(X, y), repeats, 0)
print(f"median of {repeats}, 2 threads; FRACTION={warm.FRACTION}, SPLIT={warm.SPLIT}")
print(f"  one MIWAE fit on [X, y]  {one:6.1f} s")
for name, value in seconds.items():
    print(f"  bootstrap MI, {name:13s} {value:6.1f} s ({value / one:.2f} x one fit)")
