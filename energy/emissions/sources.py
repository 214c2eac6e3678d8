"""Emission factor sources and contractual instruments: reading, validity, citations.

A factor source is a step function of time in gCO2e/kWh with a citation and a validity period:
either a series file (hourly, sub-hourly, monthly or annual rows) or one constant. Each file row
covers ``[its timestamp, the next step)``; the step is read from the timestamps themselves:

- every timestamp on 1 January 00:00 → each row covers a calendar year;
- every timestamp on the 1st of a month 00:00 → each row covers a calendar month;
- otherwise the smallest gap between rows (one hour for Electricity Maps files) → each row covers
  that fixed step, so an hour absent from an hourly file stays missing, it is never filled in.

Timestamps without an offset are read in the source's ``timezone`` (UTC by default: Electricity
Maps' ``Datetime (UTC)``). Integer timestamps are hours of the year (AVERT's 0…8759) of
``valid_from``'s year in that zone. Values are converted to g/kWh from the source's ``unit``
(AVERT publishes lb/kWh: × 453.59237).

Validity dates in the config are local dates of the site: ``valid_from`` inclusive from local
midnight, ``valid_to`` exclusive. A file without dates is valid over the span of its rows; a
constant without dates is valid always.

Methods follow the GHG Protocol Scope 2 Guidance (2015): ``location`` (grid average),
``supplier``/``market`` (supplier-specific or other contractual rate for the supply not covered
by instruments), ``residual_mix``, and ``marginal`` (avoided-emission rates for valuing load
shifts, never for the inventory).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from energy.config import ContractualInstrument, EmissionFactorSource, SiteConfig
from energy.errors import InputError

# Conversion of each accepted unit to g/kWh.
G_PER_KWH_FROM = {
    "g_per_kwh": 1.0,
    "kg_per_mwh": 1.0,
    "kg_per_kwh": 1000.0,
    "t_per_mwh": 1000.0,
    "lb_per_kwh": 453.59237,
    "lb_per_mwh": 0.45359237,
}


@dataclass(frozen=True)
class FactorSource:
    """A dated factor source. ``rows`` (start, end: tz-aware UTC; g_per_kwh) lie within validity.

    ``constant_g_per_kwh`` is set (and ``rows`` empty) for a constant. ``valid_from``/``valid_to``
    are UTC instants (inclusive / exclusive), None for open-ended. ``vintage`` is the calendar year
    the data describe and ``gases`` what the values count (``co2`` or ``co2e``), None when not
    stated (checked by :mod:`energy.emissions.quality`).
    """

    id: str
    method: str
    source: str
    valid_from: pd.Timestamp | None
    valid_to: pd.Timestamp | None
    rows: pd.DataFrame
    constant_g_per_kwh: float | None = None
    file: str | None = None
    column: str | None = None
    file_sha256: str | None = None
    vintage: int | None = None
    gases: str | None = None

    def rows_between(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """The step rows overlapping ``[start, end)``; a constant gives one row clipped to it."""
        if self.constant_g_per_kwh is None:
            rows = self.rows
            return rows[(rows["end"] > start) & (rows["start"] < end)]
        lo = max(start, self.valid_from) if self.valid_from is not None else start
        hi = min(end, self.valid_to) if self.valid_to is not None else end
        if lo >= hi:
            return _empty_rows()
        return pd.DataFrame({"start": [lo], "end": [hi], "g_per_kwh": [self.constant_g_per_kwh]})


@dataclass(frozen=True)
class Instrument:
    """A contractual instrument: ``mwh`` of attributes usable in ``[valid_from, valid_to)`` (UTC).

    What the quality checks (:mod:`energy.emissions.quality`) read, None when not stated:
    ``vintage`` (year of generation), ``gases`` (what ``g_per_kwh`` counts), ``country`` (ISO
    3166-1 alpha-2), ``registry_id``, ``device`` and ``cancelled_on`` (the UTC instant of the
    local midnight starting the day of cancellation).
    """

    id: str
    kind: str
    mwh: float
    valid_from: pd.Timestamp
    valid_to: pd.Timestamp
    g_per_kwh: float
    source: str
    vintage: int | None = None
    gases: str | None = None
    country: str | None = None
    registry_id: str | None = None
    device: str | None = None
    cancelled_on: pd.Timestamp | None = None


_ROW_DTYPES = {"start": "datetime64[ns, UTC]", "end": "datetime64[ns, UTC]", "g_per_kwh": "float64"}


def local_midnight_utc(day: dt.date | None, tz: str) -> pd.Timestamp | None:
    """The UTC instant of local midnight starting ``day`` in ``tz`` (None stays None)."""
    if day is None:
        return None
    return pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_factor_file(
    path: str | Path,
    column: str | None = None,
    *,
    time_column: str | None = None,
    unit: str = "g_per_kwh",
    timezone: str = "UTC",
    year: int | None = None,
) -> pd.DataFrame:
    """Read a factor series CSV into step rows: ``start``, ``end`` (tz-aware UTC), ``g_per_kwh``.

    ``column`` names the value column (optional when the file has exactly two columns);
    ``time_column`` the timestamp column (default: the first). Errors raise
    :class:`InputError` naming the file, the line (counting the header as line 1) and the column.
    """
    path = Path(path)
    if unit not in G_PER_KWH_FROM:
        raise InputError(f"{path}: unknown unit {unit!r} (use one of {', '.join(G_PER_KWH_FROM)})")
    header, lines, records = _read_csv(path)
    time_at = _column_index(path, header, time_column, default=0, what="time column")
    if column is None and len(header) != 2:
        raise InputError(f"{path}: name the factor column with 'column' (the file has {len(header)} columns: {', '.join(header)})")
    value_at = _column_index(path, header, column, default=1, what="column")
    label = header[value_at]

    texts = [record[time_at].strip() for record in records]
    values = np.empty(len(records))
    for i, record in enumerate(records):
        text = record[value_at].strip()
        if not text:
            raise InputError(f"{path}: line {lines[i]}: no value in column {label!r} (delete the row to mark the time as missing)")
        try:
            values[i] = float(text)
        except ValueError:
            raise InputError(f"{path}: line {lines[i]}: {label!r} is {text!r}, not a number") from None
        if not np.isfinite(values[i]) or values[i] < 0:
            raise InputError(f"{path}: line {lines[i]}: {label!r} is {text!r}; a factor must be a finite number ≥ 0")
    starts = _parse_times(path, texts, lines, header[time_at], timezone, year)
    order = np.argsort(starts.asi8, kind="stable")
    starts, values, sorted_lines = starts[order], values[order], np.asarray(lines)[order]
    repeated = np.flatnonzero(np.diff(starts.asi8) == 0)
    if len(repeated):
        k = repeated[0]
        raise InputError(f"{path}: lines {sorted_lines[k]} and {sorted_lines[k + 1]}: the same time {starts[k].isoformat()} twice")
    ends = _row_ends(path, starts, timezone)
    return pd.DataFrame({"start": starts, "end": ends, "g_per_kwh": values * G_PER_KWH_FROM[unit]})


def _read_csv(path: Path) -> tuple[list[str], list[int], list[list[str]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise InputError(f"{path}: empty file (expected a header line)")
            lines, records = [], []
            for record in reader:
                if not record or all(not field.strip() for field in record):
                    continue
                if len(record) != len(header):
                    raise InputError(f"{path}: line {reader.line_num}: {len(record)} fields, the header has {len(header)}")
                lines.append(reader.line_num)
                records.append(record)
    except FileNotFoundError:
        raise InputError(f"{path}: emission factor file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a valid CSV file: {exc}") from None
    if not records:
        raise InputError(f"{path}: no data rows")
    return [name.strip() for name in header], lines, records


def _column_index(path: Path, header: list[str], name: str | None, default: int, what: str) -> int:
    if name is None:
        return default
    if name not in header:
        raise InputError(f"{path}: no {what} {name!r} (the header has: {', '.join(header)})")
    return header.index(name)


def _parse_times(path: Path, texts: list[str], lines: list[int], label: str, timezone: str, year: int | None) -> pd.DatetimeIndex:
    if all(text.isdigit() for text in texts) and not all(len(text) == 4 for text in texts):
        # Hours of the year (AVERT): hour 0 is 1 January 00:00 local time of ``year``. (Four
        # digits throughout are years, read below as 1 January.)
        if year is None:
            raise InputError(f"{path}: {label!r} holds hours of the year; give valid_from so the year is known")
        base = pd.Timestamp(year=year, month=1, day=1)
        local = base + pd.to_timedelta(np.array([int(t) for t in texts]), unit="h")
        return _localise(path, pd.DatetimeIndex(local), lines, timezone)
    parsed = []
    for text, line in zip(texts, lines):
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError):
            ts = pd.NaT
        if ts is pd.NaT:
            raise InputError(f"{path}: line {line}: {label!r} is {text!r}, not an ISO 8601 time")
        parsed.append(ts)
    aware = [ts.tzinfo is not None for ts in parsed]
    if any(aware) and not all(aware):
        k = aware.index(not aware[0])
        raise InputError(f"{path}: line {lines[k]}: {texts[k]!r} mixes times with and without a UTC offset")
    if aware[0]:
        return pd.DatetimeIndex([ts.tz_convert("UTC") for ts in parsed]).as_unit("ns")
    return _localise(path, pd.DatetimeIndex(parsed), lines, timezone)


def _localise(path: Path, local: pd.DatetimeIndex, lines: list[int], timezone: str) -> pd.DatetimeIndex:
    try:
        return local.tz_localize(timezone, ambiguous="raise", nonexistent="raise").tz_convert("UTC").as_unit("ns")
    except Exception:  # ambiguous or non-existent local times: find the line to name it
        for ts, line in zip(local, lines):
            try:
                ts.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
            except Exception:
                raise InputError(f"{path}: line {line}: {ts} does not exist or is ambiguous in {timezone} (give a UTC offset)") from None
        raise


def _row_ends(path: Path, starts: pd.DatetimeIndex, timezone: str) -> pd.DatetimeIndex:
    local = starts.tz_convert(timezone)
    at_midnight = (local.hour == 0) & (local.minute == 0) & (local.second == 0)
    if (at_midnight & (local.month == 1) & (local.day == 1)).all():
        step = pd.DateOffset(years=1)
    elif (at_midnight & (local.day == 1)).all():
        step = pd.DateOffset(months=1)
    elif len(starts) > 1:
        step = pd.Timedelta(int(np.diff(starts.as_unit("ns").asi8).min()), "ns")
        return starts + step
    else:
        raise InputError(f"{path}: one row that is not at the start of a month or year: its length is unknown")
    return (local.tz_localize(None) + step).tz_localize(timezone, ambiguous=False, nonexistent="shift_forward").tz_convert("UTC")


def source_from_config(entry: EmissionFactorSource, config: SiteConfig, where: str = "emissions.factors") -> FactorSource:
    """Read one configured factor source (its file, if any, relative to the config)."""
    tz = config.site.timezone
    valid_from, valid_to = local_midnight_utc(entry.valid_from, tz), local_midnight_utc(entry.valid_to, tz)
    if entry.g_per_kwh is not None:
        return FactorSource(
            entry.id, entry.method, entry.source, valid_from, valid_to, _empty_rows(),
            constant_g_per_kwh=float(entry.g_per_kwh), vintage=entry.vintage, gases=entry.gases,
        )
    path = config.resolve(entry.file)
    try:
        rows = read_factor_file(
            path, entry.column, time_column=entry.time_column, unit=entry.unit, timezone=entry.timezone,
            year=entry.valid_from.year if entry.valid_from else None,
        )
    except InputError as exc:
        raise InputError(f"{where} {entry.id!r}: {exc}") from None
    if valid_from is not None:
        rows = rows[rows["end"] > valid_from].assign(start=lambda r: r["start"].clip(lower=valid_from))
    if valid_to is not None:
        rows = rows[rows["start"] < valid_to].assign(end=lambda r: r["end"].clip(upper=valid_to))
    if rows.empty:
        raise InputError(f"{where} {entry.id!r}: {path}: no rows between valid_from {entry.valid_from} and valid_to {entry.valid_to}")
    return FactorSource(
        entry.id, entry.method, entry.source,
        valid_from if valid_from is not None else rows["start"].iloc[0],
        valid_to if valid_to is not None else rows["end"].iloc[-1],
        rows.reset_index(drop=True), file=str(entry.file), column=entry.column, file_sha256=file_sha256(path),
        vintage=entry.vintage, gases=entry.gases,
    )


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _ROW_DTYPES.items()})


def instrument_from_config(entry: ContractualInstrument, config: SiteConfig) -> Instrument:
    tz = config.site.timezone
    return Instrument(
        entry.id, entry.kind, float(entry.mwh), local_midnight_utc(entry.valid_from, tz),
        local_midnight_utc(entry.valid_to, tz), float(entry.g_per_kwh), entry.source,
        vintage=entry.vintage, gases=entry.gases, country=entry.country, registry_id=entry.registry_id,
        device=entry.device, cancelled_on=local_midnight_utc(entry.cancelled_on, tz),
    )


def sources_from_config(config: SiteConfig) -> list[FactorSource]:
    """Every configured factor source, read and checked (no two of one method overlap)."""
    sources = [source_from_config(entry, config, f"emissions.factors[{i}]") for i, entry in enumerate(config.emissions.factors)]
    check_no_overlap(sources)
    return sources


def instruments_from_config(config: SiteConfig) -> list[Instrument]:
    return [instrument_from_config(entry, config) for entry in config.emissions.instruments]


def check_no_overlap(sources: Iterable[FactorSource]) -> None:
    """Two sources of one method valid at the same time would make the factor ambiguous.

    ``supplier`` and ``market`` sources form one level of the market-based hierarchy, so they
    may not overlap each other either.
    """
    far_past, far_future = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    by_method: dict[str, list[FactorSource]] = {}
    for source in sources:
        by_method.setdefault("supplier" if source.method == "market" else source.method, []).append(source)
    for method, group in by_method.items():
        spans = sorted(
            ((s.valid_from if s.valid_from is not None else far_past, s.valid_to if s.valid_to is not None else far_future, s.id) for s in group)
        )
        for (_, end_a, id_a), (start_b, _, id_b) in zip(spans, spans[1:]):
            if start_b < end_a:
                raise InputError(
                    f"emissions.factors: {id_a!r} and {id_b!r} are both {method} factors valid at {start_b.isoformat()}; "
                    "give them validity dates that do not overlap"
                )


def of_methods(sources: Sequence[FactorSource], *methods: str) -> list[FactorSource]:
    return [s for s in sources if s.method in methods]


def factor_table(sources: Sequence[FactorSource], instruments: Sequence[Instrument] = ()) -> pd.DataFrame:
    """One row per factor source and instrument with its citation: what a methodology sheet lists.

    Columns: ``id``, ``method`` (``instrument:<kind>`` for instruments), ``source``,
    ``valid_from``, ``valid_to`` (UTC), ``g_per_kwh`` (constant or instrument factor, else the
    time-weighted mean of the rows), ``mwh`` (instruments), ``file``, ``column``, ``file_sha256``,
    ``vintage`` (year the data or the generation describe, nullable ``Int64``), ``gases``
    (``co2``, ``co2e``, None when not stated).
    """
    records = []
    for s in sources:
        if s.constant_g_per_kwh is not None:
            mean = s.constant_g_per_kwh
        else:
            hours = (s.rows["end"] - s.rows["start"]).dt.total_seconds()
            mean = float((s.rows["g_per_kwh"] * hours).sum() / hours.sum())
        records.append({
            "id": s.id, "method": s.method, "source": s.source, "valid_from": s.valid_from, "valid_to": s.valid_to,
            "g_per_kwh": mean, "mwh": np.nan, "file": s.file, "column": s.column, "file_sha256": s.file_sha256,
            "vintage": s.vintage, "gases": s.gases,
        })
    for i in instruments:
        records.append({
            "id": i.id, "method": f"instrument:{i.kind}", "source": i.source, "valid_from": i.valid_from, "valid_to": i.valid_to,
            "g_per_kwh": i.g_per_kwh, "mwh": i.mwh, "file": None, "column": None, "file_sha256": None,
            "vintage": i.vintage, "gases": i.gases,
        })
    columns = ["id", "method", "source", "valid_from", "valid_to", "g_per_kwh", "mwh", "file", "column", "file_sha256", "vintage", "gases"]
    return pd.DataFrame(records, columns=columns).astype({"vintage": "Int64"})
