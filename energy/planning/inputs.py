"""The stored data a day's plan is built from, read per planning slot.

These are the seams between planning and the areas that produce the data: forecasts
(``forecast_runs``/``forecasts``), tariffs (``tariffs``/``prices``), emissions
(``emission_sources``/``emission_factors``) and histories (``intervals``). Each function reads the
tables of ``energy.storage.schema`` directly and returns one value per slot (a pandas Series
indexed by the UTC slot starts), so any of them can be re-pointed to its area's own API without
touching the rest of planning.

Conventions assumed (see ``docs/nightly.md``):
- the site series (``kind="site", series_id="site"``) is what ``energy.histories`` makes it: the
  sum of the ``role="main"`` meters, i.e. the net grid power, on-site PV already netted out (the
  sum of the machines when the site has no main meter);
- forecasts: ``kind="site"`` forecasts that series; ``kind="machine", series_id=<machine id>``
  each machine; ``kind="pv", series_id=<array id>`` each PV array's generation; all in kW,
  labelled by slot start; the newest issued run covering the whole day wins;
- measured power: the stored intervals of the same series;
- prices: the ``prices`` rows of the most recently loaded tariff, held until the next row
  (hourly market prices fill four 15-minute slots);
- carbon: the config's location-based factor source valid on the day (else its first source).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.histories.site import SITE_ID as SITE
from energy.histories.store import load_intervals
from energy.storage import schema
from energy.timeutil import from_epoch_ms, timestamp_to_ms


def day_slots(day: dt.date, tz: str, resolution_minutes: int) -> pd.DatetimeIndex:
    """UTC starts of the planning slots of local ``day`` (92, 96 or 100 slots of 15 min)."""
    start = pd.Timestamp(day).tz_localize(tz)
    end = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(tz)
    slots = pd.date_range(start, end, freq=f"{resolution_minutes}min", inclusive="left").tz_convert("UTC")
    slots.name = "slot_start"
    return slots


def _slot_end(slots: pd.DatetimeIndex) -> pd.Timestamp:
    return slots[-1] + (slots[1] - slots[0] if len(slots) > 1 else pd.Timedelta(hours=1))


def latest_forecast_kw(engine: Engine, kind: str, series_id: str, slots: pd.DatetimeIndex) -> tuple[pd.Series, int] | None:
    """The newest stored forecast covering every slot: (power_kw per slot, forecast run id).

    None when no run covers the whole day or its rows leave a slot empty.
    """
    runs = schema.forecast_runs
    first, end = timestamp_to_ms(slots[0]), timestamp_to_ms(_slot_end(slots))
    query = (
        sa.select(runs.c.id)
        .where(runs.c.kind == kind, runs.c.series_id == series_id)
        .where(runs.c.target_start_ms <= first, runs.c.target_end_ms >= end)
        .order_by(runs.c.issued_ms.desc(), runs.c.id.desc())
        .limit(1)
    )
    rows = schema.forecasts
    with engine.connect() as conn:
        run_id = conn.execute(query).scalar()
        if run_id is None:
            return None
        data = conn.execute(
            sa.select(rows.c.start_ms, rows.c.power_kw)
            .where(rows.c.run_id == run_id, rows.c.start_ms >= first, rows.c.start_ms < end)
            .order_by(rows.c.start_ms)
        ).fetchall()
    series = _on_slots(data, slots, hold=False)
    return (series, run_id) if series.notna().all() else None


HOLD = pd.Timedelta(hours=1)  # the coarsest price or factor resolution carried into slots


def _on_slots(data: list, slots: pd.DatetimeIndex, hold: bool) -> pd.Series:
    """Rows of (start_ms, value) on the slots, NaN where none.

    With ``hold`` a value also covers the slots after it, up to ``HOLD`` after its start (an
    hourly price covers four quarter hours, not the rest of the day).
    """
    if data:
        start_ms, values = zip(*data)
        series = pd.Series(np.asarray(values, dtype=float), index=from_epoch_ms(start_ms))
    else:
        series = pd.Series([], index=from_epoch_ms([]), dtype=float)
    series = series[~series.index.duplicated(keep="last")]
    if not hold:
        return series.reindex(slots)
    union = series.index.union(slots)
    held = series.reindex(union).ffill().reindex(slots)
    since = pd.Series(series.index, index=series.index).reindex(union).ffill().reindex(slots)
    return held.where(slots.to_series(index=slots) - since < HOLD)


@dataclass(frozen=True)
class DayInputs:
    """Everything per slot that a day's problem needs besides the jobs and the machines."""

    slots: pd.DatetimeIndex
    base_load_kw: pd.Series
    pv_kw: pd.Series
    price_eur_per_kwh: pd.Series
    export_price_eur_per_kwh: pd.Series
    co2_g_per_kwh: pd.Series
    demand_charge: dict | None
    sources: dict = field(default_factory=dict)  # which stored runs and series were used


