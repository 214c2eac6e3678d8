"""Calendar features for load models, taken from the site's local time.

A day is *off* when it is a public holiday of the site's country/subdivision (the ``holidays``
package) or a configured plant shutdown day; off days are modelled like Sundays. Shifts are the
configured ``'HH:MM-HH:MM'`` production windows in local time (a window may cross midnight).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from energy.config import SiteConfig
from energy.errors import InputError

SUNDAY = 6


@dataclass(frozen=True)
class ForecastCalendar:
    """What the models need to know about the site's days (picklable, for worker processes)."""

    timezone: str = "UTC"
    country: str | None = None
    subdivision: str | None = None
    shutdown_days: frozenset[dt.date] = field(default_factory=frozenset)
    shifts: tuple[tuple[int, int], ...] = ()  # (start, end) minutes after local midnight


def parse_shift(text: str, where: str) -> tuple[int, int]:
    """``'06:00-14:00'`` → (360, 840) minutes after local midnight."""
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as exc:
        raise InputError(f"{where}: {text!r} is not a shift like '06:00-14:00'") from exc
    return start.hour * 60 + start.minute, end.hour * 60 + end.minute


def calendar_from_config(config: SiteConfig) -> ForecastCalendar:
    """The site's time zone, holiday country/subdivision, shutdown days and shifts."""
    return ForecastCalendar(
        timezone=config.site.timezone,
        country=config.site.country,
        subdivision=config.site.subdivision,
        shutdown_days=frozenset(config.calendar.shutdown_days),
        shifts=tuple(
            parse_shift(text, f"calendar.shifts[{i}]") for i, text in enumerate(config.calendar.shifts)
        ),
    )


@lru_cache(maxsize=64)
def _holiday_dates(country: str, subdivision: str | None, years: tuple[int, ...]) -> frozenset[dt.date]:
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError as exc:
        raise InputError(f"site.country/subdivision: no public holidays known for {country!r}/{subdivision!r}") from exc
    return frozenset(found.keys())


def off_days(calendar: ForecastCalendar, dates: pd.Index) -> np.ndarray:
    """True for each local date that is a public holiday or a shutdown day."""
    off = set(calendar.shutdown_days)
    if calendar.country:
        years = tuple(sorted({d.year for d in dates}))
        off |= _holiday_dates(calendar.country, calendar.subdivision, years)
    return np.fromiter((d in off for d in dates), dtype=bool, count=len(dates))


def calendar_features(index: pd.DatetimeIndex, calendar: ForecastCalendar) -> pd.DataFrame:
    """Per UTC interval start: local ``day_type`` (0 = Monday … 6 = Sunday or off day),
    ``off_day``, ``minute_of_day`` (local) and one ``shift_<i>`` flag per configured shift
    (1 inside the window on a day that is not off)."""
    local = index.tz_convert(calendar.timezone)
    dates = pd.Index(local.date)
    unique_dates = dates.unique()
    off = pd.Series(off_days(calendar, unique_dates), index=unique_dates).reindex(dates).to_numpy()
    minute = (local.hour * 60 + local.minute).to_numpy()
    features = pd.DataFrame(
        {
            "day_type": np.where(off, SUNDAY, local.day_of_week.to_numpy()),
            "off_day": off,
            "minute_of_day": minute,
        },
        index=index,
    )
    for i, (start, end) in enumerate(calendar.shifts):
        inside = (minute >= start) & (minute < end) if start < end else (minute >= start) | (minute < end)
        features[f"shift_{i}"] = (inside & ~off).astype(float)
    return features
