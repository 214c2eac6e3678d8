"""Raw meter readings: the CSV exchange format and their storage.

A reading is one meter's state at one instant: the energy counter (kWh, cumulative import) and/or
the active power (kW). The exchange CSV has the columns ``timestamp,meter,energy_kwh,power_kw``;
either value may be empty. Timestamps are ISO 8601 with a UTC offset on import and are written
as UTC (``2018-01-01T00:15:00Z``) on export, so an exported file imports back unchanged.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.errors import InputError
from energy.storage import bulk, schema
from energy.timeutil import from_epoch_ms, timestamp_to_ms, to_epoch_ms

COLUMNS = ["timestamp", "meter", "energy_kwh", "power_kw"]
UTC_OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$")  # Z, +hh, +hhmm or +hh:mm (readings and interval imports)
_METER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def read_csv_text(path: Path, empty_hint: str = "", **options) -> pd.DataFrame:
    """A CSV file's cells as text (empty cells ``""``, header names stripped, a BOM dropped).

    A missing, unreadable or empty file is an InputError naming it (``empty_hint`` is appended to
    the empty-file message). ``options`` go to :func:`pandas.read_csv`.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **options)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: file not found") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: file is empty{empty_hint}") from exc
    raw.columns = [c.strip() for c in raw.columns]
    return raw


def fail_first_line(path: Path, mask: np.ndarray, lines: np.ndarray, problem) -> None:
    """An InputError at the first row where ``mask`` is set, naming its line (``lines``) and how
    many more rows have the same problem. ``problem``: the text, or row position → text."""
    if mask.any():
        first = int(np.flatnonzero(mask)[0])
        more = int(mask.sum()) - 1
        suffix = f" ({more} more such line(s))" if more else ""
        raise InputError(f"{path}: line {lines[first]}: {problem(first) if callable(problem) else problem}{suffix}")


def parse_readings_csv(path: str | Path) -> pd.DataFrame:
    """Read and validate a readings CSV; errors name the file and line.

    Returns columns ``timestamp`` (tz-aware UTC), ``meter``, ``energy_kwh``, ``power_kw``.
    """
    path = Path(path)
    raw = read_csv_text(path, f" (expected header {','.join(COLUMNS)})", skipinitialspace=True)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (expected header {','.join(COLUMNS)})")
    line = np.arange(2, len(raw) + 2)  # header is line 1

    def fail(mask: np.ndarray, problem) -> None:
        fail_first_line(path, mask, line, problem)

    stamps = raw["timestamp"].str.strip()
    fail((~stamps.str.contains(UTC_OFFSET)).to_numpy(), lambda i: f"timestamp {raw.at[i, 'timestamp']!r} has no UTC offset (write e.g. 2024-03-01T12:00:00Z)")
    times = pd.to_datetime(stamps, format="ISO8601", utc=True, errors="coerce")
    fail(times.isna().to_numpy(), lambda i: f"timestamp {raw.at[i, 'timestamp']!r} is not ISO 8601")
    meters = raw["meter"].str.strip()
    fail((~meters.str.match(_METER_ID)).to_numpy(), lambda i: f"meter {raw.at[i, 'meter']!r} is not a valid id (letters, digits, _ . -)")
    values = {}
    for name in ("energy_kwh", "power_kw"):
        text = raw[name].str.strip()
        number = pd.to_numeric(text.where(text != ""), errors="coerce")
        fail(((text != "") & number.isna()).to_numpy(), lambda i, n=name: f"{n} {raw.at[i, n]!r} is not a number")
        fail(np.isinf(number.to_numpy(dtype=float)), lambda i, n=name: f"{n} {raw.at[i, n]!r} is not finite")
        values[name] = number.astype(float)
    fail((values["energy_kwh"].isna() & values["power_kw"].isna()).to_numpy(), "both energy_kwh and power_kw are empty")
    frame = pd.DataFrame({"timestamp": times, "meter": meters, **values})
    key = frame[["meter", "timestamp"]]
    repeated = key.duplicated(keep=False).to_numpy()
    if repeated.any():
        clash = frame[repeated].groupby(["meter", "timestamp"])[["energy_kwh", "power_kw"]].nunique(dropna=False)
        conflicting = clash[(clash > 1).any(axis=1)]
        if not conflicting.empty:
            meter, when = conflicting.index[0]
            lines = line[np.flatnonzero(((frame["meter"] == meter) & (frame["timestamp"] == when)).to_numpy())]
            raise InputError(f"{path}: lines {', '.join(map(str, lines))}: meter {meter!r} has different values at {when.isoformat()}")
        frame = frame[~key.duplicated(keep="first").to_numpy()]
    return frame.reset_index(drop=True)


