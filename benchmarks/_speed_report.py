"""Markdown of ``benchmarks.speed``: one section per measurement.

Runs stored before the plain ``torch.distributions`` port was dropped from the
study keep its two columns, which the training table shows for them alone.
"""

from functools import partial

from ._report import markdown_table

__all__ = ["render"]


def _table(header, cell, rows):
    """A table of the ``|``-separated ``header`` and ``cell`` (row keys filled)."""
    cells = [[part.format(**row) for part in cell.split("|")] for row in rows]
    return markdown_table(header.split("|"), cells)


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
    return f"### {heading}\n\n{text}\n\n{_table(header, cell, rows)}"


def _ops(ops, unit):
    header = f"op|calls/{unit}|self ms/{unit}|share"
    return _table(header, "`{op}`|{calls:.1f}|{self_ms:.3f}|{share:.1%}", ops)


def _profile(results):
    L = results["imputation"][0]["L"] if results["imputation"] else "?"
    return "\n\n".join(
        [
            "### Where the time goes (`torch.profiler`, top ops by self CPU time)",
            "One training step (breast, defaults):",
            _ops(results["profile"], "step"),
            f"`transform` at L={L} (white), per 1,000 rows, on one thread (each "
            "pooled worker runs its chunks so):",
            _ops(results["profile_imputation"], "1k rows"),
        ]
    )


#: The plain sections: heading and text (formatted with the results), the
#: table's header and cell, and any cell keys computed from a stored row.
_TABLES = {
    "imputation": (
        "Imputation throughput (`transform`, one fresh process per case)",
        "Peak RSS is the process's `ru_maxrss`; 'added' is its growth during "
        "the timed transform.",
        "data|L|rows|rows/s|M samples/s|GFLOP/s|of GEMM peak|peak RSS MiB|added MiB",
        "{dataset}|{L}|{n_rows}|{rows_per_s:.0f}|{samples:.2f}|{gflops:.1f}"
        "|{share_of_peak:.1%}|{peak_rss_mib:.0f}|{added:.0f}",
        lambda r: {
            "samples": r["rows_per_s"] * r["L"] / 1e6,
            "added": r["peak_rss_mib"] - r["rss_before_mib"],
        },
    ),
    "scaling": (
        "Scaling with n (synthetic, p={scaling_features}, 50% MCAR)",
        "The setup (standardisation, tensors) is timed on all n rows; the "
        "epoch and the transform on the timed rows, then scaled to n by "
        "their per-row cost. Slope of log(time) against log(n): fit epoch "
        "**{scaling_slopes[fit_epoch_s]:.2f}**, transform "
        "**{scaling_slopes[transform_s]:.2f}** (1 = linear).",
        "n|setup s|fit epoch s|µs/row (epoch)|timed rows|transform s"
        "|µs/row (transform)|timed rows",
        "{n:.0e}|{setup_s:.3f}|{fit_epoch_s:.2f}|{us_per_row_epoch:.1f}"
        "|{timed_train_rows}|{transform_s:.2f}|{us_per_row_transform:.0f}"
        "|{timed_transform_rows}",
    ),
    "batched": (
        "Batched training: M fits side by side (`fit_side_by_side`)",
        "Seconds (median) of one default fit for the epochs shown, of M "
        "fits one after another (seeds 0 to M - 1, one run), and of the "
        "same M fits trained side by side as one batched model; in "
        "brackets, the ratio to one fit (50% MCAR, seed 0).",
        "data|epochs|M|one fit s|M in turn s|M side by side s",
        "{dataset}|{epochs}|{models}|{one:.1f}|{in_turn:.1f} ({in_turn_ratio:.2f})"
        "|**{side_by_side:.1f} ({side_ratio:.2f})**",
        lambda r: {
            "in_turn_ratio": r["in_turn"] / r["one"],
            "side_ratio": r["side_by_side"] / r["one"],
        },
    ),
    "paper_sets": (
        "Default fit + transform on the paper's data sets (50% MCAR, seed 0)",
        "`MIWAEImputer(random_state=0)`, everything at its default; "
        "standardised MSE on the removed cells.",
        "data|shape|fit s|transform s|total s|MSE",
        "{dataset}|{shape}|{fit_s:.1f}|{transform_s:.1f}|**{seconds:.1f}**|{mse:.3f}",
        lambda r: {"shape": " x ".join(str(n) for n in r["shape"])},
    ),
    "peers": (
        "Against the peers (50% MCAR, seed 0, standardised MSE)",
        "missForest-style: `IterativeImputer(ExtraTreesRegressor(n_estimators"
        "=100, max_depth=8), max_iter=10)`; knn (ours): `make_imputer('knn')`, "
        "k chosen on held-out observed cells.",
        "data|method|fit+transform s|time / miwae|MSE",
        "{dataset}|{method}|{seconds:.2f}|{time_vs_miwae:.2f}|{mse:.3f}",
    ),
}


