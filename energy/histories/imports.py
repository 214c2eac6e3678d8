"""Import of interval data from utility or other systems' CSV files (``energy import intervals``).

Each row is one interval: a timestamp and a value. Options say how to read them:

- ``time_column`` and ``time_format`` (a ``strptime`` format such as ``%d/%m/%Y %H:%M``; default
  ISO 8601). Stamps with a UTC offset are taken as they are; stamps without one are local times in
  ``tz``. A local time that does not exist (spring forward) or is ambiguous (fall back) is
  rejected with its line number: write such files with offsets.
- ``stamps``: ``start`` or ``end`` — whether a stamp marks the start or the end of its interval.
- ``midnight`` (end stamps without offset): ``next-day`` reads ``D 00:00`` as the midnight that
  ends day D (files that write ``24:00`` that way), ``this-day`` as the midnight that starts it;
  ``auto`` (default) picks ``next-day`` when a ``D 00:00`` row follows a later row of the same
  day D, as in the steel-plant file, and rejects a file that mixes both.
- ``value_column`` and ``unit``: ``kWh`` (energy of the interval) or ``kW`` (its mean power).
- ``interval_minutes``: the interval length; by default the most common spacing of the stamps.

Malformed rows (unreadable or misaligned stamps, non-numeric or infinite values, two rows for
one interval) are rejected with the line number; nothing is stored then. An empty value is a
``missing`` interval; every other row is ``measured``. Intervals absent from the file stay absent
(and read back as missing). A file whose interval differs from the site's ``interval_minutes``
is rejected when it is stored (:func:`import_intervals`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.histories import quality
from energy.histories.api import stored_site_settings
from energy.histories.process import derive
from energy.histories.series import check_zone
from energy.histories.store import store_intervals
from energy.readings import UTC_OFFSET, fail_first_line, read_csv_text
from energy.timeutil import from_epoch_ms, to_epoch_ms

Stamps = Literal["start", "end"]
Midnight = Literal["auto", "next-day", "this-day"]
Unit = Literal["kWh", "kW"]
_DAY_MS = 86_400_000

# How the shipped steel-plant file (UCI data set 851, see data/demo/ATTRIBUTION.md) is read:
# day/month/year end stamps in the plant's local time (Korea: UTC+9, no daylight saving).
STEEL_FILE_OPTIONS = {
    "time_column": "date",
    "time_format": "%d/%m/%Y %H:%M",
    "stamps": "end",
    "value_column": "Usage_kWh",
    "unit": "kWh",
    "tz": "Asia/Seoul",
    "interval_minutes": 15,
}


def _midnight_next_day(path: Path, wall: pd.Series, lines: np.ndarray, midnight: Midnight) -> np.ndarray:
    """Which rows are ``D 00:00`` stamps meaning the midnight that ends day D."""
    at_midnight = (wall.dt.hour == 0) & (wall.dt.minute == 0) & (wall.dt.second == 0)
    at_midnight = at_midnight.to_numpy()
    if midnight == "this-day" or not at_midnight.any():
        return np.zeros(len(wall), dtype=bool)
    if midnight == "next-day":
        return at_midnight
    day = wall.dt.normalize().to_numpy()
    previous_day = np.concatenate([[np.datetime64("NaT")], day[:-1]])
    previous = np.concatenate([[np.datetime64("NaT")], wall.to_numpy()[:-1]])
    closes_day = at_midnight & (previous_day == day) & (previous > wall.to_numpy())
    opens_day = at_midnight & (previous_day == day - np.timedelta64(1, "D"))
    if closes_day.any() and opens_day.any():
        first = int(np.flatnonzero(opens_day)[0])
        raise InputError(
            f"{path}: line {lines[first]}: midnight stamps are ambiguous: some rows write the end of day D as "
            f"'D 00:00' (line {lines[int(np.flatnonzero(closes_day)[0])]}), this one as the next day's 00:00 "
            "(choose with --midnight next-day or this-day)"
        )
    return at_midnight if closes_day.any() else np.zeros(len(wall), dtype=bool)


def _parse_times(path: Path, text: pd.Series, lines: np.ndarray, time_format: str | None, tz: str, stamps: Stamps, midnight: Midnight) -> pd.DatetimeIndex:
    parse = {"format": time_format or "ISO8601", "errors": "coerce"}
    # Unreadable stamps first (utc=True parses stamps with and without offsets alike).
    times = pd.to_datetime(text, utc=True, **parse)
    fail_first_line(path, times.isna().to_numpy(), lines, lambda i: f"timestamp {text.iloc[i]!r} does not match {time_format or 'ISO 8601'}")
    has_offset = text.str.contains(UTC_OFFSET).to_numpy() if time_format is None else np.full(len(text), "%z" in time_format)
    fail_first_line(path, has_offset != has_offset[0], lines, lambda i: f"timestamp {text.iloc[i]!r}: some stamps have a UTC offset and others do not")
    if has_offset[0]:
        return pd.DatetimeIndex(times)
    wall = pd.to_datetime(text, **parse)
    if stamps == "end":
        wall = wall.where(~_midnight_next_day(path, wall, lines, midnight), wall + pd.Timedelta(days=1))
    local = pd.DatetimeIndex(wall).tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    fail_first_line(
        path, local.isna(), lines,
        lambda i: f"local time {text.iloc[i]!r} does not exist or is ambiguous in {tz} (daylight saving): write stamps with a UTC offset",
    )
    return local.tz_convert("UTC")


def _interval_ms(path: Path, stamps_ms: np.ndarray, interval_minutes: int | None) -> int:
    if interval_minutes is not None:
        if interval_minutes <= 0 or _DAY_MS % (interval_minutes * 60_000):
            raise InputError(f"--interval-minutes: {interval_minutes} must be positive and divide a day")
        return interval_minutes * 60_000
    steps = np.diff(np.unique(stamps_ms))
    if len(steps) == 0:
        raise InputError(f"{path}: cannot tell the interval length from one row (give --interval-minutes)")
    values, counts = np.unique(steps, return_counts=True)
    interval = int(values[np.argmax(counts)])
    if _DAY_MS % interval:
        raise InputError(f"{path}: the most common spacing of the stamps ({interval / 60_000:g} min) does not divide a day (give --interval-minutes)")
    return interval


def read_interval_csv(
    path: str | Path,
    *,
    time_column: str = "timestamp",
    time_format: str | None = None,
    stamps: Stamps = "start",
    midnight: Midnight = "auto",
    value_column: str = "energy_kwh",
    unit: Unit = "kWh",
    tz: str = "UTC",
    interval_minutes: int | None = None,
) -> pd.DataFrame:
    """Read and validate an interval CSV (see the module doc); errors name the file and line.

    Returns a frame indexed by interval start (UTC, time order) with ``energy_kwh`` (kWh) and
    ``quality``.
    """
    path = Path(path)
    if stamps not in ("start", "end"):
        raise InputError(f"--stamps: {stamps!r} must be start or end")
    if unit not in ("kWh", "kW"):
        raise InputError(f"--unit: {unit!r} must be kWh or kW")
    if midnight not in ("auto", "next-day", "this-day"):
        raise InputError(f"--midnight: {midnight!r} must be auto, next-day or this-day")
    check_zone(tz, "tz")
    raw = read_csv_text(path)
    missing = [c for c in (time_column, value_column) if c not in raw.columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(map(repr, missing))} (columns: {', '.join(raw.columns)})")
    lines = np.arange(2, len(raw) + 2)  # the header is line 1
    if raw.empty:
        raise InputError(f"{path}: no data rows")
    times = _parse_times(path, raw[time_column].str.strip(), lines, time_format, tz, stamps, midnight)
    stamps_ms = to_epoch_ms(times)
    interval_ms = _interval_ms(path, stamps_ms, interval_minutes)
    starts_ms = stamps_ms - interval_ms if stamps == "end" else stamps_ms
    fail_first_line(path, starts_ms % interval_ms != 0, lines, lambda i: f"timestamp {raw[time_column].iloc[i]!r} is not on the {interval_ms // 60_000}-minute grid")
    order = np.argsort(starts_ms, kind="stable")
    repeated = np.zeros(len(raw), dtype=bool)
    repeated[order[1:]] = np.diff(starts_ms[order]) == 0
    fail_first_line(
        path, repeated, lines,
        lambda i: f"timestamp {raw[time_column].iloc[i]!r}: a second row for the interval of line {lines[order[np.searchsorted(starts_ms[order], starts_ms[i])]]}",
    )
    text = raw[value_column].str.strip()
    value = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)
    fail_first_line(path, (text != "").to_numpy() & np.isnan(value), lines, lambda i: f"{value_column} {text.iloc[i]!r} is not a number")
    fail_first_line(path, np.isinf(value), lines, lambda i: f"{value_column} {text.iloc[i]!r} is not finite")
    energy = value * (interval_ms / 3_600_000) if unit == "kW" else value
    code = np.where(np.isnan(energy), 2, 0)
    return quality.frame(from_epoch_ms(starts_ms[order]), energy[order], code[order])


def import_intervals(
    engine: Engine, path: str | Path, kind: str, series_id: str, config: SiteConfig | None = None, **options
) -> pd.DataFrame:
    """Read ``path`` with :func:`read_interval_csv` ``options`` and store it as series ``kind:series_id``.

    With ``config``, a meter's import also rebuilds the machine, virtual-meter and site series
    over the imported period, in the same transaction. Returns the stored series.
    """
    frame = read_interval_csv(path, **options)
    if config is not None:
        site_minutes = config.site.interval_minutes
    else:  # the stored site's, if any: asked only without a config
        stored = stored_site_settings(engine)
        site_minutes = stored[1] if stored else None
    spacing = frame.index[1:] - frame.index[:-1]
    file_minutes = options.get("interval_minutes") or (spacing.min() // pd.Timedelta(minutes=1) if len(spacing) else None)
    if site_minutes is not None and file_minutes is not None and file_minutes != site_minutes:
        raise InputError(
            f"{path}: intervals of {file_minutes} minutes, but the site's histories use {site_minutes} minutes "
            "(resample the file first)"
        )
    with engine.begin() as conn:
        store_intervals(conn, kind, series_id, frame)
        if config is not None and kind == "meter" and not frame.empty:
            step = pd.Timedelta(minutes=config.site.interval_minutes)
            derive(conn, config, frame.index[0], frame.index[-1] + step)
    return frame


def read_steel_csv(path: str | Path) -> pd.DataFrame:
    """The shipped steel-plant file as an interval series (35,040 intervals of 2018, Korean time)."""
    return read_interval_csv(path, **STEEL_FILE_OPTIONS)
