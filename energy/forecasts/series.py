"""Series preparation: interval energy → power on a regular UTC grid, and gap filling.

Models work in UTC on a regular grid (no repeated or missing hours at daylight-saving changes);
calendar features are taken from local time separately (``energy.forecasts.calendar``).
Missing intervals stay NaN on the grid; only models that cannot take gaps see them filled.
"""

from __future__ import annotations

import pandas as pd


def steps_per_day(freq: str | pd.Timedelta) -> int:
    """Number of intervals of length ``freq`` in 24 hours (96 for 15 min)."""
    step = pd.Timedelta(freq)
    if step <= pd.Timedelta(0) or pd.Timedelta(days=1) % step:
        raise ValueError(f"interval {freq!r} must divide one day")
    return int(pd.Timedelta(days=1) / step)


def on_grid(values: pd.Series, freq: str | pd.Timedelta) -> pd.Series:
    """``values`` on a regular UTC grid from its first to its last label, NaN where absent.

    The index must be tz-aware; duplicate labels keep the last value.
    """
    if values.index.tz is None:
        raise ValueError("history index must be tz-aware")
    values = values[~values.index.duplicated(keep="last")].sort_index().astype(float)
    values.index = values.index.tz_convert("UTC")
    if values.empty:
        return values
    grid = pd.date_range(values.index[0], values.index[-1], freq=pd.Timedelta(freq))
    return values.reindex(grid)


def power_kw_from_intervals(frame: pd.DataFrame, freq: str | pd.Timedelta) -> pd.Series:
    """Mean power (kW) per interval from ``energy.histories`` rows (``energy_kwh``, ``quality``).

    Intervals flagged ``missing`` become NaN; ``estimated`` ones are kept.
    """
    hours = pd.Timedelta(freq) / pd.Timedelta(hours=1)
    energy_kwh = frame["energy_kwh"].where(frame["quality"] != "missing")
    return on_grid(energy_kwh / hours, freq).rename("power_kw")


def fill_gaps(values: pd.Series, season_steps: int, passes: int = 7) -> pd.Series:
    """Gaps filled from the same slot one season before or after, then linearly.

    For models that need a complete series (Holt-Winters, MSTL). ``passes`` bounds how many
    seasons away a value may be borrowed from.
    """
    filled = values.copy()
    for _ in range(passes):
        if not filled.isna().any():
            break
        filled = filled.fillna(filled.shift(season_steps)).fillna(filled.shift(-season_steps))
    return filled.interpolate(limit_direction="both")
