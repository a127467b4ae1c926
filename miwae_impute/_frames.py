"""DataFrames in and out: pandas (NumPy-, nullable- and pyarrow-backed
columns), polars, dates and durations, and the dtype each column comes back in.

Inside, every imputer works on a float array. At the boundary, a DataFrame's
numeric columns become floats (dates and durations as ticks of their unit), and
on the way out each column goes back to its dtype: floats as they came, and
integers as the float of their family (NumPy int64 as float64, nullable Int64
as Float64, int64[pyarrow] as double[pyarrow]) unless ``round_integers``.
A polars DataFrame goes through pandas (by pyarrow) and comes back as polars.
"""

import numpy as np
import pandas as pd

from ._categorical import holds_labels

__all__ = [
    "frame_to_array",
    "is_float32",
    "is_polars",
    "is_temporal",
    "numbers_to_temporal",
    "output_dtype",
    "polars_to_pandas",
    "to_floats",
    "to_output_dtype",
    "to_polars",
]

_POLARS_EXTRA = "pip install 'miwae-impute[polars]'"


def is_temporal(dtype):
    """Whether a column of ``dtype`` holds dates, times or durations."""
    return pd.api.types.is_datetime64_any_dtype(
        dtype
    ) or pd.api.types.is_timedelta64_dtype(dtype)


def to_floats(column):
    """A numeric, datetime or timedelta column as floats, NaN where missing:
    dates and durations as ticks of their unit since the epoch (UTC for a
    time zone) or in the duration."""
    if not is_temporal(column.dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    ticks = column.array.asi8.astype(np.float64)
    ticks[column.isna().to_numpy()] = np.nan
    return ticks


def numbers_to_temporal(column, cells, values):
    """``column`` with the ``cells`` set to ``values``, ticks of its unit
    (rounded to the nearest), in its dtype; the other cells as they were."""
    out = column.copy()
    ticks = np.round(values).astype(np.int64)
    dtype = column.dtype
    unit = dtype.unit if hasattr(dtype, "unit") else np.datetime_data(dtype)[0]
    if pd.api.types.is_timedelta64_dtype(dtype):
        new = pd.to_timedelta(ticks, unit=unit)
    else:
        new = pd.to_datetime(ticks, unit=unit, utc=True)
        tz = getattr(dtype, "tz", None)
        new = new.tz_convert(tz) if tz is not None else new.tz_localize(None)
    out[cells] = pd.Series(new, index=out.index[cells]).astype(dtype)
    return out


def frame_to_array(X, categorical):
    """DataFrame to a float array, with NaN in the ``categorical`` columns.

    Dates, times and durations become numbers (:func:`to_floats`).
    Refuse the other non-numeric columns by name.
    """
    bad = [
        (col, str(dtype))
        for (col, dtype), cat in zip(X.dtypes.items(), categorical)
        if not cat
        and not is_temporal(dtype)
        and (
            not pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
        )
        and not (pd.api.types.is_object_dtype(dtype) and not holds_labels(X[col]))
    ]
    if bad:
        raise TypeError(
            "miwae_impute needs numeric or categorical columns, got non-numeric "
            f"column(s) {[col for col, _ in bad]} with dtype(s) "
            f"{[dtype for _, dtype in bad]} that categorical_features leaves out. "
            "List them in categorical_features, or drop them before imputing."
        )
    temporal = np.array([is_temporal(d) for d in X.dtypes], dtype=bool)
    numeric = X.iloc[:, np.flatnonzero(~categorical & ~temporal)]
    all_float32 = len(X.columns) > 0 and all(d == np.float32 for d in X.dtypes)
    dtype = np.float32 if all_float32 else np.float64
    out = np.full(X.shape, np.nan, dtype=dtype)
    # to_numpy turns pd.NA of nullable Int64/Float64 columns into np.nan.
    out[:, ~categorical & ~temporal] = numeric.to_numpy(dtype=dtype, na_value=np.nan)
    for j in np.flatnonzero(temporal & ~categorical):
        out[:, j] = to_floats(X.iloc[:, j])
    return out


def is_polars(X):
    """Whether ``X`` is a polars DataFrame (without importing polars)."""
    return type(X).__module__.split(".")[0] == "polars" and hasattr(X, "schema")


def polars_to_pandas(X):
    """A polars DataFrame as pandas, through pyarrow."""
    try:
        frame = X.to_pandas()
    except ModuleNotFoundError as error:
        raise ImportError(
            "A polars DataFrame is read through pyarrow, which is not "
            f"installed: {_POLARS_EXTRA}."
        ) from error
    # An integer column with nulls arrives as float64: make it nullable Int.
    widened = {
        name: pd.api.types.pandas_dtype(str(dtype))
        for name, dtype in X.schema.items()
        if dtype.is_integer() and frame[name].dtype.kind == "f"
    }
    return frame.astype(widened) if widened else frame


def to_polars(frame, schema=None):
    """A pandas output as polars; with the input's polars ``schema``, each
    column whose output dtype is of its input's family is cast back to it."""
    try:
        import polars as pl

        out = pl.from_pandas(frame)
    except ModuleNotFoundError as error:
        raise ImportError(
            f"Polars output needs polars and pyarrow: {_POLARS_EXTRA}."
        ) from error
    if schema is None:
        return out
    kept = [
        pl.col(name).cast(dtype)
        for name, dtype in schema.items()
        if name in out.columns
        and not (dtype.is_integer() and out.schema[name].is_float())
    ]
    return out.with_columns(kept) if kept else out


def _numpy_dtype(dtype):
    """The NumPy dtype behind ``dtype``: its own, or a nullable or pyarrow one's."""
    return getattr(dtype, "numpy_dtype", dtype)


def is_float32(dtype):
    """Whether a column of ``dtype`` holds float32 (NumPy, nullable or pyarrow)."""
    return _numpy_dtype(dtype) == np.float32


def _is_float32_or_64(dtype):
    if not pd.api.types.is_float_dtype(dtype):
        return False
    return np.dtype(_numpy_dtype(dtype)).itemsize >= 4


def output_dtype(dtype, round_integers=False):
    """The dtype that a numeric column of ``dtype`` comes back in.

    float32 and float64 columns (NumPy, nullable or pyarrow) keep theirs. An
    integer column keeps its dtype with ``round_integers``, and otherwise
    becomes the float64 of its family, which holds a conditional mean
    unrounded. Any other column (numbers in an object column, booleans read
    as numbers, float16) comes back as float64.
    """
    if _is_float32_or_64(dtype):
        return dtype
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        if round_integers:
            return dtype
        if isinstance(dtype, pd.ArrowDtype):
            import pyarrow as pa

            return pd.ArrowDtype(pa.float64())
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            return pd.Float64Dtype()
    return np.dtype(np.float64)


def to_output_dtype(column, dtype):
    """``column`` (floats) in ``dtype``: integers rounded half to even and
    clipped to the dtype's range."""
    if pd.api.types.is_integer_dtype(dtype):
        info = np.iinfo(np.dtype(_numpy_dtype(dtype)))
        values = np.clip(np.rint(column.to_numpy(np.float64)), info.min, info.max)
        column = pd.Series(values, index=column.index, name=column.name)
    return column.astype(dtype)
