"""Speed of MIWAEImputer: training and imputation throughput, scaling, peers.

Every figure is a median over repeats, timed in one run (same machine, same
load). The models of the training, profile, imputation and scaling figures are
built by one ``partial_fit`` epoch on the first 512 rows: those timings do not
depend on how far a model is trained.

1. Training: steps/s of the real ``MIWAEImputer._epoch`` on breast (p=30) and
   white (p=11) at the defaults, and its GFLOP/s (encoder and decoder matmuls:
   forward 2 * rows * in * out per Linear, backward twice that; the decoder
   sees each row K times) against the GEMM peak of a large float32
   ``torch.matmul``.
2. Profile: top ops by self CPU time (``torch.profiler``) of a training step
   (breast) and of ``transform`` (white) per 1,000 rows on one thread (with T
   threads, row chunks run on worker threads the profiler does not see).
3. Imputation: rows/s of ``transform`` at L=1,000 and 10,000, each case in a
   fresh process that loads the saved model, with its peak resident memory
   (``ru_maxrss``) before and after the timed call.
4. Scaling: fit time per epoch and transform time for n = 1e3 ... 1e6
   synthetic rows (p=20): the setup (standardisation, tensors) timed on all n
   rows, the epoch and transform on a few thousand and scaled to n by their
   per-row cost; and the slope of log(time) on log(n).
5. Batched: M = 5 fits side by side (``fit_side_by_side``) against one fit and
   against the M fits one after another, on breast and white.
6. Default fit + transform time and MSE on the paper's data sets, and against
   missForest-style ``IterativeImputer(ExtraTreesRegressor)`` and
   ``KNNImputer`` on white and breast; 50% MCAR, seed 0.

The tables (:mod:`benchmarks._speed_report`) are printed and written to
``OUT/REPORT.md`` under the command, machine and date, and the raw figures to
``OUT/speed.json``; ``--compare DIR`` adds a before/after table against
``DIR/speed.json``. ``--quick`` shrinks every budget to a smoke test (about a
minute); its figures are not benchmarks::

    python -m benchmarks.speed --threads 1 --out benchmarks/results/speed
    python -m benchmarks.speed --quick --out /tmp/speed
"""

import argparse
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

from ._runner import DEFAULT_THREADS, git_commit, run_context, warm_up_torch
from ._speed_report import page, render
from .datasets import load_dataset, standardize
from .missingness import make_mask

__all__ = ["Budget", "main", "run_speed", "training_flops"]

_REPO_ROOT = Path(__file__).resolve().parents[1]
_MISSING_RATE, _SEED = 0.5, 0
_SCALING_FEATURES = 20
_BUILD_ROWS = 512
_MEASUREMENTS = ("training", "profile", "profile_imputation", "imputation")
_MEASUREMENTS += ("scaling", "batched", "paper_sets", "peers")


@dataclass(frozen=True)
class Budget:
    """How much of each measurement to run.

    ``repeats`` timed runs per figure; ``train_rows`` and ``peer_rows`` cap
    the rows (None: all); ``impute_cases`` are (data, L, rows) with data
    "white" or "synthetic-30" (5,000 x 30); the scaling study times at most
    ``scaling_train_rows`` / ``scaling_transform_rows`` rows per size;
    ``peer_params`` override, per peer, its settings; ``batched`` holds
    (data, epochs) cases of ``batched_models`` fits.
    """

    repeats: int = 5
    gemm_size: int = 2048
    train_rows: int | None = None
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


# -- training and profiles ---------------------------------------------------------
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
    """GFLOP/s of a square float32 ``torch.matmul``: the machine's GEMM peak."""
    import torch

    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=generator) for _ in range(2))
    seconds = _median_seconds(lambda: torch.matmul(a, b), max(repeats, 3))
    return 2 * size**3 / seconds / 1e9


def _forward_flops(model, n_rows, n_samples):
    """Matmul FLOPs of a forward pass: encoder once, decoder ``n_samples`` times."""
    from torch import nn

    def macs(module):
        layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
        return sum(m.in_features * m.out_features for m in layers)

    return 2 * n_rows * (macs(model.encoder) + n_samples * macs(model.decoder))


def training_flops(model, n_rows, n_samples):
    """Matmul FLOPs of training on ``n_rows`` rows: forward, backward twice that."""
    return 3 * _forward_flops(model, n_rows, n_samples)


