"""Load series for the tariff tests."""

from __future__ import annotations

import pandas as pd

from energy.tariffs import bill


def flat_kwh(start: str, end: str, kw: float, freq: str = "15min", tz: str = "UTC") -> pd.Series:
    """kWh per interval of a constant ``kw`` load from local ``start`` to ``end`` (exclusive)."""
    index = pd.date_range(pd.Timestamp(start, tz=tz), pd.Timestamp(end, tz=tz), freq=freq, inclusive="left").tz_convert("UTC")
    return pd.Series(kw * pd.Timedelta(freq) / pd.Timedelta(hours=1), index=index, name="load")


def bill_of(tariff, energy_kwh: pd.Series, freq: str = "15min"):
    """(summary per period, lines) of one series."""
    bills = bill(tariff, energy_kwh, pd.Timedelta(freq))
    return bills.summary().loc["load"], bills.lines
