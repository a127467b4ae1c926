"""MSE and RMSE tables of one protocol, gathered from several result folders.

The not-MIWAE comparison (issue 13) runs ``benchmarks.uci`` several times: the
baselines in one folder, not-MIWAE with each missingness model in others
(``--param not-miwae.missingness=...``). This command runs nothing: it reads
their ``results.csv`` files, labels each row by its method and the parameters
it was given beyond the defaults (the latest row of a label, data set and seed
wins), and prints the MSE and RMSE tables (mean and std over seeds,
standardised units) and the ratios of each not-MIWAE variant to MIWAE and to
the best baseline of each data set; ``--out DIR`` also writes them, under the
command and the rows' commits, to ``DIR/REPORT.md``. On the not-MIWAE paper's
protocol (its Table 1: every value above the mean of the first half of the
columns removed; the mechanism "paper-above-mean" at rate 1) the tables also
give the paper's RMSE beside ours, and their ratio::

    python -m benchmarks.mnar benchmarks/results/mnar-v2-high \\
        benchmarks/results/mnar-v2-free benchmarks/results/mnar-above-mean-a \\
        benchmarks/results/mnar-above-mean-b --mechanism above-mean \\
        --missing-rate 0.9 --out benchmarks/results/mnar-above-mean-0.9

``--sign-grid FILE ...`` prints instead the table of the JSON lines that
``benchmarks.experiments.sign_grid`` appends, one fit each: not-MIWAE / MIWAE
per mechanism and set, and the share of masked columns whose sign was right
(the latest line of a fit wins); it is the MNAR headline of BENCHMARKS.md.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ._report import grid, markdown_table, metric_table, summarize
from ._runner import write_gathered_report

#: The fields that name a fit of the sign grid.
SIGN_GRID_KEY = ("method", "dataset", "mechanism", "rate", "seed")

_BASELINES = ("missforest", "knn", "pca", "factor-analysis", "ppca", "mean")

_PAPER_SETS = ("banknote", "concrete", "red", "white", "yeast", "breast")

#: RMSE of Table 1 of the not-MIWAE paper (Ipsen, Mattei & Frellsen, ICLR
#: 2021), by the label of the run here that matches each row. Its protocol
#: is the mechanism "paper-above-mean" at rate 1; its runs trained 100,000
#: steps at batch 16, K = 20, 128 hidden units, latent D - 1, L = 10,000.
PAPER_RMSE = {
    label: dict(zip(_PAPER_SETS, map(float, figures.split())))
    for label, figures in {
        "not-miwae": "1.88 1.26 1.08 1.04 1.48 0.74",
        "not-miwae (missingness=self-masking-high)": "0.74 1.12 1.07 1.04 1.38 0.76",
        "not-miwae (decoder=ppca, missingness=self-masking-high)": (
            "0.57 1.31 1.13 0.99 0.77 0.72"
        ),
        "miwae": "1.19 1.66 1.62 1.55 1.72 1.20",
        "missforest": "1.28 1.76 1.64 1.63 1.66 1.57",
        "mean": "1.73 1.85 1.83 1.74 1.69 1.82",
    }.items()
}


def label(method, params):
    """``method``, with the parameters it was given beyond the defaults."""
    params = json.loads(params) if isinstance(params, str) else {}
    if not params:
        return method
    return f"{method} ({', '.join(f'{k}={v}' for k, v in sorted(params.items()))})"


def gather(folders, mechanism, missing_rate, seeds=None):
    """The rows of one protocol in the ``results.csv`` of ``folders``, labelled
    and with their RMSE; the latest row wins, and ``seeds`` keeps seeds 0 to
    ``seeds - 1`` only (so that every method is compared on the same masks)."""
    frames = [pd.read_csv(Path(folder) / "results.csv") for folder in folders]
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[
        (rows["mechanism"] == mechanism)
        & np.isclose(rows["missing_rate"], missing_rate)
        & ~rows["quick"].astype(bool)
        & (rows["seed"] < (np.inf if seeds is None else seeds))
    ].copy()
    rows["label"] = [label(m, p) for m, p in zip(rows["method"], rows["params"])]
    rows["rmse"] = np.sqrt(rows["mse"])
    rows = rows.sort_values("finished_at")
    return rows.drop_duplicates(["label", "dataset", "seed"], keep="last")


def tables(rows, paper=False):
    """Markdown: the MSE and RMSE tables of :func:`gather`'s rows, the paper's
    RMSE beside ours (``paper``: :data:`PAPER_RMSE`), then not-MIWAE's ratios."""
    summary = summarize(rows, ("mse", "rmse"), by="label")
    datasets = sorted(rows["dataset"].unique())
    labels = sorted(rows["label"].unique(), key=_order)
    parts = []
    for metric in ("mse", "rmse"):
        parts += [
            f"{metric.upper()}, mean (std) over seeds:",
            metric_table(summary, labels, datasets, metric, top=False),
        ]
    ranges = summary["n_seeds"].groupby("label").agg(["min", "max"]).itertuples()
    seeds = ", ".join(
        f"{lab} {lo}-{hi}" if lo != hi else f"{lab} {lo}" for lab, lo, hi in ranges
    )
    parts.append(f"Seeds per cell: {seeds}.")
    if paper:
        parts += _paper_tables(summary["rmse_mean"].unstack("dataset"))
    mse = summary["mse_mean"].unstack("dataset")
    baselines = [b for b in _BASELINES if b in mse.index]
    ratios = {}
    for lab in (lab for lab in labels if lab.startswith("not-miwae")):
        if "miwae" in mse.index:
            ratios[f"{lab} / miwae"] = mse.loc[lab] / mse.loc["miwae"]
        if baselines:
            ratios[f"{lab} / best baseline"] = mse.loc[lab] / mse.loc[baselines].min()
    if ratios:
        frame = pd.DataFrame(ratios).T[datasets]
        parts += [
            "MSE ratios (below 1: not-MIWAE imputes better):",
            grid(frame.index, datasets, lambda r, d: f"{frame.loc[r, d]:.2f}"),
        ]
        if baselines:
            best = mse.loc[baselines].idxmin()
            best = ", ".join(f"{d} {best[d]}" for d in datasets)
            parts.append(f"Best baseline per set: {best}.")
    return "\n\n".join(parts)