def _masked_data(name, data_home):
    """Standardised data set, its 50% MCAR mask (seed 0) and the masked copy."""
    X = standardize(load_dataset(name, data_home=data_home).X)
    mask = make_mask("mcar", X, _MISSING_RATE, _SEED)
    return X, mask, np.where(mask, np.nan, X)


def _built_imputer(X_missing, **params):
    """A MIWAEImputer built by one ``partial_fit`` epoch, which (unlike ``fit``)
    keeps Adam's state for further epochs."""
    from miwae_impute import MIWAEImputer

    imputer = MIWAEImputer(**{"random_state": _SEED, **params})
    return imputer.partial_fit(X_missing[:_BUILD_ROWS])


def _epoch(name, data_home, n_rows):
    """A built imputer of a data set, its ``_epoch`` on the first ``n_rows``
    rows (None: all) as a function of nothing, and the rows of that epoch."""
    import torch

    _, mask, X_missing = _masked_data(name, data_home)
    imputer = _built_imputer(X_missing)
    x, m = imputer._to_tensors(X_missing, mask, torch.device("cpu"))
    rows = torch.arange(len(x) if n_rows is None else min(n_rows, len(x)))
    generator = torch.Generator().manual_seed(_SEED)
    return imputer, partial(imputer._epoch, x, m, rows, generator), len(rows)


def training_throughput(name, budget, data_home=None, peak=None):
    """Steps/s and GFLOP/s (and share of the GEMM ``peak``) of a training epoch."""
    imputer, epoch, n_rows = _epoch(name, data_home, budget.train_rows)
    seconds = _median_seconds(epoch, budget.repeats)
    steps = math.ceil(n_rows / imputer.batch_size)
    gflops = training_flops(imputer.model_, n_rows, imputer.K) / seconds / 1e9
    row = {"dataset": name, "n_rows": n_rows, "p": imputer.n_features_in_}
    row |= {"steps_per_epoch": steps, "ms_per_step": 1e3 * seconds / steps}
    row |= {"steps_per_s": steps / seconds, "gflops": gflops}
    return row | {"share_of_peak": gflops / peak if peak else float("nan")}


def profile_training(name, budget, data_home=None, top=12):
    """The ``top`` ops of ``profile_steps`` training steps, per step."""
    from miwae_impute import MIWAEImputer

    n_rows = budget.profile_steps * MIWAEImputer().batch_size
    imputer, epoch, n_rows = _epoch(name, data_home, n_rows)
    return _top_ops(epoch, math.ceil(n_rows / imputer.batch_size), top)


def profile_imputation(name, n_rows, n_samples, data_home=None, top=12):
    """The ``top`` ops of ``transform`` on one thread, per 1,000 rows."""
    import torch

    _, _, X_missing = _masked_data(name, data_home)
    imputer = _built_imputer(X_missing, L=n_samples)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _top_ops(
            partial(imputer.transform, X_missing[:n_rows]), n_rows / 1e3, top
        )
    finally:
        torch.set_num_threads(threads)


def _top_ops(function, units, top):
    """Profile ``function()`` after a warm-up call: per op, its calls and self
    CPU ms per unit of work and its share of the total, the largest first."""
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


# -- imputation, one process per case ----------------------------------------------
def _impute_data(name, data_home):
    """The masked rows of an imputation case: white, or a synthetic 5,000 x 30."""
    if name == "synthetic-30":
        return _synthetic(5000, n_features=30)[0]
    return _masked_data(name, data_home)[2]


