"""The MIWAE paper's UCI benchmark: runner and command line.

Protocol (Mattei & Frellsen, 2019, UCI table): standardise each data set with
its full-data mean and standard deviation (ddof=0); remove cells with the
chosen mechanism and seed (the paper: 50% MCAR, seeds 0-4); impute with
``fit_transform``; report the MSE over the removed cells, and the wall time of
``fit_transform``. For imputers with ``sample`` (MIWAE, MVAE) also the coverage
of 90% multiple-imputation intervals: per removed cell, the 5th to 95th
percentile of the draws; the share of true values inside.

Every finished run is appended to ``OUT/results.csv`` at once, so an
interrupted run resumes; ``OUT/REPORT.md`` (under the command that rewrites
it) and ``OUT/mse.png`` come last. Usage::

    python -m benchmarks.uci --out benchmarks/results/uci          # full table
    python -m benchmarks.uci --datasets breast --methods miwae mean --quick \\
        --param miwae.max_iter=10 --threads 2 --out /tmp/smoke
"""

import datetime
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from tqdm.auto import tqdm

from . import _report, _runner
from ._runner import DEFAULT_IMPUTATIONS, QUICK_IMPUTATIONS, Study, describe
from .datasets import DATASETS, load_dataset, standardize
from .missingness import make_mask

__all__ = ["METHODS", "Settings", "interval_coverage", "main", "standard_row"]

#: Imputers of the paper's table, in its row order (names of ``make_imputer``).
METHODS = ("miwae", "mvae", "missforest", "pca", "knn", "mean")
#: What --methods accepts: the table's imputers and not-MIWAE.
METHOD_CHOICES = (*METHODS, "not-miwae", "stacking", "factor-analysis", "ppca")

# Smoke-test budgets of --quick (miceforest is a peer of benchmarks.mixed).
# Only the parameters an imputer has are set, and --param overrides them.
_QUICK_PARAMS = {
    "miwae": {"max_iter": 2, "L": 50},
    "mvae": {"max_iter": 2, "L": 50},
    "not-miwae": {"max_iter": 2, "L": 50},
    "missforest": {"max_iter": 2, "n_estimators": 5},
    "pca": {"n_components": 2, "max_iter": 100},  # no rank search
    "knn": {"n_neighbors": 5},  # no search of k
    "miceforest": {"iterations": 1},
}


@dataclass(frozen=True)
class Settings(Study):
    """The paper's UCI study on its six data sets, standardised with full-data
    statistics (see :class:`~benchmarks._runner.Study`)."""

    label: ClassVar[str] = "UCI"
    module: ClassVar[str] = "benchmarks.uci"
    description: ClassVar[str] = "The MIWAE paper's UCI imputation benchmark."
    title: ClassVar[str] = "UCI table"
    out: ClassVar[str] = "benchmarks/results/uci"
    method_choices: ClassVar[tuple] = METHOD_CHOICES
    draws_help: ClassVar[str] = (
        f"{DEFAULT_IMPUTATIONS}, {QUICK_IMPUTATIONS} with --quick; 0 skips"
    )

    datasets: tuple = DATASETS
    methods: tuple = METHODS

    @property
    def paper_protocol(self):
        """Whether the settings are the paper's, so its figures compare."""
        mcar_half = self.mechanism == "mcar" and self.missing_rate == 0.5
        return mcar_half and not self.keep_target

    def load(self, name):
        """The standardised complete data of a data set."""
        X, _ = load_dataset(
            name, data_home=self.data_home, keep_target=self.keep_target
        )
        return standardize(X)

    def run_one(self, method, X, seed):
        """Mask, impute and score one (method, data set, seed); its row."""
        mask = make_mask(self.mechanism, X, self.missing_rate, seed)
        X_missing = np.where(mask, np.nan, X)
        imputer, params = _build_imputer(method, seed, self)
        start = time.perf_counter()
        X_imputed = np.asarray(imputer.fit_transform(X_missing), dtype=np.float64)
        seconds = time.perf_counter() - start
        chosen = getattr(imputer, "chosen_missingness_", None)
        if chosen is not None and chosen != imputer.missingness:  # not-MIWAE's choice
            tqdm.write(f"{method:>10} seed {seed}: the bound chose {chosen}")
        if X_imputed.shape != X.shape:
            raise ValueError(
                f"{method} returned shape {X_imputed.shape} for data of shape "
                f"{X.shape}."
            )
        coverage, sample_seconds = _coverage90(imputer, X_missing, X, mask, self.draws)
        scores = {"mse": float(np.mean((X_imputed[mask] - X[mask]) ** 2))}
        scores |= {"coverage90": coverage, "sample_seconds": sample_seconds}
        scores |= self.extra_columns(X, X_imputed, mask)
        row = standard_row(self, method, seed, X, mask, params, seconds, **scores)
        return row, None

    def report(self, rows, out, args):
        """The report (MSE, with the paper's figures on its protocol; wall
        times; coverage), with ``mse.png`` written into ``out``; and its MSE
        section, which the command prints."""
        summary = _report.summarize(rows)
        methods, datasets, paper = self.methods, self.datasets, self.paper_protocol
        legend = "Standardised units; ours mean (std over seeds)" + (
            " / paper mean = ours/paper."
            if paper
            else ". The paper's figures are for 50% MCAR on the features only."
        )
        commits = sorted(set(rows["git_commit"].astype(str)))
        if len(commits) > 1:
            legend += f" Rows come from several commits: {', '.join(commits)}."
        table = _report.mse_table(summary, methods, datasets, compare_paper=paper)
        mse = "\n\n".join(
            [f"### MSE on the removed cells ({describe(self)})", legend, table]
        )
        parts = [mse, _report.time_section(summary, methods, datasets, self.threads)]
        has = summary.index[summary["coverage90_mean"].notna()].get_level_values(0)
        if covered := [m for m in methods if m in has]:
            n = self.draws
            parts += [
                "### Coverage of the 90% multiple-imputation intervals (nominal 0.90)",
                f"5th to 95th percentile of {n} draws of `sample`; share of removed "
                "true values inside, mean (std) over seeds. With n draws a perfectly "
                "calibrated sampler scores 0.9 (n - 1) / (n + 1) in expectation: "
                f"{0.9 * (n - 1) / (n + 1):.3f} here.",
                _report.metric_table(
                    summary, covered, datasets, "coverage90", top=False
                ),
            ]
        Path(out).mkdir(parents=True, exist_ok=True)
        png = Path(out) / "mse.png"
        if not _report.plot_mse(summary, methods, datasets, png, compare_paper=paper):
            print("matplotlib is not installed: mse.png skipped.", file=sys.stderr)
        return "\n\n".join(parts) + "\n", mse

    @classmethod
    def add_arguments(cls, parser):
        """``--keep-target``."""
        parser.add_argument(
            "--keep-target", action="store_true", help="also impute the numeric target"
        )


