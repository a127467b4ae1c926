"""benchmarks.pooling: the simulation, the interval coverage, the tables, the CLI."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from benchmarks import pooling
from benchmarks.datasets import load_labelled
from benchmarks.pooling import (
    ANALYSES,
    BETA,
    LEVELS,
    coverage_summary,
    interval_coverage,
    simulate,
)


@pytest.mark.parametrize("mechanism", ["mcar", "mar"])
def test_simulation_removes_the_rate_from_three_covariates(mechanism):
    complete, incomplete = simulate(0, mechanism, 0.4, n_rows=4000)
    assert list(complete.columns) == ["x0", "x1", "x2", "x3", "y"]
    rates = incomplete.isna().mean()
    assert_allclose(rates[["x0", "x1", "x2"]], 0.4, atol=0.03)
    assert rates[["x3", "y"]].sum() == 0
    observed = incomplete.notna()
    assert (
        incomplete[observed] == complete[observed]
    ).sum().sum() == observed.sum().sum()
    # The coefficients are those of the data: OLS on 4000 complete rows.
    design = np.column_stack(
        [np.ones(len(complete)), complete[["x0", "x1", "x2", "x3"]]]
    )
    fitted = np.linalg.lstsq(design, complete["y"], rcond=None)[0]
    assert_allclose(fitted, list(BETA.values()), atol=0.06)
    again, _ = simulate(0, mechanism, 0.4, n_rows=4000)
    pd.testing.assert_frame_equal(again, complete)


def test_mar_removes_x0_where_y_is_high_and_x2_where_x3_is():
    complete, incomplete = simulate(1, "mar", 0.4, n_rows=4000)
    for column, driver in (("x0", "y"), ("x1", "y"), ("x2", "x3")):
        missing = incomplete[column].isna()
        assert complete[driver][missing].mean() > complete[driver][~missing].mean() + 1
    _, mcar = simulate(1, "mcar", 0.4, n_rows=4000)
    missing = mcar["x0"].isna()
    assert abs(complete["y"][missing].mean() - complete["y"][~missing].mean()) < 0.15


def test_interval_coverage_by_hand_and_for_a_perfect_sampler():
    draws = np.arange(101, dtype=float)[:, None] * np.ones((1, 4))
    truth = np.array([50.0, 20.0, 4.0, 97.6])
    # 50%: [25, 75]; 90%: [5, 95]; 95%: [2.5, 97.5].
    assert_allclose(
        interval_coverage(draws, truth, [0.5, 0.9, 0.95]), [0.25, 0.5, 0.75]
    )
    rng = np.random.default_rng(0)
    n_draws = 20
    draws, truth = rng.normal(size=(n_draws, 40000)), rng.normal(size=40000)
    expected = np.array(LEVELS) * (n_draws - 1) / (n_draws + 1)
    assert_allclose(interval_coverage(draws, truth, LEVELS), expected, atol=0.015)
    assert_allclose(pooling.perfect_coverage(n_draws), expected, atol=0.015)
    assert_allclose(pooling.perfect_coverage(100, [0.9]), 0.9 * 99 / 101, atol=0.005)


def _rows(estimates, lower, upper, analysis="MIWAE MI, m=5", term="x0"):
    return pd.DataFrame(
        {
            "mechanism": "mcar",
            "missing_rate": 0.4,
            "replication": range(len(estimates)),
            "analysis": analysis,
            "term": term,
            "truth": BETA[term],
            "estimate": estimates,
            "std_err": [0.2, 0.1, 0.3, 0.4][: len(estimates)],
            "lower": lower,
            "upper": upper,
            "seconds": 1.0,
            "complete_rows": 100,
        }
    )


def test_coverage_summary_by_hand():
    rows = _rows([1.2, 0.9, 1.5, 1.0], [0.8, 0.95, 1.1, 0.5], [1.6, 1.2, 1.9, 1.5])
    summary = coverage_summary(rows).iloc[0]
    assert summary.replications == 4
    assert_allclose(summary.bias, np.mean([0.2, -0.1, 0.5, 0.0]))
    assert_allclose(summary.coverage, 0.75)  # 1.0 is outside [1.1, 1.9] only
    assert_allclose(summary.width, np.mean([0.8, 0.25, 0.8, 1.0]))
    spread = np.std([1.2, 0.9, 1.5, 1.0], ddof=1)
    assert_allclose(summary.se_ratio, np.mean([0.2, 0.1, 0.3, 0.4]) / spread)


def test_common_replications_keeps_those_every_analysis_has():
    rows = pd.DataFrame(
        {
            "mechanism": ["mcar"] * 5 + ["mar"] * 2,
            "missing_rate": 0.4,
            "analysis": ["a", "a", "a", "b", "b", "a", "a"],
            "replication": [0, 1, 2, 1, 2, 0, 1],
        }
    )
    kept = pooling.common_replications(rows)
    assert kept.index.tolist() == [1, 2, 3, 4, 5, 6]


def test_a_quick_replication_gives_every_analysis_and_term(monkeypatch):
    mice = pooling._mice
    monkeypatch.setattr(pooling, "_mice", lambda *a: mice(*a, n_imputations=2))
    rows = pd.DataFrame(
        pooling.run_replication(3, "mar", 0.4, imputer_params=pooling._QUICK)
        + pooling.run_replication(
            3, "mar", 0.4, imputer_params=pooling._QUICK, bootstrap=True
        )
        + pooling.run_replication(
            4, "mar", 0.4, imputer_params=pooling._QUICK, bootstrap=True
        )
    )
    assert len(rows) == (len(ANALYSES) + 1) * len(BETA)
    assert set(rows.analysis) == set(ANALYSES)
    assert (rows.lower < rows.estimate).all() and (rows.estimate < rows.upper).all()
    full = rows[rows.analysis == "full data"]
    complete, _ = simulate(3, "mar", 0.4)
    import statsmodels.api as sm

    ols = sm.OLS(complete["y"], sm.add_constant(complete.iloc[:, :4])).fit()
    assert_allclose(full.estimate, ols.params)
    assert_allclose(full[["lower", "upper"]], ols.conf_int(0.05))
    markdown = pooling.coverage_tables(rows)
    assert "MAR, 40% of x0, x1, x2 removed (2 replications" in markdown
    assert markdown.count("| statsmodels MICE, m=20 (1 replications) |") == 4
    assert markdown.count("| MIWAE bootstrap MI, m=5 |") == 4


def test_the_command_line_resumes_and_writes_the_sections(tmp_path, capsys):
    try:
        load_labelled("banknote", download=False)
    except FileNotFoundError:
        pytest.skip("needs banknote in ../shared/datasets (or $MIWAE_DATA_HOME)")
    out = tmp_path / "prediction"
    argv = ["prediction", "--datasets", "banknote", "--seeds", "1", "--quick"]
    argv += ["--n-imputations", "2", "--out", str(out)]
    assert pooling.main(argv) == 0
    rows = pd.read_csv(out / "results.csv")
    assert len(rows) == len(pooling.PREDICTORS)
    assert rows.accuracy.between(0.5, 1).all()
    assert pooling.main(argv) == 0  # nothing new to run
    assert len(pd.read_csv(out / "results.csv")) == len(rows)

    calibration = tmp_path / "calibration"
    argv = ["calibration", "--datasets", "banknote", "--seeds", "1", "--quick"]
    assert pooling.main([*argv, "--n-draws", "10", "--out", str(calibration)]) == 0
    assert (calibration / "reliability.png").stat().st_size > 0
    assert len(pd.read_csv(calibration / "results.csv")) == len(LEVELS)

    argv = ["report", "--prediction", str(out), "--calibration", str(calibration)]
    assert pooling.main([*argv, "--out", str(tmp_path / "report")]) == 0
    text = (tmp_path / "report" / "REPORT.md").read_text()
    assert text.startswith("# Multiple imputation (issue 15)\n")
    assert "- command: `python -m benchmarks.pooling report --prediction" in text
    assert "## Multiple imputation: downstream prediction\n" in text
    assert "## Multiple imputation: calibration of sample()\n" in text
    assert "| native NaN handling | gradient boosting |" in text
    perfect = pooling.perfect_coverage(10, [0.9])[0]
    assert f"| 0.90 | {perfect:.3f} |" in text  # the perfect sampler, 10 draws
