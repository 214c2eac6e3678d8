"""``energy forecast backtest``: the rolling-origin backtest on any CSV series.

The file is read by the interval importer (``energy.histories.imports.read_interval_csv``: bad
rows are rejected with their line number; empty values are gaps). Values keep their unit (kW,
kWh per interval, anything): MASE and MAPE are unit-free, MAE and bias are in the value's unit.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from energy.errors import InputError
from energy.forecasts.calendar import ForecastCalendar
from energy.forecasts.selection import CANDIDATES, select
from energy.forecasts.series import on_grid, steps_per_day
from energy.histories.imports import read_interval_csv

# Tried in order when no --time-format is given: the first that reads every stamp wins.
TIME_FORMATS = ("ISO8601", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M")


def guess_time_format(path: Path, column: str) -> str | None:
    """The first of :data:`TIME_FORMATS` that parses every stamp (None: ISO 8601)."""
    try:
        text = pd.read_csv(path, usecols=[column], dtype=str, keep_default_na=False, encoding="utf-8-sig")[column].str.strip()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: file not found") from exc
    except ValueError as exc:  # the column is absent
        raise InputError(f"{path}: no column {column!r} ({exc})") from exc
    for candidate in TIME_FORMATS:
        if pd.to_datetime(text, format=candidate, errors="coerce", utc=True).notna().all():
            return None if candidate == "ISO8601" else candidate
    raise InputError(f"{path}: column {column!r}: stamps like {text.iloc[0]!r} match none of {', '.join(TIME_FORMATS)} (give --time-format)")


def read_series(path: Path, time_col: str, value_col: str, freq: str, *, time_format: str | None, stamps: str, tz: str) -> pd.Series:
    """The CSV's values on a regular UTC grid of interval starts (NaN where absent or empty)."""
    step = pd.Timedelta(freq)
    try:
        steps_per_day(step)
    except ValueError as exc:
        raise InputError(f"--freq: {freq!r}: {exc}") from exc
    if step % pd.Timedelta(minutes=1):
        raise InputError(f"--freq: {freq!r} must be whole minutes")
    path = Path(path)
    time_format = time_format or guess_time_format(path, time_col)
    frame = read_interval_csv(
        path, time_column=time_col, time_format=time_format, stamps=stamps, value_column=value_col,
        unit="kWh", tz=tz, interval_minutes=int(step / pd.Timedelta(minutes=1)),
    )
    spacing = pd.Series(frame.index).diff().mode()
    if len(spacing) and spacing.iloc[0] != step:
        minutes = spacing.iloc[0] / pd.Timedelta(minutes=1)
        raise InputError(f"{path}: rows are mostly {minutes:g} minutes apart, but --freq is {freq}")
    return on_grid(frame["energy_kwh"].where(frame["quality"] != "missing"), step)


def backtest_csv(
    path: Path,
    time_col: str,
    value_col: str,
    freq: str,
    horizon: int,
    origins: int,
    *,
    time_format: str | None = None,
    stamps: str = "start",
    tz: str = "UTC",
    country: str | None = None,
    fit_days: int = 56,
) -> dict:
    """Backtest every candidate model on the file's series; the JSON-ready result: the series,
    the origins, per model MASE, MAE, MAPE (%), bias (forecast − actual) and origins counted,
    the model chosen and whether it beats the better seasonal naive."""
    values = read_series(path, time_col, value_col, freq, time_format=time_format, stamps=stamps, tz=tz)
    day = steps_per_day(freq)
    if len(values) < horizon + day or values.notna().sum() == 0:
        raise InputError(f"{path}: {int(values.notna().sum())} values; a backtest with --horizon {horizon} needs at least {horizon + day} intervals")
    calendar = ForecastCalendar(timezone=tz, country=country)
    result = select(values, horizon, calendar, CANDIDATES, origins, fit_days)
    models = {
        name: {"mase": m["mase"], "mae": m["mae_kw"], "mape_pct": m["mape_pct"], "bias": m["bias_kw"], "origins": m["origins"]}
        for name, m in result["models"].items()
    }
    chosen, naive = result["chosen"], result["fallback"]
    return {
        "file": str(path),
        "series": {"column": value_col, "freq": freq, "intervals": len(values), "missing": int(values.isna().sum()),
                   "start": values.index[0].isoformat(), "end": (values.index[-1] + pd.Timedelta(freq)).isoformat()},
        "horizon": horizon,
        "fit_days": fit_days,
        "origins": result["origins"],
        "scale": result["scale"],
        "models": models,
        "failed": result["failed"],
        "chosen": chosen,
        "best_naive": naive,
        "mase_ratio_to_best_naive": None if not models[naive]["mase"] else models[chosen]["mase"] / models[naive]["mase"],
    }
