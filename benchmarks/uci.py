"""The MIWAE paper's UCI benchmark: runner and command line.

Protocol (Mattei & Frellsen, 2019, UCI table): standardise each data set with
its full-data mean and standard deviation (ddof=0); remove cells with the
chosen mechanism and seed (the paper: 50% MCAR, seeds 0-4); impute with
``fit_transform``; report the MSE over the removed cells, and the wall time of
``fit_transform``. For imputers with ``sample`` (MIWAE, MVAE) also the coverage
of 90% multiple-imputation intervals: per removed cell, the 5th to 95th
percentile of the draws; the share of true values inside.

Every finished run is appended to ``OUT/results.csv`` at once and skipped when
the same settings are asked for again, so an interrupted run resumes. At the
end ``OUT/table.md`` and ``OUT/mse.png`` are written and the MSE table printed.

Usage::

    python -m benchmarks.uci --datasets breast --methods miwae mean --seeds 1 \\
        --out benchmarks/results/demo
    python -m benchmarks.uci --out benchmarks/results/uci          # full table
    python -m benchmarks.uci --datasets breast --methods miwae mean --quick \\
        --param miwae.max_iter=10 --threads 2 --out /tmp/smoke
"""

import argparse
import ast
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from . import _report
from ._results import FIELDS, ResultStore, settings_key
from .datasets import DATASETS, load_dataset, standardize
from .missingness import MECHANISMS, RATE_ONE, make_mask

__all__ = [
    "METHODS",
    "Settings",
    "interval_coverage",
    "main",
    "mse_section",
    "run_benchmark",
    "write_report",
]

#: Imputers of the paper's table, in its row order (names of ``make_imputer``).
METHODS = ("miwae", "mvae", "missforest", "pca", "knn", "mean")
#: What --methods accepts: the table's imputers and not-MIWAE.
METHOD_CHOICES = (*METHODS, "not-miwae", "stacking")

#: One thread per run by default: timings comparable across runs and machines,
#: and a shared machine stays usable.
DEFAULT_THREADS = 1
DEFAULT_IMPUTATIONS = 100

# Smoke-test budgets of --quick. Only the parameters an imputer has are set,
# and --param overrides them.
_QUICK_PARAMS = {
    "miwae": {"max_iter": 2, "L": 50},
    "mvae": {"max_iter": 2, "L": 50},
    "not-miwae": {"max_iter": 2, "L": 50},
    "missforest": {"max_iter": 2, "n_estimators": 5},
    "pca": {"n_components": 2, "max_iter": 100},  # no rank search
    "knn": {"n_neighbors": 5},  # no search of k
}
_QUICK_IMPUTATIONS = 20
_REPO_ROOT = Path(__file__).resolve().parents[1]


class _Task(NamedTuple):
    key: str
    method: str
    dataset: str
    seed: int


