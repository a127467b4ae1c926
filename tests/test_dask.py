"""MIWAEImputer on Dask: blockwise training with dask-ml, parallel imputation.

Skipped unless the optional ``dask`` extra is installed
(``pip install miwae-impute[dask]``). The cluster is one single-threaded worker
in this process, which starts in well under a second; a worker process would
first spend seconds importing torch.
"""

import logging

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("dask_ml")
distributed = pytest.importorskip("distributed")

import dask.array as da  # noqa: E402
import dask.dataframe as dd  # noqa: E402
from dask_ml.wrappers import Incremental, ParallelPostFit  # noqa: E402

from miwae_impute import MIWAEImputer  # noqa: E402

# Small networks, many small steps: one partial_fit is one epoch over a block.
BUDGET = dict(
    hidden_layer_sizes=(32,),
    K=5,
    L=100,
    batch_size=16,
    learning_rate_init=3e-3,
    random_state=0,
)
N_ROWS, BLOCK_ROWS, PASSES = 600, 200, 3


def _low_rank(n=N_ROWS, p=6, rank=2, rate=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, p))
    X += 0.1 * rng.normal(size=X.shape)
    missing = rng.random(X.shape) < rate
    return X, np.where(missing, np.nan, X), missing


def _mse(X, X_imputed, missing):
    return float(np.mean((X - X_imputed)[missing] ** 2))


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One torch thread, as Dask's worker processes get (OMP_NUM_THREADS=1).

    On a busy 2-core machine two threads made these tiny steps up to 50 times
    slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def low_rank():
    return _low_rank()


def test_incremental_trains_over_the_blocks_with_partial_fit(client, low_rank):
    X, X_missing, missing = low_rank
    dX = da.from_array(X_missing, chunks=(BLOCK_ROWS, -1))
    n_blocks = dX.numblocks[0]
    model = Incremental(MIWAEImputer(**BUDGET), random_state=0)
    model.fit(dX)  # one pass: one partial_fit per block, on the worker
    assert model.estimator_.n_iter_ == n_blocks
    for _ in range(PASSES - 1):
        model.partial_fit(dX)  # further passes from the fitted estimator
    imputer = model.estimator_
    assert imputer.n_iter_ == n_blocks * PASSES
    assert len(imputer.history_["train_bound"]) == n_blocks * PASSES
    assert imputer.history_["train_bound"][-1] > imputer.history_["train_bound"][0]

    X_imputed = model.transform(dX)
    assert isinstance(X_imputed, da.Array)
    X_imputed = X_imputed.compute()
    assert not np.isnan(X_imputed).any()
    np.testing.assert_array_equal(X_imputed[~missing], X[~missing])
    mean_imputed = np.where(missing, np.nanmean(X_missing, axis=0), X_missing)
    assert _mse(X, X_imputed, missing) < 0.5 * _mse(X, mean_imputed, missing)


def test_parallel_post_fit_imputes_a_dask_dataframe_by_partition(client, low_rank):
    X, X_missing, missing = low_rank
    index = pd.Index(np.arange(N_ROWS) * 3 + 7, name="row")
    frame = pd.DataFrame(X_missing, columns=list("abcdef"), index=index)
    imputer = MIWAEImputer(**{**BUDGET, "max_iter": 1, "L": 50}).fit(frame)
    ddf = dd.from_pandas(frame, npartitions=3)

    lazy = ParallelPostFit(imputer).transform(ddf)
    assert isinstance(lazy, dd.DataFrame)
    assert lazy.npartitions == 3
    result = lazy.compute()

    assert isinstance(result, pd.DataFrame)
    pd.testing.assert_index_equal(result.index, frame.index)
    pd.testing.assert_index_equal(result.columns, frame.columns)
    assert not result.isna().any().any()
    observed = ~frame.isna().to_numpy()
    np.testing.assert_array_equal(
        result.to_numpy()[observed], frame.to_numpy()[observed]
    )
    # Each row draws from its own stream: partitioning changes nothing but the
    # rounding of the batched matmuls.
    pd.testing.assert_frame_equal(result, imputer.transform(frame), rtol=1e-5)


def test_incremental_on_a_dask_dataframe_keeps_the_column_names(client, low_rank):
    X, X_missing, missing = low_rank
    frame = pd.DataFrame(X_missing, columns=list("abcdef"))
    ddf = dd.from_pandas(frame, npartitions=2)
    model = Incremental(MIWAEImputer(**{**BUDGET, "L": 20}), random_state=0).fit(ddf)
    assert model.estimator_.n_iter_ == 2
    assert list(model.estimator_.feature_names_in_) == list("abcdef")
    result = model.transform(ddf).compute()
    assert list(result.columns) == list("abcdef")
    assert not result.isna().any().any()
