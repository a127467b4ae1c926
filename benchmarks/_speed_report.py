"""Markdown of ``benchmarks.speed``: one section per measurement, and REPORT.md.

Runs stored before the plain ``torch.distributions`` port was dropped from the
study keep its two columns, which the training table shows for them alone.
"""

import datetime
import os
import shlex

from ._report import markdown_table
from ._runner import cpu_model, git_commit, report_page

__all__ = ["page", "render"]


def _section(heading, text, header, cell, rows):
    """A section: heading, text, then a table whose columns are the
    ``|``-separated ``header`` and ``cell``, formatted with each row's keys."""
    cells = [cell.format(**row).split("|") for row in rows]
    return f"### {heading}\n\n{text}\n\n{markdown_table(header.split('|'), cells)}"


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
    if "plain_ms_per_step" in rows[0]:
        text += (
            " The plain port is the same networks and bound written with "
            "`torch.distributions` and `nn.Tanh`, timed in the same process."
        )
        header += "|plain port ms/step|speed-up vs plain"
        cell += "|{plain_ms_per_step:.2f}|{speedup_vs_plain:.1f}x"
    heading = "Training throughput (real `MIWAEImputer._epoch`, defaults)"
    return _section(heading, text, header, cell, rows)


def _ops_table(ops, unit):
    rows = [
        [f"`{op['op']}`", f"{op['calls']:.1f}", f"{op['self_ms']:.3f}"]
        + [f"{op['share']:.1%}"]
        for op in ops
    ]
    return markdown_table(["op", f"calls/{unit}", f"self ms/{unit}", "share"], rows)


def _profile(results):
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


def _imputation(results):
    rows = [
        {
            **r,
            "samples": r["rows_per_s"] * r["L"] / 1e6,
            "added": r["peak_rss_mib"] - r["rss_before_mib"],
        }
        for r in results["imputation"]
    ]
    return _section(
        "Imputation throughput (`transform`, one fresh process per case)",
        "Peak RSS is the process's `ru_maxrss`; 'added' is its growth during "
        "the timed transform.",
        "data|L|rows|rows/s|M samples/s|GFLOP/s|of GEMM peak|peak RSS MiB|added MiB",
        "{dataset}|{L}|{n_rows}|{rows_per_s:.0f}|{samples:.2f}|{gflops:.1f}"
        "|{share_of_peak:.1%}|{peak_rss_mib:.0f}|{added:.0f}",
        rows,
    )


def _scaling(results):
    slopes = results["scaling_slopes"]
    return _section(
        f"Scaling with n (synthetic, p={results['scaling_features']}, 50% MCAR)",
        "The setup (standardisation, tensors) is timed on all n rows; the "
        "epoch and the transform on the timed rows, then scaled to n by "
        "their per-row cost. Slope of log(time) against log(n): fit epoch "
        f"**{slopes['fit_epoch_s']:.2f}**, transform "
        f"**{slopes['transform_s']:.2f}** (1 = linear).",
        "n|setup s|fit epoch s|µs/row (epoch)|timed rows|transform s"
        "|µs/row (transform)|timed rows",
        "{n:.0e}|{setup_s:.3f}|{fit_epoch_s:.2f}|{us_per_row_epoch:.1f}"
        "|{timed_train_rows}|{transform_s:.2f}|{us_per_row_transform:.0f}"
        "|{timed_transform_rows}",
        results["scaling"],
    )


def _batched(results):
    rows = [
        {
            **r,
            "in_turn_ratio": r["in_turn"] / r["one"],
            "side_ratio": r["side_by_side"] / r["one"],
        }
        for r in results["batched"]
    ]
    return _section(
        "Batched training: M fits side by side (`fit_side_by_side`)",
        "Seconds (median) of one default fit for the epochs shown, of M "
        "fits one after another (seeds 0 to M - 1, one run), and of the "
        "same M fits trained side by side as one batched model; in "
        "brackets, the ratio to one fit (50% MCAR, seed 0).",
        "data|epochs|M|one fit s|M in turn s|M side by side s",
        "{dataset}|{epochs}|{models}|{one:.1f}|{in_turn:.1f} ({in_turn_ratio:.2f})"
        "|**{side_by_side:.1f} ({side_ratio:.2f})**",
        rows,
    )


