"""A small plant with three months of intervals, factors, production and one nightly plan, for
report tests and ``bench/reports_year.py``.

The site (Europe/Berlin): machines ``press`` and ``oven`` (plus ``m3`` … for larger benches), a
main meter, a PV meter; January–February 2024 is the EnPI baseline and March 2024 the reporting
period. Daily consumption follows a known model, ``BASE + PER_UNIT · units + PER_WORKING_DAY ·
working`` (× ``1 − SAVING`` in the reporting period) plus day-to-day noise (``noise_kwh``, 1 σ),
spread evenly over the day's intervals.
Everything is stored through the library: ``initialise`` (site and factor files), ``store_intervals``
and ``store_run`` for the plan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest

from energy.config import load_config
from energy.histories.store import store_intervals
from energy.planning.runs import RunRecord, store_run
from energy.planning.savings import store_realised_savings
from energy.setup import initialise

TZ = "Europe/Berlin"
# For tests whose subject does not depend on the database (writers, CLI, requests): SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
BASE, PER_UNIT, PER_WORKING_DAY, SAVING = 800.0, 3.0, 200.0, 0.05
LOCATION, RESIDUAL, MARGINAL = "grid_location", "residual_mix_2024", "grid_marginal"
GO_MWH, RESIDUAL_G = 5.0, 450.0
PLAN_DAY = dt.date(2024, 3, 12)
SHUTDOWN = dt.date(2024, 2, 9)


def site_toml(machines: list[str], residual: bool = True, instrument: bool = True, marginal: bool = True, location_valid_to: str = "2025-01-01",
              enpi: str = "") -> str:
    lines = ["[site]", 'name = "Report Works"', f'timezone = "{TZ}"', "latitude = 51.5", "longitude = 7.5", 'country = "DE"', ""]
    for machine in machines:
        lines += ["[[machines]]", f'id = "{machine}"', f'name = "Machine {machine}"', "idle_kw = 2.0", "flexible = true", ""]
    lines += [
        "[[meters]]", 'id = "main"', 'model = "janitza_umg96rme"', 'role = "main"', 'connection = { host = "127.0.0.1", port = 5020 }', "",
        "[[meters]]", 'id = "pv"', 'model = "schneider_pm5100"', 'role = "pv"', 'connection = { host = "127.0.0.1", port = 5022 }', "",
        "[[pv]]", 'id = "roof"', "kwp = 150.0", 'meter = "pv"', "",
        "[[emissions.factors]]", f'id = "{LOCATION}"', 'method = "location"', 'file = "grid.csv"', 'column = "g"',
        "valid_from = 2023-01-01", f"valid_to = {location_valid_to}", 'source = "synthetic hourly grid average, v1"', "",
    ]
    if residual:
        lines += ["[[emissions.factors]]", f'id = "{RESIDUAL}"', 'method = "residual_mix"', f"g_per_kwh = {RESIDUAL_G}",
                  "valid_from = 2024-01-01", "valid_to = 2025-01-01", 'source = "AIB European residual mix 2024 (synthetic)"', ""]
    if marginal:
        lines += ["[[emissions.factors]]", f'id = "{MARGINAL}"', 'method = "marginal"', 'file = "marginal.csv"', 'column = "g"',
                  'source = "synthetic marginal factors"', ""]
    if instrument:
        lines += ["[[emissions.instruments]]", 'id = "go_march"', 'kind = "go"', f"mwh = {GO_MWH}", "valid_from = 2024-03-01",
                  "valid_to = 2024-04-01", 'source = "GO registry certificate 42 (synthetic)"', ""]
    lines += ["[calendar]", f"shutdown_days = [{SHUTDOWN}]", "", enpi]
    return "\n".join(lines) + "\n"


def location_g(hours: pd.DatetimeIndex) -> np.ndarray:
    """The hourly location-based factor (g/kWh) of the UTC hour starting at ``hours``."""
    return 350.0 + 120.0 * np.sin(2 * np.pi * hours.hour.to_numpy() / 24)


def marginal_g(hours: pd.DatetimeIndex) -> np.ndarray:
    return 600.0 + 10.0 * hours.hour.to_numpy()


@dataclass
class Seeded:
    config_path: Path
    config: object
    index: pd.DatetimeIndex  # every seeded interval (UTC)
    site: pd.DataFrame  # net grid kWh + quality
    machines: dict[str, pd.DataFrame]
    pv: pd.DataFrame
    production: Path
    units: pd.Series  # per local date


def _frame(index, kwh, quality="measured") -> pd.DataFrame:
    return pd.DataFrame({"energy_kwh": np.asarray(kwh, dtype=float), "quality": quality}, index=index)


def seed(engine, folder: Path, machines: list[str] = ("press", "oven"), first: dt.date = dt.date(2024, 1, 1),
         last: dt.date = dt.date(2024, 3, 31), reporting_from: dt.date = dt.date(2024, 3, 1), plan: bool = True, noise_kwh: float = 15.0,
         **toml) -> Seeded:
    machines = list(machines)
    path = folder / "site.toml"
    path.write_text(site_toml(machines, **toml), encoding="utf-8")
    config = load_config(path)
    hours = pd.date_range(pd.Timestamp(first - dt.timedelta(days=1), tz="UTC"), pd.Timestamp(last + dt.timedelta(days=2), tz="UTC"),
                          freq="1h", inclusive="left")
    stamps = hours.strftime("%Y-%m-%dT%H:%M:%SZ")
    for name, values in (("grid.csv", location_g(hours)), ("marginal.csv", marginal_g(hours))):
        text = "start,g\n" + "".join(f"{t},{float(v)!r}\n" for t, v in zip(stamps, values))
        (folder / name).write_text(text, encoding="utf-8")
    initialise(engine, config)
    rng = np.random.default_rng(7)
    start = pd.Timestamp(first).tz_localize(TZ).tz_convert("UTC")
    end = pd.Timestamp(last + dt.timedelta(days=1)).tz_localize(TZ).tz_convert("UTC")
    index = pd.date_range(start, end, freq="15min", inclusive="left", name="interval_start")
    local = index.tz_convert(TZ)
    day = pd.Index(local.date)
    dates = pd.Index(sorted(set(day)))
    off = set(holidays.country_holidays("DE", years=sorted({d.year for d in dates}))) | {SHUTDOWN}
    working = np.array([d.weekday() < 5 and d not in off for d in dates])  # as the report's calendar
    press_units = np.where(working, rng.integers(50, 150, len(dates)), 0)
    oven_units = press_units // 2
    units = pd.Series((press_units + oven_units).astype(float), index=dates)  # all products of the day
    daily = BASE + PER_UNIT * units + PER_WORKING_DAY * working + rng.normal(0, noise_kwh, len(dates))
    daily = daily * np.where(np.array([d >= reporting_from for d in dates]), 1 - SAVING, 1.0)
    per_day = pd.Series(day).value_counts()
    consumption = (daily.reindex(day).to_numpy() / per_day.reindex(day).to_numpy())
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60
    pv_kwh = np.clip(18.0 * np.sin(np.pi * (hour - 7) / 10), 0, None)  # up to 72 kW: midday export on light days
    site_kwh = consumption - pv_kwh
    shares = np.linspace(0.45, 0.2, len(machines)) / max(1, len(machines) / 2)
    machine_frames = {}
    for machine, share in zip(machines, shares):
        machine_frames[machine] = _frame(index, consumption * share)
    site = _frame(index, site_kwh)
    # Data quality: the site misses four intervals and the oven has some estimated and missing ones.
    gap = (local >= pd.Timestamp("2024-03-05 10:00", tz=TZ)) & (local < pd.Timestamp("2024-03-05 11:00", tz=TZ))
    site.loc[gap, "energy_kwh"], site.loc[gap, "quality"] = np.nan, "missing"
    if "oven" in machine_frames:
        oven = machine_frames["oven"]
        est = (local >= pd.Timestamp("2024-03-07 00:00", tz=TZ)) & (local < pd.Timestamp("2024-03-07 02:30", tz=TZ))
        oven.loc[est, "quality"] = "estimated"
        hole = (local >= pd.Timestamp("2024-03-20 12:00", tz=TZ)) & (local < pd.Timestamp("2024-03-20 13:00", tz=TZ))
        oven.loc[hole, "energy_kwh"], oven.loc[hole, "quality"] = np.nan, "missing"
    pv = _frame(index, pv_kwh)
    store_intervals(engine, "site", "site", site)
    store_intervals(engine, "meter", "pv", pv)
    for machine, frame in machine_frames.items():
        store_intervals(engine, "machine", machine, frame)
    production = folder / "production.csv"
    rows = ["date,machine,product,units"]
    for date, press, oven in zip(dates, press_units, oven_units):
        if press > 0:
            first_part = int(press * 0.7)
            rows.append(f"{date},{machines[0]},A,{first_part}")
            rows.append(f"{date},{machines[0]},B,{press - first_part}")
            rows.append(f"{date},{machines[1 if len(machines) > 1 else 0]},C,{oven}")
    production.write_text("\n".join(rows) + "\n", encoding="utf-8")
    if plan:
        seed_plan(engine, machines[0])
    return Seeded(path, config, index, site, machine_frames, pv, production, units)


def plan_documents(machine: str) -> tuple[dict, dict]:
    """A one-job plan of ``PLAN_DAY``: 4 slots at 100 kW moved from slot 40 to slot 8 (no idle power)."""
    start = pd.Timestamp(PLAN_DAY).tz_localize(TZ)
    problem = {
        "start": start.isoformat(), "resolution_minutes": 15, "horizon_slots": 96,
        "machines": [{"id": machine, "idle_kw": 0.0}],
        "jobs": [{"id": "J1", "duration_slots": 4, "power_kw": 100.0, "eligible_machines": [machine],
                  "planned_start_slot": 40, "planned_machine": machine}],
    }
    breakdown = {"energy_eur": 10.0, "co2_eur": 1.0, "demand_eur": 0.0, "switching_eur": 0.0}
    baseline = {"energy_eur": 14.0, "co2_eur": 1.5, "demand_eur": 0.0, "switching_eur": 0.0}
    schedule = {
        "status": "optimal", "objective_eur": 11.0, "cost_breakdown": breakdown,
        "jobs": [{"id": "J1", "machine": machine, "start_slot": 8}], "machines_on": {machine: [[8, 12]]},
        "baseline": {"objective_eur": 15.5, "cost_breakdown": baseline},
    }
    return problem, schedule


def seed_plan(engine, machine: str) -> int:
    problem, schedule = plan_documents(machine)
    record = RunRecord("report-works", PLAN_DAY.isoformat(), {}, problem, schedule, {}, {})
    with engine.begin() as conn:
        run_id = store_run(conn, record)
    # As energy.planning.savings finds it: the job ran as scheduled (slots 8–11), its counterfactual
    # is the site's own plan (slots 40–43); the grid series carry only the difference.
    actual, counterfactual = np.zeros(96), np.zeros(96)
    actual[8:12] = counterfactual[40:44] = 100.0
    store_realised_savings(engine, {"run_id": run_id, "actual": {"total_eur": 20.0}, "baseline": {"total_eur": 23.5},
                                    "savings": {"total_eur": 3.5}, "cash_eur": 3.0, "band": {"low_eur": 3.1, "high_eur": 3.9},
                                    "adherence": {"rate": 1.0}, "kwh_shifted": 100.0,
                                    "grid_kw": actual.tolist(), "counterfactual_kw": counterfactual.tolist()})
    return run_id