@dataclass(frozen=True)
class Settings:
    """What to run.

    Parameters
    ----------
    datasets, methods : tuple of str
        Data sets and imputers.
    seeds : int
        Runs per (method, data set), with seeds 0 to ``seeds - 1``.
    missing_rate : float
        Share of removed cells.
    mechanism : {"mcar", "mar", "mnar"}
        How cells are removed.
    keep_target : bool
        Keep the data sets' numeric target as a column to impute.
    quick : bool
        Tiny training budgets, for smoke tests.
    params : dict
        Per method, keyword arguments for ``make_imputer``.
    threads : int
        Torch and BLAS/OpenMP threads of each run.
    n_imputations : int or None
        Draws for the coverage; None for 100 (20 with ``quick``), 0 to skip.
    data_home : str or None
        Folder of the data files (see :mod:`benchmarks.datasets`).

    Notes
    -----
    A benchmark on other tables subclasses this class and overrides
    :meth:`load`, and :meth:`extra_columns` with :attr:`fields` to store more
    per run (see ``benchmarks.collection``).
    """

    #: Columns of the stored rows (``results.csv``).
    fields: ClassVar[tuple] = FIELDS
    #: Label of the progress bar.
    label: ClassVar[str] = "UCI"

    datasets: tuple = DATASETS
    methods: tuple = METHODS
    seeds: int = 5
    missing_rate: float = 0.5
    mechanism: str = "mcar"
    keep_target: bool = False
    quick: bool = False
    params: dict = field(default_factory=dict)
    threads: int = DEFAULT_THREADS
    n_imputations: int | None = None
    data_home: str | None = None

    @property
    def draws(self):
        """Number of multiple imputations drawn for the coverage."""
        if self.n_imputations is not None:
            return self.n_imputations
        return _QUICK_IMPUTATIONS if self.quick else DEFAULT_IMPUTATIONS

    @property
    def paper_protocol(self):
        """Whether the settings are the paper's, so its figures compare."""
        return (
            self.mechanism == "mcar"
            and self.missing_rate == 0.5
            and not self.keep_target
        )

    def load(self, name):
        """The standardised complete data of a data set.

        Parameters
        ----------
        name : str
            One of :attr:`datasets`.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Standardised with full-data statistics.
        """
        X, _ = load_dataset(
            name, data_home=self.data_home, keep_target=self.keep_target
        )
        return standardize(X)

    def extra_columns(self, X, X_imputed, mask):
        """Scores stored beside :data:`FIELDS` in each row; none here.

        Parameters
        ----------
        X, X_imputed : ndarray of shape (n_samples, n_features)
            Complete standardised data and the imputer's completion.
        mask : ndarray of bool of shape (n_samples, n_features)
            True where a cell was removed.

        Returns
        -------
        columns : dict
            Values of the columns :attr:`fields` adds to :data:`FIELDS`.
        """
        return {}

    def tasks(self):
        """The runs, data set by data set, each with the key of its settings."""
        return [
            _Task(self._key(method, dataset, seed), method, dataset, seed)
            for dataset in self.datasets
            for method in self.methods
            for seed in range(self.seeds)
        ]

    def _key(self, method, dataset, seed):
        return settings_key(
            {
                "method": method,
                "dataset": dataset,
                "seed": seed,
                "mechanism": self.mechanism,
                "missing_rate": self.missing_rate,
                "keep_target": self.keep_target,
                "quick": self.quick,
                "params": self.params.get(method, {}),
                "n_imputations": self.draws,
            }
        )


def run_benchmark(settings, out, *, progress=True, run=True):
    """Run the missing rows of a benchmark and append them to ``results.csv``.

    Parameters
    ----------
    settings : Settings
        What to run.
    out : str or Path
        Output folder; ``out/results.csv`` holds the rows.
    progress : bool, default=True
        Show a progress bar and one line per finished run.
    run : bool, default=True
        If False, run nothing: only gather the rows stored so far.

    Returns
    -------
    rows : DataFrame
        The stored rows of the requested runs (earlier ones included).
    failures : list of str
        One message per run that raised; those runs are not stored.
    """
    store = ResultStore(Path(out) / "results.csv", fields=settings.fields)
    tasks = settings.tasks()
    done = store.keys()
    todo = [task for task in tasks if task.key not in done] if run else []
    # Load every data set first: a missing file fails before hours of work.
    data = {name: settings.load(name) for name in {task.dataset for task in todo}}
    failures = []
    context = _run_context(settings.threads)
    with (
        context,
        tqdm(total=len(todo), desc=settings.label, disable=not progress) as bar,
    ):
        if {"miwae", "mvae", "not-miwae"} & {task.method for task in todo}:
            _warm_up_torch()
        for key, method, dataset, seed in todo:
            bar.set_postfix_str(f"{method} {dataset} seed {seed}")
            try:
                row = _run_one(settings, method, data[dataset], seed)
            except Exception as exc:  # keep going: one failure must not stop a table
                message = f"{method} on {dataset}, seed {seed}: {exc!r}"
                failures.append(message)
                tqdm.write(f"FAILED {message}\n{traceback.format_exc()}")
            else:
                store.append({"key": key, "dataset": dataset, **row})
                if progress:
                    tqdm.write(
                        f"{method:>10} {dataset:<9} seed {seed}: mse {row['mse']:.3f}"
                        f"  {row['fit_impute_seconds']:.1f} s"
                    )
            bar.update()
    rows = store.load()
    return rows[rows["key"].isin({task.key for task in tasks})], failures


