"""Speed of MIWAEImputer: training and imputation throughput, scaling, peers.

The measurements (:data:`_MEASUREMENTS`) time the real code paths: training
steps and their GFLOP/s against the machine's GEMM peak, a profile of a
training step and of ``transform``, the imputation throughput and memory (each
case in a fresh process), the scaling in n, M fits side by side, default fits
on the paper's data sets, and the peers; each section of the report says what
it timed and how. Every figure is a median over repeats, timed in one run
(same machine, same load). The models of the training, profile, imputation and
scaling figures are built by one ``partial_fit`` epoch on the first 512 rows
(their timings do not depend on how far a model is trained).

The tables are printed and written to ``OUT/REPORT.md`` under the command,
machine and date, and the raw figures to ``OUT/speed.json``; ``--compare DIR``
adds a before/after table against ``DIR/speed.json``. ``--quick`` shrinks every
budget to a smoke test (its figures are not benchmarks)::

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
from ._report import markdown_table
from ._runner import DEFAULT_THREADS
from .datasets import DATASETS, load_dataset, standardize
from .missingness import make_mask

__all__ = ["Budget", "main", "render", "run_speed", "training_flops"]

_REPO_ROOT = Path(__file__).resolve().parents[1]
_MISSING_RATE, _SEED = 0.5, 0
_SCALING_FEATURES = 20

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

    a, b = torch.randn(2, size, size, generator=torch.Generator().manual_seed(0))
    seconds = _median_seconds(partial(torch.matmul, a, b), max(repeats, 3))
    return 2 * size**3 / seconds / 1e9


def training_flops(model, n_rows, n_samples, backward=True):
    """Matmul FLOPs of training (or of a forward pass alone) on ``n_rows``."""
    from torch import nn

    def macs(module):
        layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
        return sum(m.in_features * m.out_features for m in layers)

    forward = 2 * n_rows * (macs(model.encoder) + n_samples * macs(model.decoder))
    return 3 * forward if backward else forward


def _masked_data(name, data_home):
    """A standardised data set (or a synthetic 5,000 x 30), its 50% MCAR mask
    (seed 0) and the masked copy."""
    if name == "synthetic-30":
        return _synthetic(5000, n_features=30)
    X = standardize(load_dataset(name, data_home=data_home).X)
    mask = make_mask("mcar", X, _MISSING_RATE, _SEED)
    return X, mask, np.where(mask, np.nan, X)


def _synthetic(n_rows, n_features=_SCALING_FEATURES):
    """Rank-5 Gaussian data, its 50% MCAR mask and the masked copy."""
    rng = np.random.default_rng(_SEED)
    X = rng.normal(size=(n_rows, 5)) @ rng.normal(size=(5, n_features))
    X += 0.1 * rng.normal(size=X.shape)
    mask = rng.random(X.shape) < _MISSING_RATE
    return X, mask, np.where(mask, np.nan, X)


def _built_imputer(X_missing, **params):
    """A MIWAEImputer built by one ``partial_fit`` epoch on the first 512 rows."""
    from miwae_impute import MIWAEImputer

    imputer = MIWAEImputer(**{"random_state": _SEED, **params})
    return imputer.partial_fit(X_missing[:512])  # unlike fit, keeps Adam's state


def _epoch(name, data_home, n_rows):
    """A built imputer, its ``_epoch`` on the first ``n_rows`` rows (all: None),
    their number and the epoch's steps."""
    import torch

    _, mask, X_missing = _masked_data(name, data_home)
    imputer = _built_imputer(X_missing)
    x, m = imputer._to_tensors(X_missing, mask, torch.device("cpu"))
    rows = torch.arange(len(x) if n_rows is None else min(n_rows, len(x)))
    generator = torch.Generator().manual_seed(_SEED)
    epoch = partial(imputer._epoch, x, m, rows, generator)
    return imputer, epoch, len(rows), math.ceil(len(rows) / imputer.batch_size)


