"""The stored data a day's plan is built from, read per planning slot.

These are the seams between planning and the areas that produce the data: forecasts
(``energy.forecasts.store``), tariffs (``energy.tariffs``), emissions (``energy.emissions``) and
histories (``energy.histories.store``). Each function returns one value per slot (a pandas Series
indexed by the UTC slot starts).

Conventions assumed (see ``docs/nightly.md``):
- the site series (``kind="site", series_id="site"``) is what ``energy.histories`` makes it: the
  sum of the ``role="main"`` meters, i.e. the net grid power, on-site PV already netted out (the
  sum of the machines when the site has no main meter);
- forecasts: ``kind="site"`` forecasts that series; ``kind="machine", series_id=<machine id>``
  each machine; ``kind="pv", series_id=<array id>`` each PV array's generation; all in kW,
  labelled by slot start; the newest issued run covering the whole day wins;
- measured power: the stored intervals of the same series;
- prices and demand charge: the most recently loaded tariff, through ``energy.tariffs``
  (time-of-use and dynamic prices, levies; the billing period's peak so far from the site series);
- carbon: ``energy.emissions``' slot intensity (marginal factors where they cover the day, else
  location-based).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.histories.site import SITE_ID as SITE
from energy.histories.store import load_intervals
from energy.emissions import load_factor_sources, load_slot_intensity
from energy.storage import schema
from energy.tariffs import planning_inputs, problem_demand_charge, stored_tariff
from energy.timeutil import local_day_slots, timestamp_to_ms


def day_slots(day: dt.date, tz: str, resolution_minutes: int) -> pd.DatetimeIndex:
    """UTC starts of the planning slots of local ``day`` (92, 96 or 100 slots of 15 min)."""
    return local_day_slots(day, tz, pd.Timedelta(minutes=resolution_minutes)).rename("slot_start")


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
    with engine.connect() as conn:
        run_id = conn.execute(query).scalar()
    if run_id is None:
        return None
    # Imported here: the energy.forecasts package pulls in statsmodels and pvlib (~2 s), which
    # the CLI and the dashboard should not pay for just by importing planning.
    from energy.forecasts.store import load_forecast

    series = load_forecast(engine, run_id)["power_kw"].reindex(slots)
    return (series, run_id) if series.notna().all() else None


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


def tariff_prices(engine: Engine, slots: pd.DatetimeIndex) -> tuple[pd.Series, pd.Series, dict | None, str, list[str]]:
    """Per-slot import and export price (currency/kWh) and the problem's demand charge, from the
    newest stored tariff (``energy.tariffs``), with the billing period's peak so far taken from
    the stored site history.

    Returns ``(price, export_price, demand_charge or None, tariff id, notes)``; the notes name
    tariff parts the problem cannot express (e.g. a demand charge with a peak window).
    """
    tariff = stored_tariff(engine, start=slots[0], end=_slot_end(slots))
    frame = planning_inputs(engine, tariff, slots)
    demand, notes = problem_demand_charge(frame)
    return frame["import_eur_per_kwh"], frame["export_eur_per_kwh"], demand, tariff.id, notes


def carbon_factors(engine: Engine, slots: pd.DatetimeIndex) -> tuple[pd.Series, str | None]:
    """Carbon intensity (g/kWh) per slot and the method and sources used (``energy.emissions``:
    marginal factors where they cover the day, else location-based); zeros and None when the site
    has no such factor source at all."""
    methods = ("marginal", "location")
    if not load_factor_sources(engine, slots[0], _slot_end(slots), methods):
        return pd.Series(0.0, index=slots), None
    intensity = load_slot_intensity(engine, slots, methods)
    return intensity.g_per_kwh.set_axis(slots), f"{intensity.method}: {', '.join(intensity.source_ids)}"


def measured_kw(engine: Engine, kind: str, series_id: str, slots: pd.DatetimeIndex) -> pd.Series:
    """Average power (kW) per slot from stored interval energy; NaN where missing."""
    frame = load_intervals(engine, kind, series_id, slots[0], _slot_end(slots))
    hours = (slots[1] - slots[0]) / pd.Timedelta(hours=1)
    return (frame["energy_kwh"] / hours).reindex(slots)


def grid_kw(engine: Engine, slots: pd.DatetimeIndex) -> pd.Series:
    """Measured net grid power (kW, negative when exporting): the site series."""
    return measured_kw(engine, "site", SITE, slots)


def load_day_inputs(engine: Engine, config: SiteConfig, flexible: list[str], slots: pd.DatetimeIndex) -> DayInputs:
    """Read every per-slot input of the day's problem; missing data raises ``InputError``."""
    base, pv, sources = base_load_and_pv(engine, config, flexible, slots)
    price, export, demand, tariff_id, notes = tariff_prices(engine, slots)
    co2, co2_source = carbon_factors(engine, slots)
    sources.update({"tariff": tariff_id, "tariff_notes": notes, "emission_source": co2_source})
    return DayInputs(slots, base, pv, price, export, co2, demand, sources)
