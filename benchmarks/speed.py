"""Speed of MIWAEImputer: training and imputation throughput, scaling, peers.

Every figure is a median over repeats, set against a baseline measured in the
same process (so on the same machine, under the same load):

1. Training: gradient steps/s of the real ``MIWAEImputer._epoch`` on breast
   (p=30) and white (p=11) with the estimator's defaults, the GFLOP/s this
   achieves (encoder and decoder matmuls, forward 2 * rows * in * out per
   Linear, backward twice that; encoder rows = batch, decoder rows = batch * K)
   against the GEMM peak of ``torch.matmul`` on large float32 matrices, and
   against a plain ``torch.distributions`` port of the same step.
2. Profile: the ops of one training step by self CPU time (``torch.profiler``).
3. Imputation: rows/s of ``transform`` at L=1,000 and L=10,000, each case in a
   fresh subprocess whose peak resident memory (``ru_maxrss``) is reported.
4. Scaling: fit time per epoch and transform time for n = 1e3 ... 1e6 synthetic
   rows (p=20), with the slope of log(time) against log(n).
5. Batched: M = 5 MIWAE fits trained side by side (``fit_side_by_side``)
   against one fit and against five fits one after another, on breast and
   white, with the same number of epochs.
6. Peers: default fit + transform time and MSE against missForest-style
   ``IterativeImputer(ExtraTreesRegressor)`` and ``KNNImputer`` on white and
   breast at 50% MCAR, seed 0.

The tables are printed and written to ``OUT/REPORT.md``, under the command,
machine and date (and the raw figures to ``OUT/speed.json``). ``--quick``
shrinks every budget to a smoke test of a few seconds; its figures are not
benchmarks.

The tables are rendered by :mod:`benchmarks._speed_report`.

Usage::

    python -m benchmarks.speed --threads 1 --out benchmarks/results/speed
    python -m benchmarks.speed --threads 2 --out benchmarks/results/speed-2t
    python -m benchmarks.speed --quick --out /tmp/speed
"""

import argparse
import copy
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ._runner import (
    DEFAULT_THREADS,
    git_commit,
    run_context,
    warm_up_torch,
)
from ._speed_report import page, render
from .datasets import load_dataset, standardize
from .missingness import make_mask

__all__ = ["Budget", "main", "run_speed", "training_flops"]

_REPO_ROOT = Path(__file__).resolve().parents[1]
_TRAIN_DATASETS = ("breast", "white")
_MISSING_RATE, _SEED = 0.5, 0
_SCALING_FEATURES = 20
# Rows of the partial_fit epoch that builds the timed model and optimiser.
_BUILD_ROWS = 512
_MEASUREMENTS = ("training", "profile", "profile_imputation", "imputation")
_MEASUREMENTS += ("scaling", "batched", "paper_sets", "peers")


@dataclass(frozen=True)
class Budget:
    """How much of each measurement to run.

    Parameters
    ----------
    repeats : int
        Timed repeats per figure (the median is reported).
    gemm_size : int
        Side of the square float32 matrices of the GEMM peak.
    train_rows : int or None
        Rows of the timed training epoch; None for the whole data set.
    plain_steps : int
        Steps of the plain baseline per repeat.
    profile_steps : int
        Steps under the profiler.
    impute_cases : tuple of (str, int, int)
        (data, L, rows) of each imputation case: "white", or "synthetic-30",
        a synthetic 5,000 x 30 table.
    paper_sets : tuple of str
        The paper's data sets of the default fit + transform timing.
    scaling_sizes : tuple of int
        Numbers of rows of the scaling study.
    scaling_train_rows, scaling_transform_rows : int
        At most this many rows are timed per size; larger sizes are
        extrapolated from the per-row cost.
    scaling_repeats : int
        Timed repeats per size of the scaling study.
    profile_rows : int
        Rows imputed under the profiler.
    peer_rows : int or None
        Rows of each data set given to the peers; None for all.
    peer_params : tuple of (str, dict)
        Per peer, parameters that override the peer's benchmark settings.
    batched : tuple of (str, int)
        (data, epochs) of each case of the batched training; each fit trains
        that many epochs.
    batched_models : int
        Fits trained side by side.
    """

    repeats: int = 5
    gemm_size: int = 2048
    train_rows: int | None = None
    plain_steps: int = 20
    profile_steps: int = 20
    impute_cases: tuple = (
        ("white", 1000, 4898),
        ("white", 10_000, 500),
        ("synthetic-30", 10_000, 5000),
    )
    paper_sets: tuple = ("banknote", "breast", "concrete", "red", "white", "yeast")
    scaling_sizes: tuple = (1000, 10_000, 100_000, 1_000_000)
    scaling_train_rows: int = 4096
    scaling_transform_rows: int = 500
    scaling_repeats: int = 3
    profile_rows: int = 200
    peer_rows: int | None = None
    peer_params: tuple = ()
    batched: tuple = (("breast", 40), ("white", 8))
    batched_models: int = 5


