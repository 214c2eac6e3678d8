"""Time conventions: tz-aware UTC inside, epoch milliseconds in the database, local at the edges.

Every timestamp column in the database is a BIGINT of UTC epoch milliseconds (``*_ms``):
identical on SQLite and PostgreSQL, fast to bulk-load, and free of time-zone ambiguity.
Intervals are labelled by their start.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from energy.errors import InputError


_EPOCH = pd.Timestamp(0, tz="UTC")


def to_epoch_ms(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC epoch milliseconds (int64) of tz-aware timestamps."""
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        raise ValueError("timestamps must be tz-aware")
    return index.tz_convert("UTC").as_unit("ms").asi8.astype("int64")


def from_epoch_ms(values) -> pd.DatetimeIndex:
    """tz-aware UTC timestamps from epoch milliseconds."""
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(values, dtype="int64"), unit="ms", utc=True))


def timestamp_to_ms(value: pd.Timestamp | dt.datetime) -> int:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise ValueError("timestamp must be tz-aware")
    return int((ts - _EPOCH) // pd.Timedelta(1, "ms"))


def parse_instant(text: str, *, what: str, tz: str = "UTC") -> pd.Timestamp:
    """Parse an ISO 8601 instant or date given on the command line or in a file.

    A value without an offset is read in ``tz`` (the site's zone at the edges); the result is UTC.
    """
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{what}: {text!r} is not an ISO 8601 date or time") from exc
    if ts is pd.NaT:
        raise InputError(f"{what}: {text!r} is not an ISO 8601 date or time")
    if ts.tzinfo is None:
        try:
            ts = ts.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        except Exception as exc:  # pytz/zoneinfo raise several types for DST edge cases
            raise InputError(f"{what}: {text!r} does not exist or is ambiguous in {tz}") from exc
    return ts.tz_convert("UTC")


def now_ms() -> int:
    return int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)


def parse_day(value: str | dt.date, what: str) -> dt.date:
    """A local calendar day from ``YYYY-MM-DD`` (a date passes through); ``what`` names the
    option or field in the error."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise InputError(f"{what}: {value!r} is not a date (write YYYY-MM-DD)") from exc


def local_day_slots(day: dt.date, tz: str, freq: pd.Timedelta | str) -> pd.DatetimeIndex:
    """UTC starts of the intervals of local ``day`` in zone ``tz`` (92, 96 or 100 quarter hours
    on daylight-saving days)."""
    start = pd.Timestamp(day).tz_localize(tz)
    end = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(tz)
    return pd.date_range(start, end, freq=freq, inclusive="left").tz_convert("UTC")
