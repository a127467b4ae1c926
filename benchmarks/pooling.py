"""What multiple imputation buys (issue 15): inference, prediction, calibration.

Three experiments, each a subcommand that appends its rows to
``OUT/results.csv`` as they finish (a rerun skips what is there, so an
interrupted run resumes) and writes ``OUT/table.md``; ``report`` renders the
tables of stored folders (and ``DIR/REPORT.md`` with ``--out DIR``).

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
    Barnard-Rubin degrees of freedom). ``--bootstrap`` runs only the
    estimator's default instead (``bootstrap=True``, m = 5: five MIWAE fits
    on bootstrap resamples, one completion each); give it its own OUT.

``prediction``
    The MIWAE paper's MNIST experiment on the UCI sets with a label
    (banknote, breast, the wines' quality, yeast): standardise the features,
    split 70/30 (stratified, by the seed), remove ``--missing-rate`` of the
    feature cells MCAR in both parts, then predict the test labels with a
    logistic regression and a HistGradientBoosting classifier, each trained
    on MIWAE's single imputation (the imputer fitted on the training
    features) and pooled over m of MIWAE's draws (MultipleImputationEstimator
    with ``bootstrap=False``, the imputer fitted once on the training
    features and label; both classifiers share its fit through
    :class:`~sklearn.frozen.FrozenEstimator`), and HistGradientBoosting on
    the incomplete features (its native handling of NaN). The same
    classifiers on the complete data are the reference. Accuracy and
    log-loss on the test rows.

``calibration``
    The paper's UCI protocol (standardise, 50% MCAR, ``fit`` on the whole
    table): per removed cell, the central intervals of 100 draws of
    ``sample`` at the levels 5%, 10%, ..., 95%; the share of true values
    inside. With n draws a perfectly calibrated sampler scores about
    c (n - 1) / (n + 1) at level c (``perfect_coverage``).

Usage::

    python -m benchmarks.pooling coverage --mechanism mar --out OUT
    python -m benchmarks.pooling report --coverage OUT --out benchmarks/results/pooling
"""

import argparse
import datetime
import functools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ._report import markdown_table
from ._results import ResultStore
from ._runner import run_context, versions, write_gathered_report
from .datasets import (
    DATASETS,
    LABELLED_DATASETS,
    load_dataset,
    load_labelled,
    standardize,
)
from .missingness import _calibrated_draw, _rescaled, mcar
from .uci import interval_coverage

#: The simulation's coefficients: intercept, then x0..x3.
BETA = {"intercept": 1.0, "x0": 1.0, "x1": -0.5, "x2": 0.5, "x3": 0.0}
_FEATURES = ["x0", "x1", "x2", "x3"]
_INCOMPLETE = ["x0", "x1", "x2"]
_N_ROWS = 500
_MECHANISMS = ("mcar", "mar")
#: Analyses of the coverage experiment, in the tables' row order.
ANALYSES = (
    "full data",
    "complete case",
    "MIWAE single (mean)",
    "MIWAE MI, m=5",
    "MIWAE MI, m=20",
    "MIWAE bootstrap MI, m=5",
    "statsmodels MICE, m=20",
)
_ALPHA = 0.05


# -- coverage: the simulation ---------------------------------------------------
def simulate(replication, mechanism, missing_rate, n_rows=_N_ROWS):
    """One replication's complete data (x0..x3, y) and its incomplete copy."""
    rng = np.random.default_rng([replication, _MECHANISMS.index(mechanism)])
    p = len(_FEATURES)
    cov = np.full((p, p), 0.5) + 0.5 * np.eye(p)  # correlation 0.5
    X = rng.multivariate_normal(np.zeros(p), cov, size=n_rows)
    beta = np.array([BETA[name] for name in _FEATURES])
    y = BETA["intercept"] + X @ beta + rng.normal(size=n_rows)
    complete = pd.DataFrame(X, columns=_FEATURES).assign(y=y)
    if mechanism == "mcar":
        mask = rng.random((n_rows, len(_INCOMPLETE))) < missing_rate
    else:
        drivers = np.column_stack([y, y, complete["x3"]])
        drivers = (drivers - drivers.mean(axis=0)) / drivers.std(axis=0)
        mask = _calibrated_draw(_rescaled(drivers, 2.0), missing_rate, rng)
    incomplete = complete.copy()
    incomplete[_INCOMPLETE] = incomplete[_INCOMPLETE].mask(mask)
    return complete, incomplete


