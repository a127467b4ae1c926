"""Speed of MIWAEImputer: training and imputation throughput, scaling, peers.

Every figure is a median over repeats, timed in one run (same machine, same
load). The models of the training, profile, imputation and scaling figures are
built by one ``partial_fit`` epoch on the first 512 rows (their timings do not
depend on how far a model is trained).

1. Training: steps/s of the real ``MIWAEImputer._epoch`` on breast (p=30) and
   white (p=11) at the defaults, and its GFLOP/s (encoder and decoder matmuls:
   forward 2 * rows * in * out per Linear, backward twice that, the decoder K
   times per row) against the GEMM peak of a large float32 ``torch.matmul``.
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
minute; its figures are not benchmarks)::

    python -m benchmarks.speed --threads 1 --out benchmarks/results/speed
"""

import argparse
import json
import math
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from collections import namedtuple
from functools import partial
from pathlib import Path

import numpy as np

from . import _runner
from ._runner import DEFAULT_THREADS
from ._speed_report import render
from .datasets import DATASETS, load_dataset, standardize
from .missingness import make_mask

__all__ = ["Budget", "main", "run_speed", "training_flops"]

_REPO_ROOT = Path(__file__).resolve().parents[1]
_MISSING_RATE, _SEED = 0.5, 0
_SCALING_FEATURES = 20
_MEASUREMENTS = ("training", "profile", "profile_imputation", "imputation")
_MEASUREMENTS += ("scaling", "batched", "paper_sets", "peers")

#: How much of each measurement to run: per field, the full study's value and
#: the smoke test's (``--quick``). Rows None: all; ``impute_cases``: (data, L,
#: rows); ``peer_params``: per peer, its settings; ``batched``: (data, epochs).
_BUDGETS = {
    "repeats": (5, 2),
    "gemm_size": (2048, 512),
    "train_rows": (None, 320),
    "profile_steps": (20, 3),
    "impute_cases": (
        (("white", 1000, 4898), ("white", 10_000, 500), ("synthetic-30", 10_000, 5000)),
        (("white", 1000, 100), ("synthetic-30", 10_000, 20)),
    ),
    "paper_sets": (DATASETS, ("breast",)),
    "scaling_sizes": ((1000, 10_000, 100_000, 1_000_000), (1000, 10_000)),
    "scaling_train_rows": (4096, 640),
    "scaling_transform_rows": (500, 20),
    "scaling_repeats": (3, 2),
    "profile_rows": (200, 50),
    "peer_rows": (None, 300),
    "peer_params": (
        (),
        (
            ("miwae", {"max_iter": 1, "L": 100}),
            ("missforest-style", {"n_estimators": 5, "max_depth": 4, "max_iter": 2}),
            ("knn (ours)", {"n_neighbors": 5}),
        ),
    ),
    "batched": ((("breast", 40), ("white", 8)), (("breast", 1),)),
    "batched_models": (5, 2),
}
Budget = namedtuple("Budget", _BUDGETS)
FULL, QUICK = (Budget(*values) for values in zip(*_BUDGETS.values()))


def _timed(function, *args):
    """``function(*args)`` and its wall time in seconds."""
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def _median_seconds(function, repeats, warmup=1):
    """Median wall time of ``function()`` over ``repeats`` calls after warm-up."""
    for _ in range(warmup):
        function()
    return float(np.median([_timed(function)[1] for _ in range(repeats)]))


def gemm_peak(size, repeats):
    """GFLOP/s of a square float32 ``torch.matmul``: the machine's GEMM peak."""
    import torch

    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=generator) for _ in range(2))
    seconds = _median_seconds(lambda: torch.matmul(a, b), max(repeats, 3))
    return 2 * size**3 / seconds / 1e9


def training_flops(model, n_rows, n_samples, backward=True):
    """Matmul FLOPs on ``n_rows`` rows, the encoder once and the decoder
    ``n_samples`` times: of training, or of a forward pass alone."""
    from torch import nn

    def macs(module):
        layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
        return sum(m.in_features * m.out_features for m in layers)

    forward = 2 * n_rows * (macs(model.encoder) + n_samples * macs(model.decoder))
    return 3 * forward if backward else forward