FULL = Budget()
QUICK = Budget(
    repeats=2,
    gemm_size=512,
    train_rows=320,
    plain_steps=3,
    profile_steps=3,
    impute_cases=(("white", 1000, 100), ("synthetic-30", 10_000, 20)),
    paper_sets=("breast",),
    scaling_sizes=(1000, 10_000),
    scaling_train_rows=640,
    scaling_transform_rows=20,
    scaling_repeats=2,
    profile_rows=50,
    peer_rows=300,
    peer_params=(
        ("miwae", {"max_iter": 1, "L": 100}),
        ("missforest-style", {"n_estimators": 5, "max_depth": 4, "max_iter": 2}),
        ("knn (ours)", {"n_neighbors": 5}),
    ),
    batched=(("breast", 1),),
    batched_models=2,
)


# -- measurements ----------------------------------------------------------------
def _median_seconds(function, repeats, warmup=1):
    """Median wall time of ``function()`` over ``repeats`` calls after warm-up."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_peak(size, repeats):
    """GFLOP/s of a square float32 ``torch.matmul``: the machine's GEMM peak.

    Parameters
    ----------
    size : int
        Side of the matrices.
    repeats : int
        Timed products; the median is used.

    Returns
    -------
    gflops : float
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator)
    b = torch.randn(size, size, generator=generator)
    seconds = _median_seconds(lambda: torch.matmul(a, b), max(repeats, 3))
    return 2 * size**3 / seconds / 1e9


def _linear_macs(module):
    """Multiply-adds of one row through the Linear layers of ``module``."""
    from torch import nn

    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
    return sum(m.in_features * m.out_features for m in layers)


def training_flops(model, n_rows, n_samples):
    """Matmul FLOPs of one pass of training over ``n_rows`` rows.

    Forward 2 * rows * in * out per Linear layer, backward twice that; the
    encoder sees each row once, the decoder ``n_samples`` (K) times.

    Parameters
    ----------
    model : MIWAE
        The torch model.
    n_rows : int
        Rows of the pass.
    n_samples : int
        Importance samples K per row.

    Returns
    -------
    flops : int
    """
    per_row = _linear_macs(model.encoder) + n_samples * _linear_macs(model.decoder)
    return 3 * 2 * n_rows * per_row


def _inference_flops(model, n_rows, n_samples):
    """Forward matmul FLOPs of imputing ``n_rows`` rows with L samples."""
    per_row = _linear_macs(model.encoder) + n_samples * _linear_macs(model.decoder)
    return 2 * n_rows * per_row


def _masked_data(name, data_home):
    """Standardised data set, its 50% MCAR mask (seed 0) and the masked copy."""
    X = standardize(load_dataset(name, data_home=data_home).X)
    mask = make_mask("mcar", X, _MISSING_RATE, _SEED)
    return X, mask, np.where(mask, np.nan, X)


def _built_imputer(X_missing, **params):
    """A default MIWAEImputer whose model and optimiser are built and warm.

    One ``partial_fit`` epoch on the first rows builds them (and, unlike
    ``fit``, keeps Adam's state for further epochs): the timings do not depend
    on how far the weights are trained.
    """
    from miwae_impute import MIWAEImputer

    imputer = MIWAEImputer(**{"random_state": _SEED, **params})
    return imputer.partial_fit(X_missing[:_BUILD_ROWS])


def _training_tensors(imputer, X_missing, mask, n_rows):
    """Tensors of ``_epoch`` and the rows of the timed pass."""
    import torch

    x, m = imputer._to_tensors(X_missing, mask, torch.device("cpu"))
    n_rows = len(x) if n_rows is None else min(n_rows, len(x))
    return x, m, torch.arange(n_rows)


