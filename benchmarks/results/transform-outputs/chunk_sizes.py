# Times transform on 40 rows of the 5,000 x 30 case at L = 10,000, one thread,
# with inference chunks of 2**b codes x 128 (the widest layer) elements, three
# rounds in turn (issue 27, twenty-fourth session; run from the repository root
# with PYTHONPATH=.; the loop's tuple holds the exponents b tried).
import sys, time, numpy as np, torch
import miwae_impute._posterior as P
from benchmarks.speed import _built_imputer, _synthetic
torch.set_num_threads(1)
X = _synthetic(5000, n_features=30)[2]
imp = _built_imputer(X, L=10000)
rows = X[:40]
orig = P._chunks
def make(budget):
    def chunks(n_rows, n_samples, width):
        sample_chunk = min(n_samples, max(1, budget // width))
        row_chunk = max(1, 2**19 // (sample_chunk * width))
        return min(n_rows, row_chunk), sample_chunk
    return chunks
imp.transform(rows[:4])
res = {}
for rep in range(3):
    for b in (17, 18, 19):
        P._chunks = make(2**b)
        t=time.perf_counter(); out=imp.transform(rows); res.setdefault(b, []).append(time.perf_counter()-t)
for b, ts in res.items():
    print(b, 2**b//128, "codes/chunk", "median %.3f" % np.median(ts), ["%.3f" % t for t in ts])
