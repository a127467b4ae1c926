"""The ``miwae-impute`` command: impute the missing cells of a CSV or Parquet file."""

import argparse
import inspect
import io
import os
import sys
import warnings
from pathlib import Path

import pandas as pd
import torch

from . import __version__, make_imputer
from ._miwae import MIWAEImputer
from ._registry import _IMPUTERS

_PROG = "miwae-impute"
_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_COMPRESSIONS = {".gz", ".bz2", ".xz", ".zst", ".zip"}
_SEPARATORS = {"csv": ",", "tsv": "\t"}
# pandas 3.1 parses every float exactly and deprecates the option.
_EXACT = (
    {"float_precision": "round_trip"}
    if tuple(map(int, pd.__version__.split(".")[:2])) < (3, 1)
    else {}
)

_DESCRIPTION = """\
Impute the missing cells of a table with MIWAE, a deep latent variable model
(Mattei & Frellsen, 2019), or with one of the baselines. INPUT is a CSV file
(.csv or .tsv, optionally compressed: .gz, .bz2, .xz, .zst, .zip), a Parquet
file (.parquet or .pq; needs pyarrow: pip install 'miwae-impute[parquet]'),
or - for CSV on standard input; empty cells, NA and NaN are missing. Numeric
columns are imputed with numbers, string and boolean columns with one of
their values. Only missing cells are written: observed floats come back bit
for bit, and the columns without missing cells or left out (--columns,
--index-col) as they were read. The completed table goes to OUTPUT, in the
format of its extension, or as CSV to standard output. Files that exist, the
input among them, are not overwritten without --force."""

_EPILOG = """\
examples:
  miwae-impute survey.csv -o survey_imputed.csv
  miwae-impute compare survey.csv
      (which imputer suits the table: see miwae-impute compare --help)
  miwae-impute survey.csv -o draws.csv --n-imputations 5 --seed 0
      (draws_1.csv ... draws_5.csv; --long writes one file with an
      'imputation' column)
  miwae-impute train.parquet --columns age,income --save-model model -o out.parquet
  miwae-impute new.csv --model model --std new_sd.csv > new_imputed.csv

exit status: 0 on success, 1 on an error, 2 on a usage error."""


class _Error(Exception):
    """A problem with the user's files or options, reported in one line."""


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _device(text):
    try:
        torch.device(text)
    except RuntimeError as error:
        raise argparse.ArgumentTypeError(_one_line(error)) from None
    return text


_N = {"type": _positive, "metavar": "N"}
_OPTIONS = {
    "files": [
        ("input", {"metavar": "INPUT", "help": "the table to impute, or -"}),
        ("-o", "--output", {"help": "the completed table (default: -)"}),
        ("-f", "--force", {"action": "store_true", "help": "overwrite existing files"}),
        ("--columns", {"metavar": "A,B,...", "type": lambda text: text.split(","),
            "help": "comma-separated columns to impute, the only ones the method "
            "reads; the others are kept as read (default: all, or the model's)"}),
        ("--index-col", {"metavar": "COL", "help": "a column of row labels (a "
            "name, or a 0-based position): not given to the method, kept as read, "
            "and the row labels of --std"}),
    ],
    "method": [
        ("--method", {"choices": list(_IMPUTERS), "help": "the imputer (default: "
            "miwae); --n-imputations, --std and --save-model need a miwae one"}),
        ("--seed", {"type": int, "help": "random seed: same seed, same output"}),
        ("--max-iter", {**_N, "help": "training budget: epochs for miwae, mvae, "
            "not-miwae (default: 3000 steps of 64 rows, and at least 200 epochs "
            "within 20,000 steps), iterations for pca, "
            "missforest"}),
        ("--device", {"type": _device, "help": "torch device of the miwae "
            "methods: cpu (default), cuda, cuda:1, ..."}),
        ("--threads", {**_N, "help": "torch's CPU threads"}),
        ("-v", "--verbose", {"action": "store_true", "help": "show progress bars"}),
    ],
    "uncertainty": [
        ("--n-imputations", {**_N, "help": "write N draws from the posterior "
            "instead of the conditional mean, to OUTPUT's stem + _1 ... _N"}),
        ("--long", {"action": "store_true", "help": "with --n-imputations, "
            "write the draws to OUTPUT, numbered in a first column 'imputation'"}),
        ("--std", {"metavar": "FILE", "help": "also write the posterior standard "
            "deviation of the cells to FILE (0 where observed, empty where a "
            "categorical cell is missing)"}),
    ],
    "model (exclusive)": [
        ("--save-model", {"metavar": "DIR", "help": "save the fitted model to DIR"}),
        ("--model", {"metavar": "DIR", "help": "impute with the model saved in DIR "
            "instead of fitting one"}),
    ],
}  # fmt: skip