def _ols(frame):
    """Estimates, squared standard errors and residual df of y on x0..x3."""
    import statsmodels.api as sm

    fit = sm.OLS(frame["y"], sm.add_constant(frame[_FEATURES])).fit()
    return fit.params.to_numpy(), fit.bse.to_numpy() ** 2, fit.df_resid


def _with_t_intervals(estimates, variances, df):
    """Estimates, variances, and the bounds of their 95% t intervals."""
    half = stats.t.ppf(1 - _ALPHA / 2, df) * np.sqrt(variances)
    return estimates, variances, estimates - half, estimates + half


def _mice(incomplete, replication, n_imputations=20):
    """statsmodels' MICE (predictive mean matching), seeded by the replication."""
    import statsmodels.api as sm
    from statsmodels.imputation import mice

    np.random.seed(replication)  # noqa: NPY002 (statsmodels reads the global one)
    formula = "y ~ " + " + ".join(_FEATURES)
    result = mice.MICE(formula, sm.OLS, mice.MICEData(incomplete)).fit(
        n_burnin=10, n_imputations=n_imputations
    )
    lower, upper = np.asarray(result.conf_int(_ALPHA)).T
    return np.asarray(result.params), np.asarray(result.bse) ** 2, lower, upper


def run_replication(replication, mechanism, missing_rate, imputer_params=None):
    """Every analysis but the bootstrap one, on one replication (_coverage_rows)."""
    from miwae_impute import MIWAEImputer
    from miwae_impute._rubin import _rubin

    complete, incomplete = simulate(replication, mechanism, missing_rate)
    timed = {}  # analysis: (estimates, variances, lower, upper, seconds)
    for analysis, frame in (("full data", complete), ("complete case", incomplete)):
        start = time.perf_counter()
        fit = _with_t_intervals(*_ols(frame.dropna()))
        timed[analysis] = (*fit, time.perf_counter() - start)

    start = time.perf_counter()
    imputer = MIWAEImputer(random_state=replication, **(imputer_params or {}))
    fit = _with_t_intervals(*_ols(imputer.fit_transform(incomplete)))
    timed["MIWAE single (mean)"] = (*fit, time.perf_counter() - start)

    start = time.perf_counter()
    draws = imputer.sample(incomplete, n_imputations=20)
    for m in (5, 20):
        estimates, variances, df_complete = zip(*map(_ols, draws[:m]))
        mean, total, df, _ = _rubin(
            np.array(estimates), np.array(variances), df_complete=df_complete[0]
        )
        fit = _with_t_intervals(mean, total, df)
        timed[f"MIWAE MI, m={m}"] = (*fit, time.perf_counter() - start)

    start = time.perf_counter()
    fit = _mice(incomplete, replication)
    timed["statsmodels MICE, m=20"] = (*fit, time.perf_counter() - start)
    return _coverage_rows(timed, replication, mechanism, missing_rate, incomplete)


def run_bootstrap_replication(
    replication, mechanism, missing_rate, imputer_params=None, n_imputations=5
):
    """The bootstrap analysis of one replication, as a user runs it."""
    from sklearn.linear_model import LinearRegression

    from miwae_impute import MIWAEImputer, MultipleImputationEstimator

    _, incomplete = simulate(replication, mechanism, missing_rate)
    start = time.perf_counter()
    table = (
        MultipleImputationEstimator(
            LinearRegression(),
            imputer=MIWAEImputer(**(imputer_params or {})),
            n_imputations=n_imputations,
            bootstrap=True,
            random_state=replication,
        )
        .fit(incomplete[_FEATURES], incomplete["y"])
        .summary(alpha=_ALPHA)
    )
    fit = [table["coef"], table["std err"] ** 2, table["lower"], table["upper"]]
    analysis = f"MIWAE bootstrap MI, m={n_imputations}"
    timed = {analysis: (*(c.to_numpy() for c in fit), time.perf_counter() - start)}
    return _coverage_rows(timed, replication, mechanism, missing_rate, incomplete)


def _coverage_rows(timed, replication, mechanism, missing_rate, incomplete):
    """A row per (analysis, term) of ``timed``, analysis: (estimates, ..., seconds)."""
    complete_rows = len(incomplete.dropna())
    return [
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
            "seconds": seconds,
            "complete_rows": complete_rows,
        }
        for analysis, (estimates, variances, lower, upper, seconds) in timed.items()
        for j, term in enumerate(BETA)
    ]


