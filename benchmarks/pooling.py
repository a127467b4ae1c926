"""What multiple imputation buys (issue 15): inference, prediction, calibration.

Each experiment is a subcommand that appends its rows to ``OUT/results.csv`` as
they finish (a rerun skips the stored ones, so a run resumes) and writes
``OUT/table.md``; ``report`` renders the tables of stored folders, and with
``--out DIR`` their page ``DIR/REPORT.md``::

    python -m benchmarks.pooling coverage --mechanism mar --out OUT
    python -m benchmarks.pooling report --coverage OUT --out benchmarks/results/pooling

- ``coverage``: y = 1 + x0 - 0.5 x1 + 0.5 x2 + 0 x3 + e, e ~ N(0, 1), the x's
  standard normal with correlation 0.5, n = 500; ``--missing-rate`` of the
  cells of x0, x1 and x2 removed, MCAR or MAR (x0 and x1 where y is high, x2
  where x3 is; logistic, logits of standard deviation 2, rate calibrated per
  column). A replication fits OLS on the full data (the reference), the
  complete cases, MIWAE's conditional mean, and m = 5 and 20 of MIWAE's draws
  pooled by Rubin's rules (MIWAE fitted on [X, y], Barnard-Rubin degrees of
  freedom, as :class:`~miwae_impute.MultipleImputationEstimator` pools), and
  statsmodels' MICE with 20 imputations (the anchor). ``--bootstrap`` runs only
  the estimator's default (``bootstrap=True``, m = 5: five MIWAE fits on
  bootstrap resamples, a completion each), into its own OUT.
- ``prediction``: the MIWAE paper's MNIST experiment on the UCI sets with a
  label. Standardise, split 70/30 (stratified, by the seed), remove
  ``--missing-rate`` of the feature cells MCAR; accuracy and log-loss on the
  test rows of a logistic regression and a HistGradientBoosting classifier
  trained on the complete data (the reference), on MIWAE's single imputation
  (fitted on the training features), and pooled over m draws
  (``bootstrap=False``: one MIWAE fit on the training features and label,
  shared by both classifiers), and of HistGradientBoosting on the incomplete
  features (its native NaN handling).
- ``calibration``: the paper's UCI protocol (standardise, 50% MCAR, ``fit`` on
  the whole table); the share of removed values inside the central intervals
  of 100 draws of ``sample`` at the levels 5%, 10%, ..., 95%. With n draws a
  perfectly calibrated sampler scores about c (n - 1) / (n + 1) at level c.
"""

import argparse
import datetime
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import datasets
from ._report import markdown_table
from ._results import ResultStore
from ._runner import add_run_arguments, run_context, versions, write_gathered_report
from .missingness import _calibrated_draw, _rescaled, mcar
from .uci import interval_coverage

#: The simulation's coefficients: intercept, then x0..x3.
BETA = {"intercept": 1.0, "x0": 1.0, "x1": -0.5, "x2": 0.5, "x3": 0.0}
_FEATURES, _INCOMPLETE = ["x0", "x1", "x2", "x3"], ["x0", "x1", "x2"]
_N_ROWS, _MECHANISMS, _ALPHA = 500, ("mcar", "mar"), 0.05
#: Analyses of the coverage experiment, in the tables' row order.
ANALYSES = (
    "full data", "complete case", "MIWAE single (mean)", "MIWAE MI, m=5",
    "MIWAE MI, m=20", "MIWAE bootstrap MI, m=5", "statsmodels MICE, m=20",
)  # fmt: skip
#: The columns of each experiment's rows (the first three name a run); in
#: ``results.csv``, the run's stamp follows (_STAMP).
COLUMNS = {
    "coverage": ("mechanism", "missing_rate", "replication", "analysis", "term",
                 "truth", "estimate", "std_err", "lower", "upper", "seconds",
                 "complete_rows"),
    "prediction": ("dataset", "seed", "missing_rate", "n_imputations", "features",
                   "classifier", "accuracy", "log_loss", "seconds"),
    "calibration": ("dataset", "seed", "missing_rate", "n_draws", "level",
                    "coverage", "seconds"),
}  # fmt: skip
_STAMP = ("finished_at", "git_commit", "torch_version", "sklearn_version")