def _masked_data(name, data_home):
    """Standardised data set, its 50% MCAR mask (seed 0) and the masked copy."""
    X = standardize(load_dataset(name, data_home=data_home).X)
    mask = make_mask("mcar", X, _MISSING_RATE, _SEED)
    return X, mask, np.where(mask, np.nan, X)


def _synthetic(n_rows, n_features=_SCALING_FEATURES, rank=5, seed=0):
    """Low-rank Gaussian data with 50% MCAR; returns (X_missing, mask)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, rank)) @ rng.normal(size=(rank, n_features))
    X += 0.1 * rng.normal(size=X.shape)
    mask = rng.random(X.shape) < _MISSING_RATE
    return np.where(mask, np.nan, X), mask


def _built_imputer(X_missing, **params):
    """A MIWAEImputer built by one ``partial_fit`` epoch on the first 512 rows."""
    from miwae_impute import MIWAEImputer

    imputer = MIWAEImputer(**{"random_state": _SEED, **params})
    return imputer.partial_fit(X_missing[:512])  # unlike fit, keeps Adam's state


def _epoch(name, data_home, n_rows):
    """A built imputer, its ``_epoch`` on the first ``n_rows`` rows, their number."""
    import torch

    _, mask, X_missing = _masked_data(name, data_home)
    imputer = _built_imputer(X_missing)
    x, m = imputer._to_tensors(X_missing, mask, torch.device("cpu"))
    rows = torch.arange(len(x) if n_rows is None else min(n_rows, len(x)))
    generator = torch.Generator().manual_seed(_SEED)
    return imputer, partial(imputer._epoch, x, m, rows, generator), len(rows)


def training(budget, data_home=None):
    """Steps/s and GFLOP/s of an epoch, per data set."""
    rows = []
    for name in ("breast", "white"):
        imputer, epoch, n_rows = _epoch(name, data_home, budget.train_rows)
        seconds = _median_seconds(epoch, budget.repeats)
        steps = math.ceil(n_rows / imputer.batch_size)
        gflops = training_flops(imputer.model_, n_rows, imputer.K) / seconds / 1e9
        row = {"dataset": name, "n_rows": n_rows, "p": imputer.n_features_in_}
        row |= {"steps_per_epoch": steps, "ms_per_step": 1e3 * seconds / steps}
        row |= {"steps_per_s": steps / seconds, "gflops": gflops}
        rows.append(row)
    return rows


def profile_training(budget, data_home=None, top=12):
    """The ``top`` ops of ``profile_steps`` training steps (breast), per step."""
    from miwae_impute import MIWAEImputer

    n_rows = budget.profile_steps * MIWAEImputer().batch_size
    imputer, epoch, n_rows = _epoch("breast", data_home, n_rows)
    return _top_ops(epoch, math.ceil(n_rows / imputer.batch_size), top)


def profile_imputation(budget, data_home=None, top=12):
    """The ``top`` ops of ``transform`` (white) on one thread, per 1,000 rows."""
    n_rows, X_missing = budget.profile_rows, _masked_data("white", data_home)[2]
    imputer = _built_imputer(X_missing, L=budget.impute_cases[0][1])
    with _runner.run_context(1):
        run = partial(imputer.transform, X_missing[:n_rows])
        return _top_ops(run, n_rows / 1e3, top)


def _top_ops(function, units, top):
    """Per op of ``function()`` (after a warm-up): calls, self ms per unit, share."""
    from torch.profiler import ProfilerActivity, profile

    function()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        function()
    events = prof.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    ranked = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)
    return [
        {"op": e.key, "calls": e.count / units}
        | {"self_ms": e.self_cpu_time_total / 1e3 / units}
        | {"share": e.self_cpu_time_total / total}
        for e in ranked[:top]
    ]


def _impute_data(name, data_home):
    """The masked rows of an imputation case: white, or a synthetic 5,000 x 30."""
    if name == "synthetic-30":
        return _synthetic(5000, n_features=30)[0]
    return _masked_data(name, data_home)[2]


def _impute_worker():
    """Time the imputation case given as JSON in ``argv[1]``; print its row."""
    import torch

    from miwae_impute import MIWAEImputer

    case = json.loads(sys.argv[1])
    torch.set_num_threads(case["threads"])
    imputer = MIWAEImputer.load(case["model"]).set_params(L=case["L"])
    X = _impute_data(case["dataset"], case["data_home"])[: case["rows"]]
    imputer.transform(X[:8])  # warm-up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    _, seconds = _timed(imputer.transform, X)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    flops = training_flops(imputer.model_, len(X), case["L"], backward=False)
    row = {"dataset": case["dataset"], "L": case["L"], "n_rows": len(X)}
    row |= {"seconds": seconds, "rows_per_s": len(X) / seconds}
    row |= {"gflops": flops / seconds / 1e9, "peak_rss_mib": peak}
    print(json.dumps(row | {"rss_before_mib": before}))


def imputation_throughput(budget, threads, data_home=None):
    """Rows/s, GFLOP/s and peak memory of each imputation case of ``budget``."""
    code = "from benchmarks.speed import _impute_worker; _impute_worker()"
    variables = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    env = os.environ | dict.fromkeys(variables, str(threads))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in dict.fromkeys(case[0] for case in budget.impute_cases):
            _built_imputer(_impute_data(name, data_home)).save(f"{folder}/{name}")
        for name, n_samples, n_rows in budget.impute_cases:
            case = {"model": f"{folder}/{name}", "dataset": name, "L": n_samples}
            case |= {"rows": n_rows, "threads": threads, "data_home": data_home}
            command = [sys.executable, "-c", code, json.dumps(case)]
            done = subprocess.run(
                command, cwd=_REPO_ROOT, env=env, capture_output=True, text=True
            )
            if done.returncode:
                raise RuntimeError(f"imputation case {case} failed:\n{done.stderr}")
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def scaling(budget):
    """Fit time per epoch and transform time per size."""
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
        epoch = _median_seconds(run, budget.scaling_repeats, warmup=0) / n_train
        n_test = min(n, budget.scaling_transform_rows)
        run = partial(imputer.transform, X_missing[:n_test])
        transform = _median_seconds(run, budget.scaling_repeats, warmup=0) / n_test
        row = {"n": n, "setup_s": setup, "timed_train_rows": n_train}
        row |= {"fit_epoch_s": setup + epoch * n, "us_per_row_epoch": 1e6 * epoch}
        row |= {"timed_transform_rows": n_test, "transform_s": transform * n}
        rows.append(row | {"us_per_row_transform": 1e6 * transform})
    return rows


def _slope(rows, key):
    """Least-squares slope of log(row[key]) against log(row["n"])."""
    if len(rows) < 2:
        return float("nan")
    n = np.log([row["n"] for row in rows])
    return float(np.polyfit(n, np.log([row[key] for row in rows]), 1)[0])


def _peers(budget):
    """Fresh imputers to compare, by name: ours at defaults, then the peers."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer

    from miwae_impute import MIWAEImputer, make_imputer

    params = {"miwae": {}, "knn (ours)": {}} | dict(budget.peer_params)
    trees = {"n_estimators": 100, "max_depth": 8, "max_iter": 10}
    trees |= params.get("missforest-style", {})
    max_iter = trees.pop("max_iter")
    forest = ExtraTreesRegressor(**trees, random_state=_SEED)
    return {
        "miwae": MIWAEImputer(random_state=_SEED, **params["miwae"]),
        "missforest-style": IterativeImputer(
            forest, max_iter=max_iter, random_state=_SEED
        ),
        "KNNImputer(k=5)": KNNImputer(n_neighbors=5),
        "knn (ours)": make_imputer("knn", random_state=_SEED, **params["knn (ours)"]),
        "mean": make_imputer("mean"),
    }


