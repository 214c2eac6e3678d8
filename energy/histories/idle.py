"""Idle (standby) energy: what a machine draws outside production, the waste plants look for.

Production time comes from the site calendar (``[calendar] shifts`` as local ``HH:MM-HH:MM``,
a shift may cross midnight; ``shutdown_days`` have no production) or from any boolean mask, for
example the intervals where jobs were scheduled. Every interval outside production counts as
idle: its energy is standby consumption (lights left on, compressors feeding leaks, furnaces held
hot). The idle power level is that energy over the idle hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy.config import Calendar
from energy.errors import InputError
from energy.histories import quality
from energy.histories.series import resample


def _minutes(text: str, what: str) -> int:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError as exc:
        raise InputError(f"calendar.shifts: {what} {text!r} is not HH:MM") from exc
    if not (0 <= hours <= 24 and 0 <= minutes < 60 and hours * 60 + minutes <= 1440):
        raise InputError(f"calendar.shifts: {what} {text!r} is not a time of day")
    return hours * 60 + minutes


def production_mask(index: pd.DatetimeIndex, calendar: Calendar, tz: str) -> np.ndarray:
    """True for intervals whose start lies in a shift (local time ``tz``) on a working day."""
    if not calendar.shifts:
        raise InputError("calendar.shifts: no shifts configured, so idle time cannot be told from production")
    local = index.tz_convert(tz)
    minute = np.asarray(local.hour * 60 + local.minute)
    producing = np.zeros(len(index), dtype=bool)
    for shift in calendar.shifts:
        begin_text, _, end_text = shift.partition("-")
        begin, end = _minutes(begin_text.strip(), "shift start"), _minutes(end_text.strip(), "shift end")
        producing |= (minute >= begin) & (minute < end) if begin < end else (minute >= begin) | (minute < end)
    shutdown = np.isin(np.asarray(local.date), np.asarray(calendar.shutdown_days, dtype=object))
    return producing & ~shutdown


def idle_energy(series: pd.DataFrame, producing: np.ndarray, freq: str = "1D", tz: str = "UTC") -> pd.DataFrame:
    """Idle energy per ``freq`` bucket: ``idle_energy_kwh``, ``idle_hours``, ``idle_power_kw``, ``quality``.

    ``series``: a complete interval series (e.g. a machine's); ``producing``: one bool per interval.
    """
    idle = ~np.asarray(producing, dtype=bool)
    interval_h = (series.index[1] - series.index[0]) / pd.Timedelta(hours=1) if len(series) > 1 else 0.0
    code = np.where(idle, quality.codes(series["quality"]), 0)
    outside = quality.frame(series.index, np.where(idle, series["energy_kwh"].to_numpy(), 0.0), code)
    totals = resample(outside, freq, tz)
    hours = pd.Series(idle * interval_h, index=series.index.tz_convert(tz))
    hours = resample(quality.frame(hours.index, hours.to_numpy(), np.zeros(len(hours), dtype="int8")), freq, tz)["energy_kwh"]
    with np.errstate(invalid="ignore", divide="ignore"):
        power = totals["energy_kwh"].to_numpy() / hours.to_numpy()
    return pd.DataFrame(
        {
            "idle_energy_kwh": totals["energy_kwh"],
            "idle_hours": hours.to_numpy(),
            "idle_power_kw": np.where(hours.to_numpy() > 0, power, np.nan),
            "quality": totals["quality"],
        },
        index=totals.index,
    )