# -- coverage: the tables -------------------------------------------------------
def coverage_summary(rows):
    """Bias, rmse, coverage, width and se_ratio (the mean standard error over the
    estimates' standard deviation) per (mechanism, rate, analysis, term)."""
    rows = rows.assign(
        error=rows.estimate - rows.truth,
        covered=(rows.lower <= rows.truth) & (rows.truth <= rows.upper),
        width=rows.upper - rows.lower,
    )
    grouped = rows.groupby(["mechanism", "missing_rate", "analysis", "term"])
    summary = grouped.agg(
        replications=("replication", "nunique"),
        bias=("error", "mean"),
        rmse=("error", lambda e: float(np.sqrt(np.mean(e**2)))),
        coverage=("covered", "mean"),
        width=("width", "mean"),
        std_err=("std_err", "mean"),
        spread=("estimate", "std"),
        seconds=("seconds", "median"),
    ).reset_index()
    summary["se_ratio"] = summary.std_err / summary.spread
    return summary


def common_replications(rows):
    """The rows of the replications that every analysis of their mechanism has."""
    keys = ["mechanism", "missing_rate"]
    analyses = rows.groupby(keys).analysis.transform("nunique")
    present = rows.groupby([*keys, "replication"]).analysis.transform("nunique")
    return rows[present == analyses]


_COVERAGE_NOTE = (
    "bias (estimate - truth), mean width, and the mean standard error over the "
    "standard deviation of the estimates across replications (1 when the standard "
    "errors are right; below 1 when they are too small). 'slopes' is their mean "
    "over x0..x3 (of the absolute bias). 'MIWAE MI' draws every completion from "
    "one fit of MIWAE (bootstrap=False); 'MIWAE bootstrap MI' is "
    "MultipleImputationEstimator's default. Median seconds per replication (one "
    "thread) below: MIWAE's fit and mean, then its 20 draws; for the bootstrap "
    "analysis, its five fits and draws."
)
_COVERAGE_METRICS = (
    ("coverage", "{:.3f}"),
    ("bias", "{:+.3f}"),
    ("width", "{:.3f}"),
    ("se_ratio", "{:.2f}"),
)


def coverage_tables(rows):
    """Markdown: per mechanism, coverage, bias, width and se_ratio per analysis."""
    summary = coverage_summary(rows)
    parts = []
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
            f"{monte_carlo:.3f} at 0.95), {_COVERAGE_NOTE}"
        )
        for metric, fmt in _COVERAGE_METRICS:
            lines = []
            for analysis in ANALYSES:
                own = block[block.analysis == analysis].set_index("term")
                if own.empty:
                    continue
                cells = own[metric]
                slopes = cells.drop("intercept")
                slopes = slopes.abs().mean() if metric == "bias" else slopes.mean()
                reps = int(own.replications.max())
                label = analysis if reps == n else f"{analysis} ({reps} replications)"
                lines.append([label, *map(fmt.format, [*cells[list(BETA)], slopes])])
            title = metric.replace("se_ratio", "standard error / spread")
            header = ["analysis", *BETA, "slopes"]
            parts.append(f"**{title}**\n\n" + markdown_table(header, lines))
        seconds = block.groupby("analysis").seconds.median()
        parts.append(
            "Median seconds: "
            + ", ".join(f"{a} {seconds[a]:.1f}" for a in ANALYSES if a in seconds)
        )
    return "\n\n".join(parts)


# -- prediction -----------------------------------------------------------------
_POOLED, _SINGLE = "MIWAE multiple imputation, pooled", "MIWAE single imputation"
#: Rows of the prediction table: (features, classifier).
PREDICTORS = (
    ("complete data (reference)", "logistic"),
    ("complete data (reference)", "gradient boosting"),
    (_SINGLE, "logistic"),
    (_SINGLE, "gradient boosting"),
    (_POOLED, "logistic"),
    (_POOLED, "gradient boosting"),
    ("native NaN handling", "gradient boosting"),
)


def _classifiers(seed):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "logistic": LogisticRegression(max_iter=2000),
        "gradient boosting": HistGradientBoostingClassifier(random_state=seed),
    }


