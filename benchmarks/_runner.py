"""The shared runner of the tabular studies: a study, its tasks, its rows.

A study (``benchmarks.uci``, ``benchmarks.collection``, ``benchmarks.mixed``)
is a subclass of :class:`Study`: its tables, methods and scores, how it
loads a table and runs one (method, table, seed), and how it reports its
rows. :func:`run_benchmark` expands it into tasks and runs those not yet
stored in ``OUT/results.csv`` (so an interrupted run resumes), and
:func:`main` is the one command line of every study::

    python -m benchmarks run STUDY [--datasets ...] [--methods ...] [--seeds N]
    python -m benchmarks report STUDY [--out DIR]      # from the stored rows

A new study is one small module: a :class:`Study` subclass with
:meth:`Study.load`, :meth:`Study.run_one` and :meth:`Study.report`, and an
entry in ``benchmarks.__main__.STUDIES``.
"""

import argparse
import ast
import platform
import shlex
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import ClassVar, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from ._results import FIELDS, ResultStore, settings_key
from .missingness import MECHANISMS, RATE_ONE

__all__ = [
    "DEFAULT_THREADS",
    "PROTOCOL",
    "Skip",
    "Study",
    "add_run_arguments",
    "cpu_model",
    "describe",
    "git_commit",
    "main",
    "parse_params",
    "report_page",
    "run_benchmark",
    "run_context",
    "versions",
    "warm_up_torch",
    "write_gathered_report",
]

#: One thread per run by default: timings comparable across runs and machines,
#: and a shared machine stays usable.
DEFAULT_THREADS = 1
DEFAULT_IMPUTATIONS = 100
QUICK_IMPUTATIONS = 20
_REPO_ROOT = Path(__file__).resolve().parents[1]
#: The settings of the masking protocol that each run's key and row hold.
PROTOCOL = ("mechanism", "missing_rate", "keep_target", "quick")
# Options that change what a command prints or writes, not its rows.
_NOT_RUN_OPTIONS = ("--report-only", "--no-progress")


class Skip(Exception):
    """Raised by :meth:`Study.run_one` for a method that cannot run on the
    study's tables; nothing is stored for it, and the run goes on."""


class _Task(NamedTuple):
    key: str
    method: str
    dataset: str
    seed: int