def _max_rss_mib():
    """Peak resident memory of this process so far, MiB (Linux: ru_maxrss KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _impute_worker():
    """Time one imputation case in this fresh process: the case as JSON in
    ``argv[1]``, the result printed as JSON."""
    import torch

    from miwae_impute import MIWAEImputer

    config = json.loads(sys.argv[1])
    torch.set_num_threads(config["threads"])
    imputer = MIWAEImputer.load(config["model"]).set_params(L=config["L"])
    X_rows = _impute_data(config["dataset"], config["data_home"])[: config["rows"]]
    imputer.transform(X_rows[:8])  # warm-up
    before = _max_rss_mib()
    start = time.perf_counter()
    imputer.transform(X_rows)
    seconds = time.perf_counter() - start
    flops = _forward_flops(imputer.model_, len(X_rows), config["L"])
    row = {"dataset": config["dataset"], "L": config["L"], "n_rows": len(X_rows)}
    row |= {"seconds": seconds, "rows_per_s": len(X_rows) / seconds}
    row |= {"gflops": flops / seconds / 1e9, "peak_rss_mib": _max_rss_mib()}
    print(json.dumps(row | {"rss_before_mib": before}))


def imputation_throughput(budget, threads, data_home=None, peak=None):
    """Rows/s, GFLOP/s and peak memory of each imputation case of ``budget``."""
    code = "from benchmarks.speed import _impute_worker; _impute_worker()"
    variables = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    env = os.environ | dict.fromkeys(variables, str(threads))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in dict.fromkeys(case[0] for case in budget.impute_cases):
            _built_imputer(_impute_data(name, data_home)).save(f"{folder}/{name}")
        for name, n_samples, n_rows in budget.impute_cases:
            config = {"model": f"{folder}/{name}", "dataset": name}
            config |= {"L": n_samples, "rows": n_rows, "threads": threads}
            config["data_home"] = data_home
            done = subprocess.run(
                [sys.executable, "-c", code, json.dumps(config)],
                cwd=_REPO_ROOT,
                capture_output=True,
                text=True,
                check=False,
                env=env,
            )
            if done.returncode:
                raise RuntimeError(f"imputation case {config} failed:\n{done.stderr}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            row["share_of_peak"] = row["gflops"] / peak if peak else float("nan")
            rows.append(row)
    return rows


# -- scaling -----------------------------------------------------------------------
def _synthetic(n_rows, n_features=_SCALING_FEATURES, rank=5, seed=0):
    """Low-rank Gaussian data with 50% MCAR; returns (X_missing, mask)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, rank)) @ rng.normal(size=(rank, n_features))
    X += 0.1 * rng.normal(size=X.shape)
    mask = rng.random(X.shape) < _MISSING_RATE
    return np.where(mask, np.nan, X), mask


def scaling(budget):
    """Fit time per epoch and transform time per size; and, for each, the slope
    of log(seconds) on log(n)."""
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
        run = partial(imputer._epoch, x, m, train, generator)
        epoch = _median_seconds(run, budget.scaling_repeats, warmup=0)
        n_test = min(n, budget.scaling_transform_rows)
        run = partial(imputer.transform, X_missing[:n_test])
        transform = _median_seconds(run, budget.scaling_repeats, warmup=0)
        epoch, transform = epoch / n_train, transform / n_test  # per row
        row = {"n": n, "setup_s": setup, "timed_train_rows": n_train}
        row |= {"fit_epoch_s": setup + epoch * n, "us_per_row_epoch": 1e6 * epoch}
        row |= {"timed_transform_rows": n_test, "transform_s": transform * n}
        rows.append(row | {"us_per_row_transform": 1e6 * transform})
    return rows, {key: _slope(rows, key) for key in ("fit_epoch_s", "transform_s")}


def _slope(rows, key):
    """Least-squares slope of log(row[key]) against log(row["n"])."""
    if len(rows) < 2:
        return float("nan")
    n = np.log([row["n"] for row in rows])
    return float(np.polyfit(n, np.log([row[key] for row in rows]), 1)[0])


