"""Loader for the shared steel-plant series (bench and tests only; the histories importer will
replace it).

``../shared/data/load/steel_industry_2018_15min.csv``: ``date`` is day/month/year and marks the
END of each 15-minute interval; each day's ``0:00`` row comes after that day's ``23:45`` row and
is the interval ending at the FOLLOWING midnight (see ``shared/data/SOURCES.md``). The plant is in
Gwangyang, Korea (Asia/Seoul, no daylight saving).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

STEEL_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "load" / "steel_industry_2018_15min.csv"
TIMEZONE = "Asia/Seoul"


def load_steel_power_kw(path: Path = STEEL_CSV) -> pd.Series:
    """Mean power (kW) per 15-minute interval, indexed by UTC interval start."""
    raw = pd.read_csv(path, usecols=["date", "Usage_kWh"], encoding="utf-8-sig")
    end = pd.to_datetime(raw["date"], format="%d/%m/%Y %H:%M")
    midnight = (end.dt.hour == 0) & (end.dt.minute == 0)
    end = end + pd.to_timedelta(midnight.astype(int), unit="D")
    start = (end - pd.Timedelta(minutes=15)).dt.tz_localize(TIMEZONE).dt.tz_convert("UTC")
    power = pd.Series(raw["Usage_kWh"].to_numpy() * 4.0, index=pd.DatetimeIndex(start), name="power_kw")
    if not power.index.is_monotonic_increasing or power.index.has_duplicates:
        raise ValueError(f"{path}: timestamps not in order after the midnight fix")
    return power