# -- coverage: the simulation ---------------------------------------------------
def simulate(replication, mechanism, missing_rate, n_rows=_N_ROWS):
    """One replication's complete data (x0..x3, y) and its incomplete copy."""
    rng = np.random.default_rng([replication, _MECHANISMS.index(mechanism)])
    cov = np.full((4, 4), 0.5) + 0.5 * np.eye(4)  # correlation 0.5
    X = rng.multivariate_normal(np.zeros(4), cov, size=n_rows)
    y = BETA["intercept"] + X @ list(BETA.values())[1:] + rng.normal(size=n_rows)
    complete = pd.DataFrame(X, columns=_FEATURES).assign(y=y)
    if mechanism == "mcar":
        mask = rng.random((n_rows, len(_INCOMPLETE))) < missing_rate
    else:
        drivers = np.column_stack([y, y, complete["x3"]])
        drivers = (drivers - drivers.mean(axis=0)) / drivers.std(axis=0)
        mask = _calibrated_draw(_rescaled(drivers, 2.0), missing_rate, rng)
    return complete, complete.assign(**complete[_INCOMPLETE].mask(mask))


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
    model = mice.MICE("y ~ x0 + x1 + x2 + x3", sm.OLS, mice.MICEData(incomplete))
    result = model.fit(n_burnin=10, n_imputations=n_imputations)
    lower, upper = np.asarray(result.conf_int(_ALPHA)).T
    return np.asarray(result.params), np.asarray(result.bse) ** 2, lower, upper


def run_replication(
    replication, mechanism, missing_rate, imputer_params=None, bootstrap=False
):
    """A row per (analysis, term): every analysis but the bootstrap one, or only it."""
    from sklearn.linear_model import LinearRegression

    from miwae_impute import MIWAEImputer, MultipleImputationEstimator
    from miwae_impute._rubin import _rubin

    complete, incomplete = simulate(replication, mechanism, missing_rate)
    params = imputer_params or {}

    def analyses():  # analysis, (estimates, variances, lower, upper)
        if bootstrap:
            model = MultipleImputationEstimator(
                LinearRegression(),
                imputer=MIWAEImputer(**params),
                n_imputations=5,
                bootstrap=True,
                random_state=replication,
            ).fit(incomplete[_FEATURES], incomplete["y"])
            table = model.summary(alpha=_ALPHA)[["coef", "std err", "lower", "upper"]]
            estimates, std_err, lower, upper = table.to_numpy().T
            yield "MIWAE bootstrap MI, m=5", (estimates, std_err**2, lower, upper)
            return
        yield "full data", _with_t_intervals(*_ols(complete))
        yield "complete case", _with_t_intervals(*_ols(incomplete.dropna()))
        imputer = MIWAEImputer(random_state=replication, **params)
        mean = imputer.fit_transform(incomplete)
        yield "MIWAE single (mean)", _with_t_intervals(*_ols(mean))
        draws = imputer.sample(incomplete, n_imputations=20)
        for m in (5, 20):
            estimates, variances, df = zip(*map(_ols, draws[:m]))
            pooled = _rubin(np.array(estimates), np.array(variances), df_complete=df[0])
            yield f"MIWAE MI, m={m}", _with_t_intervals(*pooled[:3])
        yield "statsmodels MICE, m=20", _mice(incomplete, replication)

    task = (mechanism, missing_rate, replication)
    rows, n_complete, start = [], len(incomplete.dropna()), time.perf_counter()
    for analysis, (estimates, var, lower, upper) in analyses():
        seconds = time.perf_counter() - start
        for term in zip(BETA, BETA.values(), estimates, np.sqrt(var), lower, upper):
            values = (*task, analysis, *term, seconds, n_complete)
            rows.append(dict(zip(COLUMNS["coverage"], values)))
        if analysis != "MIWAE MI, m=5":  # m=20's time counts the draws and m=5's
            start = time.perf_counter()
    return rows