def training_throughput(name, budget, data_home=None, peak=None):
    """Steps/s and GFLOP/s of the real training epoch on a data set.

    Parameters
    ----------
    name : str
        Data set of :func:`benchmarks.datasets.load_dataset`.
    budget : Budget
        Repeats and rows.
    data_home : str or None
        Folder of the data files.
    peak : float or None
        GEMM peak in GFLOP/s, for the ratio.

    Returns
    -------
    row : dict
    """
    import torch

    _, mask, X_missing = _masked_data(name, data_home)
    imputer = _built_imputer(X_missing)
    x, m, rows = _training_tensors(imputer, X_missing, mask, budget.train_rows)
    generator = torch.Generator().manual_seed(_SEED)
    seconds = _median_seconds(
        partial(imputer._epoch, x, m, rows, generator), budget.repeats
    )
    steps = math.ceil(len(rows) / imputer.batch_size)
    gflops = training_flops(imputer.model_, len(rows), imputer.K) / seconds / 1e9
    plain = _plain_step_seconds(imputer, x, m, budget)
    return {
        "dataset": name,
        "n_rows": len(rows),
        "p": x.shape[1],
        "steps_per_epoch": steps,
        "ms_per_step": 1e3 * seconds / steps,
        "steps_per_s": steps / seconds,
        "gflops": gflops,
        "share_of_peak": gflops / peak if peak else float("nan"),
        "plain_ms_per_step": 1e3 * plain,
        "speedup_vs_plain": plain / (seconds / steps),
    }


def _plain_log_weights(model, x, mask, n_samples):
    """The same bound written plainly with ``torch.distributions`` and nn.Tanh.

    As in the authors' notebook: distribution objects, ``repeat`` of the data
    and mask over samples, and torch's own tanh. The networks are a copy of
    ``model``'s, so the FLOPs are the same.
    """
    import torch
    from torch import distributions as td
    from torch.nn import functional as F

    min_scale, min_df = model.posterior.min_scale, model.posterior.min_df

    def params(out):
        loc, scale, df = out.chunk(3, dim=-1)
        return loc, F.softplus(scale) + min_scale, F.softplus(df) + min_df

    batch = x.shape[0]
    q_loc, q_scale, q_df = params(model.encoder(x))
    q = td.Independent(td.StudentT(q_df, q_loc, q_scale), 1)
    z = q.rsample([n_samples])
    loc, scale, df = params(model.decoder(z.reshape(n_samples * batch, -1)))
    log_px = td.StudentT(df, loc, scale).log_prob(x.repeat(n_samples, 1))
    log_px = (log_px * mask.repeat(n_samples, 1)).sum(1).reshape(n_samples, batch)
    prior = td.Independent(td.Normal(torch.zeros_like(q_loc), 1.0), 1)
    return log_px + prior.log_prob(z) - q.log_prob(z)


def _plain_step_seconds(imputer, x, m, budget):
    """Median seconds of one step of the plain port at the imputer's shapes."""
    import torch
    from torch import nn

    from miwae_impute._model import miwae_bound

    model = copy.deepcopy(imputer.model_).train()
    # Plain Sequentials: nn.Tanh evaluated as torch.tanh, no folding.
    model.encoder = nn.Sequential(*model.encoder)
    model.decoder = nn.Sequential(*model.decoder)
    optimizer = torch.optim.Adam(model.parameters(), lr=imputer.learning_rate_init)
    xb, mb = x[: imputer.batch_size], m[: imputer.batch_size]

    def steps():
        for _ in range(budget.plain_steps):
            bound = miwae_bound(_plain_log_weights(model, xb, mb, imputer.K))
            optimizer.zero_grad(set_to_none=True)
            (-bound.mean()).backward()
            optimizer.step()

    return _median_seconds(steps, budget.repeats) / budget.plain_steps


