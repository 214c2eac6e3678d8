"""Operations on interval series (pure): complete grids, sums and differences, coarser resolutions.

An interval series is a DataFrame indexed by tz-aware interval starts with ``energy_kwh`` (kWh,
NaN when missing) and ``quality`` (see :mod:`energy.histories.quality`). An interval absent from
a series is missing: gaps never count as zero.
"""

from __future__ import annotations

import zoneinfo

import numpy as np
import pandas as pd

from energy.errors import InputError
from energy.histories import quality

# Resolutions whose buckets follow the local calendar (days of 23 or 25 hours on DST changes).
CALENDAR_FREQS = {"1D": "1D", "D": "1D", "1W": "W-MON", "W": "W-MON", "1MS": "MS", "MS": "MS", "1M": "MS"}


def check_zone(name: str, what: str) -> str:
    """``name`` if it is an IANA time zone, else an InputError naming the option ``what``."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"--{what}: unknown time zone {name!r} (use an IANA name like Europe/Berlin)") from exc
    return name


def interval_grid(start: pd.Timestamp, end: pd.Timestamp, interval_minutes: int) -> pd.DatetimeIndex:
    """Interval starts (UTC) from ``start`` (inclusive) to ``end`` (exclusive)."""
    return pd.date_range(
        pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC"),
        freq=f"{interval_minutes}min", inclusive="left", name="interval_start",
    )


def complete(series: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """``series`` on exactly ``index``; intervals it lacks are missing."""
    # Positions instead of a reindex of the string column: a year of 50 series is 1.8 M rows.
    position = index.get_indexer(series.index)
    kept = position >= 0
    energy = np.full(len(index), np.nan)
    code = np.full(len(index), quality.codes([quality.MISSING])[0], dtype="int8")
    energy[position[kept]] = series["energy_kwh"].to_numpy(dtype=float)[kept]
    code[position[kept]] = quality.codes(series["quality"].to_numpy()[kept])
    return quality.frame(index, energy, code)


def combine(index: pd.DatetimeIndex, add: list[pd.DataFrame], subtract: list[pd.DataFrame] = ()) -> pd.DataFrame:
    """Σ ``add`` − Σ ``subtract`` on ``index``; the worst quality of the parts (absent = missing)."""
    energy = np.zeros(len(index))
    code = np.zeros(len(index), dtype="int8")
    for sign, parts in ((1.0, add), (-1.0, subtract)):
        for part in parts:
            part = complete(part, index)
            energy += sign * part["energy_kwh"].to_numpy()
            code = np.maximum(code, quality.codes(part["quality"]))
    if not add and not subtract:
        code[:] = 2
    return quality.frame(index, energy, code)


def resample(series: pd.DataFrame, freq: str, tz: str = "UTC") -> pd.DataFrame:
    """Totals per coarser interval: ``15min``, ``30min``, ``1h``… or calendar ``1D``, ``1W``, ``1MS``.

    Calendar buckets are local days (midnight to midnight in ``tz``, 23 or 25 hours long on DST
    changes), weeks starting Monday, and months. The result is indexed by bucket start in ``tz``;
    a bucket is missing if any of its intervals is. ``series`` should be complete on the buckets
    asked for (see :func:`complete`): a bucket only partly inside the series covers only that part.
    """
    rule = CALENDAR_FREQS.get(freq, freq)
    try:
        offset = pd.tseries.frequencies.to_offset(rule)
    except ValueError as exc:
        raise InputError(f"--freq: {freq!r} is not a resolution (use e.g. 15min, 1h, 1D, 1W, 1MS)") from exc
    local = series.tz_convert(tz)
    code = pd.Series(quality.codes(local["quality"]), index=local.index)
    if rule in ("1D", "W-MON", "MS"):
        # Local calendar days: group by the local date, then weeks/months of those days.
        days = local.index.tz_localize(None).normalize()
        keys = days if rule == "1D" else (days.to_period("W-SUN").start_time if rule == "W-MON" else days.to_period("M").start_time)
        grouped_energy = local["energy_kwh"].groupby(keys).sum()
        grouped_code = code.groupby(keys).max()
        starts = pd.DatetimeIndex(grouped_energy.index).tz_localize(tz, ambiguous="raise", nonexistent="shift_forward")
    else:
        if len(series) > 1 and pd.Timedelta(offset) < series.index[1] - series.index[0]:
            raise InputError(f"--freq: {freq!r} is finer than the series' intervals")
        grouped_energy = local["energy_kwh"].resample(offset, label="left", closed="left").sum()
        grouped_code = code.resample(offset, label="left", closed="left").max()
        starts = grouped_energy.index
    # A bucket with no interval at all (a hole in the series) is missing, not zero.
    return quality.frame(pd.DatetimeIndex(starts), grouped_energy.to_numpy(), grouped_code.fillna(2).to_numpy())


def shift_weeks(series: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """``series`` moved by whole weeks so it ends as late as possible but no later than ``end``.

    Whole weeks keep weekdays and times of day (in UTC), so a past year of history can stand in
    for the recent past (e.g. a demo plant fed with a real 2018 load).
    """
    interval = series.index[1] - series.index[0] if len(series) > 1 else pd.Timedelta(0)
    week = pd.Timedelta(weeks=1)
    weeks = (pd.Timestamp(end) - (series.index[-1] + interval)) // week
    return series.set_axis(series.index + weeks * week)
