"""``miwae-impute compare``: which imputer suits a table, on its own cells."""

import argparse
import sys

import pandas as pd

from ._compare import _DEFAULT_IMPUTERS, compare_imputers, summarize_comparison
from ._registry import _IMPUTERS

_DESCRIPTION = """\
Compare imputers on the observed cells of a table: hide some of them the way
the table's own gaps fall (or uniformly, --missing-rate), impute them with
each method, and score the imputations against the values that were there
(MSE and MAE in standard deviations of each numeric column, PFC for the
others). Prints each method's pooled score, each column's, and which method
to use. This measures accuracy where values are missing at random; it cannot
see values missing because of what they are (MNAR). INPUT is read as by
miwae-impute (CSV, TSV or Parquet, or - for CSV on standard input)."""


def _parser():
    parser = argparse.ArgumentParser(
        prog="miwae-impute compare",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="the table")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(_IMPUTERS),
        default=list(_DEFAULT_IMPUTERS),
        help="the imputers (default: %(default)s)",
    )
    parser.add_argument(
        "--missing-rate",
        type=float,
        help="hide each observed cell with this probability, not as the gaps fall",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="hidings (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, help="random seed: same seed, same output")
    parser.add_argument("--index-col", help="a column that is the index, not data")
    parser.add_argument("--jobs", type=int, help="fits run in parallel (-1: all)")
    parser.add_argument(
        "-o", "--output", help="also write every score (one row each) to this CSV"
    )
    parser.add_argument(
        "--plot", metavar="FILE", help="draw the scores per column (PNG, PDF, SVG)"
    )
    return parser


def main(argv):
    """Run ``miwae-impute compare`` with ``argv``; the exit status."""
    from ._cli_io import _Error, _one_line, _read

    args = _parser().parse_args(argv)
    try:
        frame, _, _ = _read(args, text=False)
        scores = compare_imputers(
            frame,
            args.methods,
            missing_rate=args.missing_rate,
            n_repeats=args.repeats,
            random_state=args.seed,
            n_jobs=args.jobs,
        )
    except (_Error, ValueError, TypeError, FloatingPointError, OSError) as error:
        print(f"miwae-impute compare: error: {_one_line(error)}", file=sys.stderr)
        return 1
    summary = summarize_comparison(scores)
    with pd.option_context("display.width", 120, "display.precision", 3):
        print("Each method, pooled over the hidden cells:")
        print(summary.by_method.to_string(), end="\n\n")
        print("Each column (MSE, or PFC for a categorical column):")
        print(summary.by_column.to_string(), end="\n\n")
    print(summary.recommendation)
    if args.output:
        scores.to_csv(args.output, index=False)
    if args.plot:
        from matplotlib.figure import Figure  # no GUI backend: a file

        from .plotting import plot_comparison

        ax = plot_comparison(scores, ax=Figure(figsize=(8, 3)).subplots())
        ax.set_title(f"{args.input}: imputation error per column")
        ax.figure.savefig(args.plot, bbox_inches="tight")
    return 0
