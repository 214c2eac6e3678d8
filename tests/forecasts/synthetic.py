"""Seeded synthetic plant loads with known structure, defined in local time (so DST-correct)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

TZ = "Europe/Berlin"
BASE_KW = 40.0
PRODUCTION_KW = 160.0  # on top of the base, 06:00–22:00 on working days; half on Saturdays


def plant_kw(
    start: str,
    days: int,
    *,
    tz: str = TZ,
    freq: str = "15min",
    noise_kw: float = 5.0,
    off_days: tuple[dt.date, ...] = (),
    trend_kw_per_day: float = 0.0,
    seed: int = 0,
) -> pd.Series:
    """Power (kW) per UTC interval start from local midnight of ``start`` for ``days`` local days:
    base load, two shifts on weekdays (half on Saturday, none on Sunday and ``off_days``), a
    linear trend and Gaussian noise."""
    first = pd.Timestamp(start).tz_localize(tz)
    last = (pd.Timestamp(start) + pd.Timedelta(days=days)).tz_localize(tz)
    index = pd.date_range(first, last, freq=freq, inclusive="left").tz_convert("UTC")
    local = index.tz_convert(tz)
    hour = local.hour + local.minute / 60
    weekday = local.day_of_week.to_numpy()
    share = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.5, 0.0))
    share = np.where(np.isin(local.date, list(off_days)), 0.0, share)
    producing = (hour >= 6) & (hour < 22)
    elapsed_days = ((index - index[0]) / pd.Timedelta(days=1)).to_numpy()
    rng = np.random.default_rng(seed)
    values = BASE_KW + PRODUCTION_KW * share * producing + trend_kw_per_day * elapsed_days + rng.normal(0, noise_kw, len(index))
    return pd.Series(values, index=index, name="power_kw")


def split_at(series: pd.Series, day: str, tz: str = TZ, days: int = 1) -> tuple[pd.Series, pd.Series]:
    """(history before local midnight of ``day``, the ``days`` local days from it)."""
    origin = pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")
    end = (pd.Timestamp(day) + pd.Timedelta(days=days)).tz_localize(tz).tz_convert("UTC")
    return series[series.index < origin], series[(series.index >= origin) & (series.index < end)]


def mae(forecast: pd.Series, actual: pd.Series) -> float:
    return float((forecast - actual).abs().mean())