def write_report(rows, settings, out):
    """Write ``table.md`` and ``mse.png`` into ``out``.

    Parameters
    ----------
    rows : DataFrame
        Rows of the requested runs, from :func:`run_benchmark`.
    settings : Settings
        The settings of the rows.
    out : str or Path
        Output folder.

    Returns
    -------
    markdown : str
        The report, with the MSE table first.
    """
    out = Path(out)
    summary = _report.summarize(rows)
    methods, datasets = settings.methods, settings.datasets
    parts = [
        mse_section(rows, settings),
        "### Fit + impute wall time (median seconds)",
        f"{settings.threads} thread(s) per run.",
        _report.time_table(summary, methods, datasets),
    ]
    coverage = _report.coverage_table(summary, methods, datasets)
    if coverage:
        n = settings.draws
        parts += [
            "### Coverage of the 90% multiple-imputation intervals (nominal 0.90)",
            f"5th to 95th percentile of {n} draws of `sample`; share of removed "
            "true values inside, mean (std) over seeds. With n draws a perfectly "
            "calibrated sampler scores 0.9 (n - 1) / (n + 1) in expectation: "
            f"{0.9 * (n - 1) / (n + 1):.3f} here.",
            coverage,
        ]
    markdown = "\n\n".join(parts) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(markdown)
    if not _report.plot_mse(
        summary,
        methods,
        datasets,
        out / "mse.png",
        compare_paper=settings.paper_protocol,
    ):
        print("matplotlib is not installed: mse.png skipped.", file=sys.stderr)
    return markdown


def mse_section(rows, settings):
    """The report's first section: the MSE table with the paper's figures.

    Parameters
    ----------
    rows : DataFrame
        Rows of the requested runs, from :func:`run_benchmark`.
    settings : Settings
        The settings of the rows.

    Returns
    -------
    markdown : str
    """
    table = _report.mse_table(
        _report.summarize(rows),
        settings.methods,
        settings.datasets,
        compare_paper=settings.paper_protocol,
    )
    heading = f"### MSE on the removed cells ({_describe(settings)})"
    return "\n\n".join([heading, _mse_legend(settings, rows), table])