def profile_training(name, budget, data_home=None, top=12):
    """Ops of the real training step by self CPU time.

    Parameters
    ----------
    name : str
        Data set.
    budget : Budget
        ``profile_steps`` steps are profiled.
    data_home : str or None
        Folder of the data files.
    top : int
        Number of ops kept.

    Returns
    -------
    ops : list of dict
        ``op``, ``calls`` and ``self_ms`` per step, and ``share`` of the total
        self CPU time, the largest first.
    """
    import torch

    _, mask, X_missing = _masked_data(name, data_home)
    imputer = _built_imputer(X_missing)
    n_rows = budget.profile_steps * imputer.batch_size
    x, m, rows = _training_tensors(imputer, X_missing, mask, n_rows)
    steps = math.ceil(len(rows) / imputer.batch_size)
    generator = torch.Generator().manual_seed(_SEED)
    return _top_ops(partial(imputer._epoch, x, m, rows, generator), steps, top)


def profile_imputation(name, n_rows, n_samples, data_home=None, top=12):
    """Ops of ``transform`` by self CPU time, per 1,000 imputed rows.

    Run on one torch thread: with T threads, transform runs T row chunks at
    once on T worker threads, whose ops the profiler does not see; on one
    thread the same chunks run one by one on the calling thread.

    Parameters
    ----------
    name : str
        Data set.
    n_rows : int
        Rows imputed under the profiler.
    n_samples : int
        Importance samples L.
    data_home : str or None
        Folder of the data files.
    top : int
        Number of ops kept.

    Returns
    -------
    ops : list of dict
        As :func:`profile_training`, per 1,000 rows instead of per step.
    """
    import torch

    _, _, X_missing = _masked_data(name, data_home)
    imputer = _built_imputer(X_missing, L=n_samples)
    run = partial(imputer.transform, X_missing[:n_rows])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _top_ops(run, n_rows / 1000, top)
    finally:
        torch.set_num_threads(threads)


def _top_ops(function, units, top):
    """Profile ``function()`` after a warm-up call; the top ops per unit of work."""
    from torch.profiler import ProfilerActivity, profile

    function()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        function()
    events = prof.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    ranked = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)
    return [
        {
            "op": event.key,
            "calls": event.count / units,
            "self_ms": event.self_cpu_time_total / 1e3 / units,
            "share": event.self_cpu_time_total / total,
        }
        for event in ranked[:top]
    ]


# -- imputation, one subprocess per case ------------------------------------------
def _impute_case(config):
    """Body of the subprocess of one imputation case; returns the result dict.

    Loads the saved imputer (no optimiser, so no training code is imported),
    warms ``transform`` up on a few rows, then times ``transform`` of ``rows``
    rows with ``L`` samples. The peak resident memory is read before and after
    the timed transform.
    """
    import torch

    from miwae_impute import MIWAEImputer

    torch.set_num_threads(config["threads"])
    imputer = MIWAEImputer.load(config["model"]).set_params(L=config["L"])
    X_rows = _impute_data(config["dataset"], config["data_home"])[: config["rows"]]
    imputer.transform(X_rows[:8])  # warm-up
    before = _max_rss_mib()
    start = time.perf_counter()
    imputer.transform(X_rows)
    seconds = time.perf_counter() - start
    flops = _inference_flops(imputer.model_, len(X_rows), config["L"])
    return {
        "dataset": config["dataset"],
        "L": config["L"],
        "n_rows": len(X_rows),
        "seconds": seconds,
        "rows_per_s": len(X_rows) / seconds,
        "gflops": flops / seconds / 1e9,
        "peak_rss_mib": _max_rss_mib(),
        "rss_before_mib": before,
    }