@dataclass(frozen=True)
class Study:
    """What to run: the settings of a study, and its hooks.

    The fields are the shared options of :func:`add_run_arguments`: the data
    sets and methods, ``seeds`` (seeds 0 to ``seeds - 1``), the mechanism and
    ``missing_rate``, ``keep_target`` (the data sets' numeric target kept as a
    column to impute), ``quick`` (smoke-test budgets), ``params`` (per method,
    keyword arguments of ``make_imputer``), ``threads`` per run,
    ``n_imputations`` (draws for the coverage; None for the default, 0 to
    skip) and ``data_home``. A study overrides :meth:`load`, :meth:`run_one`
    and :meth:`report`; it may add stored columns (:attr:`fields`,
    :meth:`extra_columns`), per-run side tables (:attr:`side_store`), and
    options (:meth:`add_arguments`, :meth:`check`).
    """

    #: Columns of the stored rows (``results.csv``).
    fields: ClassVar[tuple] = FIELDS
    #: Label of the progress bar.
    label: ClassVar[str] = "study"
    #: The study's ``python -m`` module, which also marks its history sections.
    module: ClassVar[str] = "benchmarks"
    #: What the study measures, for ``--help``.
    description: ClassVar[str] = ""
    #: Start of the heading of its sections of benchmarks/HISTORY.md.
    title: ClassVar[str] = ""
    #: Default results folder.
    out: ClassVar[str] = "benchmarks/results/study"
    #: Choices of ``--datasets`` and ``--methods`` (the defaults when None).
    dataset_choices: ClassVar[tuple | None] = None
    method_choices: ClassVar[tuple] = ()
    #: Methods whose stored rows the report shows beside the ones run.
    report_methods: ClassVar[tuple] = ()
    #: ``(file name, columns)`` of per-run side rows (``run_one``'s second
    #: value), or None.
    side_store: ClassVar[tuple | None] = None
    #: ``--n-imputations``: its default, and that default in words.
    draws_help: ClassVar[str] = "0: skipped"
    #: ``(name, version)`` that each run's key is wrapped in, or None: bump
    #: the version when a table or the protocol changes, so that stored rows
    #: of the old ones are not reused.
    key_version: ClassVar[tuple | None] = None

    datasets: tuple = ()
    methods: tuple = ()
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
        return QUICK_IMPUTATIONS if self.quick else DEFAULT_IMPUTATIONS

    def load(self, name):
        """The complete data of a data set, as the imputers see it."""
        raise NotImplementedError

    def run_one(self, method, X, seed):
        """Mask, impute and score one run: its row, and its side rows or None.

        Raises :class:`Skip` for a method that cannot run on the table.
        """
        raise NotImplementedError

    def report(self, rows, out, args):
        """The report of ``rows`` (Markdown; the runner writes it to
        ``out/table.md``), and what the command prints."""
        raise NotImplementedError

    def extra_columns(self, X, X_imputed, mask):
        """Scores stored beside :data:`FIELDS` in each row, from the complete
        standardised ``X``, the completion and the mask (True = removed)."""
        return {}

    def unavailable(self, methods):
        """Per method of ``methods`` that cannot run here, the reason."""
        return {}

    def progress_line(self, row):
        """The line printed when a run finishes."""
        return (
            f"{row['method']:>10} {row['dataset']:<9} seed {row['seed']}: "
            f"mse {row['mse']:.3f}  {row['fit_impute_seconds']:.1f} s"
        )

    def tasks(self):
        """The runs, data set by data set, each with the key of its settings."""
        return [
            _Task(self._key(method, dataset, seed), method, dataset, seed)
            for dataset in self.datasets
            for method in self.methods
            for seed in range(self.seeds)
        ]

    def _key(self, method, dataset, seed):
        key = settings_key(
            {name: getattr(self, name) for name in PROTOCOL}
            | {"method": method, "dataset": dataset, "seed": seed}
            | {"params": self.params.get(method, {}), "n_imputations": self.draws}
        )
        if self.key_version is None:
            return key
        name, version = self.key_version
        return settings_key({name: version, "run": key})

    @classmethod
    def add_arguments(cls, parser):
        """Options of the study beyond those every study shares."""

    @classmethod
    def check(cls, parser, args):
        """Reject options the study cannot honour, through ``parser.error``."""

    @classmethod
    def parser(cls):
        """The study's command line parser."""
        parser = argparse.ArgumentParser(
            prog=f"python -m {cls.module}", description=cls.description
        )
        defaults = cls()
        add_run_arguments(
            parser,
            datasets=defaults.datasets,
            methods=defaults.methods,
            out=cls.out,
            n_imputations=defaults.n_imputations,
            draws_help=cls.draws_help,
            dataset_choices=cls.dataset_choices,
            method_choices=cls.method_choices,
            missing_rate=defaults.missing_rate,
        )
        cls.add_arguments(parser)
        return parser

    @classmethod
    def from_args(cls, parser, args):
        """The settings of parsed arguments; bad values exit via ``parser``."""
        try:
            params = parse_params(args.param or [], cls.method_choices)
            _check_ranges(args)
        except ValueError as exc:
            parser.error(str(exc))
        cls.check(parser, args)
        same = ("seeds", "missing_rate", "mechanism", "quick", "threads")
        return cls(
            **{name: getattr(args, name) for name in same},
            datasets=tuple(args.datasets),
            methods=tuple(args.methods),
            params=params,
            n_imputations=args.n_imputations,
            data_home=args.data_home,
            keep_target=getattr(args, "keep_target", False),
        )