# -- coverage: the tables -------------------------------------------------------
def coverage_summary(rows):
    """Bias, coverage, width and se_ratio (mean standard error / the estimates'
    standard deviation) per (mechanism, rate, analysis, term)."""
    rows = rows.assign(
        bias=rows.estimate - rows.truth,
        coverage=(rows.lower <= rows.truth) & (rows.truth <= rows.upper),
        width=rows.upper - rows.lower,
    )
    grouped = rows.groupby(["mechanism", "missing_rate", "analysis", "term"])
    summary = grouped[["bias", "coverage", "width", "std_err"]].mean()
    summary["replications"] = grouped.replication.nunique()
    summary["spread"] = grouped.estimate.std()
    summary["se_ratio"] = summary.std_err / summary.spread
    summary["seconds"] = grouped.seconds.median()
    return summary.reset_index()


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
_COVERAGE_SPECS = {"coverage": ".3f", "bias": "+.3f", "width": ".3f", "se_ratio": ".2f"}


def coverage_tables(rows):
    """Markdown: per mechanism, coverage, bias, width and se_ratio per analysis."""
    parts, summary = [], coverage_summary(rows)
    for (mechanism, rate), block in summary.groupby(["mechanism", "missing_rate"]):
        n = int(block.replications.max())
        complete_rows = rows[rows.mechanism == mechanism].complete_rows.median()
        parts.append(
            f"#### {mechanism.upper()}, {rate:.0%} of x0, x1, x2 removed ({n} "
            f"replications; median {complete_rows:.0f} complete rows of {_N_ROWS})"
            "\n\nCoverage of the 95% intervals (Monte Carlo standard error "
            f"{np.sqrt(0.95 * 0.05 / n):.3f} at 0.95), {_COVERAGE_NOTE}"
        )
        reps = block.groupby("analysis").replications.max()
        labels = {a: f"{a} ({reps[a]} replications)" for a in ANALYSES if a in reps}
        labels |= {a: a for a in labels if reps[a] == n}
        for metric, spec in _COVERAGE_SPECS.items():
            wide = block.pivot(index="analysis", columns="term", values=metric)
            slopes = wide.drop(columns="intercept")
            wide["slopes"] = (slopes.abs() if metric == "bias" else slopes).mean(axis=1)
            lines = [
                [label, *(format(v, spec) for v in wide.loc[a, [*BETA, "slopes"]])]
                for a, label in labels.items()
            ]
            title = metric.replace("se_ratio", "standard error / spread")
            header = ["analysis", *BETA, "slopes"]
            parts.append(f"**{title}**\n\n" + markdown_table(header, lines))
        seconds = block.groupby("analysis").seconds.median()
        median = (f"{a} {seconds[a]:.1f}" for a in ANALYSES if a in seconds)
        parts.append("Median seconds: " + ", ".join(median))
    return "\n\n".join(parts)


# -- prediction -----------------------------------------------------------------
_POOLED, _SINGLE = "MIWAE multiple imputation, pooled", "MIWAE single imputation"
_CLASSIFIERS = ("logistic", "gradient boosting")
#: Rows of the prediction table: (features, classifier).
PREDICTORS = (
    *itertools.product(["complete data (reference)", _SINGLE, _POOLED], _CLASSIFIERS),
    ("native NaN handling", "gradient boosting"),
)