def main(argv=None):
    """Command line entry point; see ``python -m benchmarks.uci --help``.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 when every run succeeded, 1 otherwise.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    args = parser.parse_args(argv)
    settings = _settings_from_args(Settings, parser, args, keep_target=args.keep_target)
    start = time.perf_counter()
    rows, failures = run_benchmark(
        settings, args.out, progress=not args.no_progress, run=not args.report_only
    )
    markdown = write_report(rows, settings, args.out)
    wall = time.perf_counter() - start
    print(mse_section(rows, settings))
    print(f"\nFull report: {Path(args.out) / 'table.md'} ({wall:.1f} s)")
    if args.write_benchmarks_md:
        _write_benchmarks_md(args.write_benchmarks_md, settings, argv, markdown, wall)
    for message in failures:
        print(f"FAILED {message}", file=sys.stderr)
    return 1 if failures else 0


# -- one run -------------------------------------------------------------------
def _run_one(settings, method, X, seed):
    """Mask, impute and score one (method, data set, seed); a results row."""
    mask = make_mask(settings.mechanism, X, settings.missing_rate, seed)
    X_missing = np.where(mask, np.nan, X)
    imputer, params = _build_imputer(method, seed, settings)
    start = time.perf_counter()
    X_imputed = np.asarray(imputer.fit_transform(X_missing), dtype=np.float64)
    seconds = time.perf_counter() - start
    chosen = getattr(imputer, "chosen_missingness_", None)
    if chosen is not None and chosen != imputer.missingness:  # not-MIWAE's choice
        tqdm.write(f"{method:>10} seed {seed}: the bound chose {chosen}")
    if X_imputed.shape != X.shape:
        raise ValueError(
            f"{method} returned shape {X_imputed.shape} for data of shape {X.shape}."
        )
    coverage, sample_seconds = _coverage90(imputer, X_missing, X, mask, settings.draws)
    return {
        "method": method,
        "seed": seed,
        "mechanism": settings.mechanism,
        "missing_rate": settings.missing_rate,
        "keep_target": settings.keep_target,
        "quick": settings.quick,
        "params": json.dumps(params, sort_keys=True, default=repr),
        "n_imputations": settings.draws,
        "threads": settings.threads,
        "n_rows": X.shape[0],
        "n_cols": X.shape[1],
        "n_missing": int(mask.sum()),
        "realised_rate": float(mask.mean()),
        "mse": float(np.mean((X_imputed[mask] - X[mask]) ** 2)),
        "coverage90": coverage,
        "fit_impute_seconds": seconds,
        "sample_seconds": sample_seconds,
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        **_versions(),
        **settings.extra_columns(X, X_imputed, mask),
    }


def _warm_up_torch():
    """Fit a tiny MIWAE once, untimed.

    The first torch fit of a process pays seconds of one-time initialisation,
    which would otherwise inflate the first timed run.
    """
    from miwae_impute import MIWAEImputer

    X = np.random.default_rng(0).normal(size=(16, 3))
    X[0, 0] = np.nan
    imputer = MIWAEImputer(
        hidden_layer_sizes=(4,), max_iter=1, L=4, early_stopping=False, random_state=0
    )
    imputer.fit_transform(X)
    imputer.sample(X, n_imputations=2)


def _build_imputer(method, seed, settings):
    """The imputer of a run, and the parameters it was given beyond its defaults.

    The run's seed goes to ``random_state`` when the imputer has one (the mean
    imputer has none). ``--quick`` budgets apply only to parameters the imputer
    has (deep names included) and that ``--param`` did not set.
    """
    from miwae_impute import make_imputer

    params = dict(settings.params.get(method, {}))
    imputer = make_imputer(method, **params)
    known = imputer.get_params(deep=True)
    quick = _QUICK_PARAMS.get(method, {}) if settings.quick else {}
    quick = {k: v for k, v in quick.items() if k in known and k not in params}
    seeded = {"random_state": seed} if "random_state" in known else {}
    imputer.set_params(**quick, **seeded)
    params.update(quick)
    return imputer, params


def _coverage90(imputer, X_missing, X, mask, n_draws):
    """Share of removed values inside the 90% intervals of ``sample``, and its time.

    NaN and NaN for imputers without ``sample`` or when ``n_draws`` is 0.
    """
    if not hasattr(imputer, "sample") or n_draws == 0 or not mask.any():
        return float("nan"), float("nan")
    start = time.perf_counter()
    draws = np.stack(
        [
            np.asarray(draw, dtype=np.float64)[mask]
            for draw in imputer.sample(X_missing, n_imputations=n_draws)
        ]
    )
    seconds = time.perf_counter() - start
    return float(interval_coverage(draws, X[mask], [0.9])[0]), seconds


def interval_coverage(draws, truth, levels):
    """Share of ``truth`` inside the central intervals of ``draws``, per level.

    Parameters
    ----------
    draws : ndarray of shape (n_draws, n_cells)
    truth : ndarray of shape (n_cells,)
    levels : sequence of float in (0, 1)

    Returns
    -------
    coverage : ndarray of shape (len(levels),)
        For level c, the share of cells whose true value lies between the
        50 - 50 c and 50 + 50 c percentiles of their draws.
    """
    levels = np.asarray(levels, dtype=float)
    lows = np.percentile(draws, 50 - 50 * levels, axis=0)
    highs = np.percentile(draws, 50 + 50 * levels, axis=0)
    return ((lows <= truth) & (truth <= highs)).mean(axis=1)


@contextmanager
def _run_context(threads):
    """Limit torch and the BLAS/OpenMP pools to ``threads`` threads."""
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)


def _versions():
    import sklearn
    import torch

    return {
        "git_commit": _git_commit(),
        "torch_version": torch.__version__,
        "sklearn_version": sklearn.__version__,
    }


def _git_commit():
    """Short commit of the repository, ``-dirty`` when the code differs from it.

    Committed result files being appended to do not count as changed code.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=_REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "diff",
                "--quiet",
                "HEAD",
                "--",
                "miwae_impute",
                "benchmarks",
                ":(exclude)benchmarks/results",  # the rows being written
            ],
            cwd=_REPO_ROOT,
            capture_output=True,
        ).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