# -- the measurements: each ``function(budget, data_home)``, its rows -------------
def training(budget, data_home=None):
    """Steps/s and GFLOP/s of an epoch, per data set."""
    rows = []
    for name in ("breast", "white"):
        imputer, epoch, n_rows, steps = _epoch(name, data_home, budget.train_rows)
        seconds = _median_seconds(epoch, budget.repeats)
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
    _, epoch, _, steps = _epoch("breast", data_home, n_rows)
    return _top_ops(epoch, steps, top)


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


def _impute_worker():
    """Time the imputation case given as JSON in ``argv[1]``; print its row."""
    import torch

    from miwae_impute import MIWAEImputer

    case = json.loads(sys.argv[1])
    torch.set_num_threads(case["threads"])
    imputer = MIWAEImputer.load(case["model"]).set_params(L=case["L"])
    X = _masked_data(case["dataset"], case["data_home"])[2][: case["rows"]]
    imputer.transform(X[:8])  # warm-up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    _, seconds = _timed(imputer.transform, X)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    flops = training_flops(imputer.model_, len(X), case["L"], backward=False)
    row = {"dataset": case["dataset"], "L": case["L"], "n_rows": len(X)}
    row |= {"seconds": seconds, "rows_per_s": len(X) / seconds}
    row |= {"gflops": flops / seconds / 1e9, "peak_rss_mib": peak}
    print(json.dumps(row | {"rss_before_mib": before}))


def imputation_throughput(budget, data_home=None):
    """Rows/s, GFLOP/s and peak memory of each imputation case, each in a fresh
    process with as many threads as this one."""
    import torch

    threads = torch.get_num_threads()
    code = "from benchmarks.speed import _impute_worker; _impute_worker()"
    variables = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    env = os.environ | dict.fromkeys(variables, str(threads))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in dict.fromkeys(case[0] for case in budget.impute_cases):
            _built_imputer(_masked_data(name, data_home)[2]).save(f"{folder}/{name}")
        for name, n_samples, n_rows in budget.impute_cases:
            case = {"model": f"{folder}/{name}", "dataset": name, "L": n_samples}
            case |= {"rows": n_rows, "threads": threads, "data_home": data_home}
            command = [sys.executable, "-c", code, json.dumps(case)]
            output = subprocess.check_output(
                command, cwd=_REPO_ROOT, env=env, text=True
            )
            rows.append(json.loads(output.splitlines()[-1]))
    return rows


def scaling(budget, data_home=None):
    """Fit time per epoch and transform time per size (synthetic rows)."""
    import torch

    from miwae_impute._scaling import _standardization

    rows = []
    for n in budget.scaling_sizes:
        _, mask, X_missing = _synthetic(n)
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
        row["in_turn"] = sum(_timed(fit)[1] for fit in fits)
        batch = partial(fit_side_by_side, model, X, random_states=seeds)
        row["side_by_side"] = _median_seconds(batch, budget.repeats)
        rows.append(row)
    return rows


def paper_sets(budget, data_home=None):
    """Fit and transform seconds and MSE of ours on each of ``paper_sets``."""
    from miwae_impute import MIWAEImputer

    params = dict(budget.peer_params).get("miwae", {})
    rows = []
    for name in budget.paper_sets:
        X, mask, X_missing = _masked_data(name, data_home)
        imputer = MIWAEImputer(random_state=_SEED, **params)
        _, fit = _timed(imputer.fit, X_missing)
        X_imputed, transform = _timed(imputer.transform, X_missing)
        row = {"dataset": name, "shape": list(X.shape), "fit_s": fit}
        row |= {"seconds": fit + transform, "transform_s": transform}
        rows.append(row | {"mse": float(np.mean((X_imputed[mask] - X[mask]) ** 2))})
    return rows