def _paper_sets(results):
    rows = [
        {**r, "shape": " x ".join(str(n) for n in r["shape"])}
        for r in results["paper_sets"]
    ]
    return _section(
        "Default fit + transform on the paper's data sets (50% MCAR, seed 0)",
        "`MIWAEImputer(random_state=0)`, everything at its default; "
        "standardised MSE on the removed cells.",
        "data|shape|fit s|transform s|total s|MSE",
        "{dataset}|{shape}|{fit_s:.1f}|{transform_s:.1f}|**{seconds:.1f}**|{mse:.3f}",
        rows,
    )


def _peers(results):
    return _section(
        "Against the peers (50% MCAR, seed 0, standardised MSE)",
        "missForest-style: `IterativeImputer(ExtraTreesRegressor(n_estimators"
        "=100, max_depth=8), max_iter=10)`; knn (ours): `make_imputer('knn')`, "
        "k chosen on held-out observed cells.",
        "data|method|fit+transform s|time / miwae|MSE",
        "{dataset}|{method}|{seconds:.2f}|{time_vs_miwae:.2f}|{mse:.3f}",
        results["peers"],
    )


_SECTIONS = {
    "training": _training,
    "profile": _profile,
    "imputation": _imputation,
    "scaling": _scaling,
    "batched": _batched,
    "paper_sets": _paper_sets,
    "peers": _peers,
}

#: Per section of the before/after table: the keys that match a row of one run
#: to a row of the other, and per figure its label, key and format.
_COMPARED = {
    "training": (
        ("dataset",),
        [
            ("training step, {dataset} (p={p}), ms", "ms_per_step", ".2f"),
            ("training step, {dataset}, share of GEMM peak", "share_of_peak", ".1%"),
        ],
    ),
    "imputation": (
        ("dataset", "L"),
        [
            ("transform, {dataset}, L={L}, rows/s", "rows_per_s", ".0f"),
            ("transform, {dataset}, L={L}, peak RSS MiB", "peak_rss_mib", ".0f"),
        ],
    ),
    "paper_sets": (
        ("dataset",),
        [
            ("fit + transform, {dataset}, s", "seconds", ".1f"),
            ("MSE, {dataset}", "mse", ".3f"),
        ],
    ),
}


def _compare_section(before, after):
    rows = []
    for section, (keys, figures) in _COMPARED.items():
        earlier = {tuple(r[k] for k in keys): r for r in before.get(section) or ()}
        for new in after.get(section) or ():
            old = earlier.get(tuple(new[k] for k in keys))
            if old is None:
                continue
            rows += [
                [label.format(**new), format(old[key], spec), format(new[key], spec)]
                + [f"{new[key] / old[key]:.2f}"]
                for label, key, spec in figures
            ]
    return "\n\n".join(
        [
            "### Before and after",
            f"Before: the run at commit {before.get('git_commit', '?')} "
            f"({before['threads']} thread(s)); after: this run, commit "
            f"{after.get('git_commit', '?')}. Each run on the idle machine, one "
            "after the other.",
            markdown_table(["figure", "before", "after", "after / before"], rows),
        ]
    )


def render(results, quick=False, before=None):
    """Markdown of the tables of ``results`` (from ``run_speed``), marked as a
    smoke test if ``quick``, with a before/after table if ``before`` holds the
    results of an earlier run."""
    header = f"{results['threads']} torch/BLAS thread(s)."
    if quick:
        header = "QUICK MODE (smoke-test budgets, not benchmarks). " + header
    parts = [header]
    if before is not None:
        parts.append(_compare_section(before, results))
    parts += [
        section(results) for key, section in _SECTIONS.items() if results.get(key)
    ]
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