def run_benchmark(settings, out, *, progress=True, run=True):
    """Run the study's runs not yet in ``out/results.csv`` and append their rows.

    ``run=False`` runs nothing and only gathers the stored rows. Returns the
    stored rows of the requested runs, one message per run that raised (not
    stored), and per method that could not run (:class:`Skip` or
    :meth:`Study.unavailable`) the reason.
    """
    out = Path(out)
    store = ResultStore(out / "results.csv", fields=settings.fields)
    side = None
    if settings.side_store is not None:
        name, columns = settings.side_store
        side = ResultStore(out / name, fields=columns)
    tasks = settings.tasks()
    done = store.keys()
    todo = [task for task in tasks if task.key not in done] if run else []
    skipped = settings.unavailable({task.method for task in todo})
    for reason in skipped.values():
        if progress:
            tqdm.write(f"SKIPPED {reason}")
    todo = [task for task in todo if task.method not in skipped]
    # Load every data set first: a missing file fails before hours of work.
    data = {name: settings.load(name) for name in {task.dataset for task in todo}}
    failures = []
    with (
        run_context(settings.threads),
        tqdm(total=len(todo), desc=settings.label, disable=not progress) as bar,
    ):
        if {"miwae", "mvae", "not-miwae"} & {task.method for task in todo}:
            warm_up_torch()
        for key, method, dataset, seed in todo:
            bar.update()
            if method in skipped:
                continue
            bar.set_postfix_str(f"{method} {dataset} seed {seed}")
            try:
                row, table = settings.run_one(method, data[dataset], seed)
            except Skip as exc:
                skipped[method] = str(exc)
                if progress:
                    tqdm.write(f"SKIPPED {exc}")
                continue
            except Exception as exc:  # keep going: one failure must not stop a table
                message = f"{method} on {dataset}, seed {seed}: {exc!r}"
                failures.append(message)
                tqdm.write(f"FAILED {message}\n{traceback.format_exc()}")
                continue
            row = {"key": key, "dataset": dataset, **row}
            store.append(row)
            ids = {"key": key, "method": method, "dataset": dataset, "seed": seed}
            for line in [] if table is None else table.to_dict("records"):
                side.append({**ids, **line})
            if progress:
                tqdm.write(settings.progress_line(row))
    rows = store.load()
    return rows[rows["key"].isin({task.key for task in tasks})], failures, skipped


def stored_rows(settings, out):
    """Stored rows of the settings' runs and of :attr:`Study.report_methods`
    under the same protocol and seeds, so that a report shows the peers even
    when only one method is run."""
    methods = tuple(dict.fromkeys(settings.methods + settings.report_methods))
    rows, _, _ = run_benchmark(
        replace(settings, methods=methods), out, progress=False, run=False
    )
    return rows


def main(study, argv=None):
    """The command line of a :class:`Study` subclass (``argv``, else
    ``sys.argv[1:]``); 0 when every run succeeded (skipped methods are not
    failures), 1 otherwise."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = study.parser()
    args = parser.parse_args(argv)
    settings = study.from_args(parser, args)
    start = time.perf_counter()
    _, failures, skipped = run_benchmark(
        settings, args.out, progress=not args.no_progress, run=not args.report_only
    )
    rows = stored_rows(settings, args.out)
    markdown, printed = settings.report(rows, args.out, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(markdown)
    if len(rows):
        (out / "REPORT.md").write_text(_report_page(settings, argv, rows, markdown))
    wall = time.perf_counter() - start
    print(printed)
    print(f"Report: {out / 'REPORT.md'} ({wall:.1f} s)")
    for method, reason in skipped.items():
        print(f"SKIPPED {method}: {reason}", file=sys.stderr)
    for message in failures:
        print(f"FAILED {message}", file=sys.stderr)
    return 1 if failures else 0


def _report_page(settings, argv, rows, markdown):
    """``REPORT.md``: the report under its heading, the command that
    regenerates it (running only what is not stored) and the rows' origin."""
    command = [arg for arg in argv if arg not in _NOT_RUN_OPTIONS]
    commits, first, last = _origin(rows)
    provenance = [
        f"- command: `python -m {settings.module} {shlex.join(command)}`",
        f"- rows: {len(rows)}, finished {first} to {last} "
        f"at commits {commits}; threads per run: "
        + ", ".join(str(t) for t in sorted(set(rows["threads"]))),
    ]
    return report_page(f"{settings.title}: {describe(settings)}", provenance, markdown)


def report_page(heading, provenance, markdown):
    """The text of a ``REPORT.md``: the heading, the provenance lines (command,
    machine, origin of the rows), then the tables."""
    page = [f"# {heading}", "\n".join(provenance), markdown.rstrip("\n")]
    return "\n\n".join(page) + "\n"


def _origin(rows):
    """The rows' commits, and when the first and the last of them finished."""
    commits = ", ".join(sorted(set(rows["git_commit"].astype(str))))
    finished = rows["finished_at"].astype(str)
    return commits, finished.min(), finished.max()


# -- the machine and the code ----------------------------------------------------
@contextmanager
def run_context(threads):
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


def warm_up_torch():
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


def versions():
    """The commit, torch and scikit-learn versions that stamp a row."""
    import sklearn
    import torch

    return {
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "sklearn_version": sklearn.__version__,
    }


