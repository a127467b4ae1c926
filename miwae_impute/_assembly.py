"""The output side of every imputer: imputed entries written into a copy of
the input, categorical levels and dates decoded, and the container given back.

:class:`_Assembly` writes *only* the missing entries, so observed entries
come out bit-for-bit unchanged; it refuses NaN or infinite imputations, and
gives a DataFrame back with its index, column names and dtypes (polars as
polars).
"""

import numpy as np
import pandas as pd
from sklearn.utils._set_output import _get_output_config, _wrap_data_with_container
from sklearn.utils.validation import _check_feature_names_in

from ._categorical import decode_column
from ._frames import (
    is_float32,
    is_temporal,
    numbers_to_temporal,
    output_dtype,
    to_output_dtype,
    to_polars,
)

__all__ = ["_Assembly"]


class _Assembly:
    """The output side of :class:`~miwae_impute._base._BaseImputer`."""

    def _completions(self, data, X, draws):
        """What ``sample`` returns: a completed copy of ``X`` per draw (None
        when nothing is missing), in the container type of :meth:`transform`."""
        return [
            _wrap_data_with_container("transform", self._assemble(data, d), X, self)
            for d in draws
        ]

    def _assemble(self, data, imputed):
        """Write the imputed entries into a copy of ``X`` and wrap the result.

        Only missing entries are written, so observed entries stay bit-for-bit.
        """
        X_out = data.X.copy()
        if imputed is not None:
            valid = np.flatnonzero(self._valid_features)
            self._check_imputed(imputed, data.mask[:, valid], data)
            fill = data.fill[:, valid]
            sub = X_out[:, valid]
            sub[fill] = imputed[fill]
            X_out[:, valid] = sub
        decoded = None  # the output column of each categorical feature (frames)
        if self.is_categorical_.any():
            categorical = np.flatnonzero(self.is_categorical_ & self._valid_features)
            if data.columns is None:
                X_out = self._decode_array(X_out, data, categorical)
            else:
                decoded = {j: self._decoded(X_out, data, j) for j in categorical}
        if data.dtypes is not None:  # dates and durations, in their dtype
            temporal = [is_temporal(d) for d in data.dtypes]
            for j in np.flatnonzero(temporal & self._valid_features):
                column, cells = data.raw.iloc[:, j], data.fill[:, j]
                decoded = {} if decoded is None else decoded
                decoded[j] = numbers_to_temporal(column, cells, X_out[cells, j])
        empty = ~self._valid_features
        if empty.any():
            if self.keep_empty_features:
                X_out[:, empty] = np.where(data.mask[:, empty], 0.0, X_out[:, empty])
            else:
                X_out = X_out[:, self._valid_features]
        if self.add_indicator:
            indicator = self.indicator_.transform(np.where(data.fill, np.nan, 0.0))
            X_out = np.hstack([X_out, indicator.astype(X_out.dtype)])
        return self._wrap_like(X_out, data, decoded=decoded)

    def _decoded(self, X_out, data, j):
        """Column ``j`` of the output: the user's, with levels at the filled codes."""
        values = data.raw.iloc[:, j] if data.columns is not None else data.raw[:, j]
        return decode_column(values, data.fill[:, j], X_out[:, j], self.categories_[j])

    def _decode_array(self, X_out, data, categorical):
        """The output array with each ``categorical`` column as the user gave it.

        Numeric arrays stay numeric (the levels are numbers); an object array,
        which holds labels, stays an object array.
        """
        raw = np.asarray(data.raw)
        out = X_out.astype(object) if raw.dtype == object else X_out
        for j in categorical:
            out[:, j] = self._decoded(X_out, data, j)
        return out

    def _check_imputed(self, imputed, mask, data):
        """Refuse imputations that are NaN or inf, or overflow a float32 column.

        The last line of defence of the promise that the output is finite: a
        method that fails numerically raises instead of writing NaN or inf.
        """
        float32 = (
            np.full(data.X.shape[1], data.X.dtype == np.float32)
            if data.dtypes is None
            else np.array([is_float32(d) for d in data.dtypes])
        )[self._valid_features]
        limit = np.where(float32, np.finfo(np.float32).max, np.finfo(np.float64).max)
        column = np.nonzero(mask)[1]  # the column of each imputed entry, in order
        bad = ~(np.abs(imputed[mask]) <= limit[column])  # NaN compares False
        if bad.any():
            columns = np.zeros(len(self._valid_features), dtype=bool)
            columns[np.flatnonzero(self._valid_features)[column[bad]]] = True
            raise FloatingPointError(
                f"{type(self).__name__} imputed NaN, infinite, or (for float32 "
                f"columns) out-of-range values in column(s) "
                f"{self._column_names(columns)}. Pass float64 data, rescale the "
                "data, or report the problem with the data that caused it."
            )

    def _wrap_like(
        self, X_out, data, *, with_indicator=True, decoded=None, values=True
    ):
        """Give a DataFrame back for DataFrame input, keeping index and dtypes.

        Each numeric column comes back in :func:`~miwae_impute._frames.output_dtype`
        of its input dtype (integers rounded with ``round_integers`` when
        ``values``; a standard deviation, ``values=False``, stays float).
        ``decoded`` holds the output column of each categorical, date or
        duration feature, by feature index. A polars input, or
        ``set_output(transform="polars")``, gives polars.
        """
        if data.columns is None:
            return X_out  # set_output's wrapper names the columns
        keep = slice(None) if self.keep_empty_features else self._valid_features
        if self._fit_columns is not None and data.columns.equals(self._fit_columns):
            columns = list(data.columns[keep])  # any column labels, not only str
        else:
            columns = list(_check_feature_names_in(self, None)[keep])
        if with_indicator and self.add_indicator:
            columns += list(self.get_feature_names_out()[len(columns) :])
        out = pd.DataFrame(X_out, index=data.index, columns=columns, copy=False)
        decoded = decoded or {}
        rounded = values and self.round_integers
        for i, j in enumerate(np.arange(len(self._valid_features))[keep]):
            if j in decoded:
                # A Series, so that an object column is not inferred as str.
                out.isetitem(i, decoded[j].set_axis(out.index))
                continue
            dtype = output_dtype(data.dtypes.iloc[j], rounded)
            if dtype != np.float64:
                out.isetitem(i, to_output_dtype(out.iloc[:, i], dtype))
        config = _get_output_config("transform", self)["dense"]
        if config == "polars" or (config == "default" and data.polars_schema):
            return to_polars(out, data.polars_schema)
        return out