def _plain_section(key, results):
    heading, text, header, cell, *computed = _TABLES[key]
    rows = [row | (computed[0](row) if computed else {}) for row in results[key]]
    table = _table(header, cell, rows)
    return f"### {heading.format(**results)}\n\n{text.format(**results)}\n\n{table}"


_SECTIONS = {"training": _training, "profile": _profile}
_SECTIONS |= {key: partial(_plain_section, key) for key in _TABLES}

#: The figures of the before/after table, per section: label (which names the
#: row, so that a row of one run meets the same row of the other), key, format.
_COMPARED = {
    "training": [
        ("training step, {dataset} (p={p}), ms", "ms_per_step", ".2f"),
        ("training step, {dataset}, share of GEMM peak", "share_of_peak", ".1%"),
    ],
    "imputation": [
        ("transform, {dataset}, L={L}, rows/s", "rows_per_s", ".0f"),
        ("transform, {dataset}, L={L}, peak RSS MiB", "peak_rss_mib", ".0f"),
    ],
    "paper_sets": [
        ("fit + transform, {dataset}, s", "seconds", ".1f"),
        ("MSE, {dataset}", "mse", ".3f"),
    ],
}


def _figures(results):
    """The compared figures of a run: label to (value, format)."""
    return {
        label.format(**row): (row[key], spec)
        for section, figures in _COMPARED.items()
        for row in results.get(section) or ()
        for label, key, spec in figures
    }


def _compare_section(before, after):
    old = _figures(before)
    rows = [
        [label, format(old[label][0], spec), format(new, spec)]
        + [f"{new / old[label][0]:.2f}"]
        for label, (new, spec) in _figures(after).items()
        if label in old
    ]
    text = (
        f"Before: the run at commit {before.get('git_commit', '?')} "
        f"({before['threads']} thread(s)); after: this run, commit "
        f"{after.get('git_commit', '?')}. Each run on the idle machine, one "
        "after the other."
    )
    table = markdown_table(["figure", "before", "after", "after / before"], rows)
    return f"### Before and after\n\n{text}\n\n{table}"


def render(results, before=None):
    """Markdown of the tables of ``results`` (from ``run_speed``), with a
    before/after table where ``before`` holds the results of an earlier run."""
    parts = [f"{results['threads']} torch/BLAS thread(s)."]
    if results.get("quick"):
        parts[0] = "QUICK MODE (smoke-test budgets, not benchmarks). " + parts[0]
    if before is not None:
        parts.append(_compare_section(before, results))
    parts += [
        section(results) for key, section in _SECTIONS.items() if results.get(key)
    ]
    if spent := results.get("section_seconds"):
        spent = ", ".join(f"{key} {value:.0f} s" for key, value in spent.items())
        parts.append(f"Wall time per measurement: {spent}.")
    return "\n\n".join(parts) + "\n"
