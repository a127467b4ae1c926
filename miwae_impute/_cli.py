"""The ``miwae-impute`` command: impute the missing cells of a CSV or Parquet file."""

import argparse
import inspect
import os
import sys
import warnings

import pandas as pd
import torch

from . import __version__, make_imputer
from ._cli_io import (
    _check_outputs,
    _complete,
    _draw_paths,
    _Error,
    _format,
    _one_line,
    _read,
    _write,
)
from ._miwae import MIWAEImputer
from ._registry import _IMPUTERS

_PROG = "miwae-impute"
_DESCRIPTION = """\
Impute the missing cells of a table with MIWAE, a deep latent variable model
(Mattei & Frellsen, 2019), or with one of the baselines. INPUT is a CSV file
(.csv or .tsv, optionally compressed: .gz, .bz2, .xz, .zst, .zip), a Parquet
file (.parquet or .pq; needs pyarrow: pip install 'miwae-impute[parquet]'),
or - for CSV on standard input; empty cells, NA and NaN are missing. Numeric
columns are imputed with numbers, and so are dates (ISO 8601, such as
2024-01-31 or 2024-01-31T08:15:00+01:00, rounded to the day in a column of
dates without times); string and boolean columns with one of their values.
Only missing cells are written: observed floats come back bit for bit, and
the columns without missing cells or left out (--columns, --index-col) as
they were read. The completed table goes to OUTPUT, in the format of its
extension, or as CSV to standard output. Files that exist, the
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
        ("--round-integers", {"action": "store_true", "help": "impute the "
            "columns whose observed cells are all integers with integers "
            "(rounded); default: with their conditional mean, a float"}),
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


def _show_warning(message, category, *args, **kwargs):
    print(f"{_PROG}: warning: {_one_line(message)}", file=sys.stderr)


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
        "round_integers": (args.round_integers or None, "--round-integers"),
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