def _max_rss_mib():
    """Peak resident memory of this process so far, MiB (Linux: ru_maxrss KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _impute_worker():
    """Entry point of the subprocess: JSON config in argv[1], JSON result out."""
    print(json.dumps(_impute_case(json.loads(sys.argv[1]))))


def _impute_data(name, data_home):
    """The masked rows of an imputation case: white, or a synthetic 5,000 x 30."""
    if name == "synthetic-30":
        return _synthetic(5000, n_features=30)[0]
    return _masked_data(name, data_home)[2]


def imputation_throughput(budget, threads, data_home=None, peak=None):
    """Run each imputation case of ``budget`` in a fresh Python process.

    Parameters
    ----------
    budget : Budget
        ``impute_cases``: (data, L, rows) triples.
    threads : int
        Torch threads of the subprocesses.
    data_home : str or None
        Folder of the data files.
    peak : float or None
        GEMM peak in GFLOP/s, for the ratio.

    Returns
    -------
    rows : list of dict
    """
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in dict.fromkeys(case[0] for case in budget.impute_cases):
            model = os.path.join(folder, name)
            _built_imputer(_impute_data(name, data_home)).save(model)
        for name, n_samples, n_rows in budget.impute_cases:
            config = {
                "model": os.path.join(folder, name),
                "dataset": name,
                "L": n_samples,
                "rows": n_rows,
                "threads": threads,
                "data_home": data_home,
            }
            row = _run_impute_case(config)
            row["share_of_peak"] = row["gflops"] / peak if peak else float("nan")
            rows.append(row)
    return rows


def _run_impute_case(config):
    """Run :func:`_impute_case` in a fresh Python process; its result dict."""
    code = "from benchmarks.speed import _impute_worker; _impute_worker()"
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(config)],
        cwd=_REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **_thread_env(config["threads"])},
    )
    if done.returncode:
        raise RuntimeError(f"imputation case {config} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _thread_env(threads):
    return {
        name: str(threads)
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }


# -- scaling -----------------------------------------------------------------------
def _synthetic(n_rows, n_features=_SCALING_FEATURES, rank=5, seed=0):
    """Low-rank Gaussian data with 50% MCAR; returns (X_missing, mask)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, rank)) @ rng.normal(size=(rank, n_features))
    X += 0.1 * rng.normal(size=X.shape)
    mask = rng.random(X.shape) < _MISSING_RATE
    return np.where(mask, np.nan, X), mask


def scaling(budget):
    """Fit time per epoch and transform time against the number of rows.

    For each n, the setup of a fit (standardisation and tensors of all n rows)
    is timed in full; the epoch and the transform are timed on at most
    ``scaling_train_rows`` / ``scaling_transform_rows`` rows (the epoch's rows
    drawn from the n-row tensors) and scaled to n by their per-row cost.

    Parameters
    ----------
    budget : Budget
        Sizes and row caps.

    Returns
    -------
    rows : list of dict
    slopes : dict
        Slope of log(seconds) against log(n), for ``fit_epoch_s`` and
        ``transform_s``.
    """
    import torch

    from miwae_impute._scaling import _standardization

    rows = []
    for n in budget.scaling_sizes:
        X_missing, mask = _synthetic(n)
        imputer = _built_imputer(X_missing)
        start = time.perf_counter()
        imputer.mean_, imputer.scale_ = _standardization(X_missing, mask)
        x, m = imputer._to_tensors(X_missing, mask, torch.device("cpu"))
        setup = time.perf_counter() - start
        generator = torch.Generator().manual_seed(_SEED)
        n_train = min(n, budget.scaling_train_rows)
        train = torch.randperm(n, generator=generator)[:n_train]
        epoch = _median_seconds(
            partial(imputer._epoch, x, m, train, generator),
            budget.scaling_repeats,
            warmup=0,
        )
        n_test = min(n, budget.scaling_transform_rows)
        transform = _median_seconds(
            partial(imputer.transform, X_missing[:n_test]),
            budget.scaling_repeats,
            warmup=0,
        )
        rows.append(
            {
                "n": n,
                "setup_s": setup,
                "timed_train_rows": n_train,
                "fit_epoch_s": setup + epoch * n / n_train,
                "us_per_row_epoch": 1e6 * epoch / n_train,
                "timed_transform_rows": n_test,
                "transform_s": transform * n / n_test,
                "us_per_row_transform": 1e6 * transform / n_test,
            }
        )
    return rows, {key: _slope(rows, key) for key in ("fit_epoch_s", "transform_s")}


def _slope(rows, key):
    """Least-squares slope of log(row[key]) against log(row["n"])."""
    if len(rows) < 2:
        return float("nan")
    n = np.log([row["n"] for row in rows])
    return float(np.polyfit(n, np.log([row[key] for row in rows]), 1)[0])