def predict_one(dataset, seed, missing_rate, n_imputations, imputer_params=None):
    """Accuracy and log-loss of every predictor on one split; a row each."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split

    from miwae_impute import MIWAEImputer, MultipleImputationEstimator

    imputer = functools.partial(
        MIWAEImputer, random_state=seed, **(imputer_params or {})
    )
    X, y, columns = load_labelled(dataset)
    full = pd.DataFrame(standardize(X), columns=columns)
    holes = full.mask(mcar(full.shape, missing_rate, seed))
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.3, stratify=y, random_state=seed
    )
    X_train, X_test = holes.iloc[train], holes.iloc[test]
    y_train, y_test = y[train], y[test]
    classes = np.unique(y_train)
    start = time.perf_counter()
    single = imputer().fit(X_train)
    data = {  # features: (train, test) of the predictors but the pooled ones
        "complete data (reference)": (full.iloc[train], full.iloc[test]),
        _SINGLE: (single.transform(X_train), single.transform(X_test)),
        "native NaN handling": (X_train, X_test),
    }
    imputation_seconds = time.perf_counter() - start
    rows, fitted = [], None  # fitted: the pooled predictors' shared imputer
    for features, classifier in PREDICTORS:
        model = _classifiers(seed)[classifier]
        start = time.perf_counter()
        if features == _POOLED:
            model = MultipleImputationEstimator(
                model,
                imputer=imputer() if fitted is None else FrozenEstimator(fitted),
                n_imputations=n_imputations,
                bootstrap=False,
                random_state=seed,
            ).fit(X_train, y_train)
            fitted, proba = model.imputer_, model.predict_proba(X_test)
        else:
            train_features, test_features = data[features]
            proba = model.fit(train_features, y_train).predict_proba(test_features)
        seconds = time.perf_counter() - start
        if features == _SINGLE:
            seconds += imputation_seconds  # its imputer's fit and transforms
        rows.append(
            {
                "dataset": dataset,
                "seed": seed,
                "missing_rate": missing_rate,
                "n_imputations": n_imputations,
                "features": features,
                "classifier": classifier,
                "accuracy": accuracy_score(y_test, classes[proba.argmax(axis=1)]),
                "log_loss": log_loss(y_test, proba, labels=classes),
                "seconds": seconds,
            }
        )
    return rows


def prediction_tables(rows):
    """Markdown: accuracy and log-loss per predictor and data set, mean (std),
    then the gain of pooling over the single imputation, paired by seed."""
    datasets = [d for d in LABELLED_DATASETS if d in set(rows.dataset)]
    grouped = rows.groupby(["features", "classifier", "dataset"])
    seeds = grouped.seed.nunique()
    over = f"{seeds.min()}-{seeds.max()} seeds".replace(
        f"{seeds.min()}-{seeds.min()} ", f"{seeds.min()} "
    )
    parts = []
    for metric in ("accuracy", "log_loss"):
        mean, std = grouped[metric].mean(), grouped[metric].std(ddof=1)
        lines = []
        for features, classifier in PREDICTORS:
            cells = [
                f"{mean[key]:.4f} ({std[key]:.4f})" if key in mean.index else "–"
                for key in ((features, classifier, d) for d in datasets)
            ]
            lines.append([features, classifier, *cells])
        title = f"**{metric.replace('_', '-')}** on the test rows, mean (std) over"
        header = ["features", "classifier", *datasets]
        parts.append(f"{title} {over}\n\n" + markdown_table(header, lines))
    lines = []
    for classifier in ("logistic", "gradient boosting"):
        for metric, better in (("accuracy", 1), ("log_loss", -1)):
            cells = []
            for d in datasets:
                sub = rows[(rows.dataset == d) & (rows.classifier == classifier)]
                wide = sub.pivot_table(index="seed", columns="features", values=metric)
                if not {_POOLED, _SINGLE} <= set(wide.columns):
                    cells.append("–")
                    continue
                diff = (wide[_POOLED] - wide[_SINGLE]).dropna()
                wins = int((better * diff > 0).sum())
                cells.append(f"{diff.mean():+.4f} ({wins}/{len(diff)})")
            lines.append([classifier, metric.replace("_", "-"), *cells])
    parts.append(
        "**multiple minus single imputation**, paired by seed: mean difference "
        "(seeds where multiple imputation is better / seeds)\n\n"
        + markdown_table(["classifier", "metric", *datasets], lines)
    )
    return "\n\n".join(parts)


# -- calibration ----------------------------------------------------------------
LEVELS = tuple(np.round(np.arange(0.05, 0.951, 0.05), 2))
_TABLE_LEVELS = (0.5, 0.8, 0.9, 0.95)


def perfect_coverage(n_draws, levels=LEVELS, n_cells=100_000):
    """Coverage of a perfectly calibrated sampler with ``n_draws`` draws.

    Monte Carlo (seed 0): draws and truth from the same normal distribution.
    About c (n - 1) / (n + 1) at level c; the percentiles' interpolation
    makes the tails differ by up to 0.01 at 20 draws.
    """
    rng = np.random.default_rng(0)
    draws, truth = rng.normal(size=(n_draws, n_cells)), rng.normal(size=n_cells)
    return interval_coverage(draws, truth, levels)


def calibrate_one(dataset, seed, missing_rate, n_draws, imputer_params=None):
    """Coverage of ``sample``'s intervals on one masked copy; a row per level."""
    from miwae_impute import MIWAEImputer

    X = standardize(load_dataset(dataset).X)
    mask = mcar(X.shape, missing_rate, seed)
    X_missing = np.where(mask, np.nan, X)
    start = time.perf_counter()
    imputer = MIWAEImputer(random_state=seed, **(imputer_params or {}))
    imputer.fit(X_missing)
    draws = np.stack([d[mask] for d in imputer.sample(X_missing, n_draws)])
    seconds = time.perf_counter() - start
    coverage = interval_coverage(draws, X[mask], LEVELS)
    return [
        {
            "dataset": dataset,
            "seed": seed,
            "missing_rate": missing_rate,
            "n_draws": n_draws,
            "level": level,
            "coverage": cover,
            "seconds": seconds,
        }
        for level, cover in zip(LEVELS, coverage)
    ]