def against_peers(budget, data_home=None):
    """Fit + transform seconds, MSE and time relative to ours of each imputer:
    ours at its defaults, then the peers."""
    from sklearn.base import clone
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer

    from miwae_impute import MIWAEImputer, make_imputer

    params = {"miwae": {}, "knn (ours)": {}} | dict(budget.peer_params)
    trees = {"n_estimators": 100, "max_depth": 8, "max_iter": 10}
    trees |= params.get("missforest-style", {})
    max_iter = trees.pop("max_iter")
    forest = ExtraTreesRegressor(**trees, random_state=_SEED)
    peers = {
        "miwae": MIWAEImputer(random_state=_SEED, **params["miwae"]),
        "missforest-style": IterativeImputer(
            forest, max_iter=max_iter, random_state=_SEED
        ),
        "KNNImputer(k=5)": KNNImputer(n_neighbors=5),
        "knn (ours)": make_imputer("knn", random_state=_SEED, **params["knn (ours)"]),
        "mean": make_imputer("mean"),
    }
    rows = []
    for name in ("white", "breast"):
        data = _masked_data(name, data_home)
        X, mask, X_missing = (a[: budget.peer_rows] for a in data)
        ours = None
        for method, imputer in peers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # IterativeImputer's convergence
                X_imputed, seconds = _timed(clone(imputer).fit_transform, X_missing)
            ours = ours or seconds  # the first is ours
            mse = float(np.mean((X_imputed[mask] - X[mask]) ** 2))
            row = {"method": method, "dataset": name, "seconds": seconds, "mse": mse}
            rows.append(row | {"time_vs_miwae": seconds / ours})
    return rows


#: The measurements that ``--skip NAME`` leaves out, in the order they run.
_MEASUREMENTS = {
    "training": training,
    "profile": profile_training,
    "profile_imputation": profile_imputation,
    "imputation": imputation_throughput,
    "scaling": scaling,
    "batched": batched,
    "paper_sets": paper_sets,
    "peers": against_peers,
}


def run_speed(budget, threads=DEFAULT_THREADS, data_home=None, skip=()):
    """The raw figures of the measurements not in ``skip``, logged as they start."""
    from miwae_impute import MIWAEImputer

    params = MIWAEImputer().get_params()
    keys = ("hidden_layer_sizes", "latent_dim", "activation", "K", "L", "batch_size")
    results = {"defaults": {key: params[key] for key in keys + ("max_iter",)}}
    results |= {"threads": threads, "scaling_features": _SCALING_FEATURES}
    results["section_seconds"] = spent = {}
    start = time.perf_counter()

    def measure(key, function, *args):
        print(f"[{time.perf_counter() - start:6.1f} s] {key} ...", file=sys.stderr)
        results[key], spent[key] = _timed(function, *args)

    with _runner.run_context(threads):
        measure("warm_up", _runner.warm_up_torch)
        measure("gemm_gflops", gemm_peak, budget.gemm_size, budget.repeats)
        for key, function in _MEASUREMENTS.items():
            if key in skip:
                results[key] = []
            else:
                measure(key, function, budget, data_home)
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
    _runner.add_run_arguments(parser, ("--quick", "--threads", "--data-home"))
    add = parser.add_argument
    add("--out", default="benchmarks/results/speed", help="folder of the report")
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
    before = args.compare and json.loads(Path(args.compare, "speed.json").read_text())
    markdown = render(results, before)
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


# -- the report: a section per measurement ------------------------------------------
def _table(header, cell, rows):
    """A table of the ``|``-separated ``header`` and ``cell`` (row keys filled)."""
    cells = [[part.format(**row) for part in cell.split("|")] for row in rows]
    return markdown_table(header.split("|"), cells)