# -- reporting -----------------------------------------------------------------
def _describe(settings):
    seeds = "seed 0" if settings.seeds == 1 else f"seeds 0-{settings.seeds - 1}"
    target = ", target kept" if settings.keep_target else ""
    quick = ", QUICK MODE (smoke-test budgets)" if settings.quick else ""
    return (
        f"{settings.mechanism.upper()}, {settings.missing_rate:.0%} missing, "
        f"{seeds}{target}{quick}"
    )


def _mse_legend(settings, rows):
    legend = "Standardised units; ours mean (std over seeds)" + (
        " / paper mean = ours/paper." if settings.paper_protocol else "."
    )
    if not settings.paper_protocol:
        legend += " The paper's figures are for 50% MCAR on the features only."
    commits = sorted(set(rows["git_commit"].astype(str)))
    if len(commits) > 1:
        legend += f" Rows come from several commits: {', '.join(commits)}."
    return legend


def _write_benchmarks_md(
    path, settings, argv, markdown, wall, *, module="benchmarks.uci", title="UCI table"
):
    """Add or replace the section of ``settings`` in ``path`` (benchmarks/HISTORY.md).

    ``module`` is the benchmark's ``python -m`` module, which also marks its
    sections; ``title`` starts the section's heading.
    """
    command = f"python -m {module} " + shlex.join(argv)
    section = "-".join(
        [settings.mechanism, f"{settings.missing_rate:g}"]
        + (["target"] if settings.keep_target else [])
        + (["quick"] if settings.quick else [])
    )
    body = "\n\n".join(
        [
            f"## {title}: {_describe(settings)}",
            f"- command: `{command}`",
            f"- machine: {os.cpu_count()} cores, {_cpu_model()}; "
            f"{settings.threads} thread(s) per run",
            f"- date: {datetime.date.today().isoformat()}; commit {_git_commit()}; "
            f"wall time of the command: {wall:.0f} s (rows already in results.csv "
            "are reused, not rerun)",
            markdown.replace("### ", "#### "),
        ]
    )
    _report.update_benchmarks_md(path, section, body, tool=module)
    print(f"Updated {path} (section {section}).")


def _gathered_provenance(module, argv, rows):
    """The command and machine lines of a table gathered from stored rows.

    A gathering command runs nothing, so its own commit and time say nothing
    of the rows: the lines name the rows' commits and when they finished.
    """
    commits = ", ".join(sorted(set(rows["git_commit"].astype(str))))
    finished = rows["finished_at"].astype(str)
    return [
        f"- command: `python -m {module} " + shlex.join(argv) + "`",
        f"- machine: {_cpu_model()}; rows finished {finished.min()} to "
        f"{finished.max()}; commits {commits}",
    ]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


# -- command line --------------------------------------------------------------
def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.uci",
        description="The MIWAE paper's UCI imputation benchmark.",
    )
    _add_run_arguments(
        parser,
        datasets=DATASETS,
        methods=METHODS,
        out="benchmarks/results/uci",
        n_imputations=None,
        draws_help=f"{DEFAULT_IMPUTATIONS}, {_QUICK_IMPUTATIONS} with --quick; 0 skips",
    )
    parser.add_argument(
        "--keep-target", action="store_true", help="also impute the numeric target"
    )
    return parser


