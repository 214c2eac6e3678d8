"""Reading histories back: any series, any period, any resolution (the API other areas call).

Every function returns a DataFrame indexed by interval start (tz-aware, in ``tz``) with
``energy_kwh`` (kWh, NaN when missing) and ``quality`` (``measured``/``estimated``/``missing``),
complete over the period asked: an interval with no stored row is ``missing``, never zero.

``freq``: ``None`` or the site's interval (``15min``) for the stored intervals; a multiple
(``30min``, ``1h``) for sums per clock interval; ``1D``, ``1W`` (weeks from Monday) and ``1MS``
(months) for local calendar totals, with 23- and 25-hour days on DST changes. For calendar
resolutions the period is widened to whole buckets, so a bucket is never silently partial.
``tz`` defaults to the site's time zone stored by ``energy init`` (else UTC).
"""

from __future__ import annotations

import csv
import sys
from typing import IO

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.errors import InputError
from energy.histories import quality
from energy.histories.series import CALENDAR_FREQS, check_zone, complete, interval_grid, resample
from energy.histories.site import SITE_ID
from energy.histories.store import load_intervals
from energy.readings import format_number, format_utc
from energy.storage import schema

_BUCKET_STEP = {"1D": pd.DateOffset(days=1), "W-MON": pd.DateOffset(weeks=1), "MS": pd.DateOffset(months=1)}


def stored_site_settings(engine: Engine) -> tuple[str, int] | None:
    """The stored site's time zone and interval minutes; None before ``energy init``."""
    query = sa.select(schema.sites.c.timezone, schema.sites.c.interval_minutes).order_by(schema.sites.c.updated_ms.desc())
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return (row[0], int(row[1])) if row else None


def site_settings(engine: Engine) -> tuple[str, int]:
    """The stored site's time zone and interval minutes (``("UTC", 15)`` before ``energy init``)."""
    return stored_site_settings(engine) or ("UTC", 15)


def _bucket_floor(ts: pd.Timestamp, rule: str, tz: str) -> pd.Timestamp:
    wall = ts.tz_convert(tz).tz_localize(None).normalize()
    if rule == "W-MON":
        wall -= pd.Timedelta(days=wall.weekday())
    elif rule == "MS":
        wall = wall.replace(day=1)
    return wall


def _localize(wall: pd.Timestamp, tz: str) -> pd.Timestamp:
    return wall.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")


def calendar_period(start: pd.Timestamp, end: pd.Timestamp, freq: str, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` widened to whole local calendar buckets of ``freq`` (``1D``, ``1W``, ``1MS``)."""
    rule = CALENDAR_FREQS[freq]
    first = _bucket_floor(start, rule, tz)
    last = _bucket_floor(end - pd.Timedelta(1, "ms"), rule, tz) + _BUCKET_STEP[rule]
    return _localize(first, tz), _localize(last, tz)


def history(
    engine: Engine,
    kind: str,
    series_id: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    freq: str | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """One series (``kind`` meter, machine, virtual or site) from ``start`` (inclusive) to ``end``
    (exclusive); by default the whole stored span. See the module doc for ``freq`` and ``tz``."""
    site_tz, interval_minutes = site_settings(engine)
    tz = check_zone(tz or site_tz, "tz")
    if freq is not None and freq not in CALENDAR_FREQS:
        try:
            pd.Timedelta(freq)
        except ValueError as exc:
            raise InputError(f"--freq: {freq!r} is not a resolution (use e.g. 15min, 1h, 1D, 1W, 1MS)") from exc
    calendar = freq in CALENDAR_FREQS
    full = _complete_period(engine, kind, series_id, start, end, interval_minutes, freq if calendar else None, tz)
    if freq is None or (not calendar and pd.Timedelta(freq) == pd.Timedelta(minutes=interval_minutes)):
        return full.tz_convert(tz)
    return resample(full, freq, tz)


def _complete_period(
    engine: Engine,
    kind: str,
    series_id: str,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    interval_minutes: int,
    calendar_freq: str | None,
    tz: str,
) -> pd.DataFrame:
    """The stored intervals complete over ``[start, end)`` (by default the stored span), widened to
    whole local buckets of ``calendar_freq`` if given; empty when nothing is stored and no period
    is given. Loads the series once unless widening moves a given bound past what was loaded."""
    stored = None
    if start is None or end is None:
        stored = load_intervals(engine, kind, series_id, start, end)
        if stored.empty:  # nothing stored and no period given: nothing to show
            return quality.frame(pd.DatetimeIndex([], tz=tz), [], [])
    first = stored.index[0] if start is None else pd.Timestamp(start)
    stop = stored.index[-1] + pd.Timedelta(minutes=interval_minutes) if end is None else pd.Timestamp(end)
    if calendar_freq is not None:
        first, stop = calendar_period(first, stop, calendar_freq, tz)
    # An open bound was loaded in full; a given one widened outwards reaches rows not loaded.
    if stored is None or (start is not None and first < start) or (end is not None and stop > end):
        stored = load_intervals(engine, kind, series_id, first, stop)
    return complete(stored, interval_grid(first, stop, interval_minutes))


def meter_history(engine: Engine, meter_id: str, start=None, end=None, freq: str | None = None, tz: str | None = None) -> pd.DataFrame:
    """A meter's intervals (see :func:`history`)."""
    return history(engine, "meter", meter_id, start, end, freq, tz)


def machine_history(engine: Engine, machine_id: str, start=None, end=None, freq: str | None = None, tz: str | None = None) -> pd.DataFrame:
    """A machine's intervals: the sum of the meters assigned to it (see :func:`history`)."""
    return history(engine, "machine", machine_id, start, end, freq, tz)


def site_history(engine: Engine, start=None, end=None, freq: str | None = None, tz: str | None = None) -> pd.DataFrame:
    """The site total: its main meter(s), else the sum of its machines (see :func:`history`)."""
    return history(engine, "site", SITE_ID, start, end, freq, tz)


def write_intervals_csv(frame: pd.DataFrame, out: IO[str] = sys.stdout) -> None:
    """CSV ``interval_start,energy_kwh,quality``: ISO 8601 UTC starts, shortest exact numbers."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["interval_start", "energy_kwh", "quality"])
    for stamp, energy, flag in zip(format_utc(frame.index), frame["energy_kwh"].to_numpy(), frame["quality"]):
        writer.writerow([stamp, format_number(energy), flag])