def against_peers(budget, data_home=None):
    """Fit + transform seconds, MSE and time relative to ours of each imputer."""
    rows = []
    for name in ("white", "breast"):
        data = _masked_data(name, data_home)
        X, mask, X_missing = (a[: budget.peer_rows] for a in data)
        ours = None
        for method, imputer in _peers(budget).items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # IterativeImputer's convergence
                X_imputed, seconds = _timed(imputer.fit_transform, X_missing)
            ours = ours or seconds  # the first is ours
            mse = float(np.mean((X_imputed[mask] - X[mask]) ** 2))
            row = {"method": method, "dataset": name, "seconds": seconds, "mse": mse}
            rows.append(row | {"time_vs_miwae": seconds / ours})
    return rows


def paper_sets(budget, data_home=None):
    """Fit and transform seconds and MSE of ours on each of ``paper_sets``."""
    rows = []
    for name in budget.paper_sets:
        X, mask, X_missing = _masked_data(name, data_home)
        imputer = _peers(budget)["miwae"]
        row = {"dataset": name, "shape": list(X.shape)}
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
    """Seconds of one fit, of M fits in turn and of the M fits side by side."""
    from sklearn.base import clone

    from miwae_impute import MIWAEImputer, fit_side_by_side

    rows = []
    seeds = list(range(budget.batched_models))
    for name, epochs in budget.batched:
        X = _masked_data(name, data_home)[2]
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