def base_load_and_pv(engine: Engine, config: SiteConfig, flexible: list[str], slots: pd.DatetimeIndex) -> tuple[pd.Series, pd.Series, dict]:
    """Base load and PV (kW per slot).

    Base load is the consumption not being scheduled: the site's net grid forecast plus the PV
    forecast (consumption = grid + generation) minus the scheduled machines' forecasts, ≥ 0.
    """
    day = slots[0].tz_convert(config.site.timezone).date()

    def need(kind: str, series_id: str) -> tuple[pd.Series, int]:
        found = latest_forecast_kw(engine, kind, series_id, slots)
        if found is None:
            raise InputError(
                f"no complete {kind} forecast for {series_id!r} on {day}: run 'energy forecast --date {day}' first"
            )
        return found

    site, site_run = need("site", SITE)
    runs = {"site": site_run}
    pv = pd.Series(0.0, index=slots)
    for array in config.pv:
        array_kw, runs[f"pv:{array.id}"] = need("pv", array.id)
        pv += array_kw.clip(lower=0)
    base = site + pv
    for machine in flexible:
        machine_kw, runs[f"machine:{machine}"] = need("machine", machine)
        base -= machine_kw
    return base.clip(lower=0), pv, {"forecast_runs": runs}


def slot_prices(engine: Engine, slots: pd.DatetimeIndex) -> tuple[pd.Series, pd.Series, str]:
    """Import and export price (currency/kWh) per slot from the newest loaded tariff's prices."""
    prices = schema.prices
    first, end = timestamp_to_ms(slots[0]), timestamp_to_ms(_slot_end(slots))
    with engine.connect() as conn:
        tariff_id = conn.execute(
            sa.select(schema.tariffs.c.id).order_by(schema.tariffs.c.loaded_ms.desc()).limit(1)
        ).scalar()
        if tariff_id is None:
            raise InputError("no tariff stored: run 'energy init --config SITE.toml' with a [tariff] section first")
        # The last price before the day holds into its first slots (hourly or daily prices).
        since = conn.execute(
            sa.select(sa.func.max(prices.c.start_ms)).where(prices.c.tariff_id == tariff_id, prices.c.start_ms <= first)
        ).scalar()
        data = conn.execute(
            sa.select(prices.c.start_ms, prices.c.import_per_kwh, prices.c.export_per_kwh)
            .where(prices.c.tariff_id == tariff_id, prices.c.start_ms >= (since if since is not None else first))
            .where(prices.c.start_ms < end)
            .order_by(prices.c.start_ms)
        ).fetchall()
    price = _on_slots([(r[0], r[1]) for r in data], slots, hold=True)
    export = _on_slots([(r[0], np.nan if r[2] is None else r[2]) for r in data], slots, hold=True).fillna(0.0)
    if price.isna().any():
        missing = slots[price.isna().to_numpy()]
        raise InputError(f"tariff {tariff_id!r}: no price for {missing[0].isoformat()} ({len(missing)} slot(s) of the day without a price)")
    return price, export, tariff_id