def predict_one(dataset, seed, missing_rate, n_imputations, imputer_params=None):
    """Accuracy and log-loss of every predictor on one split; a row each."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split

    from miwae_impute import MIWAEImputer, MultipleImputationEstimator

    X, y, columns = datasets.load_labelled(dataset)
    full = pd.DataFrame(datasets.standardize(X), columns=columns)
    holes = full.mask(mcar(full.shape, missing_rate, seed))
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.3, stratify=y, random_state=seed
    )
    X_train, X_test, y_train = holes.iloc[train], holes.iloc[test], y[train]
    classes, task = np.unique(y_train), (dataset, seed, missing_rate, n_imputations)
    start = time.perf_counter()
    imputer = MIWAEImputer(random_state=seed, **(imputer_params or {})).fit(X_train)
    data = {  # features: (train, test); the others' are X_train, X_test
        "complete data (reference)": (full.iloc[train], full.iloc[test]),
        _SINGLE: (imputer.transform(X_train), imputer.transform(X_test)),
    }
    imputation_seconds = time.perf_counter() - start
    rows, fitted = [], None  # fitted: the imputer of the first pooled predictor
    for features, classifier in PREDICTORS:
        start = time.perf_counter()
        if classifier == "logistic":
            model = LogisticRegression(max_iter=2000)
        else:
            model = HistGradientBoostingClassifier(random_state=seed)
        if features == _POOLED:  # MultipleImputationEstimator clones the imputer
            model = MultipleImputationEstimator(
                model,
                imputer=imputer if fitted is None else FrozenEstimator(fitted),
                n_imputations=n_imputations,
                bootstrap=False,
                random_state=seed,
            )
        fit_on, predict_on = data.get(features, (X_train, X_test))
        proba = model.fit(fit_on, y_train).predict_proba(predict_on)
        fitted = getattr(model, "imputer_", fitted)
        seconds = time.perf_counter() - start
        seconds += imputation_seconds if features == _SINGLE else 0  # its imputer
        accuracy = accuracy_score(y[test], classes[proba.argmax(axis=1)])
        scores = (accuracy, log_loss(y[test], proba, labels=classes), seconds)
        values = (*task, features, classifier, *scores)
        rows.append(dict(zip(COLUMNS["prediction"], values)))
    return rows


def _mean_std(rows, keys, metric, spec):
    """Per (*keys, dataset), ``mean (std)`` of ``metric`` over the seeds."""
    grouped = rows.groupby([*keys, "dataset"])[metric]
    mean, std = grouped.mean(), grouped.std(ddof=1)
    return {k: f"{mean[k]:{spec}} ({std[k]:{spec}})" for k in mean.index}


def prediction_tables(rows):
    """Markdown: accuracy and log-loss per predictor and data set, mean (std),
    then pooled minus single imputation, paired by seed."""
    names = [d for d in datasets.LABELLED_DATASETS if d in set(rows.dataset)]
    seeds = rows.groupby(["features", "classifier", "dataset"]).seed.nunique()
    over = f"{seeds.min()}-{seeds.max()}" if seeds.min() < seeds.max() else seeds.min()
    parts, metrics = [], {"accuracy": 1, "log_loss": -1}  # metric: sign of better
    for metric in metrics:
        cells = _mean_std(rows, ["features", "classifier"], metric, ".4f")
        lines = [[*p, *(cells.get((*p, d), "–") for d in names)] for p in PREDICTORS]
        title = f"**{metric.replace('_', '-')}** on the test rows, mean (std) over"
        header = ["features", "classifier", *names]
        parts.append(f"{title} {over} seeds\n\n" + markdown_table(header, lines))
    wide = rows.pivot_table(
        index=["classifier", "dataset", "seed"], columns="features", values=[*metrics]
    )
    gain = wide.xs(_POOLED, axis=1, level=1) - wide.xs(_SINGLE, axis=1, level=1)
    cells = {}
    for (c, d), own in gain.groupby(level=[0, 1]):  # classifier, data set
        for metric, better in metrics.items():
            diff = own[metric].dropna()
            wins = int((better * diff > 0).sum())
            cells[c, metric, d] = f"{diff.mean():+.4f} ({wins}/{len(diff)})"
    lines = [
        [c, m.replace("_", "-"), *(cells.get((c, m, d), "–") for d in names)]
        for c, m in itertools.product(_CLASSIFIERS, metrics)
    ]
    parts.append(
        "**multiple minus single imputation**, paired by seed: mean difference "
        "(seeds where multiple imputation is better / seeds)\n\n"
        + markdown_table(["classifier", "metric", *names], lines)
    )
    return "\n\n".join(parts)


# -- calibration ----------------------------------------------------------------
LEVELS = tuple(np.round(np.arange(0.05, 0.951, 0.05), 2))
_TABLE_LEVELS = (0.5, 0.8, 0.9, 0.95)


def perfect_coverage(n_draws, levels=LEVELS, n_cells=100_000):
    """Coverage of a perfectly calibrated sampler with ``n_draws`` draws."""
    rng = np.random.default_rng(0)
    draws, truth = rng.normal(size=(n_draws, n_cells)), rng.normal(size=n_cells)
    return interval_coverage(draws, truth, levels)


def calibrate_one(dataset, seed, missing_rate, n_draws, imputer_params=None):
    """Coverage of ``sample``'s intervals on one masked copy; a row per level."""
    from miwae_impute import MIWAEImputer

    X = datasets.standardize(datasets.load_dataset(dataset).X)
    mask = mcar(X.shape, missing_rate, seed)
    X_missing = np.where(mask, np.nan, X)
    start = time.perf_counter()
    imputer = MIWAEImputer(random_state=seed, **(imputer_params or {})).fit(X_missing)
    draws = np.stack([d[mask] for d in imputer.sample(X_missing, n_draws)])
    seconds = time.perf_counter() - start
    coverage = interval_coverage(draws, X[mask], LEVELS)
    task = (dataset, seed, missing_rate, n_draws)
    return [
        dict(zip(COLUMNS["calibration"], (*task, level, cover, seconds)))
        for level, cover in zip(LEVELS, coverage)
    ]