def _training(results):
    d, rows = results["defaults"], results["training"]
    text = (
        f"Defaults: hidden {tuple(d['hidden_layer_sizes'])}, latent "
        f"{d['latent_dim']}, {d['activation']}, K={d['K']}, batch "
        f"{d['batch_size']}. GEMM peak of this machine (float32 "
        f"`torch.matmul`, median): **{results['gemm_gflops']:.1f} GFLOP/s**. "
        "GFLOP/s counts encoder and decoder matmuls only (forward "
        "2·rows·in·out per Linear, backward twice that)."
    )
    header = "data|p|rows/epoch|ms/step|steps/s|GFLOP/s|of GEMM peak"
    cell = "{dataset}|{p}|{n_rows}|{ms_per_step:.2f}|{steps_per_s:.0f}|{gflops:.1f}"
    cell += "|{share_of_peak:.1%}"
    if "plain_ms_per_step" in rows[0]:  # stored before the plain port was dropped
        text += (
            " The plain port is the same networks and bound written with "
            "`torch.distributions` and `nn.Tanh`, timed in the same process."
        )
        header += "|plain port ms/step|speed-up vs plain"
        cell += "|{plain_ms_per_step:.2f}|{speedup_vs_plain:.1f}x"
    heading = "Training throughput (real `MIWAEImputer._epoch`, defaults)"
    return f"### {heading}\n\n{text}\n\n{_table(header, cell, rows)}"


def _profile(results):
    L = results["imputation"][0]["L"] if results["imputation"] else "?"
    cell = "`{op}`|{calls:.1f}|{self_ms:.3f}|{share:.1%}"
    header = "op|calls/{0}|self ms/{0}|share"
    return "\n\n".join(
        [
            "### Where the time goes (`torch.profiler`, top ops by self CPU time)",
            "One training step (breast, defaults):",
            _table(header.format("step"), cell, results["profile"]),
            f"`transform` at L={L} (white), per 1,000 rows, on one thread (each "
            "pooled worker runs its chunks so):",
            _table(header.format("1k rows"), cell, results["profile_imputation"]),
        ]
    )


#: The plain sections: heading and text (formatted with the results), the
#: table's header and cell, and any cell keys computed from a stored row.
_TABLES = {
    "imputation": (
        "Imputation throughput (`transform`, one fresh process per case)",
        "Peak RSS is the process's `ru_maxrss`; 'added' is its growth during "
        "the timed transform.",
        "data|L|rows|rows/s|M samples/s|GFLOP/s|of GEMM peak|peak RSS MiB|added MiB",
        "{dataset}|{L}|{n_rows}|{rows_per_s:.0f}|{samples:.2f}|{gflops:.1f}"
        "|{share_of_peak:.1%}|{peak_rss_mib:.0f}|{added:.0f}",
        lambda r: {
            "samples": r["rows_per_s"] * r["L"] / 1e6,
            "added": r["peak_rss_mib"] - r["rss_before_mib"],
        },
    ),
    "scaling": (
        "Scaling with n (synthetic, p={scaling_features}, 50% MCAR)",
        "The setup (standardisation, tensors) is timed on all n rows; the "
        "epoch and the transform on the timed rows, then scaled to n by "
        "their per-row cost. Slope of log(time) against log(n): fit epoch "
        "**{scaling_slopes[fit_epoch_s]:.2f}**, transform "
        "**{scaling_slopes[transform_s]:.2f}** (1 = linear).",
        "n|setup s|fit epoch s|µs/row (epoch)|timed rows|transform s"
        "|µs/row (transform)|timed rows",
        "{n:.0e}|{setup_s:.3f}|{fit_epoch_s:.2f}|{us_per_row_epoch:.1f}"
        "|{timed_train_rows}|{transform_s:.2f}|{us_per_row_transform:.0f}"
        "|{timed_transform_rows}",
    ),
    "batched": (
        "Batched training: M fits side by side (`fit_side_by_side`)",
        "Seconds (median) of one default fit for the epochs shown, of M "
        "fits one after another (seeds 0 to M - 1, one run), and of the "
        "same M fits trained side by side as one batched model; in "
        "brackets, the ratio to one fit (50% MCAR, seed 0).",
        "data|epochs|M|one fit s|M in turn s|M side by side s",
        "{dataset}|{epochs}|{models}|{one:.1f}|{in_turn:.1f} ({in_turn_ratio:.2f})"
        "|**{side_by_side:.1f} ({side_ratio:.2f})**",
        lambda r: {
            "in_turn_ratio": r["in_turn"] / r["one"],
            "side_ratio": r["side_by_side"] / r["one"],
        },
    ),
    "paper_sets": (
        "Default fit + transform on the paper's data sets (50% MCAR, seed 0)",
        "`MIWAEImputer(random_state=0)`, everything at its default; "
        "standardised MSE on the removed cells.",
        "data|shape|fit s|transform s|total s|MSE",
        "{dataset}|{shape}|{fit_s:.1f}|{transform_s:.1f}|**{seconds:.1f}**|{mse:.3f}",
        lambda r: {"shape": " x ".join(str(n) for n in r["shape"])},
    ),
    "peers": (
        "Against the peers (50% MCAR, seed 0, standardised MSE)",
        "missForest-style: `IterativeImputer(ExtraTreesRegressor(n_estimators"
        "=100, max_depth=8), max_iter=10)`; knn (ours): `make_imputer('knn')`, "
        "k chosen on held-out observed cells.",
        "data|method|fit+transform s|time / miwae|MSE",
        "{dataset}|{method}|{seconds:.2f}|{time_vs_miwae:.2f}|{mse:.3f}",
    ),
}