def run_speed(budget, threads=DEFAULT_THREADS, data_home=None, skip=()):
    """The raw figures of the measurements not in ``skip``, logged as they start."""
    from miwae_impute import MIWAEImputer

    params = MIWAEImputer().get_params()
    keys = ("hidden_layer_sizes", "latent_dim", "activation", "K", "L", "batch_size")
    results = {"defaults": {key: params[key] for key in keys + ("max_iter",)}}
    results |= {"threads": threads, "scaling_features": _SCALING_FEATURES}
    results["section_seconds"] = {}
    start = time.perf_counter()

    def measure(key, function, *args):
        if key in skip:
            results[key] = []
        else:
            print(f"[{time.perf_counter() - start:6.1f} s] {key} ...", file=sys.stderr)
            results[key], results["section_seconds"][key] = _timed(function, *args)

    with _runner.run_context(threads):
        measure("warm_up", _runner.warm_up_torch)
        measure("gemm_gflops", gemm_peak, budget.gemm_size, budget.repeats)
        measure("training", training, budget, data_home)
        measure("profile", profile_training, budget, data_home)
        measure("profile_imputation", profile_imputation, budget, data_home)
        measure("imputation", imputation_throughput, budget, threads, data_home)
        measure("scaling", scaling, budget)
        measure("batched", batched, budget, data_home)
        measure("paper_sets", paper_sets, budget, data_home)
        measure("peers", against_peers, budget, data_home)
    for row in results["training"] + results["imputation"]:
        row["share_of_peak"] = row["gflops"] / results["gemm_gflops"]
    slopes = {k: _slope(results["scaling"], k) for k in ("fit_epoch_s", "transform_s")}
    results["scaling_slopes"] = slopes
    del results["warm_up"]
    return results


def main(argv=None):
    """Command line entry point; see ``python -m benchmarks.speed --help``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.speed",
        description="Training and imputation speed of MIWAEImputer.",
        epilog=f"The measurements (NAME): {', '.join(_MEASUREMENTS)}.",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="tiny budgets (a smoke test)")
    add("--threads", type=int, default=DEFAULT_THREADS, help="torch and BLAS threads")
    add("--out", default="benchmarks/results/speed", help="folder of the report")
    add("--data-home", default=None, help="folder of the data files")
    add("--skip", nargs="+", choices=_MEASUREMENTS, metavar="NAME", help="not to run")
    add("--compare", metavar="DIR", help="folder of an earlier run's speed.json")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1.")
    budget = QUICK if args.quick else FULL
    start = time.perf_counter()
    results = run_speed(budget, args.threads, args.data_home, args.skip or ())
    wall = time.perf_counter() - start
    results |= {"quick": args.quick, "budget": budget._asdict(), "wall_s": wall}
    results["git_commit"] = _runner.git_commit()
    before = args.compare and Path(args.compare, "speed.json").read_text()
    markdown = render(results, before=json.loads(before) if before else None)
    provenance = [
        f"- command: `python -m benchmarks.speed {shlex.join(argv)}`",
        f"- machine: {os.cpu_count()} cores, {_runner.cpu_model()}; {args.threads} "
        "torch/BLAS thread(s)",
        f"- date: {time.strftime('%Y-%m-%d')}; commit {results['git_commit']}; "
        f"wall time of the command: {wall:.0f} s",
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "REPORT.md").write_text(_runner.report_page("Speed", provenance, markdown))
    (out / "speed.json").write_text(json.dumps(results, indent=1, default=str))
    print(markdown)
    print(f"Written {out / 'REPORT.md'} and speed.json ({wall:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
