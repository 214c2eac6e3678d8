"""Reading the CSV series a tariff works on: load series (to bill) and dynamic price series.

Timestamps label the start of their interval. With a UTC offset they are instants; without one
they are local wall-clock times of the tariff's zone (the repeated hour of a DST change is told
apart by order). Every problem names the file and the CSV line (header = line 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from energy.errors import InputError


def read_tariff_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: tariff file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the tariff file ({exc})") from exc


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: file not found") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from exc
    frame.columns = [c.strip().lower() for c in frame.columns]
    if "timestamp" not in frame.columns:
        raise InputError(f"{path}: no 'timestamp' column (columns: {', '.join(frame.columns)})")
    if frame.empty:
        raise InputError(f"{path}: no data rows")
    return frame


def _numbers(frame: pd.DataFrame, column: str, path: Path, required: bool = True) -> np.ndarray:
    text = frame[column].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ((text != "").to_numpy() | required) | np.isinf(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(f"{path}: line {row + 2}: {column} {frame[column].iloc[row]!r} is not a number")
    return values


def parse_timestamps(text: pd.Series, zone: str, path: Path) -> pd.DatetimeIndex:
    """UTC instants of a CSV timestamp column (see the module docstring for naive values)."""
    try:
        parsed = pd.to_datetime(text.str.strip(), format="ISO8601", utc=False)
        index = pd.DatetimeIndex(parsed)
    except (ValueError, TypeError):
        # Mixed offsets (e.g. +01:00 and +02:00 across DST) parse as objects: go through UTC.
        try:
            index = pd.DatetimeIndex(pd.to_datetime(text.str.strip(), format="ISO8601", utc=True))
        except (ValueError, TypeError):
            bad = pd.to_datetime(text.str.strip(), format="ISO8601", errors="coerce", utc=True).isna().to_numpy()
            row = int(np.argmax(bad))
            raise InputError(f"{path}: line {row + 2}: timestamp {text.iloc[row]!r} is not ISO 8601") from None
    if index.tz is None:
        try:
            index = index.tz_localize(zone, ambiguous="infer", nonexistent="raise")
        except Exception as exc:  # zoneinfo/pytz raise several types on DST edge cases
            raise InputError(f"{path}: timestamps without a UTC offset are not valid local times in {zone} ({exc})") from exc
    index = index.tz_convert("UTC").as_unit("ns")
    duplicated = index.duplicated()
    if duplicated.any():
        row = int(np.argmax(duplicated))
        raise InputError(f"{path}: line {row + 2}: duplicate timestamp {text.iloc[row]!r}")
    return index


def most_common_step(index: pd.DatetimeIndex) -> pd.Timedelta | None:
    """A series' interval length: the most common spacing of its sorted timestamps (None for < 2)."""
    steps = np.diff(index.as_unit("ns").asi8)
    return pd.Timedelta(int(pd.Series(steps).mode().iloc[0]), "ns") if len(steps) else None


def resolution_of(index: pd.DatetimeIndex, path: Path) -> pd.Timedelta:
    step = most_common_step(index)
    if step is None:
        raise InputError(f"{path}: at least two rows are needed to tell the interval length")
    return step


def read_load_csv(path: Path, zone: str) -> tuple[pd.Series, pd.Timedelta]:
    """A load CSV ``timestamp,kw`` or ``timestamp,kwh`` → (energy_kwh per interval, interval length).

    ``kw`` is the average power over the interval starting at the timestamp (negative = export);
    ``kwh`` the energy in it.
    """
    path = Path(path)
    frame = _read_csv(path)
    unit = [c for c in ("kw", "kwh") if c in frame.columns]
    if len(unit) != 1:
        raise InputError(f"{path}: need exactly one of the columns 'kw' or 'kwh' besides 'timestamp' (columns: {', '.join(frame.columns)})")
    values = _numbers(frame, unit[0], path)
    index = parse_timestamps(frame["timestamp"], zone, path)
    order = np.argsort(index.asi8, kind="stable")
    index, values = index[order], values[order]
    resolution = resolution_of(index, path)
    hours = resolution / pd.Timedelta(hours=1)
    energy = values * hours if unit[0] == "kw" else values
    return pd.Series(energy, index=index, name="energy_kwh"), resolution


PRICE_COLUMNS = {"import_per_kwh": 1.0, "price_per_kwh": 1.0, "price": 1.0, "price_per_mwh": 1e-3}


def read_price_csv(path: Path, zone: str) -> tuple[pd.DataFrame, pd.Timedelta]:
    """A dynamic price CSV → (frame of ``import_per_kwh``, ``export_per_kwh`` by UTC start, resolution).

    Columns: ``timestamp`` and the import price as ``import_per_kwh`` (or ``price_per_kwh`` /
    ``price``, per kWh, or ``price_per_mwh`` as day-ahead markets publish it); optional
    ``export_per_kwh`` (empty cells: no export price then).
    """
    path = Path(path)
    frame = _read_csv(path)
    given = [c for c in PRICE_COLUMNS if c in frame.columns]
    if len(given) != 1:
        raise InputError(f"{path}: need one import price column, one of {', '.join(PRICE_COLUMNS)} (columns: {', '.join(frame.columns)})")
    index = parse_timestamps(frame["timestamp"], zone, path)
    prices = pd.DataFrame(
        {
            "import_per_kwh": _numbers(frame, given[0], path) * PRICE_COLUMNS[given[0]],
            "export_per_kwh": _numbers(frame, "export_per_kwh", path, required=False)
            if "export_per_kwh" in frame.columns
            else np.nan,
        },
        index=index,
    ).sort_index()
    return prices, resolution_of(prices.index, path)
