"""Seasonal-naive baselines: the same local slot yesterday, or the same local slot last week.

"Same slot" is the same local wall-clock time, so a plant that starts at 06:00 local is still
forecast to start at 06:00 after a daylight-saving change. Where that instant does not exist or
is ambiguous (the hour skipped or repeated), the slot exactly 24 h × days earlier in UTC is used.
A target further ahead than one season, or whose source slot is missing, takes the same slot one
more season back (up to ``MAX_SEASONS``). Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice*, 3rd ed., §5.2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy.forecasts.calendar import ForecastCalendar

MAX_SEASONS = 8


def same_local_time_earlier(times: pd.DatetimeIndex, days: int, timezone: str) -> pd.DatetimeIndex:
    """UTC instants at the same local wall-clock time ``days`` days before each of ``times``."""
    wall = times.tz_convert(timezone).tz_localize(None) - pd.Timedelta(days=days)
    earlier = wall.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")
    exact = times.tz_convert("UTC") - pd.Timedelta(days=days)
    return earlier.where(~earlier.isna(), exact)


def seasonal_naive(
    history: pd.Series,
    index: pd.DatetimeIndex,
    calendar: ForecastCalendar,
    season_days: int,
    max_seasons: int = MAX_SEASONS,
) -> pd.Series:
    """Forecast (kW) for ``index``: the history's value at the same local slot one season
    (``season_days``) earlier, else two seasons, … up to ``max_seasons``; NaN if none exists."""
    forecast = pd.Series(np.nan, index=index)
    for seasons in range(1, max_seasons + 1):
        missing = forecast.isna()
        if not missing.any():
            break
        source = same_local_time_earlier(index[missing.to_numpy()], seasons * season_days, calendar.timezone)
        forecast[missing] = history.reindex(source).to_numpy()
    return forecast


def naive_scale(history: pd.Series, calendar: ForecastCalendar) -> float:
    """MASE scale: the in-sample mean absolute error of the daily seasonal naive (kW).

    NaN when the history holds no pair of slots one day apart.
    """
    lagged = seasonal_naive(history, history.index, calendar, season_days=1, max_seasons=1)
    errors = (history - lagged).abs().dropna()
    return float(errors.mean()) if len(errors) else float("nan")