def _add_run_arguments(
    parser,
    *,
    datasets,
    methods,
    out,
    n_imputations,
    draws_help,
    dataset_choices=None,
    method_choices=METHOD_CHOICES,
    missing_rate=0.5,
):
    """The options every benchmark on this runner shares.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Gets the options.
    datasets, methods : tuple of str
        Defaults of ``--datasets`` and ``--methods``.
    out : str
        Default of ``--out``.
    n_imputations : int or None
        Default of ``--n-imputations``, explained by ``draws_help``.
    draws_help : str
        The defaults of ``--n-imputations``, in words.
    dataset_choices : tuple of str, default=None
        Choices of ``--datasets``; ``datasets`` when None.
    method_choices : tuple of str, default=METHOD_CHOICES
        Choices of ``--methods``.
    missing_rate : float, default=0.5
        Default of ``--missing-rate``.
    """
    choices = datasets if dataset_choices is None else dataset_choices
    default = "all" if tuple(choices) == tuple(datasets) else " ".join(datasets)
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=choices,
        default=datasets,
        metavar="NAME",
        help=f"any of {', '.join(choices)} ({default})",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=method_choices,
        default=methods,
        metavar="NAME",
        help=f"any of {', '.join(method_choices)} ({' '.join(methods)})",
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="runs per cell, seeds 0..N-1 (5)"
    )
    parser.add_argument(
        "--missing-rate",
        type=float,
        default=missing_rate,
        help=f"share of cells removed ({missing_rate:g})",
    )
    parser.add_argument("--mechanism", choices=MECHANISMS, default="mcar")
    parser.add_argument(
        "--out", default=out, help=f"folder of results.csv and table.md ({out})"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny training budgets (smoke test)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"torch and BLAS threads per run ({DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--param",
        nargs="+",
        action="extend",
        metavar="METHOD.NAME=VALUE",
        help="imputer parameter, e.g. miwae.max_iter=10 (a Python literal)",
    )
    parser.add_argument(
        "--n-imputations",
        type=int,
        default=n_imputations,
        help=f"draws for the 90%% coverage ({draws_help})",
    )
    parser.add_argument("--data-home", default=None, help="folder of the data files")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar nor per-run lines"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: write the report from the rows stored in OUT so far",
    )
    parser.add_argument(
        "--write-benchmarks-md",
        nargs="?",
        const=str(_REPO_ROOT / "benchmarks" / "HISTORY.md"),
        default=None,
        metavar="PATH",
        help="add or update this run's section of benchmarks/HISTORY.md",
    )


def _settings_from_args(cls, parser, args, *, method_choices=METHOD_CHOICES, **extra):
    """The ``cls`` settings of parsed run arguments; bad values exit via parser.

    ``method_choices`` are the methods that ``--param`` may name.
    """
    try:
        params = _parse_params(args.param or [], method_choices)
        _check_ranges(args)
    except ValueError as exc:
        parser.error(str(exc))
    return cls(
        datasets=tuple(args.datasets),
        methods=tuple(args.methods),
        seeds=args.seeds,
        missing_rate=args.missing_rate,
        mechanism=args.mechanism,
        quick=args.quick,
        params=params,
        threads=args.threads,
        n_imputations=args.n_imputations,
        data_home=args.data_home,
        **extra,
    )


def _check_ranges(args):
    if args.seeds < 1 or args.threads < 1:
        raise ValueError("--seeds and --threads must be at least 1.")
    if args.mechanism in RATE_ONE:
        if not 0 < args.missing_rate <= 1:
            raise ValueError(f"--missing-rate must be in (0, 1] for {args.mechanism}.")
    elif not 0 < args.missing_rate < 1:
        raise ValueError("--missing-rate must be in (0, 1).")
    if args.n_imputations is not None and args.n_imputations < 0:
        raise ValueError("--n-imputations must be at least 0.")


def _parse_params(items, methods=METHOD_CHOICES):
    """``["miwae.max_iter=10", ...]`` to ``{"miwae": {"max_iter": 10}}``."""
    params = {}
    for item in items:
        target, sep, text = item.partition("=")
        method, dot, name = target.partition(".")
        if not sep or not dot or not name:
            raise ValueError(f"--param {item!r} is not METHOD.NAME=VALUE.")
        if method not in methods:
            raise ValueError(f"--param {item!r}: unknown method {method!r}.")
        if name == "random_state":
            raise ValueError(f"--param {item!r}: the seeds come from --seeds.")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare string such as device=cuda
        params.setdefault(method, {})[name] = value
    return params


if __name__ == "__main__":
    sys.exit(main())