# -- whole fits: the paper's sets, side by side, the peers ---------------------------
def _peers(budget):
    """The compared imputers, by name: ours at defaults, then the peers."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer

    from miwae_impute import MIWAEImputer, make_imputer

    overrides = dict(budget.peer_params)
    trees = {"n_estimators": 100, "max_depth": 8, "max_iter": 10}
    trees |= overrides.get("missforest-style", {})
    max_iter = trees.pop("max_iter")
    return {
        "miwae": lambda: MIWAEImputer(random_state=_SEED, **overrides.get("miwae", {})),
        "missforest-style": lambda: IterativeImputer(
            ExtraTreesRegressor(**trees, random_state=_SEED),
            max_iter=max_iter,
            random_state=_SEED,
        ),
        "KNNImputer(k=5)": lambda: KNNImputer(n_neighbors=5),
        "knn (ours)": lambda: make_imputer(
            "knn", random_state=_SEED, **overrides.get("knn (ours)", {})
        ),
        "mean": lambda: make_imputer("mean"),
    }


def against_peers(budget, data_home=None):
    """Fit + transform seconds, MSE and time relative to ours of each imputer."""
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
            results.append(
                {"method": method, "dataset": name, "seconds": seconds, "mse": mse}
            )
        ours = results[0]["seconds"]
        rows += [{**row, "time_vs_miwae": row["seconds"] / ours} for row in results]
    return rows


def paper_sets(budget, data_home=None):
    """Fit and transform seconds and MSE of ours on each of ``paper_sets``."""
    build = _peers(budget)["miwae"]
    rows = []
    for name in budget.paper_sets:
        X, mask, X_missing = _masked_data(name, data_home)
        imputer, row = build(), {"dataset": name, "shape": list(X.shape)}
        start = time.perf_counter()
        imputer.fit(X_missing)
        row["fit_s"] = time.perf_counter() - start
        X_imputed = imputer.transform(X_missing)
        row["seconds"] = time.perf_counter() - start
        row["transform_s"] = row["seconds"] - row["fit_s"]
        row["mse"] = float(np.mean((X_imputed[mask] - X[mask]) ** 2))
        rows.append(row)
    return rows


def batched(budget, data_home=None):
    """Seconds of one fit (median), of M fits in turn with seeds 0 to M - 1
    (one run), and of the same M fits side by side (median)."""
    from sklearn.base import clone

    from miwae_impute import MIWAEImputer, fit_side_by_side

    rows = []
    seeds = list(range(budget.batched_models))
    for name, epochs in budget.batched:
        _, _, X = _masked_data(name, data_home)
        model = MIWAEImputer(max_iter=epochs)  # cloned by fit_side_by_side
        fits = [partial(clone(model).set_params(random_state=s).fit, X) for s in seeds]
        row = {"dataset": name, "epochs": epochs, "models": len(seeds)}
        row["one"] = _median_seconds(fits[0], budget.repeats)
        start = time.perf_counter()
        for fit in fits:
            fit()
        row["in_turn"] = time.perf_counter() - start
        batch = partial(fit_side_by_side, model, X, random_states=seeds)
        row["side_by_side"] = _median_seconds(batch, budget.repeats)
        rows.append(row)
    return rows


# -- the run and the command line ---------------------------------------------------
def run_speed(budget, threads=DEFAULT_THREADS, data_home=None, log=print, skip=()):
    """The raw figures of every measurement of ``budget`` but those in ``skip``
    (left empty), on ``threads`` torch and BLAS threads; ``log`` gets progress."""
    from miwae_impute import MIWAEImputer

    params = MIWAEImputer().get_params()
    keys = ("hidden_layer_sizes", "latent_dim", "activation", "K", "L", "batch_size")
    results = {"defaults": {key: params[key] for key in keys + ("max_iter",)}}
    results["threads"] = threads
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

    def training(peak):
        return [
            training_throughput(name, budget, data_home, peak)
            for name in ("breast", "white")
        ]

    L = budget.impute_cases[0][1]
    with run_context(threads):
        measure("warm_up", warm_up_torch)
        peak = measure("gemm_gflops", gemm_peak, budget.gemm_size, budget.repeats)
        measure("training", training, peak)
        measure("profile", profile_training, "breast", budget, data_home)
        rows = budget.profile_rows
        measure("profile_imputation", profile_imputation, "white", rows, L, data_home)
        measure("imputation", imputation_throughput, budget, threads, data_home, peak)
        measure("scaling", scaling, budget)
        measure("batched", batched, budget, data_home)
        measure("paper_sets", paper_sets, budget, data_home)
        measure("peers", against_peers, budget, data_home)
    results["scaling"], results["scaling_slopes"] = results["scaling"]
    results["scaling_features"] = _SCALING_FEATURES
    del results["warm_up"]
    return results


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.speed",
        description="Training and imputation speed of MIWAEImputer.",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="tiny budgets (a smoke test)")
    add("--threads", type=int, default=DEFAULT_THREADS, help="torch and BLAS threads")
    add("--out", default="benchmarks/results/speed", help="folder of the report")
    add("--data-home", default=None, help="folder of the data files")
    add(
        "--skip",
        nargs="+",
        default=(),
        choices=_MEASUREMENTS,
        metavar="NAME",
        help=f"measurements not to run: any of {', '.join(_MEASUREMENTS)}",
    )
    add("--compare", metavar="DIR", help="folder of an earlier run's speed.json")
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
