"""The shared runner of the studies, and the one command line over them."""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from benchmarks import __main__ as cli
from benchmarks import _runner
from benchmarks._results import FIELDS

_MADE = []


@dataclass(frozen=True)
class _Tiny(_runner.Study):
    """A study in a few lines: two tables of constants, scored by their mean."""

    fields: ClassVar[tuple] = (*FIELDS, "total")
    module: ClassVar[str] = "tests.tiny"
    title: ClassVar[str] = "Tiny"
    method_choices: ClassVar[tuple] = ("zero", "skipme")

    datasets: tuple = ("ones", "twos")
    methods: tuple = ("zero",)

    def load(self, name):
        return np.full((4, 2), 1.0 if name == "ones" else 2.0)

    def run_one(self, method, X, seed):
        _MADE.append((method, seed))
        if method == "skipme":
            raise _runner.Skip("skipme never runs")
        row = dict.fromkeys(FIELDS[3:], 0)  # after key, method, dataset
        row |= {"method": method, "seed": seed, "mse": float(np.mean(X**2))}
        return row | {"total": float(X.sum())}, None

    def report(self, rows, out, args):
        lines = [f"| {r.dataset} | {r.seed} | {r.mse} |" for r in rows.itertuples()]
        return "\n".join(lines), f"{len(rows)} rows"


def test_a_new_study_runs_resumes_and_reports(tmp_path, capsys):
    _MADE.clear()
    argv = ["--out", str(tmp_path), "--seeds", "2", "--no-progress"]
    assert _runner.main(_Tiny, argv) == 0
    assert len(_MADE) == 4 and "4 rows" in capsys.readouterr().out
    rows = pd.read_csv(tmp_path / "results.csv")
    assert sorted(rows["mse"]) == [1.0, 1.0, 4.0, 4.0]
    assert sorted(rows["total"]) == [8.0, 8.0, 16.0, 16.0]
    assert _runner.main(_Tiny, argv) == 0  # resumes: nothing left to run
    assert len(_MADE) == 4
    assert _runner.main(_Tiny, [*argv, "--methods", "zero", "skipme"]) == 0
    assert _MADE[4:] == [("skipme", 0)]  # tried once, then skipped
    assert "SKIPPED skipme: skipme never runs" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "results.csv")) == 4


def test_a_new_study_writes_its_report_page(tmp_path):
    argv = ["--out", str(tmp_path / "out"), "--seeds", "1", "--no-progress"]
    assert _runner.main(_Tiny, argv) == 0
    page = (tmp_path / "out" / "REPORT.md").read_text()
    table = (tmp_path / "out" / "table.md").read_text()
    assert page.startswith("# Tiny: MCAR, 50% missing, seed 0\n")
    command = f"- command: `python -m tests.tiny --out {tmp_path / 'out'} --seeds 1`"
    assert command in page.splitlines()  # what reruns it, without --no-progress
    assert page.endswith(table + "\n") and "| ones | 0 | 1.0 |" in table


def test_params_and_ranges_are_checked(tmp_path):
    for bad in (["--seeds", "0"], ["--param", "zero.random_state=1"]):
        with pytest.raises(SystemExit):
            _runner.main(_Tiny, ["--out", str(tmp_path), *bad])
    assert not (tmp_path / "results.csv").exists()


@pytest.mark.parametrize(
    ("command", "study", "rest", "expected"),
    [
        ("run", "uci", ["--seeds", "1"], ["--seeds", "1"]),
        ("report", "uci", ["--seeds", "1"], ["--report-only", "--seeds", "1"]),
        ("report", "mnar", ["DIR"], ["DIR"]),
        ("run", "pooling", ["coverage"], ["coverage"]),
        ("report", "pooling", ["--coverage", "D"], ["report", "--coverage", "D"]),
        ("compare", "collection", ["D"], ["--report-only", "--compare", "D"]),
        ("compare", "speed", ["D"], ["--compare", "D"]),
    ],
)
def test_commands_map_to_each_study_s_own_arguments(command, study, rest, expected):
    assert cli._arguments(command, study, rest) == expected


def test_commands_a_study_lacks_say_so():
    for command, study in (("compare", "uci"), ("compare", "mixed")):
        with pytest.raises(SystemExit, match="not available for this study"):
            cli._arguments(command, study, ["D"])


def test_the_command_line_lists_and_rejects(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in cli.STUDIES)
    assert cli.main(["run", "nosuch"]) == 2
    assert "Unknown study 'nosuch'" in capsys.readouterr().err
    assert cli.main(["frobnicate", "uci"]) == 2
    assert cli.main([]) == 2
