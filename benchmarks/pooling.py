"""What multiple imputation buys (issue 15): inference, prediction, calibration.

Three experiments, each a subcommand that appends its rows to
``OUT/results.csv`` as they finish (a rerun skips what is there, so an
interrupted run resumes) and writes ``OUT/table.md``:

``coverage``
    Simulated linear regression with known coefficients: y = 1 + x0 - 0.5 x1
    + 0.5 x2 + 0 x3 + e, e ~ N(0, 1), the x's standard normal with
    correlation 0.5, n = 500 rows. In x0, x1 and x2, ``--missing-rate`` of
    the cells are removed (30% of all covariate cells at 0.4); x3 and y stay
    observed. MCAR removes cells independently; MAR removes x0 and x1 where y
    is high and x2 where x3 is high (logistic, logits of standard deviation
    2, rate calibrated per column). Each replication compares OLS on the full
    data (the reference), complete-case OLS, OLS on MIWAE's single imputation
    (the conditional mean), OLS on m = 5 and m = 20 of MIWAE's draws pooled by
    Rubin's rules, and statsmodels' MICE with 20 imputations (the anchor).
    MIWAE is fitted on [X, y], as :class:`~miwae_impute.MultipleImputationEstimator`
    fits it, and its pooling is the estimator's own (``_rubin``, with
    Barnard-Rubin degrees of freedom).

Usage::

    python -m benchmarks.pooling coverage --mechanism mcar --replications 100 \\
        --out benchmarks/results/pooling-coverage-mcar
    python -m benchmarks.pooling report --coverage \\
        benchmarks/results/pooling-coverage-mcar \\
        benchmarks/results/pooling-coverage-mar --write-benchmarks-md BENCHMARKS.md
"""

import argparse
import datetime
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import _report
from .missingness import _calibrated_draw, _rescaled
from .uci import _cpu_model, _git_commit, _run_context, _versions

#: The simulation's coefficients: intercept, then x0..x3.
BETA = {"intercept": 1.0, "x0": 1.0, "x1": -0.5, "x2": 0.5, "x3": 0.0}
_FEATURES = ["x0", "x1", "x2", "x3"]
_INCOMPLETE = ["x0", "x1", "x2"]
_N_ROWS = 500
_CORRELATION = 0.5
_MAR_STRENGTH = 2.0
_MECHANISMS = ("mcar", "mar")
#: Analyses of the coverage experiment, in the tables' row order.
ANALYSES = (
    "full data",
    "complete case",
    "MIWAE single (mean)",
    "MIWAE MI, m=5",
    "MIWAE MI, m=20",
    "statsmodels MICE, m=20",
)
_ALPHA = 0.05


# -- coverage: the simulation ---------------------------------------------------
def simulate(replication, mechanism, missing_rate, n_rows=_N_ROWS):
    """One replication's complete data and its incomplete copy.

    Parameters
    ----------
    replication : int
        Seeds the data and the mask.
    mechanism : {"mcar", "mar"}
    missing_rate : float
        Share of removed cells in each of x0, x1 and x2.
    n_rows : int, default=500

    Returns
    -------
    complete, incomplete : DataFrame
        Columns x0..x3 and y; ``incomplete`` has NaN where cells were removed.
    """
    rng = np.random.default_rng([replication, _MECHANISMS.index(mechanism)])
    p = len(_FEATURES)
    cov = np.full((p, p), _CORRELATION) + (1 - _CORRELATION) * np.eye(p)
    X = rng.multivariate_normal(np.zeros(p), cov, size=n_rows)
    beta = np.array([BETA[name] for name in _FEATURES])
    y = BETA["intercept"] + X @ beta + rng.normal(size=n_rows)
    complete = pd.DataFrame(X, columns=_FEATURES).assign(y=y)
    if mechanism == "mcar":
        mask = rng.random((n_rows, len(_INCOMPLETE))) < missing_rate
    else:
        drivers = np.column_stack([y, y, complete["x3"]])
        drivers = (drivers - drivers.mean(axis=0)) / drivers.std(axis=0)
        logits = _rescaled(drivers, _MAR_STRENGTH)
        mask = _calibrated_draw(logits, missing_rate, rng)
    incomplete = complete.copy()
    incomplete[_INCOMPLETE] = incomplete[_INCOMPLETE].mask(mask)
    return complete, incomplete


def _ols(frame):
    """Estimates, squared standard errors and residual df of y on x0..x3."""
    import statsmodels.api as sm

    fit = sm.OLS(frame["y"], sm.add_constant(frame[_FEATURES])).fit()
    return fit.params.to_numpy(), fit.bse.to_numpy() ** 2, fit.df_resid