def to_rows(frame: pd.DataFrame, quality: str = "ok") -> pd.DataFrame:
    """Readings (``timestamp, meter, energy_kwh, power_kw``) → rows of the ``readings`` table."""
    rows = pd.DataFrame(
        {
            "meter_id": frame["meter"].astype(str).to_numpy(),
            "epoch_ms": to_epoch_ms(frame["timestamp"]),
            "energy_kwh": frame["energy_kwh"].astype(float).to_numpy(),
            "power_kw": frame["power_kw"].astype(float).to_numpy(),
        }
    )
    rows["quality"] = frame["quality"].to_numpy() if "quality" in frame else quality
    return rows


def store_readings(engine: Engine, frame: pd.DataFrame, quality: str = "ok") -> int:
    """Store readings idempotently: a reading already stored (same meter and instant) is kept.

    Returns the number of readings offered. One transaction: all or nothing.
    """
    with engine.begin() as conn:
        return bulk.upsert(conn, schema.readings, to_rows(frame, quality), on_conflict="ignore")


def load_readings(
    engine: Engine,
    meter: str | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Stored readings in time order, ``start`` inclusive and ``end`` exclusive (tz-aware)."""
    table = schema.readings
    query = sa.select(table.c.epoch_ms, table.c.meter_id, table.c.energy_kwh, table.c.power_kw, table.c.quality)
    if meter is not None:
        query = query.where(table.c.meter_id == meter)
    if start is not None:
        query = query.where(table.c.epoch_ms >= timestamp_to_ms(start))
    if end is not None:
        query = query.where(table.c.epoch_ms < timestamp_to_ms(end))
    query = query.order_by(table.c.meter_id, table.c.epoch_ms)
    # The driver's rows directly (no per-row SQLAlchemy objects): a third of the time on big loads.
    with engine.connect() as conn:
        data = conn.execute(query).cursor.fetchall()
    epoch, meters, energy, power, quality = zip(*data) if data else ([], [], [], [], [])
    return pd.DataFrame(
        {
            "timestamp": from_epoch_ms(epoch),
            "meter": pd.Series(meters, dtype=object),
            "energy_kwh": np.asarray(energy, dtype=float),  # NULL → NaN
            "power_kw": np.asarray(power, dtype=float),
            "quality": pd.Series(quality, dtype=object),
        }
    )


def format_utc(times: pd.Series | pd.DatetimeIndex) -> list[str]:
    """ISO 8601 UTC with a ``Z``; milliseconds only where they are not zero."""
    index = pd.DatetimeIndex(times).tz_convert("UTC")
    whole = index.strftime("%Y-%m-%dT%H:%M:%SZ")
    millis = index.as_unit("ms").asi8 % 1000
    fractional = index.strftime("%Y-%m-%dT%H:%M:%S.") + pd.Index(millis).map(lambda m: f"{m:03d}Z")
    return list(np.where(millis == 0, whole, fractional))


def format_number(value: float | None) -> str:
    """A CSV cell: the shortest text that reads back as the same float; empty when missing."""
    return "" if value is None or np.isnan(value) else repr(float(value))


def write_readings_csv(frame: pd.DataFrame, out: IO[str] = sys.stdout) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for stamp, meter, energy, power in zip(format_utc(frame["timestamp"]), frame["meter"], frame["energy_kwh"], frame["power_kw"]):
        writer.writerow([stamp, meter, format_number(energy), format_number(power)])
