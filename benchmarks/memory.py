"""Peak memory of MIWAE inference on a large table: transform and score.

The question (issue 5): does ``MIWAEImputer.transform`` stay under about 2 GB
on 200,000 rows x 30 features with L=10,000 importance samples, and ``score``
on the same rows? Inference runs in chunks over rows and importance samples,
so the importance sampling should take the same memory whatever the number of
rows n and L; what must grow with n is the copies of the table itself
(O(n p): the input, its standardised tensor, the output).

A full transform at that size costs n * L = 2e9 passes through the decoder:
hours on 2 CPU cores. So, unless ``--full`` is given, the script measures
cases that together answer the question in about ten minutes: transform on all the rows
with a small L, and on a prefix of the rows with L up to the full 10,000, each
over a range of sizes so that the table shows whether memory grows with n or
with L; and score (which always uses 100 importance samples) on all the rows.

Each case runs in its own process under ``/usr/bin/time -v``, whose "Maximum
resident set size" is the peak memory of the whole process: Python, torch, the
data, the model and the call. The process also records its peak just before
the call, so the table shows what the call itself adds. The model is fitted
once, quickly (one epoch on a subsample: the weights do not change the memory
of inference), and saved with :meth:`MIWAEImputer.save`; every case loads it.

Usage::

    python -m benchmarks.memory                 # the default cases
    python -m benchmarks.memory --full          # plus the full transform: hours
    python -m benchmarks.memory --rows 20000 --L 1000 --threads 2

The default cases cost about 3e7 rows x importance samples, most of them in
``score`` on all the rows: about 10 minutes on 2 idle CPU cores.

``/usr/bin/time`` comes with the ``time`` package (``apt-get install time``).
"""

import argparse
import json
import platform
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "plan"]

_TIME = "/usr/bin/time"
_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def plan(rows, L, *, prefix_rows=200, full=False):
    """The cases to measure, as (method, n_rows, L) triples.

    Parameters
    ----------
    rows : int
        Rows of the full table.
    L : int
        Importance samples of the full transform.
    prefix_rows : int, default=200
        Rows of the transforms that let L grow to its full value.
    full : bool, default=False
        Also transform all the rows with the full L.

    Returns
    -------
    cases : list of tuple
        ``("load", rows, None)`` first: the process without any call, the
        floor of every other case.
    """
    small_L = 10
    cases = [("load", rows, None)]
    cases += [("transform", n, small_L) for n in _ladder(rows)]
    cases += [("transform", prefix_rows, ell) for ell in _ladder(L)]
    cases += [("score", n, None) for n in _ladder(rows)[1:]]
    if full:
        cases.append(("transform", rows, L))
    return cases


def _ladder(size):
    """``size / 100``, ``size / 10`` and ``size`` (at least 1, no repeats)."""
    return sorted({max(1, size // 100), max(1, size // 10), size})


def _make_data(rows, features, seed=0):
    """Low-rank data with 20% of the entries missing completely at random."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 5)) @ rng.normal(size=(5, features))
    X += 0.1 * rng.normal(size=X.shape)
    X[rng.random(X.shape) < 0.2] = np.nan
    return X


def _prepare(workdir, rows, features, fit_rows):
    """Write the data and a quickly fitted model into ``workdir``."""
    from miwae_impute import MIWAEImputer

    X = _make_data(rows, features)
    np.save(workdir / "X.npy", X)
    imputer = MIWAEImputer(max_iter=1, random_state=0).fit(X[:fit_rows])
    imputer.save(workdir / "model")


def _worker(args):
    """Load the model and the first rows, run one call, print what it took."""
    import torch

    from miwae_impute import MIWAEImputer

    if args.threads:
        torch.set_num_threads(args.threads)
    workdir = Path(args.worker)
    imputer = MIWAEImputer.load(workdir / "model")
    X = np.array(np.load(workdir / "X.npy", mmap_mode="r")[: args.n_rows])
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if args.method == "transform":
        imputer.set_params(L=args.L).transform(X)
    elif args.method == "score":
        imputer.score(X)
    print(json.dumps({"before_kb": before_kb, "seconds": time.perf_counter() - start}))


def _measure(workdir, method, n_rows, L, threads):
    """Run one case under /usr/bin/time -v; its peak and pre-call memory (MB)."""
    command = [_TIME, "-v", sys.executable, "-m", "benchmarks.memory"]
    command += ["--worker", str(workdir), "--method", method, "--n-rows", str(n_rows)]
    command += ["--L", str(L or 1), "--threads", str(threads or 0)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    peak = _RSS.search(done.stderr)
    if done.returncode or peak is None:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "method": method,
        "rows": n_rows,
        "L": L,
        "seconds": report["seconds"],
        "before_mb": report["before_kb"] / 1024,
        "peak_mb": int(peak.group(1)) / 1024,
    }


def _table(results):
    """Markdown table of the measurements."""
    lines = [
        "| call | rows | L | rows x samples | time (s) | RSS before call (MB) "
        "| peak RSS (MB) | added by call (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        samples = {"transform": r["L"], "score": 100}.get(r["method"])
        work = f"{r['rows'] * samples:,}" if samples else ""
        lines.append(
            f"| {r['method']} | {r['rows']:,} | {r['L'] or ''} | {work} "
            f"| {r['seconds']:.1f} | {r['before_mb']:.0f} | {r['peak_mb']:.0f} "
            f"| {r['peak_mb'] - r['before_mb']:.0f} |"
        )
    return "\n".join(lines)


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory",
        description="Peak memory of MIWAE transform and score, one process per case.",
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the table")
    parser.add_argument("--features", type=int, default=30, help="columns")
    parser.add_argument("--L", type=int, default=10_000, help="importance samples")
    parser.add_argument(
        "--prefix-rows",
        type=int,
        default=200,
        help="rows of the transforms with L up to its full value",
    )
    parser.add_argument(
        "--fit-rows", type=int, default=2000, help="rows of the quick fit"
    )
    parser.add_argument(
        "--full", action="store_true", help="also transform every row with the full L"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    # Internal: one case in a worker process.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--n-rows", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    """Measure every case of :func:`plan` and print a Markdown table."""
    args = _parse(argv)
    if args.worker:
        _worker(args)
        return
    if not Path(_TIME).exists():
        sys.exit(f"{_TIME} is missing; install it with `apt-get install -y time`.")
    cases = plan(args.rows, args.L, prefix_rows=args.prefix_rows, full=args.full)
    results = []
    with tempfile.TemporaryDirectory(prefix="miwae-memory-") as tmp:
        workdir = Path(tmp)
        _prepare(workdir, args.rows, args.features, args.fit_rows)
        for method, n_rows, L in cases:
            results.append(_measure(workdir, method, n_rows, L, args.threads))
            r = results[-1]
            print(
                f"{method} rows={n_rows} L={L}: peak {r['peak_mb']:.0f} MB "
                f"in {r['seconds']:.1f} s",
                file=sys.stderr,
            )
    command = ["python", "-m", "benchmarks.memory", *(argv or sys.argv[1:])]
    print(f"`{shlex.join(command)}`")
    print(
        f"{args.rows:,} x {args.features} table, 20% MCAR; MIWAE with default "
        f"networks fitted for one epoch on {args.fit_rows:,} rows. "
        f"{platform.machine()}, Python {platform.python_version()}.\n"
    )
    print(_table(results))


if __name__ == "__main__":
    main()