def _t_intervals(estimates, variances, df):
    half = stats.t.ppf(1 - _ALPHA / 2, df) * np.sqrt(variances)
    return estimates - half, estimates + half


def _pooled(completions):
    """OLS on each completion, pooled by the package's Rubin's rules."""
    from miwae_impute._pooling import _rubin

    fits = [_ols(frame) for frame in completions]
    estimates = np.array([fit[0] for fit in fits])
    variances = np.array([fit[1] for fit in fits])
    mean, total, df, _ = _rubin(estimates, variances, df_complete=fits[0][2])
    return mean, total, df


def _mice(incomplete, replication, n_imputations=20):
    """statsmodels' MICE: its own imputation (predictive mean matching) and pooling.

    statsmodels draws from NumPy's global generator and has no seed parameter,
    so it is seeded here, with the replication.
    """
    import statsmodels.api as sm
    from statsmodels.imputation import mice

    np.random.seed(replication)  # noqa: NPY002 (statsmodels reads the global one)
    data = mice.MICEData(incomplete)
    formula = "y ~ " + " + ".join(_FEATURES)
    result = mice.MICE(formula, sm.OLS, data).fit(
        n_burnin=10, n_imputations=n_imputations
    )
    lower, upper = np.asarray(result.conf_int(_ALPHA)).T
    return np.asarray(result.params), np.asarray(result.bse) ** 2, lower, upper


def run_replication(replication, mechanism, missing_rate, imputer_params=None):
    """Every analysis of one replication; one row per (analysis, coefficient)."""
    from miwae_impute import MIWAEImputer

    complete, incomplete = simulate(replication, mechanism, missing_rate)
    timed = {}

    def record(analysis, start, estimates, variances, lower, upper):
        timed[analysis] = (estimates, variances, lower, upper)
        timed[analysis + " seconds"] = time.perf_counter() - start

    for analysis, frame in (
        ("full data", complete),
        ("complete case", incomplete.dropna()),
    ):
        start = time.perf_counter()
        est, var, df = _ols(frame)
        record(analysis, start, est, var, *_t_intervals(est, var, df))

    start = time.perf_counter()
    imputer = MIWAEImputer(random_state=replication, **(imputer_params or {}))
    single = imputer.fit_transform(incomplete)
    est, var, df = _ols(single)
    record("MIWAE single (mean)", start, est, var, *_t_intervals(est, var, df))

    start = time.perf_counter()
    draws = imputer.sample(incomplete, n_imputations=20)
    for m in (5, 20):
        est, var, df = _pooled(draws[:m])
        record(f"MIWAE MI, m={m}", start, est, var, *_t_intervals(est, var, df))

    start = time.perf_counter()
    record("statsmodels MICE, m=20", start, *_mice(incomplete, replication))

    rows = []
    finished = datetime.datetime.now().isoformat(timespec="seconds")
    for analysis in ANALYSES:
        estimates, variances, lower, upper = timed[analysis]
        for j, term in enumerate(BETA):
            rows.append(
                {
                    "mechanism": mechanism,
                    "missing_rate": missing_rate,
                    "replication": replication,
                    "analysis": analysis,
                    "term": term,
                    "truth": BETA[term],
                    "estimate": estimates[j],
                    "std_err": np.sqrt(variances[j]),
                    "lower": lower[j],
                    "upper": upper[j],
                    "seconds": timed[analysis + " seconds"],
                    "complete_rows": len(incomplete.dropna()),
                    "finished_at": finished,
                    **_versions(),
                }
            )
    return rows


