"""Files for the ``miwae-impute`` command: their formats, reading and writing.

CSV cells are read twice: as typed data for the imputer, and as text, so that
the columns written back unchanged keep their exact text. ISO 8601 date
columns are read as dates, and with ``--round-integers`` the columns whose
observed cells are all integers as nullable integers.
"""

import io
import os
import re
import sys
from pathlib import Path

import pandas as pd

_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_COMPRESSIONS = {".gz", ".bz2", ".xz", ".zst", ".zip"}
_SEPARATORS = {"csv": ",", "tsv": "\t"}
# pandas 3.1 parses every float exactly and deprecates the option.
_EXACT = (
    {"float_precision": "round_trip"}
    if tuple(map(int, pd.__version__.split(".")[:2])) < (3, 1)
    else {}
)


class _Error(Exception):
    """A problem with the user's files or options, reported in one line."""


def _one_line(message):
    return " ".join(line.strip() for line in str(message).splitlines() if line)


def _format(path):
    """The format of ``path`` from its extension, its stem and the extension."""
    suffixes = Path(path).suffixes[-2:]
    if suffixes[-1:] and suffixes[-1].lower() not in _COMPRESSIONS:
        suffixes = suffixes[-1:]
    fmt = _FORMATS.get(suffixes[0].lower()) if suffixes else None
    if fmt is None or (fmt == "parquet" and len(suffixes) > 1):
        raise _Error(
            f"{path}: unknown file format; use .csv or .tsv (optionally compressed: "
            ".gz, .bz2, .xz, .zst, .zip), .parquet or .pq"
        )
    extension = "".join(suffixes)
    return fmt, str(path)[: -len(extension)], extension


def _draw_paths(args):
    """The files of the ``--n-imputations`` draws: OUTPUT's stem, _1 ... _N."""
    _, stem, extension = _format(args.output)
    return [f"{stem}_{i}{extension}" for i in range(1, args.n_imputations + 1)]


def _check_outputs(args):
    """Refuse outputs that exist (without --force), repeat, or need pyarrow."""
    tables = [] if args.output in (None, "-") else [args.output]
    if tables and args.n_imputations and not args.long:
        tables = _draw_paths(args)
    tables += [args.std] if args.std else []
    formats = [_format(path)[0] for path in tables]
    files = tables + [
        os.path.join(args.save_model, name)
        for name in ("params.json", "weights.pt")
        if args.save_model
    ]
    source = None if args.input == "-" else Path(args.input).resolve()
    seen = set()
    for path in files:
        if Path(path).resolve() in seen:
            raise _Error(f"{path} is given as two outputs")
        seen.add(Path(path).resolve())
        if args.force:
            continue
        if Path(path).resolve() == source:
            raise _Error(f"{path} is the input; pass --force to overwrite it")
        if os.path.lexists(path):
            raise _Error(f"{path} exists; pass --force to overwrite it")
    for path in tables:
        if not os.path.isdir(os.path.dirname(path) or "."):
            raise _Error(f"{path}: no such directory")
    if "parquet" in formats:
        _need_pyarrow()


def _need_pyarrow():
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise _Error(
            "Parquet needs pyarrow: pip install 'miwae-impute[parquet]'"
        ) from None