def _paper_tables(rmse):
    """Markdown parts: the paper's RMSE beside ours, and ours / the paper's."""
    labels = [lab for lab in PAPER_RMSE if lab in rmse.index]
    datasets = [d for d in _PAPER_SETS if d in rmse.columns]
    if not labels or not datasets:
        return []
    theirs = pd.DataFrame(PAPER_RMSE).T.loc[labels, datasets]
    ratios = rmse.loc[labels, datasets] / theirs

    def cell(lab, d):
        ours = rmse.loc[lab, d]
        shown = f"{ours:.3f} / {theirs.loc[lab, d]:.2f} = {ratios.loc[lab, d]:.2f}"
        return "" if np.isnan(ours) else shown

    means = ", ".join(f"{lab} {np.nanmean(ratios.loc[lab]):.2f}" for lab in labels)
    return [
        "RMSE, ours (mean over seeds) / the not-MIWAE paper's Table 1 = ratio "
        "(sign learned: not-miwae; direction known: self-masking-high; the "
        "paper's PPCA decoder: decoder=ppca):",
        grid(labels, datasets, cell),
        f"Mean ratio per method: {means}.",
    ]


def _order(name):
    """not-MIWAE variants first, then MIWAE, then the baselines."""
    method = name.split(" ")[0]
    rank = {"not-miwae": 0, "miwae": 1}.get(method, 2)
    return rank, _BASELINES.index(method) if method in _BASELINES else -1, name


def _right(mechanism):
    """The direction ``chosen_missingness_`` should name under ``mechanism``."""
    if mechanism in ("mcar", "mar"):
        return "ignorable"
    high = mechanism.startswith(("above", "paper"))
    return "self-masking-high" if high else "self-masking-low"


def _right_share(fits):
    """The share of masked columns whose direction was right."""
    return (fits.n_masked_columns * fits.right).sum() / fits.n_masked_columns.sum()


def sign_table(paths):
    """Markdown: not-MIWAE / MIWAE per mechanism and set of the sign grid's
    fits in ``paths``, and the share of masked columns whose sign was right."""
    rows = [json.loads(s) for p in paths for s in Path(p).read_text().splitlines()]
    frame = pd.DataFrame(rows).drop_duplicates(list(SIGN_GRID_KEY), keep="last")
    keys = ["mechanism", "rate", "dataset", "seed"]
    wide = frame.pivot_table(index=keys, columns="method", values="mse")
    wide = wide.dropna(subset=["miwae", "not-miwae"]).reset_index()
    chosen = frame[frame.method == "not-miwae"].set_index(keys)
    wide = wide.join(chosen[["chosen", "n_masked_columns"]], on=keys)
    wide["ratio"] = wide["not-miwae"] / wide["miwae"]
    right_sign = wide.mechanism.map(_right)
    wide["right"] = wide.chosen == right_sign
    names, lines = sorted(wide.dataset.unique()), []
    for (mechanism, rate), group in wide.groupby(["mechanism", "rate"]):
        ratio = group.set_index("dataset").ratio
        cells = [" / ".join(f"{r:.2f}" for r in ratio[ratio.index == n]) for n in names]
        worst, right = f"{group.ratio.max():.2f}", f"{_right_share(group):.0%}"
        lines.append([mechanism, f"{rate:g}", *cells, worst, right])
    table = markdown_table(["mechanism", "rate", *names, "worst", "sign right"], lines)
    mnar = wide[right_sign != "ignorable"]
    return (
        f"{table}\n\nnot-MIWAE / MIWAE MSE (seeds separated by /). Self-masking: "
        f"{len(mnar)} fits, {(mnar.ratio <= 1).mean():.0%} at or below MIWAE, "
        f"sign right on {_right_share(mnar):.0%} of the "
        "masked columns (right at random: missing at random chosen)."
    )


def main(argv=None):
    """Command line entry point; see ``python -m benchmarks.mnar --help``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mnar",
        description="MSE and RMSE tables of one protocol from several result "
        "folders of benchmarks.uci, with not-MIWAE's ratios.",
    )
    parser.add_argument("folders", nargs="*", help="folders with a results.csv")
    parser.add_argument("--mechanism", default="above-mean")
    parser.add_argument("--missing-rate", type=float, default=0.9)
    parser.add_argument(
        "--seeds", type=int, help="keep seeds 0 to SEEDS - 1 only (default: all)"
    )
    parser.add_argument("--out", metavar="DIR", help="write DIR/REPORT.md too")
    parser.add_argument("--sign-grid", nargs="+", metavar="FILE", help="fits' lines")
    args = parser.parse_args(argv)
    if args.sign_grid:
        print(sign_table(args.sign_grid))
        return 0
    if not args.folders:
        parser.error("give result folders, or --sign-grid FILE ...")
    rows = gather(args.folders, args.mechanism, args.missing_rate, args.seeds)
    if rows.empty:
        parser.error("no rows of that protocol in those folders")
    markdown = tables(rows, paper=args.mechanism == "paper-above-mean")
    print(markdown)
    if args.out:
        heading = f"Gathered table: {args.mechanism.upper()}, {args.missing_rate:g}"
        write_gathered_report(
            args.out, heading, "benchmarks.mnar", argv, rows, markdown
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