def git_commit():
    """Short commit of the repository, ``-dirty`` when the code differs from it."""
    git = partial(subprocess.run, cwd=_REPO_ROOT, capture_output=True, text=True)
    # The rows being written to benchmarks/results do not count as changed code.
    code = ["miwae_impute", "benchmarks", ":(exclude)benchmarks/results"]
    try:
        commit = git(["git", "rev-parse", "--short", "HEAD"], check=True).stdout
        dirty = git(["git", "diff", "--quiet", "HEAD", "--", *code]).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit.strip() + ("-dirty" if dirty else "")


def cpu_model():
    """The CPU's model name, or what the platform knows of it."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


# -- reports -----------------------------------------------------------------------
def describe(settings):
    """The protocol of the settings in words: mechanism, rate and seeds."""
    seeds = "seed 0" if settings.seeds == 1 else f"seeds 0-{settings.seeds - 1}"
    target = ", target kept" if settings.keep_target else ""
    quick = ", QUICK MODE (smoke-test budgets)" if settings.quick else ""
    return (
        f"{settings.mechanism.upper()}, {settings.missing_rate:.0%} missing, "
        f"{seeds}{target}{quick}"
    )


def write_gathered_report(out, heading, module, argv, rows, markdown):
    """Write ``OUT/REPORT.md`` for a table gathered from stored rows.

    A gathering command runs nothing, so its own commit and time say nothing
    of the rows: the page names the command, the rows' commits and when they
    finished.
    """
    commits, first, last = _origin(rows)
    provenance = [
        f"- command: `python -m {module} " + shlex.join(argv) + "`",
        f"- machine: {cpu_model()}; rows finished {first} to {last}; commits {commits}",
    ]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "REPORT.md").write_text(report_page(heading, provenance, markdown))
    print(f"Report: {out / 'REPORT.md'}")


# -- command line ------------------------------------------------------------------
def add_run_arguments(
    parser,
    names=None,
    *,
    datasets=(),
    methods=(),
    out=None,
    n_imputations=None,
    draws_help="",
    dataset_choices=None,
    method_choices=(),
    missing_rate=0.5,
):
    """Add the options every study on this runner shares to ``parser`` (only
    those of ``names``, when given), with the study's defaults and choices
    (``dataset_choices`` defaults to ``datasets``; ``draws_help`` gives the
    defaults of ``--n-imputations``)."""
    choices = datasets if dataset_choices is None else dataset_choices
    default = "all" if tuple(choices) == tuple(datasets) else " ".join(datasets)
    every = {"nargs": "+", "metavar": "NAME"}
    options = {
        "--datasets": every
        | {"choices": choices, "default": datasets}
        | {"help": f"any of {', '.join(choices)} ({default})"},
        "--methods": every
        | {"choices": method_choices, "default": methods}
        | {"help": f"any of {', '.join(method_choices)} ({' '.join(methods)})"},
        "--seeds": {
            "type": int,
            "default": 5,
            "help": "runs per cell, seeds 0..N-1 (5)",
        },
        "--missing-rate": {
            "type": float,
            "default": missing_rate,
            "help": f"share of cells removed ({missing_rate:g})",
        },
        "--mechanism": {"choices": MECHANISMS, "default": "mcar"},
        "--out": {
            "default": out,
            "help": f"folder of results.csv and table.md ({out})",
        },
        "--quick": {
            "action": "store_true",
            "help": "tiny training budgets (smoke test)",
        },
        "--threads": {
            "type": int,
            "default": DEFAULT_THREADS,
            "help": f"torch and BLAS threads per run ({DEFAULT_THREADS})",
        },
        "--param": {
            "nargs": "+",
            "action": "extend",
            "metavar": "METHOD.NAME=VALUE",
            "help": "imputer parameter, e.g. miwae.max_iter=10 (a Python literal)",
        },
        "--n-imputations": {
            "type": int,
            "default": n_imputations,
            "help": f"draws for the 90%% coverage ({draws_help})",
        },
        "--data-home": {"default": None, "help": "folder of the data files"},
        "--no-progress": {
            "action": "store_true",
            "help": "no progress bar nor per-run lines",
        },
        "--report-only": {
            "action": "store_true",
            "help": "run nothing: write the report from the rows stored in OUT so far",
        },
    }
    for name in options if names is None else names:
        parser.add_argument(name, **options[name])


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


def parse_params(items, methods):
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