def _read(args, text):
    """The table as typed data, as it is to be written back, and its index column.

    The typed table has the ``--index-col`` column as its index. With ``text``
    (CSV to CSV), the second table holds the text of every cell, so that the
    columns that keep their cells come back exactly as they were read.
    """
    path = args.input
    fmt = "csv" if path == "-" else _format(path)[0]
    if path != "-" and not Path(path).is_file():
        raise _Error(f"{path}: no such file")
    if fmt == "parquet":
        _need_pyarrow()
    source = io.StringIO(sys.stdin.read()) if path == "-" else path
    try:
        if fmt == "parquet":
            frame = raw = pd.read_parquet(source, engine="pyarrow")
            cells = None
        else:
            frame = raw = pd.read_csv(source, sep=_SEPARATORS[fmt], **_EXACT)
            cells = None
            if text or getattr(args, "round_integers", False):
                if path == "-":
                    source.seek(0)
                cells = pd.read_csv(
                    source, sep=_SEPARATORS[fmt], dtype=str, keep_default_na=False
                )
                raw = cells if text else frame
    except (ValueError, OSError) as error:
        message = _one_line(error)
        raise _Error(f"cannot read {path} as {fmt.upper()}: {message}") from None
    if fmt != "parquet":
        frame = _parse_dates(frame)
    if getattr(args, "round_integers", False):
        frame = _integer_columns(frame, cells, source if fmt == "parquet" else None)
    if fmt != "parquet" and list(frame.columns[:1]) == ["Unnamed: 0"]:
        # pandas names an empty first header so; write it back empty.
        frame, raw = (t.rename(columns={"Unnamed: 0": ""}) for t in (frame, raw))
    name = args.index_col
    if name is not None and name not in frame.columns:
        if not (name.isdigit() and int(name) < frame.shape[1]):
            raise _Error(f"{path} has no column {name!r} for --index-col")
        name = frame.columns[int(name)]
    return (frame if name is None else frame.set_index(name)), raw, name


# A date, with an optional time and UTC offset: 2024-01-31, 2024-01-31T08:15,
# 2024-01-31 08:15:00.5+01:00.
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
)
_INTEGER = re.compile(r"[+-]?\d+")


def _parse_dates(frame):
    """``frame`` with its text columns of ISO 8601 dates as ``datetime64``.

    A column is parsed only when every observed cell is such a date, and
    only as one type (one UTC offset, or none); other columns are kept as
    read.
    """
    frame = frame.copy(deep=False)
    for column in frame.columns:
        values = frame[column].dropna()
        if frame[column].dtype.kind in "biufcmM" or values.empty:
            continue
        if not all(isinstance(v, str) and _ISO_DATE.fullmatch(v) for v in values):
            continue
        try:
            dates = pd.to_datetime(frame[column], format="ISO8601")
        except (ValueError, TypeError):
            continue  # mixed offsets: left as text
        if dates.dtype.kind == "M":  # not Timestamps of several offsets
            frame[column] = dates
    return frame


def _integer_columns(frame, cells, parquet=None):
    """``frame`` with its integer columns that have missing cells as Int64.

    pandas reads a column of integers with empty cells as floats. In a CSV
    file, the text of the observed cells tells integers from floats such as
    ``2.0``; in a Parquet file, the column's type.
    """
    if parquet is not None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.read_schema(parquet)
        integers = {f.name for f in schema if pa.types.is_integer(f.type)}
    frame = frame.copy(deep=False)
    for column in frame.columns:
        if frame[column].dtype.kind != "f" or not frame[column].isna().any():
            continue
        if parquet is None:
            observed = cells.loc[frame[column].notna().to_numpy(), column]
            integer = all(_INTEGER.fullmatch(v.strip()) for v in observed)
        else:
            integer = column in integers
        if integer:
            frame[column] = frame[column].astype("Int64")
    return frame


def _date_only(column):
    """Whether every observed cell of a datetime ``column`` is at midnight."""
    values = column.dropna()
    return column.dtype.kind == "M" and bool((values == values.dt.normalize()).all())


def _complete(raw, frame, imputed):
    """``raw`` with the columns of ``frame`` that have missing cells imputed.

    A date column whose observed cells are all dates without a time gets its
    imputations rounded to the day, so that it is written as dates.
    """
    out = raw.copy()
    for column in imputed.columns:
        if frame[column].isna().any():
            values = imputed[column]
            if _date_only(frame[column]) and values.dtype.kind == "M":
                values = values.dt.round("D")
            out[column] = values.array
    return out


def _write(table, path, index):
    """Write ``table`` to ``path`` (standard output for None or -), atomically."""
    if path in (None, "-"):
        table.to_csv(sys.stdout, index=index)
        return
    fmt = _format(path)[0]
    partial = os.path.join(os.path.dirname(path), f".{os.getpid()}.{Path(path).name}")
    try:
        if fmt == "parquet":
            table.to_parquet(partial, engine="pyarrow", index=index)
        else:
            table.to_csv(partial, sep=_SEPARATORS[fmt], index=index)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
