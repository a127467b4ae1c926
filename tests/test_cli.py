"""The miwae-impute command.

Most tests call ``main`` in this process: a new Python process takes seconds
to import torch, scikit-learn and pandas. The subprocess tests at the end
check that the command runs as a program, and gives the same bytes.
"""

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from miwae_impute._cli import main

# Observed cells that a lossy float format would change.
AWKWARD = [0.1 + 0.2, 1e-300, 123456789.123456789, 5e-324, -0.0, 2.0**-1074 * 3]
FAST = ["--index-col", "id", "--max-iter", "5", "--seed", "0"]
PREFIX = "miwae-impute: error: "


def _table(n=60, seed=0):
    """Rows of a correlated 3-column table with 20% missing cells, and an id."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) @ rng.normal(size=(3, 3)) + [0.0, 5.0, -3.0]
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:, 0][: len(AWKWARD)] = AWKWARD
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame.insert(0, "id", [f"r{i:03d}" for i in range(n)])
    return frame


@pytest.fixture
def data(tmp_path):
    """A CSV file of :func:`_table`, floats written as repr, missing as empty."""
    path = tmp_path / "data.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(_table().columns)
        for row in _table().itertuples(index=False):
            writer.writerow(
                [row[0], *("" if np.isnan(v) else repr(v) for v in row[1:])]
            )
    return path


@pytest.fixture
def cli(capsys):
    """Run the command in this process: (status, stdout, stderr)."""

    def run(*args):
        try:
            status = main([str(arg) for arg in args])
        except SystemExit as exit:  # argparse's usage errors and --help
            status = exit.code
        out, err = capsys.readouterr()
        return status, out, err

    return run


def _cells(path):
    """The text of each cell of a CSV file, header first."""
    with open(path, newline="") as file:
        return list(csv.reader(file))


def _bits(text):
    return np.float64(float(text)).view(np.int64)


def test_csv_keeps_observed_cells_bit_for_bit_and_fills_the_others(cli, data, tmp_path):
    out = tmp_path / "out.csv"
    assert cli(data, "-o", out, *FAST)[0] == 0
    before, after = _cells(data), _cells(out)
    assert after[0] == before[0] == ["id", "a", "b", "c"]
    assert len(after) == len(before) == 61
    n_filled = 0
    for row_in, row_out in zip(before[1:], after[1:]):
        assert row_out[0] == row_in[0]
        for cell_in, cell_out in zip(row_in[1:], row_out[1:]):
            if cell_in:
                assert cell_out == cell_in  # repr in, repr out
                assert _bits(cell_out) == _bits(cell_in)
            else:
                assert np.isfinite(float(cell_out))
                n_filled += 1
    assert n_filled > 20
    awkward = [float(row[1]) for row in after[1 : 1 + len(AWKWARD)]]
    assert [np.float64(v).view(np.int64) for v in awkward] == [
        np.float64(v).view(np.int64) for v in AWKWARD
    ]


def test_observed_cells_keep_their_value_whatever_their_text(cli, tmp_path):
    rows = ["x,y"] + [f"{i % 7}.50,{i % 5}" for i in range(40)] + ["1e-300,", ",2"]
    path = tmp_path / "in.csv"
    path.write_text("\n".join(rows) + "\n")
    assert cli(path, "-o", tmp_path / "out.csv", "--method", "mean")[0] == 0
    cells = _cells(tmp_path / "out.csv")
    assert cells[1] == ["0.5", "0.0"]  # a column with a missing cell is float
    assert cells[-2][0] == "1e-300" and cells[-1][0] != ""
    assert [float(c) for c, _ in cells[1:-1]] == [
        float(r.split(",")[0]) for r in rows[1:-1]
    ]


def test_standard_input_to_standard_output(cli, data, tmp_path, monkeypatch):
    assert cli(data, "-o", tmp_path / "out.csv", *FAST)[0] == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(data.read_text()))
    status, out, err = cli("-", *FAST)
    assert (status, err) == (0, "")
    assert out == (tmp_path / "out.csv").read_text()


def test_same_seed_same_bytes(cli, data, tmp_path):
    for name, seed in [("one", 0), ("two", 0), ("three", 1)]:
        args = ["--max-iter", "5", "--seed", seed, "--n-imputations", 2, "--long"]
        assert cli(data, "-o", tmp_path / f"{name}.csv", *args)[0] == 0
    one, two, three = (
        (tmp_path / f"{name}.csv").read_bytes() for name in ("one", "two", "three")
    )
    assert one == two
    assert one != three


@pytest.mark.parametrize("method", ["mean", "knn"])
def test_baselines(cli, data, tmp_path, method):
    out = tmp_path / "out.csv"
    assert cli(data, "-o", out, "--method", method)[0] == 0
    before, after = pd.read_csv(data), pd.read_csv(out)
    assert not after.isna().any().any()
    observed = before.notna()
    assert after[observed].equals(before[observed])
    if method == "mean":
        missing = before["b"].isna()
        assert np.allclose(after.loc[missing, "b"], before["b"].mean())


def test_n_imputations_write_numbered_files_or_one_long_file(cli, data, tmp_path):
    assert cli(data, "-o", tmp_path / "draw.csv", "--n-imputations", 3, *FAST)[0] == 0
    assert not (tmp_path / "draw.csv").exists()
    draws = [pd.read_csv(tmp_path / f"draw_{i}.csv") for i in (1, 2, 3)]
    before = pd.read_csv(data)
    for draw in draws:
        assert not draw.isna().any().any()
        assert draw[before.notna()].equals(before[before.notna()])
    assert not draws[0].equals(draws[1])

    long = tmp_path / "long.csv"
    assert cli(data, "-o", long, "--n-imputations", 3, "--long", *FAST)[0] == 0
    table = pd.read_csv(long)
    assert list(table.columns) == ["imputation", "id", "a", "b", "c"]
    assert table["imputation"].tolist() == [1] * 60 + [2] * 60 + [3] * 60
    for i, draw in enumerate(draws, 1):
        block = table[table["imputation"] == i].drop(columns="imputation")
        assert block.reset_index(drop=True).equals(draw)


def test_std_gives_zero_where_observed_and_the_index_labels(cli, data, tmp_path):
    out, sd = tmp_path / "out.csv", tmp_path / "sd.csv"
    assert cli(data, "-o", out, "--std", sd, *FAST)[0] == 0
    std, before = pd.read_csv(sd), pd.read_csv(data)
    assert list(std.columns) == ["id", "a", "b", "c"]
    assert std["id"].equals(before["id"])
    values, missing = std[["a", "b", "c"]], before[["a", "b", "c"]].isna()
    assert (values[~missing].fillna(0) == 0).all().all()
    assert (values[missing].fillna(1) > 0).all().all()
    # The same imputation as without --std.
    assert cli(data, "-o", tmp_path / "plain.csv", *FAST)[0] == 0
    assert out.read_bytes() == (tmp_path / "plain.csv").read_bytes()


def test_save_model_then_impute_new_files_with_it(cli, data, tmp_path):
    model, fitted = tmp_path / "model", tmp_path / "fitted.csv"
    assert cli(data, "-o", fitted, "--save-model", model, *FAST)[0] == 0
    assert {p.name for p in model.iterdir()} == {"params.json", "weights.pt"}
    again = tmp_path / "again.csv"
    assert cli(data, "-o", again, "--model", model)[0] == 0
    assert again.read_bytes() == fitted.read_bytes()
    # New rows, columns in another order: imputed by name.
    new = _table(20, seed=1)[["c", "a", "id", "b"]]
    new.to_csv(tmp_path / "new.csv", index=False)
    assert (
        cli(tmp_path / "new.csv", "-o", tmp_path / "new_out.csv", "--model", model)[0]
        == 0
    )
    imputed = pd.read_csv(tmp_path / "new_out.csv")
    assert list(imputed.columns) == ["c", "a", "id", "b"]
    assert not imputed.isna().any().any()


def test_columns_leave_the_others_as_read(cli, tmp_path):
    frame = _table()
    frame["zip"] = ["007", "NA", "", "10"] * 15
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out.csv"
    assert cli(path, "-o", out, "--columns", "a,b", *FAST)[0] == 0
    before, after = _cells(path), _cells(out)
    column = before[0].index
    assert after[0] == before[0]
    for j in (column("id"), column("c"), column("zip")):
        assert [row[j] for row in after] == [row[j] for row in before]
    assert "" in [row[column("c")] for row in after]
    assert "" not in [row[column("b")] for row in after]


def test_index_col_by_position_keeps_an_empty_header(cli, tmp_path):
    path = tmp_path / "in.csv"
    _table().set_index("id").rename_axis(None).to_csv(path)  # header: ",a,b,c"
    out = tmp_path / "out.csv"
    assert cli(path, "-o", out, "--index-col", "0", "--method", "mean")[0] == 0
    assert _cells(out)[0] == ["", "a", "b", "c"]
    assert [row[0] for row in _cells(out)] == [row[0] for row in _cells(path)]


def test_mixed_types_come_back_as_labels(cli, tmp_path):
    frame = _table()
    frame["colour"] = ["red", "blue", None, "blue"] * 15
    frame["ok"] = [True, False, None, False] * 15
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False)
    assert cli(path, "-o", out, *FAST)[0] == 0
    cells = _cells(out)
    header = cells[0]
    colour = {row[header.index("colour")] for row in cells[1:]}
    ok = {row[header.index("ok")] for row in cells[1:]}
    assert colour == {"red", "blue"} and ok == {"True", "False"}


def test_compressed_csv_in_tab_separated_out(cli, data, tmp_path):
    packed, out = tmp_path / "data.csv.gz", tmp_path / "out.tsv"
    pd.read_csv(data).to_csv(packed, index=False)
    assert packed.read_bytes()[:2] == b"\x1f\x8b"  # gzip's magic number
    assert cli(packed, "-o", out, "--method", "mean", "--index-col", "id")[0] == 0
    imputed = pd.read_csv(out, sep="\t")
    assert list(imputed.columns) == ["id", "a", "b", "c"]
    assert not imputed.isna().any().any()


def test_parquet_round_trip(cli, tmp_path):
    pytest.importorskip("pyarrow")
    frame = _table()
    frame["b"] = frame["b"].astype(np.float32)
    frame["colour"] = pd.Categorical(["red", "blue", None, "blue"] * 15)
    path, out = tmp_path / "in.parquet", tmp_path / "out.pq"
    frame.to_parquet(path)
    assert cli(path, "-o", out, *FAST)[0] == 0
    imputed = pd.read_parquet(out)
    assert imputed.dtypes.equals(frame.dtypes)
    assert not imputed.isna().any().any()
    observed = frame.notna()
    assert imputed[observed].equals(frame[observed])
    # Parquet in, CSV out.
    assert cli(path, "-o", tmp_path / "out.csv", "--method", "mean")[0] == 0
    assert pd.read_csv(tmp_path / "out.csv").shape == frame.shape


@pytest.mark.parametrize("which", ["input", "output"])
def test_parquet_without_pyarrow_is_a_one_line_error(
    cli, data, tmp_path, which, monkeypatch
):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow fails
    path = tmp_path / "in.parquet"
    path.write_bytes(b"PAR1")
    source, target = (
        (path, tmp_path / "o.csv")
        if which == "input"
        else (data, tmp_path / "o.parquet")
    )
    status, _, err = cli(source, "-o", target, "--method", "mean")
    assert status == 1
    assert (
        err == f"{PREFIX}Parquet needs pyarrow: pip install 'miwae-impute[parquet]'\n"
    )
    assert not target.exists()


def test_existing_files_and_the_input_need_force(cli, data, tmp_path):
    text = data.read_text()
    status, _, err = cli(data, "-o", data, "--method", "mean")
    assert status == 1 and "is the input; pass --force" in err
    assert data.read_text() == text
    out = tmp_path / "out.csv"
    out.write_text("keep me\n")
    status, _, err = cli(data, "-o", out, "--method", "mean")
    assert status == 1 and "exists; pass --force" in err
    assert out.read_text() == "keep me\n"
    assert cli(data, "-o", out, "--method", "mean", "--force")[0] == 0
    assert pd.read_csv(out).shape == (60, 4)
    assert cli(data, "-o", data, "--method", "mean", "-f")[0] == 0
    assert not pd.read_csv(data).isna().any().any()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_verbose_shows_a_progress_bar(cli, data, tmp_path):
    assert "MIWAE fit" in cli(data, "-o", tmp_path / "v.csv", "-v", *FAST)[2]
    assert cli(data, "-o", tmp_path / "q.csv", *FAST)[2] == ""


def test_an_empty_column_is_left_as_read_with_a_warning(cli, data, tmp_path):
    frame = pd.read_csv(data)
    frame["empty"] = np.nan
    frame.to_csv(tmp_path / "in.csv", index=False)
    args = ["-o", tmp_path / "out.csv", "--method", "mean", "--index-col", "id"]
    status, _, err = cli(tmp_path / "in.csv", *args)
    assert status == 0
    message = "column(s) ['empty'] have no observed value: left as read"
    assert err == f"miwae-impute: warning: {message}\n"
    assert pd.read_csv(tmp_path / "out.csv")["empty"].isna().all()


def test_help_reads_like_a_unix_tool(cli):
    status, out, _ = cli("--help")
    assert status == 0
    assert out.startswith("usage: miwae-impute")
    for text in (
        "files:",
        "method:",
        "uncertainty:",
        "--force",
        "examples:",
        "-o survey_imputed.csv",
    ):
        assert text in out


def _model(cli, data, tmp_path):
    assert (
        cli(data, "-o", tmp_path / "fit.csv", "--save-model", tmp_path / "m", *FAST)[0]
        == 0
    )
    return tmp_path / "m"


ERRORS = [
    ("{tmp}/nope.csv", "nope.csv: no such file"),
    ("{tmp}/data.xlsx", "data.xlsx: unknown file format"),
    ("{data} -o {tmp}/o.txt", "o.txt: unknown file format"),
    ("{data} -o {tmp}/no/o.csv", "o.csv: no such directory"),
    ("{tmp}/binary.csv", "cannot read"),
    ("{data} --columns a,zz", "has no column(s) ['zz']"),
    ("{data} --index-col key", "no column 'key' for --index-col"),
    ("{data} --method mean --std {tmp}/s.csv", "--std needs"),
    ("{data} --method knn --n-imputations 2 --long", "--n-imputations needs"),
    ("{data} --method pca --save-model {tmp}/m", "--save-model needs"),
    ("{data} --method knn --max-iter 3", "--max-iter does not apply"),
    ("{data} --model {tmp}", "holds no model"),
    ("{data} --model {tmp} --seed 1", "--seed does not apply to --model"),
    ("{data} -o {tmp}/x.csv --std {tmp}/x.csv", "given as two outputs"),
]


@pytest.mark.parametrize("args, message", ERRORS)
def test_errors_are_one_line(cli, data, tmp_path, args, message):
    shutil.copy(data, tmp_path / "data.xlsx")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00a,b\n\x80")
    before = sorted(tmp_path.iterdir())
    status, out, err = cli(*args.format(data=data, tmp=tmp_path).split())
    assert status == 1
    assert out == ""
    assert err.startswith("miwae-impute: error: ") and err.count("\n") == 1
    assert message in err
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("case", ["a missing column", "other columns"])
def test_a_model_must_fit_the_columns(cli, data, tmp_path, case):
    model = _model(cli, data, tmp_path)
    new = pd.read_csv(data).rename(columns={"c": "d"})
    new.to_csv(tmp_path / "new.csv", index=False)
    args = ["--columns", "a,b"] if case == "other columns" else []
    status, _, err = cli(tmp_path / "new.csv", "--model", model, *args)
    assert status == 1 and err.count("\n") == 1
    assert ("has no column(s) ['c'] that the model" in err) != bool(args)
    assert ("imputes the columns ['a', 'b', 'c'], not ['a', 'b']" in err) == bool(args)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--long"], "--long needs --n-imputations"),
        (["--n-imputations", "2"], "give -o OUTPUT, or use --long"),
        (["--n-imputations", "0", "--long"], "must be a positive integer"),
        (["--model", "m", "--save-model", "n"], "not allowed with argument"),
        (["--method", "forest"], "invalid choice: 'forest'"),
        (["--device", "gpu0"], "argument --device: Invalid device string: 'gpu0'"),
    ],
)
def test_usage_errors_exit_2(cli, data, args, message):
    status, _, err = cli(data, *args)
    assert status == 2
    assert message in err.splitlines()[-1]


def test_a_column_the_method_cannot_take_is_a_one_line_error(cli, tmp_path):
    pytest.importorskip("pyarrow")
    frame = _table()
    frame["when"] = pd.period_range("2020-01", periods=len(frame), freq="M")
    path, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    frame.to_parquet(path)
    status, _, err = cli(path, "-o", out, "--method", "mean")
    assert status == 1 and err.count("\n") == 1
    assert "non-numeric column(s) ['when']" in err and "--columns" in err
    assert not out.exists()
    assert cli(path, "-o", out, "--method", "mean", "--columns", "a,b,c")[0] == 0
    assert pd.read_parquet(out)["when"].equals(frame["when"])


def test_dates_in_a_parquet_file_are_imputed_in_their_dtype(cli, tmp_path):
    pytest.importorskip("pyarrow")
    frame = _table()
    frame["when"] = pd.date_range("2020-01-01", periods=len(frame), tz="UTC")
    frame.loc[[1, 4], "when"] = pd.NaT
    path, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    frame.to_parquet(path)
    assert cli(path, "-o", out, "--method", "mean")[0] == 0
    written = pd.read_parquet(out)["when"]
    assert written.dtype == frame["when"].dtype and written.notna().all()
    observed = frame["when"].notna()
    assert written[observed].equals(frame["when"][observed])


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available")
def test_cuda_without_cuda_is_a_one_line_error(cli, data, tmp_path):
    status, _, err = cli(data, "-o", tmp_path / "o.csv", "--device", "cuda", *FAST)
    assert status == 1
    assert err.startswith("miwae-impute: error: device='cuda' was requested")
    assert err.count("\n") == 1


def test_runs_as_a_program_with_the_same_output(cli, data, tmp_path):
    out = tmp_path / "out.csv"
    assert cli(data, "-o", out, "--threads", "1", *FAST)[0] == 0
    result = subprocess.run(
        [sys.executable, "-m", "miwae_impute._cli", data, "--threads", "1", *FAST],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == out.read_text()


def test_the_installed_command_reports_errors_without_a_traceback(tmp_path):
    script = Path(sys.executable).with_name("miwae-impute")
    if not script.exists():
        pytest.skip("miwae-impute is not installed next to this Python")
    result = subprocess.run(
        [script, tmp_path / "nope.csv"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert (
        result.stderr == f"miwae-impute: error: {tmp_path / 'nope.csv'}: no such file\n"
    )


# -- miwae-impute compare -------------------------------------------------------------
def test_compare_prints_the_methods_the_columns_and_a_recommendation(tmp_path, capsys):
    rng = np.random.default_rng(0)
    z = rng.normal(size=150)
    frame = pd.DataFrame({"id": range(150), "a": z, "b": 2 * z, "c": -z})
    for column in "abc":
        frame.loc[rng.random(150) < 0.2, column] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False)
    argv = ["compare", str(tmp_path / "t.csv"), "--methods", "pca", "mean"]
    argv += ["--seed", "0", "--index-col", "id", "-o", str(tmp_path / "s.csv")]
    argv += ["--plot", str(tmp_path / "s.png")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "pca imputes best overall" in out
    assert "Each column" in out and "Each method" in out
    scores = pd.read_csv(tmp_path / "s.csv")
    assert set(scores["method"]) == {"pca", "mean"}
    assert set(scores["column"]) == {"a", "b", "c"}  # not the index column
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert main(argv) == 0  # same seed, same scores (not times)
    again = pd.read_csv(tmp_path / "s.csv")
    pd.testing.assert_series_equal(again["score"], scores["score"])


def test_compare_reports_a_missing_file_in_one_line(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "none.csv")]) == 1
    assert capsys.readouterr().err.strip().endswith("none.csv: no such file")


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_iso_dates_in_a_csv_file_are_imputed_as_dates(cli, tmp_path):
    days = pd.date_range("2024-01-01", periods=40, freq="7D")
    rows = [f"{d:%Y-%m-%d},{i}" for i, d in enumerate(days)]
    rows[5] = ",5"  # a missing date
    path = _write_lines(tmp_path / "in.csv", ["when,step", *rows])
    assert cli(path, "-o", tmp_path / "out.csv", "--method", "knn")[0] == 0
    cells = _cells(tmp_path / "out.csv")[1:]
    assert [c for i, c in enumerate(cells) if i != 5] == [
        r.split(",") for i, r in enumerate(rows) if i != 5
    ]
    imputed = pd.Timestamp(cells[5][0])  # a date without a time, as the others
    assert len(cells[5][0]) == 10 and imputed == imputed.normalize()
    # kNN takes the neighbouring steps' dates: near the week the row is in
    assert abs(imputed - days[5]) <= pd.Timedelta(days=7)


def test_dates_with_times_and_an_offset_keep_them(cli, tmp_path):
    rows = [f"2024-03-{d:02d}T{h:02d}:30:00+01:00,{h}" for d, h in [(1, 8), (2, 9)]]
    rows += ["2024-03-03T10:30:00+01:00,", ",11", "2024-03-05T12:30:00+01:00,12"]
    path = _write_lines(tmp_path / "in.csv", ["at,hour", *rows])
    assert cli(path, "-o", tmp_path / "out.csv", "--method", "mean")[0] == 0
    written = pd.read_csv(tmp_path / "out.csv")["at"]
    parsed = pd.to_datetime(written, format="ISO8601")
    assert str(parsed.dtype) == "datetime64[us, UTC+01:00]"
    # the mean of 8.5, 33.5, 58.5 and 108.5 hours into March: 52.25 hours
    assert parsed[3] == pd.Timestamp("2024-03-03T04:15:00+01:00")
    assert parsed.notna().all()


@pytest.mark.parametrize("text", ["2024-13-45", "31/01/2024", "2024-01-31 at noon"])
def test_text_that_is_not_an_iso_date_stays_text(cli, tmp_path, text):
    rows = [f"{text},1", "2024-01-02,2", ",3", f"{text},4"]
    path = _write_lines(tmp_path / "in.csv", ["when,n", *rows])
    assert cli(path, "-o", tmp_path / "out.csv", "--method", "mean")[0] == 0
    cells = _cells(tmp_path / "out.csv")
    assert cells[3][0] in (text, "2024-01-02")  # one of the column's values
    assert [c[0] for c in cells[1:3] + cells[4:]] == [text, "2024-01-02", text]


def test_round_integers_writes_integer_columns_as_integers(cli, tmp_path):
    rows = [f"{i % 7},{i % 5}.0,{i % 3}.25" for i in range(30)] + [",,", "3,,1.5"]
    path = _write_lines(tmp_path / "in.csv", ["count,whole,real", *rows])
    out = tmp_path / "out.csv"
    assert cli(path, "-o", out, "--method", "mean", "--round-integers")[0] == 0
    cells = _cells(out)[1:]
    assert [c[0] for c in cells[:30]] == [r.split(",")[0] for r in rows[:30]]
    assert cells[30][0] == "3"  # the mean 2.9 of 0..6, rounded
    assert cells[30][1] == "2.0"  # "2.0" is text of a float: its mean stays one
    assert float(cells[30][2]) == pytest.approx(
        np.mean([i % 3 + 0.25 for i in range(30)] + [1.5])
    )
    assert cli(path, "-o", out, "--method", "mean", "-f")[0] == 0
    assert _cells(out)[1][0] == "0.0"  # without the flag, the column is float


def test_round_integers_reads_parquet_integer_columns(cli, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {"n": pa.array([1, 2, None, 4, 7], pa.int64()), "x": [0.5, None, 1.5, 2.0, 3.0]}
    )
    path, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, path)
    assert pd.read_parquet(path)["n"].dtype == np.float64  # as pandas reads it
    assert cli(path, "-o", out, "--method", "mean", "--round-integers")[0] == 0
    written = pd.read_parquet(out)
    assert written["n"].dtype == "Int64" and written["n"].tolist() == [1, 2, 4, 4, 7]
    assert written["x"].dtype == np.float64 and written["x"][1] == 1.75


def test_compare_scores_a_date_column_as_a_number(tmp_path, capsys):
    rng = np.random.default_rng(0)
    step = np.arange(120)
    frame = pd.DataFrame(
        {"when": pd.Timestamp("2024-01-01") + pd.to_timedelta(step, "D"), "n": step}
    )
    frame["n"] = frame["n"].astype(float) + rng.normal(size=120)
    frame.loc[rng.random(120) < 0.2, "when"] = pd.NaT
    frame.loc[rng.random(120) < 0.2, "n"] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False, date_format="%Y-%m-%d")
    argv = ["compare", str(tmp_path / "t.csv"), "--methods", "pca", "mean"]
    assert main([*argv, "--seed", "0", "-o", str(tmp_path / "s.csv")]) == 0
    scores = pd.read_csv(tmp_path / "s.csv")
    dates = scores[(scores["column"] == "when") & (scores["metric"] == "mse")]
    by_method = dates.groupby("method")["score"].mean()
    # the dates follow n: PCA imputes them from it, the mean cannot
    assert by_method["pca"] < 0.1 < 0.5 < by_method["mean"]