def main(argv=None):
    """``python -m benchmarks.uci`` (:func:`benchmarks._runner.main`)."""
    return _runner.main(Settings, argv)


# -- one run -------------------------------------------------------------------
def standard_row(settings, method, seed, X, mask, params, seconds, **scores):
    """A run's columns of :data:`~benchmarks._results.FIELDS` but its key and data
    set (``coverage90`` and ``sample_seconds`` NaN), then ``scores``, which may
    override them."""
    return {
        "method": method,
        "seed": seed,
        **{name: getattr(settings, name) for name in _runner.PROTOCOL},
        "params": json.dumps(params, sort_keys=True, default=repr),
        "n_imputations": settings.draws,
        "threads": settings.threads,
        "n_rows": X.shape[0],
        "n_cols": X.shape[1],
        "n_missing": int(mask.sum()),
        "realised_rate": float(mask.mean()),
        "coverage90": float("nan"),
        "fit_impute_seconds": seconds,
        "sample_seconds": float("nan"),
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        **_runner.versions(),
        **scores,
    }


def _build_imputer(method, seed, settings, make=None, extra=None):
    """The imputer of a run (``make_imputer(method)``, or ``make()``), and its
    parameters beyond the defaults: the seed as ``random_state``, ``--quick``
    budgets and ``extra``, each only where the imputer has the parameter (deep
    names included) and ``--param`` did not set it."""
    from miwae_impute import make_imputer

    params = dict(settings.params.get(method, {}))
    imputer = make(**params) if make else make_imputer(method, **params)
    known = imputer.get_params(deep=True)
    quick = _QUICK_PARAMS.get(method, {}) if settings.quick else {}
    given = {**quick, **(extra or {})}
    given = {k: v for k, v in given.items() if k in known and k not in params}
    seeded = {"random_state": seed} if "random_state" in known else {}
    imputer.set_params(**given, **seeded)
    return imputer, {**params, **given}


def _coverage90(imputer, X_missing, X, mask, n_draws):
    """Share of removed values inside the 90% intervals of ``sample``, and its
    time; NaN and NaN for imputers without ``sample`` or when ``n_draws`` is 0."""
    if not hasattr(imputer, "sample") or n_draws == 0 or not mask.any():
        return float("nan"), float("nan")
    start = time.perf_counter()
    draws = imputer.sample(X_missing, n_imputations=n_draws)
    draws = np.stack([np.asarray(draw, dtype=np.float64)[mask] for draw in draws])
    seconds = time.perf_counter() - start
    return float(interval_coverage(draws, X[mask], [0.9])[0]), seconds


def interval_coverage(draws, truth, levels):
    """Per level c of ``levels``, the share of cells whose ``truth`` (n_cells,)
    lies between the 50 - 50 c and 50 + 50 c percentiles of their ``draws``
    (n_draws, n_cells)."""
    levels = np.asarray(levels, dtype=float)
    lows = np.percentile(draws, 50 - 50 * levels, axis=0)
    highs = np.percentile(draws, 50 + 50 * levels, axis=0)
    return ((lows <= truth) & (truth <= highs)).mean(axis=1)


if __name__ == "__main__":
    sys.exit(main())