def _parser():
    """The command's argument parser."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for title, options in _OPTIONS.items():
        group = parser.add_argument_group(title)
        if title.startswith("model"):
            group = group.add_mutually_exclusive_group()
        for *flags, keywords in options:
            group.add_argument(*flags, **keywords)
    version = f"%(prog)s {__version__}"
    parser.add_argument("--version", action="version", version=version)
    return parser


def _one_line(message):
    return " ".join(line.strip() for line in str(message).splitlines() if line)


def _show_warning(message, category, *args, **kwargs):
    print(f"{_PROG}: warning: {_one_line(message)}", file=sys.stderr)


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
        else:
            frame = raw = pd.read_csv(source, sep=_SEPARATORS[fmt], **_EXACT)
            if text:
                if path == "-":
                    source.seek(0)
                raw = pd.read_csv(
                    source, sep=_SEPARATORS[fmt], dtype=str, keep_default_na=False
                )
    except (ValueError, OSError) as error:
        message = _one_line(error)
        raise _Error(f"cannot read {path} as {fmt.upper()}: {message}") from None
    if fmt != "parquet" and list(frame.columns[:1]) == ["Unnamed: 0"]:
        # pandas names an empty first header so; write it back empty.
        frame, raw = (t.rename(columns={"Unnamed: 0": ""}) for t in (frame, raw))
    name = args.index_col
    if name is not None and name not in frame.columns:
        if not (name.isdigit() and int(name) < frame.shape[1]):
            raise _Error(f"{path} has no column {name!r} for --index-col")
        name = frame.columns[int(name)]
    return (frame if name is None else frame.set_index(name)), raw, name


def _imputer(args):
    """The imputer to fit, or the saved one, after checking what it can do."""
    if args.model:
        for flag in ("method", "seed", "max_iter"):
            if getattr(args, flag) is not None:
                raise _Error(f"--{flag.replace('_', '-')} does not apply to --model")
        if not os.path.isfile(os.path.join(args.model, "params.json")):
            raise _Error(f"{args.model} holds no model saved by --save-model")
        try:
            imputer = MIWAEImputer.load(args.model)
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            message = _one_line(error)
            raise _Error(f"cannot load the model in {args.model}: {message}") from None
        name = "the saved model"
    else:
        name = args.method or "miwae"
        imputer = make_imputer(name)
    options = {
        "random_state": (args.seed, None),
        "verbose": (int(args.verbose), None),
        "max_iter": (args.max_iter, "--max-iter"),
        "device": (args.device, "--device"),
    }
    params = imputer.get_params()
    for key, (value, flag) in options.items():
        if value is not None and key in params:
            imputer.set_params(**{key: value})
        elif value is not None and flag:
            raise _Error(f"{flag} does not apply to --method {name}")
    has_std = "return_std" in inspect.signature(imputer.transform).parameters
    for flag, able in [
        (args.n_imputations and "--n-imputations", hasattr(imputer, "sample")),
        (args.std and "--std", has_std),
        (args.save_model and "--save-model", hasattr(imputer, "save")),
    ]:
        if flag and not able:
            raise _Error(f"{flag} needs a method of the miwae family, not {name}")
    return imputer


def _columns(args, frame, imputer):
    """The columns the imputer reads, after checking them against the table."""
    fitted = getattr(imputer, "feature_names_in_", None) if args.model else None
    columns = args.columns or (list(frame.columns) if fitted is None else list(fitted))
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise _Error(
            f"{args.input} has no column(s) {unknown}"
            + (f" that the model in {args.model} needs" if fitted is not None else "")
        )
    if fitted is not None and set(columns) != set(fitted):
        raise _Error(
            f"the model in {args.model} imputes the columns {list(fitted)}, "
            f"not {columns}"
        )
    empty = [c for c in columns if frame[c].isna().all()]
    if empty and not args.model:
        message = f"column(s) {empty} have no observed value: left as read"
        warnings.warn(message, UserWarning, stacklevel=2)
        columns = [c for c in columns if c not in empty]
    if not columns:
        raise _Error(f"{args.input} has no column to impute")
    return columns


def _complete(raw, frame, imputed):
    """``raw`` with the columns of ``frame`` that have missing cells imputed."""
    out = raw.copy()
    for column in imputed.columns:
        if frame[column].isna().any():
            out[column] = imputed[column].array
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


def _run(args):
    """Read, impute and write, as the parsed ``args`` say."""
    _check_outputs(args)
    imputer = _imputer(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    text = args.output in (None, "-") or _format(args.output)[0] != "parquet"
    frame, raw, name = _read(args, text)
    X = frame[_columns(args, frame, imputer)]
    index = not isinstance(raw.index, pd.RangeIndex)  # Parquet's saved index
    labels = raw.index if name is None else pd.Index(raw[name])
    if args.model is None and not (args.n_imputations or args.std):
        imputed = imputer.fit_transform(X)
    elif args.model is None:
        imputer.fit(X)
    if args.save_model:
        imputer.save(args.save_model)
    if args.std:
        imputed, std = imputer.transform(X, return_std=True)
        _write(std.set_axis(labels), args.std, index or name is not None)
    if not args.n_imputations:
        if args.model and not args.std:
            imputed = imputer.transform(X)
        _write(_complete(raw, frame, imputed), args.output, index)
        return
    tables = [_complete(raw, frame, t) for t in imputer.sample(X, args.n_imputations)]
    if not args.long:
        for path, table in zip(_draw_paths(args), tables):
            _write(table, path, index)
        return
    for i, table in enumerate(tables, 1):
        table.insert(0, "imputation", i)
    _write(pd.concat(tables), args.output, index)


def main(argv=None):
    """Run the command with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str or None, default=None
        The command-line arguments, without the program's name.

    Returns
    -------
    status : int
        0 on success, 1 on an error (reported in one line on standard
        error); usage errors exit with status 2, as argparse does.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["compare"]:
        from . import _cli_compare

        return _cli_compare.main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.long and not args.n_imputations:
        parser.error("--long needs --n-imputations")
    if args.n_imputations and not args.long and args.output in (None, "-"):
        parser.error("--n-imputations writes files: give -o OUTPUT, or use --long")
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            _run(args)
    except (_Error, ValueError, TypeError, FloatingPointError, OSError) as error:
        hint = " (--columns picks the columns)" if isinstance(error, TypeError) else ""
        print(f"{_PROG}: error: {_one_line(error)}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
