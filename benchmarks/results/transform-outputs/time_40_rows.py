# Times transform on 40 rows of the 5,000 x 30 case at L = 10,000, one thread,
# median of 3, and saves the imputations to argv[1] (issue 27, twenty-third
# session; run from the repository root with PYTHONPATH=.).
import sys, time, numpy as np, torch
from benchmarks.speed import _built_imputer, _synthetic
torch.set_num_threads(1)
X = _synthetic(5000, n_features=30)[2]
imp = _built_imputer(X, L=10000)
rows = X[:40]
imp.transform(rows[:4])
ts=[]
for _ in range(3):
    t=time.perf_counter(); out=imp.transform(rows); ts.append(time.perf_counter()-t)
print("40 rows median", np.median(ts))
np.save(sys.argv[1], out)
