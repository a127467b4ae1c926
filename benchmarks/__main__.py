"""One command line for every study: ``python -m benchmarks COMMAND STUDY ...``.

Commands:

- ``list``: the studies, and what each measures;
- ``run STUDY [OPTIONS]``: run a study (resumable; see ``run STUDY --help``);
- ``report STUDY [OPTIONS]``: its report from the stored rows, running nothing;
- ``compare STUDY DIR [OPTIONS]``: its report beside an earlier results folder.

Each study keeps its own module too (``python -m benchmarks.uci`` is
``python -m benchmarks run uci``).
"""

import importlib
import sys

#: Study name: (module, what it measures, how ``report`` and ``compare`` call it).
STUDIES = {
    "uci": ("benchmarks.uci", "the MIWAE paper's UCI table (MSE, 50% MCAR)", "rows"),
    "collection": (
        "benchmarks.collection",
        "the quirky collection, with per-column errors",
        "rows",
    ),
    "mixed": ("benchmarks.mixed", "mixed-type tables: MSE, PFC, calibration", "rows"),
    "mnar": (
        "benchmarks.mnar",
        "MNAR tables gathered from uci's rows, or the sign grid's (--sign-grid)",
        "gather",
    ),
    "pooling": (
        "benchmarks.pooling",
        "multiple imputation: coverage, prediction, calibration (run pooling "
        "{coverage,prediction,calibration})",
        "sub",
    ),
    "speed": ("benchmarks.speed", "training and imputation speed", "speed"),
    "rates": (
        "benchmarks.rates",
        "MIWAE against the best peer, per table and rate, from the stored rows "
        "of collection and uci (before and after a change)",
        "gather",
    ),
}

_USAGE = """usage: python -m benchmarks {list,run,report,compare} [STUDY] [OPTIONS]

  list                      the studies
  run STUDY [OPTIONS]       run a study; run STUDY --help for its options
  report STUDY [OPTIONS]    its report from the stored rows, running nothing
  compare STUDY DIR [...]   its report beside the results folder DIR
"""


def _arguments(command, study, rest):
    """The study module's own arguments for ``command``."""
    kind = STUDIES[study][2]
    if command == "run":
        return rest
    if command == "report":
        if kind == "rows":
            return ["--report-only", *rest]
        if kind == "gather":
            return rest
        if kind == "sub":
            return ["report", *rest]
    if command == "compare" and rest:
        if study == "collection":
            return ["--report-only", "--compare", *rest]
        if kind == "speed":
            return ["--compare", *rest]
    raise SystemExit(
        f"python -m benchmarks {command} {study}: not available for this study; "
        f"see python -m benchmarks run {study} --help."
    )


def main(argv=None):
    """Dispatch ``COMMAND STUDY ...`` (``argv``, else ``sys.argv[1:]``) to the
    study's module; its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE)
        return 0 if argv else 2
    command, *rest = argv
    if command == "list":
        for name, (module, what, _) in STUDIES.items():
            print(f"{name:<11} {what} ({module})")
        return 0
    if command not in ("run", "report", "compare") or not rest:
        print(_USAGE, file=sys.stderr)
        return 2
    study, *rest = rest
    if study not in STUDIES:
        print(f"Unknown study {study!r}; one of {', '.join(STUDIES)}.", file=sys.stderr)
        return 2
    module = importlib.import_module(STUDIES[study][0])
    return module.main(_arguments(command, study, rest)) or 0


if __name__ == "__main__":
    sys.exit(main())
