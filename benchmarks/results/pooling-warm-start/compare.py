# Scratch table (issue 27, twenty-sixth session): coverage of the slopes' 95%
# intervals, their mean width, and the mean over the slopes of (mean standard
# error / spread of the estimates), on the replications that every folder
# given has. Usage:
#   python benchmarks/results/pooling-warm-start/compare.py DIR [DIR ...]
import sys

import numpy as np
import pandas as pd

frames = {folder: pd.read_csv(f"{folder}/results.csv") for folder in sys.argv[1:]}
common = set.intersection(*(set(rows.replication) for rows in frames.values()))
print(f"{len(common)} replications")
for folder, rows in frames.items():
    slopes = rows.term.isin(["x0", "x1", "x2", "x3"])
    rows = rows[rows.replication.isin(common) & slopes]
    covered = ((rows.lower <= rows.truth) & (rows.truth <= rows.upper)).mean()
    width = (rows.upper - rows.lower).mean()
    terms = rows.groupby("term")
    ratio = np.mean(terms.std_err.mean() / terms.estimate.std())
    print(
        f"{folder}: coverage {covered:.3f} ({len(rows)} intervals), width "
        f"{width:.3f}, SE / spread {ratio:.2f}, median s {rows.seconds.median():.0f}"
    )
