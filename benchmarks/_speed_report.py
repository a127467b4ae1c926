"""Markdown tables of ``benchmarks.speed``: one section per measurement."""

import datetime
import os
import shlex

from ._report import markdown_table
from ._runner import cpu_model, git_commit, report_page

__all__ = ["page", "render"]


def _training_section(results):
    d = results["defaults"]
    rows = [
        [
            r["dataset"],
            r["p"],
            r["n_rows"],
            f"{r['ms_per_step']:.2f}",
            f"{r['steps_per_s']:.0f}",
            f"{r['gflops']:.1f}",
            f"{r['share_of_peak']:.1%}",
            f"{r['plain_ms_per_step']:.2f}",
            f"{r['speedup_vs_plain']:.1f}x",
        ]
        for r in results["training"]
    ]
    return "\n\n".join(
        [
            "### Training throughput (real `MIWAEImputer._epoch`, defaults)",
            f"Defaults: hidden {tuple(d['hidden_layer_sizes'])}, latent "
            f"{d['latent_dim']}, {d['activation']}, K={d['K']}, batch "
            f"{d['batch_size']}. GEMM peak of this machine (float32 "
            f"`torch.matmul`, median): **{results['gemm_gflops']:.1f} GFLOP/s**. "
            "GFLOP/s counts encoder and decoder matmuls only (forward "
            "2·rows·in·out per Linear, backward twice that). The plain port is "
            "the same networks and bound written with `torch.distributions` and "
            "`nn.Tanh`, timed in the same process.",
            markdown_table(
                [
                    "data",
                    "p",
                    "rows/epoch",
                    "ms/step",
                    "steps/s",
                    "GFLOP/s",
                    "of GEMM peak",
                    "plain port ms/step",
                    "speed-up vs plain",
                ],
                rows,
            ),
        ]
    )


def _ops_table(ops, unit):
    rows = [
        [f"`{op['op']}`", f"{op['calls']:.1f}", f"{op['self_ms']:.3f}"]
        + [f"{op['share']:.1%}"]
        for op in ops
    ]
    return markdown_table(["op", f"calls/{unit}", f"self ms/{unit}", "share"], rows)


def _profile_section(results):
    L = results["imputation"][0]["L"] if results["imputation"] else "?"
    return "\n\n".join(
        [
            "### Where the time goes (`torch.profiler`, top ops by self CPU time)",
            "One training step (breast, defaults):",
            _ops_table(results["profile"], "step"),
            f"`transform` at L={L} (white), per 1,000 rows, on one thread (each "
            "pooled worker runs its chunks so):",
            _ops_table(results["profile_imputation"], "1k rows"),
        ]
    )


def _imputation_section(results):
    rows = [
        [
            r["dataset"],
            r["L"],
            r["n_rows"],
            f"{r['rows_per_s']:.0f}",
            f"{r['rows_per_s'] * r['L'] / 1e6:.2f}",
            f"{r['gflops']:.1f}",
            f"{r['share_of_peak']:.1%}",
            f"{r['peak_rss_mib']:.0f}",
            f"{r['peak_rss_mib'] - r['rss_before_mib']:.0f}",
        ]
        for r in results["imputation"]
    ]
    return "\n\n".join(
        [
            "### Imputation throughput (`transform`, one fresh process per case)",
            "Peak RSS is the process's `ru_maxrss`; 'added' is its growth during "
            "the timed transform.",
            markdown_table(
                [
                    "data",
                    "L",
                    "rows",
                    "rows/s",
                    "M samples/s",
                    "GFLOP/s",
                    "of GEMM peak",
                    "peak RSS MiB",
                    "added MiB",
                ],
                rows,
            ),
        ]
    )


def _scaling_section(results):
    rows = [
        [
            f"{r['n']:.0e}",
            f"{r['setup_s']:.3f}",
            f"{r['fit_epoch_s']:.2f}",
            f"{r['us_per_row_epoch']:.1f}",
            f"{r['timed_train_rows']}",
            f"{r['transform_s']:.2f}",
            f"{r['us_per_row_transform']:.0f}",
            f"{r['timed_transform_rows']}",
        ]
        for r in results["scaling"]
    ]
    slopes, n_features = results["scaling_slopes"], results["scaling_features"]
    return "\n\n".join(
        [
            f"### Scaling with n (synthetic, p={n_features}, 50% MCAR)",
            "The setup (standardisation, tensors) is timed on all n rows; the "
            "epoch and the transform on the timed rows, then scaled to n by "
            "their per-row cost. Slope of log(time) against log(n): fit epoch "
            f"**{slopes['fit_epoch_s']:.2f}**, transform "
            f"**{slopes['transform_s']:.2f}** (1 = linear).",
            markdown_table(
                [
                    "n",
                    "setup s",
                    "fit epoch s",
                    "µs/row (epoch)",
                    "timed rows",
                    "transform s",
                    "µs/row (transform)",
                    "timed rows",
                ],
                rows,
            ),
        ]
    )


def _peers_section(results):
    rows = [
        [
            r["dataset"],
            r["method"],
            f"{r['seconds']:.2f}",
            f"{r['time_vs_miwae']:.2f}",
            f"{r['mse']:.3f}",
        ]
        for r in results["peers"]
    ]
    return "\n\n".join(
        [
            "### Against the peers (50% MCAR, seed 0, standardised MSE)",
            "missForest-style: `IterativeImputer(ExtraTreesRegressor(n_estimators"
            "=100, max_depth=8), max_iter=10)`; knn (ours): `make_imputer('knn')`, "
            "k chosen on held-out observed cells.",
            markdown_table(
                ["data", "method", "fit+transform s", "time / miwae", "MSE"], rows
            ),
        ]
    )