def calibration_table(rows):
    """Markdown: coverage at 50/80/90/95% per data set, mean (std) over seeds."""
    datasets = [d for d in DATASETS if d in set(rows.dataset)]
    n_draws = int(rows.n_draws.iloc[0])
    grouped = rows.groupby(["level", "dataset"]).coverage
    mean, std, seeds = grouped.mean(), grouped.std(ddof=1), grouped.size()
    lines = []
    for level, expected in zip(_TABLE_LEVELS, perfect_coverage(n_draws, _TABLE_LEVELS)):
        cells = [f"{mean[(level, d)]:.3f} ({std[(level, d)]:.3f})" for d in datasets]
        lines.append([f"{level:.2f}", f"{expected:.3f}", *cells])
    return (
        f"Share of removed values inside the central intervals of {n_draws} "
        f"draws of `sample`, mean (std) over {int(seeds.min())} seeds. With n "
        "draws a perfectly calibrated sampler scores about c (n - 1) / (n + 1) at "
        "level c; its column is a Monte Carlo value (normal draws and truth, "
        "100,000 cells).\n\n"
        + markdown_table(["nominal", "perfect sampler", *datasets], lines)
    )


def plot_calibration(rows, path):
    """Reliability diagram: empirical against nominal coverage, per data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_draws = int(rows.n_draws.iloc[0])
    means = rows.groupby(["dataset", "level"]).coverage.mean()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, label="nominal")
    label = f"perfect sampler, {n_draws} draws"
    ax.plot(LEVELS, perfect_coverage(n_draws), "k--", lw=0.8, label=label)
    for name in [d for d in DATASETS if d in means.index]:
        ax.plot(LEVELS, means[name].reindex(LEVELS), marker=".", label=name)
    ax.set(
        xlabel="nominal level of the central interval",
        ylabel="share of removed values inside",
        xlim=(0, 1),
        ylim=(0, 1),
        title="Calibration of MIWAEImputer.sample (50% MCAR)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- resumable runs and the command line --------------------------------------------
_QUICK = {"max_iter": 2, "L": 50}  # smoke-test budget of --quick


def _load(folder):
    """The rows of ``folder/results.csv`` (commits kept as strings)."""
    return pd.read_csv(Path(folder) / "results.csv", dtype={"git_commit": str})


def _resume(out, tasks, run, *, threads=1, imputer_params=None):
    """Run the ``tasks`` (dicts of the columns naming a task's rows) not yet in
    ``out/results.csv``, appending their rows stamped with the time and the
    versions; all the rows."""
    path = Path(out) / "results.csv"
    done = set()
    if path.is_file() and tasks:
        done = set(_load(out)[list(tasks[0])].itertuples(index=False, name=None))
    for task in (task for task in tasks if tuple(task.values()) not in done):
        start = time.perf_counter()
        with run_context(threads):
            rows = run(**task, imputer_params=imputer_params)
        finished = datetime.datetime.now().isoformat(timespec="seconds")
        stamp = {"finished_at": finished, **versions()}
        rows = [{**row, **stamp} for row in rows]
        ResultStore(path, fields=tuple(rows[0])).extend(rows)
        label = ", ".join(f"{k}={v}" for k, v in task.items())
        print(f"{label}: {time.perf_counter() - start:.0f} s", flush=True)
    return _load(out)


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pooling",
        description="What multiple imputation buys (issue 15)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command, summary, datasets in (
        ("coverage", "the regression simulation", None),
        ("prediction", "downstream classifiers", LABELLED_DATASETS),
        ("calibration", "intervals of sample()", DATASETS),
    ):
        sub = commands.add_parser(command, help=summary)
        if datasets is None:
            sub.add_argument("--mechanism", choices=_MECHANISMS, default="mcar")
            sub.add_argument("--missing-rate", type=float, default=0.4)
            sub.add_argument("--replications", type=int, default=100)
            sub.add_argument(
                "--bootstrap",
                action="store_true",
                help="only the bootstrap analysis (MultipleImputationEstimator with "
                "bootstrap=True, m=5: five MIWAE fits a replication); own OUT",
            )
        else:
            sub.add_argument("--datasets", nargs="+", default=list(datasets))
            sub.add_argument("--seeds", type=int, default=5)
            sub.add_argument("--missing-rate", type=float, default=0.5)
        if command == "prediction":
            sub.add_argument("--n-imputations", type=int, default=10)
        if command == "calibration":
            sub.add_argument("--n-draws", type=int, default=100)
        sub.add_argument("--threads", type=int, default=1)
        sub.add_argument("--quick", action="store_true", help="tiny budgets")
        sub.add_argument("--out", required=True)
    report = commands.add_parser("report", help="tables from stored folders")
    for section in ("--coverage", "--prediction", "--calibration"):
        report.add_argument(section, nargs="*", default=[], metavar="DIR")
    report.add_argument(
        "--common-replications",
        action="store_true",
        help="coverage tables on the replications every analysis has (paired)",
    )
    report.add_argument("--out", metavar="DIR", help="write DIR/REPORT.md too")
    return parser


def _run(args):
    """Run a subcommand's missing tasks; all its rows."""
    rate = args.missing_rate
    if args.command == "coverage":
        tasks = [
            {"mechanism": args.mechanism, "missing_rate": rate, "replication": r}
            for r in range(args.replications)
        ]
        run = run_bootstrap_replication if args.bootstrap else run_replication
    else:
        tasks = [
            {"dataset": name, "seed": seed, "missing_rate": rate}
            for name in args.datasets
            for seed in range(args.seeds)
        ]
        if args.command == "prediction":
            run = functools.partial(predict_one, n_imputations=args.n_imputations)
        else:
            run = functools.partial(calibrate_one, n_draws=args.n_draws)
    imputer_params = _QUICK if args.quick else None
    return _resume(
        args.out, tasks, run, threads=args.threads, imputer_params=imputer_params
    )


#: The report's sections: option: (heading, tables).
_SECTIONS = {
    "coverage": ("Multiple imputation: coverage of pooled inference", coverage_tables),
    "prediction": ("Multiple imputation: downstream prediction", prediction_tables),
    "calibration": ("Multiple imputation: calibration of sample()", calibration_table),
}


def main(argv=None):
    """Command line entry point; see ``python -m benchmarks.pooling --help``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.command != "report":
        rows = _run(args)
        if args.command == "calibration":
            plot_calibration(rows, Path(args.out) / "reliability.png")
        markdown = _SECTIONS[args.command][1](rows)
        (Path(args.out) / "table.md").write_text(markdown + "\n")
        print(markdown)
        return 0
    pages, gathered = [], []
    for option, (title, tables) in _SECTIONS.items():
        if folders := getattr(args, option):
            rows = pd.concat([_load(d) for d in folders])
            if option == "coverage" and args.common_replications:
                rows = common_replications(rows)
            markdown = tables(rows)
            print(markdown)
            pages.append(f"## {title}\n\n{markdown}")
            gathered.append(rows)
    if args.out and pages:
        write_gathered_report(
            args.out,
            "Multiple imputation (issue 15)",
            "benchmarks.pooling",
            argv,
            pd.concat(gathered),
            "\n\n".join(pages),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