def run_coverage(mechanism, missing_rate, replications, out, *, threads=1):
    """Run the missing replications, appending their rows to ``out/results.csv``."""
    path = Path(out) / "results.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if path.is_file():
        old = pd.read_csv(path)
        same = old[(old.mechanism == mechanism) & (old.missing_rate == missing_rate)]
        done = set(same.replication)
    for replication in range(replications):
        if replication in done:
            continue
        start = time.perf_counter()
        with _run_context(threads):
            rows = run_replication(replication, mechanism, missing_rate)
        pd.DataFrame(rows).to_csv(
            path, mode="a", header=not path.is_file(), index=False
        )
        print(
            f"{mechanism} replication {replication}: "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
    return pd.read_csv(path)


# -- coverage: the tables -------------------------------------------------------
def coverage_summary(rows):
    """Bias, coverage and width per (mechanism, analysis, term), over replications."""
    rows = rows.assign(
        error=rows.estimate - rows.truth,
        covered=(rows.lower <= rows.truth) & (rows.truth <= rows.upper),
        width=rows.upper - rows.lower,
    )
    grouped = rows.groupby(["mechanism", "missing_rate", "analysis", "term"])
    return grouped.agg(
        replications=("replication", "nunique"),
        bias=("error", "mean"),
        rmse=("error", lambda e: float(np.sqrt(np.mean(e**2)))),
        coverage=("covered", "mean"),
        width=("width", "mean"),
        seconds=("seconds", "median"),
    ).reset_index()


def coverage_tables(rows):
    """Markdown: per mechanism, coverage, bias and width of each analysis."""
    summary = coverage_summary(rows)
    parts = []
    terms = list(BETA)
    for (mechanism, rate), block in summary.groupby(["mechanism", "missing_rate"]):
        n = int(block.replications.max())
        complete_rows = rows[rows.mechanism == mechanism].complete_rows.median()
        parts.append(
            f"#### {mechanism.upper()}, {rate:.0%} of x0, x1, x2 removed "
            f"({n} replications; median {complete_rows:.0f} complete rows of "
            f"{_N_ROWS})"
        )
        monte_carlo = np.sqrt(0.95 * 0.05 / n)
        parts.append(
            f"Coverage of the 95% intervals (Monte Carlo standard error "
            f"{monte_carlo:.3f} at 0.95), then bias (estimate - truth) and mean "
            "width; 'slopes' is their mean over x0..x3 (of the absolute bias). "
            "Median seconds per replication (one thread) below: MIWAE's fit and "
            "mean, then its 20 draws."
        )
        header = ["analysis", *terms, "slopes"]
        for metric, fmt in (
            ("coverage", "{:.3f}"),
            ("bias", "{:+.3f}"),
            ("width", "{:.3f}"),
        ):
            lines = [
                f"**{metric}**",
                "",
                "| " + " | ".join(header) + " |",
                "|" + "---|" * len(header),
            ]
            for analysis in ANALYSES:
                cells = block[block.analysis == analysis].set_index("term")[metric]
                if cells.empty:
                    continue
                slopes = cells.drop("intercept")
                slopes = slopes.abs().mean() if metric == "bias" else slopes.mean()
                values = [fmt.format(cells[t]) for t in terms] + [fmt.format(slopes)]
                lines.append("| " + " | ".join([analysis, *values]) + " |")
            parts.append("\n".join(lines))
        seconds = block.groupby("analysis").seconds.median()
        parts.append(
            "Median seconds: "
            + ", ".join(f"{a} {seconds[a]:.1f}" for a in ANALYSES if a in seconds)
        )
    return "\n\n".join(parts)


# -- command line ---------------------------------------------------------------
def _write_section(path, section, title, argv, wall, markdown):
    command = "python -m benchmarks.pooling " + shlex.join(argv)
    body = "\n\n".join(
        [
            f"## {title}",
            f"- command: `{command}`",
            f"- machine: {os.cpu_count()} cores, {_cpu_model()}; one thread per run",
            f"- date: {datetime.date.today().isoformat()}; commit {_git_commit()}; "
            f"wall time of the command: {wall:.0f} s (rows already in the "
            "results.csv files are reused, not rerun)",
            markdown,
        ]
    )
    _report.update_benchmarks_md(path, section, body, tool="benchmarks.pooling")
    print(f"Updated {path} (section {section}).")


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pooling",
        description="What multiple imputation buys (issue 15)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    coverage = commands.add_parser("coverage", help="the regression simulation")
    coverage.add_argument("--mechanism", choices=_MECHANISMS, default="mcar")
    coverage.add_argument("--missing-rate", type=float, default=0.4)
    coverage.add_argument("--replications", type=int, default=100)
    coverage.add_argument("--threads", type=int, default=1)
    coverage.add_argument("--out", required=True)
    report = commands.add_parser("report", help="tables from result folders")
    report.add_argument("--coverage", nargs="*", default=[])
    report.add_argument("--write-benchmarks-md", metavar="PATH")
    return parser


def main(argv=None):
    """Command line entry point; see ``python -m benchmarks.pooling --help``.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    if args.command == "coverage":
        rows = run_coverage(
            args.mechanism,
            args.missing_rate,
            args.replications,
            args.out,
            threads=args.threads,
        )
        markdown = coverage_tables(rows)
        (Path(args.out) / "table.md").write_text(markdown + "\n")
        print(markdown)
        return 0
    rows = pd.concat([pd.read_csv(Path(d) / "results.csv") for d in args.coverage])
    markdown = coverage_tables(rows)
    print(markdown)
    if args.write_benchmarks_md:
        _write_section(
            args.write_benchmarks_md,
            "coverage",
            "Multiple imputation: coverage of pooled inference (issue 15)",
            argv,
            time.perf_counter() - start,
            markdown,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