def _paper_sets_section(results):
    rows = [
        [
            r["dataset"],
            " x ".join(str(n) for n in r["shape"]),
            f"{r['fit_s']:.1f}",
            f"{r['transform_s']:.1f}",
            f"**{r['seconds']:.1f}**",
            f"{r['mse']:.3f}",
        ]
        for r in results["paper_sets"]
    ]
    return "\n\n".join(
        [
            "### Default fit + transform on the paper's data sets (50% MCAR, seed 0)",
            "`MIWAEImputer(random_state=0)`, everything at its default; "
            "standardised MSE on the removed cells.",
            markdown_table(
                ["data", "shape", "fit s", "transform s", "total s", "MSE"], rows
            ),
        ]
    )


def _batched_section(results):
    rows = [
        [
            r["dataset"],
            str(r["epochs"]),
            str(r["models"]),
            f"{r['one']:.1f}",
            f"{r['in_turn']:.1f} ({r['in_turn'] / r['one']:.2f})",
            f"**{r['side_by_side']:.1f} ({r['side_by_side'] / r['one']:.2f})**",
        ]
        for r in results["batched"]
    ]
    return "\n\n".join(
        [
            "### Batched training: M fits side by side (`fit_side_by_side`)",
            "Seconds (median) of one default fit for the epochs shown, of M "
            "fits one after another (seeds 0 to M - 1, one run), and of the "
            "same M fits trained side by side as one batched model; in "
            "brackets, the ratio to one fit (50% MCAR, seed 0).",
            markdown_table(
                ["data", "epochs", "M", "one fit s", "M in turn s", "M side by side s"],
                rows,
            ),
        ]
    )


def _matched(before, after, section, *keys):
    """(after's row, before's row with the same ``keys`` or None) of a section."""
    old = {tuple(r[k] for k in keys): r for r in before.get(section) or ()}
    for row in after.get(section) or ():
        yield row, old.get(tuple(row[k] for k in keys))


def _compare_rows(before, after):
    """(figure, before, after, after / before) rows of two runs' figures."""
    rows = []

    def add(figure, old, new, key, fmt):
        if old is not None:
            old, new = old[key], new[key]
            rows.append([figure, fmt.format(old), fmt.format(new), f"{new / old:.2f}"])

    for row, old in _matched(before, after, "training", "dataset"):
        name = row["dataset"]
        add(
            f"training step, {name} (p={row['p']}), ms",
            old,
            row,
            "ms_per_step",
            "{:.2f}",
        )
        add(
            f"training step, {name}, share of GEMM peak",
            old,
            row,
            "share_of_peak",
            "{:.1%}",
        )
    for row, old in _matched(before, after, "imputation", "dataset", "L"):
        case = f"transform, {row['dataset']}, L={row['L']}"
        add(f"{case}, rows/s", old, row, "rows_per_s", "{:.0f}")
        add(f"{case}, peak RSS MiB", old, row, "peak_rss_mib", "{:.0f}")
    for row, old in _matched(before, after, "paper_sets", "dataset"):
        name = row["dataset"]
        add(f"fit + transform, {name}, s", old, row, "seconds", "{:.1f}")
        add(f"MSE, {name}", old, row, "mse", "{:.3f}")
    return rows


def _compare_section(before, after):
    return "\n\n".join(
        [
            "### Before and after",
            f"Before: the run at commit {before.get('git_commit', '?')} "
            f"({before['threads']} thread(s)); after: this run, commit "
            f"{after.get('git_commit', '?')}. Each run on the idle machine, one "
            "after the other.",
            markdown_table(
                ["figure", "before", "after", "after / before"],
                _compare_rows(before, after),
            ),
        ]
    )


def render(results, quick=False, before=None):
    """Markdown of all the tables of ``results``.

    Parameters
    ----------
    results : dict
        From :func:`run_speed`.
    quick : bool
        Mark the report as a smoke test.
    before : dict, default=None
        The results of an earlier run, for a before/after table.

    Returns
    -------
    markdown : str
    """
    header = f"{results['threads']} torch/BLAS thread(s)."
    if quick:
        header = "QUICK MODE (smoke-test budgets, not benchmarks). " + header
    sections = [
        ("training", _training_section),
        ("profile", _profile_section),
        ("imputation", _imputation_section),
        ("scaling", _scaling_section),
        ("batched", _batched_section),
        ("paper_sets", _paper_sets_section),
        ("peers", _peers_section),
    ]
    parts = [header]
    if before is not None:
        parts.append(_compare_section(before, results))
    parts += [section(results) for key, section in sections if results.get(key)]
    spent = results.get("section_seconds", {})
    if spent:
        spent = ", ".join(f"{key} {value:.0f} s" for key, value in spent.items())
        parts.append(f"Wall time per measurement: {spent}.")
    return "\n\n".join(parts) + "\n"


def page(argv, threads, markdown, wall):
    """``REPORT.md``: the tables under the command, machine and date."""
    command = "python -m benchmarks.speed " + shlex.join(argv)
    lines = [
        f"- command: `{command}`",
        f"- machine: {os.cpu_count()} cores, {cpu_model()}; {threads} "
        "torch/BLAS thread(s)",
        f"- date: {datetime.date.today().isoformat()}; commit {git_commit()}; "
        f"wall time of the command: {wall:.0f} s",
    ]
    return report_page("Speed", lines, markdown)