# -- peers -------------------------------------------------------------------------
def _peers(budget):
    """The compared imputers, by name: ours at defaults, then the peers."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer

    from miwae_impute import MIWAEImputer, make_imputer

    overrides = dict(budget.peer_params)
    forest = {"n_estimators": 100, "max_depth": 8, "max_iter": 10}
    forest |= overrides.get("missforest-style", {})
    return {
        "miwae": lambda: MIWAEImputer(random_state=_SEED, **overrides.get("miwae", {})),
        "missforest-style": lambda: IterativeImputer(
            estimator=ExtraTreesRegressor(
                n_estimators=forest["n_estimators"],
                max_depth=forest["max_depth"],
                random_state=_SEED,
            ),
            max_iter=forest["max_iter"],
            random_state=_SEED,
        ),
        "KNNImputer(k=5)": lambda: KNNImputer(n_neighbors=5),
        "knn (ours)": lambda: make_imputer(
            "knn", random_state=_SEED, **overrides.get("knn (ours)", {})
        ),
        "mean": lambda: make_imputer("mean"),
    }


def against_peers(budget, data_home=None):
    """Fit + transform time and MSE of ours and the peers, 50% MCAR, seed 0.

    Parameters
    ----------
    budget : Budget
        ``peer_params`` override the peers' settings (smaller in quick mode).
    data_home : str or None
        Folder of the data files.

    Returns
    -------
    rows : list of dict
        ``method``, ``dataset``, ``seconds``, ``mse`` and ``time_vs_miwae``.
    """
    rows = []
    for name in ("white", "breast"):
        X, mask, X_missing = _masked_data(name, data_home)
        X, mask, X_missing = (a[: budget.peer_rows] for a in (X, mask, X_missing))
        results = []
        for method, build in _peers(budget).items():
            imputer = build()
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # IterativeImputer's convergence
                X_imputed = np.asarray(imputer.fit_transform(X_missing), float)
            seconds = time.perf_counter() - start
            mse = float(np.mean((X_imputed[mask] - X[mask]) ** 2))
            results.append({"method": method, "dataset": name, "seconds": seconds})
            results[-1]["mse"] = mse
        ours = results[0]["seconds"]
        rows += [{**row, "time_vs_miwae": row["seconds"] / ours} for row in results]
    return rows


def paper_sets(budget, data_home=None):
    """Default fit + transform time and MSE on the paper's data sets, seed 0.

    Parameters
    ----------
    budget : Budget
        ``paper_sets`` names the data sets; ``peer_params["miwae"]``
        overrides the defaults (smaller in quick mode).
    data_home : str or None
        Folder of the data files.

    Returns
    -------
    rows : list of dict
        ``dataset``, ``fit_s``, ``transform_s``, ``seconds`` and ``mse``.
    """
    build = _peers(budget)["miwae"]
    rows = []
    for name in budget.paper_sets:
        X, mask, X_missing = _masked_data(name, data_home)
        imputer = build()
        start = time.perf_counter()
        imputer.fit(X_missing)
        fitted = time.perf_counter()
        X_imputed = imputer.transform(X_missing)
        done = time.perf_counter()
        rows.append(
            {
                "dataset": name,
                "shape": list(X.shape),
                "fit_s": fitted - start,
                "transform_s": done - fitted,
                "seconds": done - start,
                "mse": float(np.mean((X_imputed[mask] - X[mask]) ** 2)),
            }
        )
    return rows


def batched(budget, data_home=None):
    """Seconds of M fits side by side, of one fit, and of M fits in turn.

    Parameters
    ----------
    budget : Budget
        ``batched`` names the data sets and epochs, ``batched_models`` M.
    data_home : str or None
        Folder of the data files.

    Returns
    -------
    rows : list of dict
        ``dataset``, ``epochs``, ``models``, and the median seconds ``one``
        (one fit), ``in_turn`` (M fits one after another, seeds 0 to M - 1;
        one repeat) and ``side_by_side`` (the same M fits as one batch).
    """
    from miwae_impute import MIWAEImputer, fit_side_by_side

    rows = []
    seeds = list(range(budget.batched_models))
    for name, epochs in budget.batched:
        _, _, X_missing = _masked_data(name, data_home)

        def fit(seed, X=X_missing, epochs=epochs):
            return MIWAEImputer(max_iter=epochs, random_state=seed).fit(X)

        def batch(X=X_missing, epochs=epochs):
            return fit_side_by_side(
                MIWAEImputer(max_iter=epochs), X, random_states=seeds
            )

        one = _median_seconds(partial(fit, 0), budget.repeats)
        start = time.perf_counter()
        for seed in seeds:
            fit(seed)
        in_turn = time.perf_counter() - start
        side_by_side = _median_seconds(batch, budget.repeats)
        rows.append(
            {
                "dataset": name,
                "epochs": epochs,
                "models": len(seeds),
                "one": one,
                "in_turn": in_turn,
                "side_by_side": side_by_side,
            }
        )
    return rows


# -- the run -----------------------------------------------------------------------
def run_speed(budget, threads=DEFAULT_THREADS, data_home=None, log=print, skip=()):
    """Run every measurement of ``budget``; the raw figures as a dict.

    Parameters
    ----------
    budget : Budget
        How much to run: :data:`FULL` or :data:`QUICK`.
    threads : int
        Torch and BLAS/OpenMP threads.
    data_home : str or None
        Folder of the data files.
    log : callable
        Called with a line of progress.
    skip : collection of str
        Measurements not to run (their tables are left out).

    Returns
    -------
    results : dict
    """
    from miwae_impute import MIWAEImputer

    results = {"defaults": _defaults(MIWAEImputer()), "threads": threads}
    seconds = results["section_seconds"] = {}

    def measure(key, function, *args):
        if key in skip:
            results[key] = [] if key != "scaling" else ([], {})
            return results[key]
        log(f"{key} ...")
        start = time.perf_counter()
        results[key] = function(*args)
        seconds[key] = time.perf_counter() - start
        return results[key]

    n_samples = budget.impute_cases[0][1]
    with run_context(threads):
        measure("warm_up", warm_up_torch)
        peak = measure("gemm_gflops", gemm_peak, budget.gemm_size, budget.repeats)
        measure("training", _training_rows, budget, data_home, peak)
        measure("profile", profile_training, "breast", budget, data_home)
        measure(
            "profile_imputation",
            profile_imputation,
            "white",
            budget.profile_rows,
            n_samples,
            data_home,
        )
        measure("imputation", imputation_throughput, budget, threads, data_home, peak)
        measure("scaling", scaling, budget)
        measure("batched", batched, budget, data_home)
        measure("paper_sets", paper_sets, budget, data_home)
        measure("peers", against_peers, budget, data_home)
    results["scaling"], results["scaling_slopes"] = results["scaling"]
    results["scaling_features"] = _SCALING_FEATURES
    del results["warm_up"]
    return results


def _training_rows(budget, data_home, peak):
    return [
        training_throughput(name, budget, data_home, peak) for name in _TRAIN_DATASETS
    ]


def _defaults(imputer):
    params = imputer.get_params()
    keys = ("hidden_layer_sizes", "latent_dim", "activation", "K", "L", "batch_size")
    return {key: params[key] for key in keys} | {"max_iter": params["max_iter"]}


# -- command line --------------------------------------------------------------------
def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.speed",
        description="Training and imputation speed of MIWAEImputer.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny budgets (smoke test, seconds)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"torch and BLAS threads ({DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--out",
        default="benchmarks/results/speed",
        help="folder of REPORT.md and speed.json (benchmarks/results/speed)",
    )
    parser.add_argument("--data-home", default=None, help="folder of the data files")
    parser.add_argument(
        "--skip",
        nargs="+",
        default=(),
        choices=_MEASUREMENTS,
        metavar="NAME",
        help=f"measurements not to run: any of {', '.join(_MEASUREMENTS)}",
    )
    parser.add_argument(
        "--compare",
        default=None,
        metavar="DIR",
        help="speed.json of an earlier run (for example at an earlier commit), "
        "set against this one in a before/after table",
    )
    return parser


def main(argv=None):
    """Command line entry point; see ``python -m benchmarks.speed --help``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1.")
    budget = QUICK if args.quick else FULL
    start = time.perf_counter()

    def log(line):
        print(f"[{time.perf_counter() - start:6.1f} s] {line}", file=sys.stderr)

    results = run_speed(budget, args.threads, args.data_home, log, args.skip)
    wall = time.perf_counter() - start
    results |= {"quick": args.quick, "budget": asdict(budget), "wall_s": wall}
    results["git_commit"] = git_commit()
    before = None
    if args.compare:
        before = json.loads((Path(args.compare) / "speed.json").read_text())
    markdown = render(results, quick=args.quick, before=before)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "REPORT.md").write_text(page(argv, args.threads, markdown, wall))
    (out / "speed.json").write_text(json.dumps(results, indent=1, default=str))
    print(markdown)
    print(f"Written {out / 'REPORT.md'} and speed.json ({wall:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