def calibration_table(rows):
    """Markdown: coverage at 50/80/90/95% per data set, mean (std) over seeds."""
    names = [d for d in datasets.DATASETS if d in set(rows.dataset)]
    n_draws = int(rows.n_draws.iloc[0])
    cells = _mean_std(rows, ["level"], "coverage", ".3f")
    perfect = perfect_coverage(n_draws, _TABLE_LEVELS)
    lines = [
        [f"{level:.2f}", f"{expected:.3f}", *(cells[level, d] for d in names)]
        for level, expected in zip(_TABLE_LEVELS, perfect)
    ]
    seeds = rows.groupby(["level", "dataset"]).size().min()
    return (
        f"Share of removed values inside the central intervals of {n_draws} "
        f"draws of `sample`, mean (std) over {seeds} seeds. With n "
        "draws a perfectly calibrated sampler scores about c (n - 1) / (n + 1) at "
        "level c; its column is a Monte Carlo value (normal draws and truth, "
        "100,000 cells).\n\n"
        + markdown_table(["nominal", "perfect sampler", *names], lines)
    )


def plot_calibration(rows, path):
    """Reliability diagram: empirical against nominal coverage, per data set."""
    from matplotlib.figure import Figure

    n_draws = int(rows.n_draws.iloc[0])
    means = rows.groupby(["dataset", "level"]).coverage.mean()
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, label="nominal")
    label = f"perfect sampler, {n_draws} draws"
    ax.plot(LEVELS, perfect_coverage(n_draws), "k--", lw=0.8, label=label)
    for name in [d for d in datasets.DATASETS if d in means.index]:
        ax.plot(LEVELS, means[name].reindex(LEVELS), marker=".", label=name)
    ax.set(xlabel="nominal level of the central interval", xlim=(0, 1), ylim=(0, 1))
    ax.set(ylabel="share of removed values inside")
    ax.set_title("Calibration of MIWAEImputer.sample (50% MCAR)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# -- the command line ---------------------------------------------------------------
_QUICK = {"max_iter": 2, "L": 50}  # smoke-test budget of --quick
#: Per experiment: its run, its tables, and the heading of its report section.
_EXPERIMENTS = {
    "coverage": (run_replication, coverage_tables, "coverage of pooled inference"),
    "prediction": (predict_one, prediction_tables, "downstream prediction"),
    "calibration": (calibrate_one, calibration_table, "calibration of sample()"),
}
#: The experiments' subcommands: their help, and that of --bootstrap.
_HELPS = "the regression simulation", "downstream classifiers", "intervals of sample()"
_BOOTSTRAP = "only the bootstrap analysis (MultipleImputationEstimator with "
_BOOTSTRAP += "bootstrap=True, m=5: five MIWAE fits a replication); own OUT"


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pooling",
        description="What multiple imputation buys (issue 15)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command, summary in zip(_EXPERIMENTS, _HELPS):
        sub = commands.add_parser(command, help=summary)
        shared = ("--missing-rate", "--threads", "--quick")
        if command == "coverage":
            sub.add_argument("--mechanism", choices=_MECHANISMS, default="mcar")
            add_run_arguments(sub, shared, missing_rate=0.4)
            sub.add_argument("--replications", type=int, default=100)
            sub.add_argument("--bootstrap", action="store_true", help=_BOOTSTRAP)
        else:
            labelled = command == "prediction"
            names = datasets.LABELLED_DATASETS if labelled else datasets.DATASETS
            add_run_arguments(sub, ("--datasets", "--seeds", *shared), datasets=names)
            draws = "--n-imputations" if labelled else "--n-draws"
            sub.add_argument(draws, type=int, default=10 if labelled else 100)
        sub.add_argument("--out", required=True)
    report = commands.add_parser("report", help="tables from stored folders")
    for section in _EXPERIMENTS:
        report.add_argument(f"--{section}", nargs="*", default=[], metavar="DIR")
    paired = "coverage tables on the replications every analysis has (paired)"
    report.add_argument("--common-replications", action="store_true", help=paired)
    report.add_argument("--out", metavar="DIR", help="write DIR/REPORT.md too")
    return parser


def _run(args):
    """Append the stamped rows of the tasks not yet in OUT; all the stored rows."""
    rate, columns = args.missing_rate, COLUMNS[args.command]
    options = {"imputer_params": _QUICK if args.quick else None}
    if args.command == "coverage":
        tasks = [(args.mechanism, rate, r) for r in range(args.replications)]
        options["bootstrap"] = args.bootstrap
    else:  # the fourth column, n_imputations or n_draws, is an option
        tasks = [(d, s, rate) for d in args.datasets for s in range(args.seeds)]
        options[columns[3]] = getattr(args, columns[3])
    store = ResultStore(Path(args.out) / "results.csv", (*columns, *_STAMP))
    done = set(store.load()[list(columns[:3])].itertuples(index=False, name=None))
    for task in (dict(zip(columns, task)) for task in tasks if task not in done):
        start = time.perf_counter()
        with run_context(args.threads):
            rows = _EXPERIMENTS[args.command][0](**task, **options)
        finished = datetime.datetime.now().isoformat(timespec="seconds")
        stamp = {"finished_at": finished, **versions()}
        store.extend([{**row, **stamp} for row in rows])
        label = ", ".join(f"{k}={v}" for k, v in task.items())
        print(f"{label}: {time.perf_counter() - start:.0f} s", flush=True)
    return store.load()


def main(argv=None):
    """Command line entry point; see ``python -m benchmarks.pooling --help``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.command != "report":
        rows = _run(args)
        if args.command == "calibration":
            plot_calibration(rows, Path(args.out) / "reliability.png")
        markdown = _EXPERIMENTS[args.command][1](rows)
        (Path(args.out) / "table.md").write_text(markdown + "\n")
        print(markdown)
        return 0
    pages, gathered = [], []
    for option, (_, tables, heading) in _EXPERIMENTS.items():
        if folders := getattr(args, option):
            paths = [Path(folder) / "results.csv" for folder in folders]
            rows = pd.concat([pd.read_csv(p, dtype={"git_commit": str}) for p in paths])
            if option == "coverage" and args.common_replications:
                rows = common_replications(rows)
            markdown = tables(rows)
            print(markdown)
            pages.append(f"## Multiple imputation: {heading}\n\n{markdown}")
            gathered.append(rows)
    if args.out and pages:
        rows, text = pd.concat(gathered), "\n\n".join(pages)
        title = "Multiple imputation (issue 15)"
        write_gathered_report(args.out, title, "benchmarks.pooling", argv, rows, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