def carbon_factors(engine: Engine, config: SiteConfig, slots: pd.DatetimeIndex) -> tuple[pd.Series, str | None]:
    """Grid carbon intensity (g/kWh) per slot, and the source used (zeros and None without one)."""
    day = slots[0].tz_convert(config.site.timezone).date()
    valid = [
        f for f in config.emissions.factors
        if (f.valid_from is None or f.valid_from <= day) and (f.valid_to is None or day < f.valid_to)
    ]
    ordered = sorted(valid, key=lambda f: f.method != "location")
    if not ordered:
        return pd.Series(0.0, index=slots), None
    source = ordered[0]
    if source.g_per_kwh is not None:
        return pd.Series(float(source.g_per_kwh), index=slots), source.id
    factors = schema.emission_factors
    first, end = timestamp_to_ms(slots[0]), timestamp_to_ms(_slot_end(slots))
    with engine.connect() as conn:
        since = conn.execute(
            sa.select(sa.func.max(factors.c.start_ms)).where(factors.c.source_id == source.id, factors.c.start_ms <= first)
        ).scalar()
        data = conn.execute(
            sa.select(factors.c.start_ms, factors.c.g_per_kwh)
            .where(factors.c.source_id == source.id, factors.c.start_ms >= (since if since is not None else first))
            .where(factors.c.start_ms < end)
            .order_by(factors.c.start_ms)
        ).fetchall()
    series = _on_slots(data, slots, hold=True)
    if series.isna().any():
        raise InputError(f"emission factors {source.id!r}: none stored for {day} (run 'energy init' to load them)")
    return series, source.id


def measured_kw(engine: Engine, kind: str, series_id: str, slots: pd.DatetimeIndex) -> pd.Series:
    """Average power (kW) per slot from stored interval energy; NaN where missing."""
    frame = load_intervals(engine, kind, series_id, slots[0], _slot_end(slots))
    hours = (slots[1] - slots[0]) / pd.Timedelta(hours=1)
    return (frame["energy_kwh"] / hours).reindex(slots)


def grid_kw(engine: Engine, slots: pd.DatetimeIndex) -> pd.Series:
    """Measured net grid power (kW, negative when exporting): the site series."""
    return measured_kw(engine, "site", SITE, slots)


def peak_so_far_kw(engine: Engine, config: SiteConfig, slots: pd.DatetimeIndex) -> float:
    """The billing period's highest measured grid import before the day (calendar month, kW)."""
    local = slots[0].tz_convert(config.site.timezone)
    month_start = local.normalize().replace(day=1).tz_convert("UTC")
    if month_start >= slots[0]:
        return 0.0
    before = pd.date_range(month_start, slots[0], freq=slots.freq or (slots[1] - slots[0]), inclusive="left")
    peak = grid_kw(engine, before).max()
    return 0.0 if pd.isna(peak) else max(float(peak), 0.0)


def demand_rate_eur_per_kw(engine: Engine) -> float | None:
    """The demand charge rate of the newest loaded tariff, or None when it has none.

    Reads ``demand_eur_per_kw`` from the stored tariff document (the project's TOML tariff
    stored as JSON).
    """
    with engine.connect() as conn:
        body = conn.execute(
            sa.select(schema.tariffs.c.body_json).order_by(schema.tariffs.c.loaded_ms.desc()).limit(1)
        ).scalar()
    if body is None:
        return None
    rate = json.loads(body).get("demand_eur_per_kw")
    return None if rate in (None, 0) else float(rate)


def load_day_inputs(engine: Engine, config: SiteConfig, flexible: list[str], slots: pd.DatetimeIndex) -> DayInputs:
    """Read every per-slot input of the day's problem; missing data raises ``InputError``."""
    base, pv, sources = base_load_and_pv(engine, config, flexible, slots)
    price, export, tariff_id = slot_prices(engine, slots)
    co2, co2_source = carbon_factors(engine, config, slots)
    rate = demand_rate_eur_per_kw(engine)
    demand = None if rate is None else {"eur_per_kw": rate, "peak_so_far_kw": peak_so_far_kw(engine, config, slots)}
    sources.update({"tariff": tariff_id, "emission_source": co2_source})
    return DayInputs(slots, base, pv, price, export, co2, demand, sources)
