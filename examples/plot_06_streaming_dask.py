"""
==============================================
Streaming: train on chunks, impute in parallel
==============================================

A table too large for memory can still be imputed with MIWAE: training sees
one minibatch at a time, and each row is imputed on its own.
:meth:`~miwae_impute.MIWAEImputer.partial_fit` trains one epoch on one chunk,
carrying the optimiser over from the previous call, which is scikit-learn's
incremental-learning convention. Any loop over chunks can drive it, and so
can ``dask_ml``'s wrappers, which also impute the blocks of a Dask collection
in parallel.

.. note::

   To run in under a minute, the model trains for 6 passes over 5 chunks of
   about 1,000 rows (about 460 gradient steps; a default ``fit`` takes
   3,000) and imputes with ``L=100`` importance samples (the default is
   1,000). The Dask part runs when the optional ``dask`` extra is installed
   (``pip install "miwae-impute[dask]"``); without it, this example says so
   and imputes the chunks one after the other instead.
"""

# %%
# Chunks of a table
# -----------------
#
# The white wine data (4,898 wines, 11 measurements) stand in for a large
# file: we shuffle the rows (so that every chunk, and the first above all, is
# representative), hide 30% of the cells at random, and read the table in
# chunks of 1,000 rows, as ``pd.read_csv(..., chunksize=1000)`` would. We
# watch the imputation error of the last chunk, 898 rows, as training goes
# on.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from _example_data import load_table

from miwae_impute import MIWAEImputer, imputation_mse

complete, name = load_table("white", max_columns=11)
rng = np.random.default_rng(0)
complete = complete.sample(frac=1, random_state=0)  # shuffled, index kept
hidden = rng.random(complete.shape) < 0.3
table = complete.mask(hidden)
train, test = table.iloc[:4000], table.iloc[4000:]
chunks = [train.iloc[start : start + 1000] for start in range(0, 4000, 1000)]
chunks.append(test)  # the test rows are trained on too, as in any imputation

# %%
# Train with ``partial_fit``, one chunk at a time
# -----------------------------------------------
#
# The first chunk fixes the standardisation, the columns and the point
# masses, so it should be representative. Each call is one epoch of Adam over
# its chunk; ``history_["train_bound"]`` records the mean bound of each. The
# chunks differ in how easy their rows are to explain, so the left panel
# follows each chunk over the passes.
imputer = MIWAEImputer(L=100, random_state=0)
test_hidden = hidden[4000:]
test_mse = []
for _ in range(6):
    for chunk in chunks:
        imputer.partial_fit(chunk)
    imputed = imputer.transform(test)
    test_mse.append(imputation_mse(complete.iloc[4000:], imputed, test_hidden))
mean_mse = imputation_mse(complete.iloc[4000:], test.fillna(train.mean()), test_hidden)
print(f"{imputer.n_iter_} partial_fit calls; MSE on the test rows {test_mse[-1]:.3f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
bound = np.reshape(imputer.history_["train_bound"], (6, len(chunks)))
passes = np.arange(1, 7)
for c in range(len(chunks)):
    left.plot(passes, bound[:, c], "o-", ms=3, label=f"chunk {c + 1}")
left.set_xlabel("passes over the chunks")
left.set_ylabel("mean MIWAE bound of the chunk (nats per row)")
left.set_title("training, chunk by chunk")
left.legend(fontsize="small")
right.plot(passes, test_mse, "o-", label="MIWAE")
right.axhline(mean_mse, color="grey", ls="--", label="mean imputation")
right.set_xlabel("passes over the chunks")
right.set_ylabel("MSE on the hidden cells of chunk 5")
right.set_ylim(0, 1.1 * max(mean_mse, *test_mse))
right.set_title(f"{name}: imputation as training goes on")
right.legend()
fig.tight_layout()
plt.show()

# %%
# Impute in parallel, with Dask if it is installed
# ------------------------------------------------
#
# Each row is imputed from its own random stream, seeded from its content, so
# the result does not depend on how the rows are split: the partitions of a
# Dask DataFrame, imputed in parallel by ``ParallelPostFit``, give what
# ``transform`` gives on the whole table, up to float rounding.
try:
    import dask.dataframe as dd
    from dask_ml.wrappers import ParallelPostFit
    from distributed import Client, LocalCluster
except ImportError:
    dd = None
    print("Dask is not installed (pip install 'miwae-impute[dask]'): the chunks")
    print("are imputed one after the other instead.")

subset = table.iloc[:1000]
if dd is not None:
    # One single-threaded worker in this process, which starts in well under a
    # second; on a real cluster, Client("scheduler-address:8786").
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, Client(cluster):
        lazy = ParallelPostFit(imputer).transform(
            dd.from_pandas(subset, npartitions=4, sort=False)
        )
        by_parts = lazy.compute()
    print(f"Dask: {lazy.npartitions} partitions imputed in parallel")
else:
    parts = [subset.iloc[start : start + 250] for start in range(0, 1000, 250)]
    by_parts = pd.concat([imputer.transform(part) for part in parts])

whole = imputer.transform(subset)
difference = np.abs(by_parts.to_numpy() - whole.to_numpy()).max()
print(f"largest difference from transform of the whole table: {difference:.1e}")
print("same index and columns:", by_parts.index.equals(whole.index))

# %%
# Training with Dask
# ------------------
#
# With Dask, ``dask_ml.wrappers.Incremental`` calls ``partial_fit`` on each
# block of a Dask array or DataFrame in turn, on the cluster's workers; the
# imputer travels between them by pickle, with Adam's state and its random
# stream, so training goes on exactly where the last block left it:
#
# .. code-block:: python
#
#    from dask_ml.wrappers import Incremental
#
#    model = Incremental(MIWAEImputer(random_state=0), random_state=0)
#    model.fit(ddf)  # one pass: partial_fit on each partition in turn
#    for _ in range(9):
#        model.partial_fit(ddf)  # further passes
#    imputed = model.transform(ddf)  # lazy, imputed in parallel
#
# ``tests/test_dask.py`` runs this on a small table, and the
# :ref:`user guide <dask>` says what applies to ``partial_fit`` and what
# does not.