def _plain_section(key, results):
    heading, text, header, cell, *computed = _TABLES[key]
    rows = [row | (computed[0](row) if computed else {}) for row in results[key]]
    table = _table(header, cell, rows)
    return f"### {heading.format(**results)}\n\n{text.format(**results)}\n\n{table}"


_SECTIONS = {"training": _training, "profile": _profile}
_SECTIONS |= {key: partial(_plain_section, key) for key in _TABLES}

#: The figures of the before/after table, per section: label (which names the
#: row, so that a row of one run meets the same row of the other), key, format.
_COMPARED = {
    "training": [
        ("training step, {dataset} (p={p}), ms", "ms_per_step", ".2f"),
        ("training step, {dataset}, share of GEMM peak", "share_of_peak", ".1%"),
    ],
    "imputation": [
        ("transform, {dataset}, L={L}, rows/s", "rows_per_s", ".0f"),
        ("transform, {dataset}, L={L}, peak RSS MiB", "peak_rss_mib", ".0f"),
    ],
    "paper_sets": [
        ("fit + transform, {dataset}, s", "seconds", ".1f"),
        ("MSE, {dataset}", "mse", ".3f"),
    ],
}


def _figures(results):
    """The compared figures of a run: label to (value, format)."""
    return {
        label.format(**row): (row[key], spec)
        for section, figures in _COMPARED.items()
        for row in results.get(section) or ()
        for label, key, spec in figures
    }


def _compare_section(before, after):
    old = _figures(before)
    rows = [
        [label, format(old[label][0], spec), format(new, spec)]
        + [f"{new / old[label][0]:.2f}"]
        for label, (new, spec) in _figures(after).items()
        if label in old
    ]
    text = (
        f"Before: the run at commit {before.get('git_commit', '?')} "
        f"({before['threads']} thread(s)); after: this run, commit "
        f"{after.get('git_commit', '?')}. Each run on the idle machine, one "
        "after the other."
    )
    table = markdown_table(["figure", "before", "after", "after / before"], rows)
    return f"### Before and after\n\n{text}\n\n{table}"


def render(results, before=None):
    """Markdown of the tables of ``results`` (from ``run_speed``), with a
    before/after table where ``before`` holds the results of an earlier run."""
    parts = [f"{results['threads']} torch/BLAS thread(s)."]
    if results.get("quick"):
        parts[0] = "QUICK MODE (smoke-test budgets, not benchmarks). " + parts[0]
    if before:
        parts.append(_compare_section(before, results))
    parts += [
        section(results) for key, section in _SECTIONS.items() if results.get(key)
    ]
    if spent := results.get("section_seconds"):
        spent = ", ".join(f"{key} {value:.0f} s" for key, value in spent.items())
        parts.append(f"Wall time per measurement: {spent}.")
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.exit(main())
