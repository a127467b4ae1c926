"""MIWAE against its peers at each missing rate, before and after a change.

Reads result folders of ``benchmarks.collection`` and ``benchmarks.uci`` at
one MCAR rate: BEFORE holds the peers and MIWAE as it was, AFTER MIWAE as it
is (or ``--after-method``, such as ``stacking``). Per table: the best peer's
MSE, MIWAE's before and after, whether MIWAE ties (within 2%) or beats the
best peer, and the columns whose MSE is above 1.02 times the column-mean
imputation's; then the counts per rate. A table in several folder pairs of
one rate counts from the first pair; BEFORE and AFTER may join folders with
"+" (the last that has a table wins). With several seeds, a table's MSE is
its mean over them, and a table counts only where every method has every
seed. It runs nothing::

    python -m benchmarks report rates --seed 0 \\
        --rate 0.2 benchmarks/results/collection-mcar-0.2 \\
            benchmarks/results/collection-mcar-0.2-remask
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from ._report import bold, column_means, markdown_table

_PEERS = ("missforest", "knn", "pca", "mean")
_TIE = 1.02


def _rows(folders, seeds, methods):
    """Per (method, table) of ``methods``: MSE, time and column errors, mean
    over ``seeds``; a table is left out if any of its ``methods`` lacks a seed."""
    frames = [
        pd.read_csv(Path(folder) / "results.csv").assign(_order=order)
        for order, folder in enumerate(str(folders).split("+"))
    ]
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[
        rows["seed"].isin(seeds)
        & rows["method"].isin(methods)
        & ~rows["quick"].astype(bool)
    ]
    rows = rows.sort_values(["_order", "finished_at"]).drop_duplicates(
        ["method", "dataset", "seed"], keep="last"
    )
    counts = rows.groupby(["method", "dataset"]).size()
    incomplete = set(counts[counts < len(seeds)].index.get_level_values("dataset"))
    out = [
        {
            "method": method,
            "dataset": dataset,
            "mse": group["mse"].mean(),
            "fit_impute_seconds": group["fit_impute_seconds"].mean(),
            "column_mse": column_means(group)
            if all(isinstance(t, str) for t in group.get("column_mse", [None]))
            else None,
        }
        for (method, dataset), group in rows.groupby(["method", "dataset"])
        if dataset not in incomplete
    ]
    return pd.DataFrame(
        out, columns=["method", "dataset", "mse", "fit_impute_seconds", "column_mse"]
    )


def compare(before, after, seeds, skip=(), method="miwae"):
    """One row per table: the best peer, MIWAE before and ``method`` after,
    the ratio."""
    old = _rows(before, seeds, (*_PEERS, "miwae"))
    old = old[~old["dataset"].isin(skip)]
    new = _rows(after, seeds, (method,)).set_index("dataset")
    miwae = old[old["method"] == "miwae"].set_index("dataset")
    out = []
    for dataset, peers in old[old["method"].isin(_PEERS)].groupby("dataset"):
        if dataset not in miwae.index or dataset not in new.index:
            continue
        best = peers.loc[peers["mse"].idxmin()]
        was, now = miwae.loc[dataset], new.loc[dataset]
        mean = peers.loc[peers["method"] == "mean", "column_mse"]
        out.append(
            {
                "dataset": dataset,
                "best_peer": best["method"],
                "peer_mse": best["mse"],
                "before": was["mse"],
                "after": now["mse"],
                "time_ratio": now["fit_impute_seconds"] / was["fit_impute_seconds"],
                "bad_columns": _bad_columns(now["column_mse"], next(iter(mean), None)),
            }
        )
    frame = pd.DataFrame(out)
    if len(frame):
        frame["ratio"] = frame["after"] / frame["peer_mse"]
    return frame


def _bad_columns(ours, mean):
    """Columns whose MSE is above 1.02 x the column mean's, as 'j: ratio'."""
    if not (isinstance(ours, np.ndarray) and isinstance(mean, np.ndarray)):
        return ""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ours / mean
    return ", ".join(
        f"{j}: {r:.2f}" for j, r in enumerate(ratio) if np.isfinite(r) and r > _TIE
    )


def report(pairs, seeds, method="miwae"):
    """Markdown: per rate, a table of every table and the counts."""
    after = "after" if method == "miwae" else method
    if method == "miwae":
        words = ("before", "after", "After / before", "MIWAE before", "MIWAE after")
    else:
        words = ("for MIWAE", f"for {method}", f"{method} / MIWAE", "MIWAE", method)
    if len(seeds) == 1:
        seeds = f"seed {seeds[0]}"
    else:
        seeds = f"seeds {', '.join(map(str, seeds))} (mean MSE)"
    parts = []
    for rate, frames in pairs.items():
        frame = pd.concat(frames, ignore_index=True).drop_duplicates("dataset")
        frame = frame.sort_values("dataset")
        wins_before = int((frame["before"] <= _TIE * frame["peer_mse"]).sum())
        wins_after = int((frame["ratio"] <= _TIE).sum())
        better = frame["after"] / frame["before"]
        header = ["table", "best peer", "peer MSE", words[3], words[4]]
        header += [f"{after} / peer", f"columns > 1.02 × mean ({after})"]
        lines = [
            [r.dataset, r.best_peer, f"{r.peer_mse:.3f}", f"{r.before:.3f}"]
            + [f"{r.after:.3f}", bold(f"{r.ratio:.2f}", r.ratio <= _TIE), r.bad_columns]
            for r in frame.itertuples()
        ]
        parts += [
            f"### {rate:.0%} MCAR, {seeds}: {len(frame)} tables",
            f"MIWAE ties (within 2%) or beats the best peer on {wins_before} "
            f"tables {words[0]} and {wins_after} {words[1]}. {words[2]}: geometric "
            f"mean {np.exp(np.log(better).mean()):.3f}, lower by more than 1% "
            f"on {int((better < 0.99).sum())}, higher by more than 1% on "
            f"{int((better > 1.01).sum())}; fit-plus-transform time ratio "
            f"median {frame['time_ratio'].median():.2f}.",
            markdown_table(header, lines),
        ]
    return "\n\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks report rates")
    parser.add_argument(
        "--rate",
        nargs=3,
        action="append",
        metavar=("RATE", "BEFORE", "AFTER"),
        required=True,
        help="a missing rate, the folder of the peers and MIWAE before, and "
        "the folder of MIWAE after (repeatable; join folders with '+')",
    )
    parser.add_argument(
        "--seed", type=int, nargs="+", default=[0], help="seeds (several: mean MSE)"
    )
    parser.add_argument("--skip", nargs="*", default=(), help="tables to leave out")
    parser.add_argument(
        "--after-method", default="miwae", help="the AFTER folders' method (miwae)"
    )
    args = parser.parse_args(argv)
    pairs = {}
    for rate, before, after in args.rate:
        pairs.setdefault(float(rate), []).append(
            compare(before, after, args.seed, args.skip, args.after_method)
        )
    for rate, frames in pairs.items():
        if all(frame.empty for frame in frames):
            parser.error(
                f"no table at rate {rate:g} has rows of the peers and MIWAE in "
                f"BEFORE and of {args.after_method} in AFTER at every seed of "
                f"{args.seed}: check the folders and --seed."
            )
    print(report(pairs, args.seed, args.after_method))


if __name__ == "__main__":
    main()
