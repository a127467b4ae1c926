"""The linear imputers side by side: factor analysis, PPCA and iterative PCA.

Reads result folders of ``benchmarks.collection`` at one MCAR rate each and,
for every table that has them all, compares ``factor-analysis`` with
``ppca`` (its isotropic noise) and with ``pca`` (missMDA's regularised
iterative PCA): per table MSE and fit-plus-transform seconds, and per rate
the geometric mean of the ratios and the count of tables lower or higher by
more than 0.5%. It runs nothing. Usage (the folders of issue 25's run)::

    python -m benchmarks.experiments.linear_models --seed 0 \\
        --rate 0.2 benchmarks/results/collection-mcar-0.2-peers \\
            benchmarks/results/collection-mcar-0.2-factor \\
            benchmarks/results/collection-mcar-0.2-ppca \\
        --rate 0.3 ...
"""

import argparse

import numpy as np

from .._report import markdown_table
from ..rates import _rows

_METHODS = ("factor-analysis", "ppca", "pca")
_MARGIN = 0.005


def _table(folders, seed):
    """MSE and seconds per table (rows) and method (columns), the latest row
    of the last folder that has one winning (:func:`rates._rows`)."""
    rows = _rows("+".join(map(str, folders)), [seed], _METHODS)
    mse = rows.pivot(index="dataset", columns="method", values="mse")
    seconds = rows.pivot(index="dataset", columns="method", values="fit_impute_seconds")
    keep = mse.dropna().index
    return mse.loc[keep, list(_METHODS)], seconds.loc[keep, list(_METHODS)]


def _summary(mse, other):
    ratio = mse["factor-analysis"] / mse[other]
    lower = int((ratio < 1 - _MARGIN).sum())
    higher = int((ratio > 1 + _MARGIN).sum())
    return (
        f"factor analysis / {other}: geometric mean {np.exp(np.log(ratio).mean()):.3f},"
        f" lower on {lower} tables, higher on {higher}, within 0.5% on "
        f"{len(ratio) - lower - higher}"
    )


def report(rates, seed):
    """Markdown for ``rates``, a list of (rate, folders)."""
    out = []
    for rate, folders in rates:
        mse, seconds = _table(folders, seed)
        out += [f"### {float(rate):.0%} MCAR, seed {seed}: {len(mse)} tables", ""]
        out += [f"- {_summary(mse, other)}" for other in ("ppca", "pca")]
        rows = []
        for name in mse.index:
            m, s = mse.loc[name], seconds.loc[name]
            cells = [f"**{v:.3f}**" if v == m.min() else f"{v:.3f}" for v in m]
            rows.append([name, *cells, ", ".join(f"{v:.1f}" for v in s)])
        header = ["table", "factor analysis", "ppca", "pca", "seconds (fa, ppca, pca)"]
        out += ["", markdown_table(header, rows), ""]
    return "\n".join(out)


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.linear_models", description=__doc__
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rate",
        nargs="+",
        action="append",
        required=True,
        metavar=("RATE", "FOLDER"),
        help="a rate, then the folders holding its rows",
    )
    args = parser.parse_args(argv)
    rates = [(items[0], items[1:]) for items in args.rate]
    print(report(rates, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
