"""Dates, times and durations: imputed as numbers, given back in their dtype."""

import numpy as np
import pandas as pd
import pytest
from test_robustness import NAMES, TINY

from miwae_impute import MeanImputer, make_imputer


def _frame(n=60):
    rng = np.random.default_rng(0)
    days = pd.date_range("2020-01-01", periods=n, freq="D")
    frame = pd.DataFrame(
        {
            "x": np.arange(n, dtype=float) + rng.normal(size=n),
            "day": days,  # datetime64[ns]
            "local": days.tz_localize("Europe/Paris").astype(
                "datetime64[us, Europe/Paris]"
            ),
            "second": days.astype("datetime64[s]"),
            "wait": pd.to_timedelta(np.arange(n), unit="h"),
        }
    )
    for column in frame:
        frame.loc[rng.random(n) < 0.2, column] = None
    return frame


@pytest.mark.parametrize("name", NAMES)
def test_dtypes_survive_and_observed_cells_are_unchanged(name):
    frame = _frame()
    imputer = make_imputer(name, **TINY[name])
    out = imputer.fit_transform(frame)
    assert out.dtypes.equals(frame.dtypes)
    assert not out.isna().any().any()
    for column in frame:
        observed = frame[column].notna()
        pd.testing.assert_series_equal(out[column][observed], frame[column][observed])
    if name in ("miwae", "mvae", "not-miwae"):
        for draw in imputer.sample(frame, n_imputations=2):
            assert draw.dtypes.equals(frame.dtypes) and not draw.isna().any().any()


def test_mean_imputation_of_dates_is_their_mean_in_their_unit_and_zone():
    frame = _frame()
    out = MeanImputer().fit_transform(frame)
    for column in ("day", "local", "second", "wait"):
        dtype = frame[column].dtype
        unit = dtype.unit if hasattr(dtype, "unit") else np.datetime_data(dtype)[0]
        missing = frame[column].isna()
        error = abs(out[column][missing] - frame[column].dropna().mean())
        assert (error <= pd.Timedelta(1, unit=unit)).all(), column  # rounded
    assert str(out["local"].dt.tz) == "Europe/Paris"


def test_a_date_column_of_an_unknown_kind_is_still_refused_by_name():
    frame = pd.DataFrame(
        {"x": [1.0, None, 3.0], "period": pd.period_range("2020", periods=3, freq="Y")}
    )
    with pytest.raises(TypeError, match="'period'"):
        MeanImputer().fit(frame)
