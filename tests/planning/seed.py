"""A small synthetic plant and a seeded day for planning tests and ``bench/nightly.py``.

The site: ``n`` flexible machines ``m1 … mn`` (idle 5 kW, start-up 2 EUR), one inflexible
compressor, a main meter, a 50 kWp PV array and a location-based carbon factor source. The day's
data are written straight into the tables the planning seams read (``energy.planning.inputs``):
forecasts, a tariff with hourly prices and a demand rate, hourly carbon factors, and measured
intervals.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from energy.config import SiteConfig, load_config
from energy.histories.store import store_intervals
from energy.planning.inputs import day_slots
from energy.setup import initialise
from energy.storage import bulk, schema
from energy.tariffs import store_tariff
from energy.tariffs.toml import tariff_from_toml_dict
from energy.timeutil import to_epoch_ms

DAY = dt.date(2024, 5, 2)
TZ = "Europe/Berlin"
TARIFF = "test-tariff"
FACTORS = "grid-location"


def write_site(folder: Path, machines: int = 3, grid_limit_kw: float | None = None, shutdown_days: tuple[dt.date, ...] = ()) -> Path:
    """Write ``site.toml`` and its carbon factor file into ``folder``; returns the config's path."""
    lines = [
        "[site]",
        'name = "Test Works"',
        f'timezone = "{TZ}"',
        "latitude = 51.5",
        "longitude = 7.5",
        "interval_minutes = 15",
        "",
    ]
    for i in range(1, machines + 1):
        lines += ["[[machines]]", f'id = "m{i}"', f'name = "Machine {i}"', "idle_kw = 5.0", "flexible = true", "startup_eur = 2.0", ""]
    lines += ["[[machines]]", 'id = "aux"', 'name = "Compressor"', "idle_kw = 3.0", ""]
    lines += [
        "[[meters]]",
        'id = "main"',
        'model = "janitza_umg96rme"',
        'role = "main"',
        'connection = { protocol = "tcp", host = "127.0.0.1", port = 5020 }',
        "",
        "[[pv]]",
        'id = "roof"',
        "kwp = 50.0",
        "",
        "[[emissions.factors]]",
        f'id = "{FACTORS}"',
        'method = "location"',
        'file = "factors.csv"',
        'column = "g"',
        'source = "synthetic test factors"',
        "",
        "[calendar]",
        f"shutdown_days = [{', '.join(d.isoformat() for d in shutdown_days)}]",
        "",
        "[planning]",
        'jobs_file = "jobs.csv"',
        'export_dir = "plans"',
        # Proving the seeded day optimal takes HiGHS 3-5 s with three jobs, 10-18 s with six, on an
        # idle 2-core machine; a replay needs it proven again: the limit leaves room for a busy one.
        "time_limit_s = 120.0",
        "gap = 0.0",
        "co2_price_eur_per_t = 80.0",
    ]
    if grid_limit_kw is not None:
        lines.append(f"grid_limit_kw = {grid_limit_kw}")
    path = folder / "site.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # The hourly factors seed_day also stores for DAY ('energy init' reads this file).
    hours = pd.date_range(pd.Timestamp(DAY, tz=TZ), periods=24, freq="1h").tz_convert("UTC")
    pd.DataFrame({"time": hours.map(pd.Timestamp.isoformat), "g": 300.0 + 10.0 * np.arange(24)}).to_csv(folder / "factors.csv", index=False)
    return path


def hourly_price(slots: pd.DatetimeIndex, tz: str = TZ) -> np.ndarray:
    """EUR/kWh: 0.10 at night (22–06), 0.30 by day, 0.40 in the 17–20 peak."""
    hour = slots.tz_convert(tz).hour.to_numpy()
    return np.where((hour < 6) | (hour >= 22), 0.10, np.where((hour >= 17) & (hour < 20), 0.40, 0.30))


def day_profiles(slots: pd.DatetimeIndex, machines: list[str]) -> dict[str, np.ndarray]:
    """Forecast kW per slot: the site (net grid), each machine, PV."""
    hour = slots.tz_convert(TZ).hour.to_numpy() + slots.tz_convert(TZ).minute.to_numpy() / 60
    daytime = (hour >= 6) & (hour < 22)
    pv = np.clip(40 * np.sin(np.pi * (hour - 6) / 14), 0, None)
    machine_kw = np.where(daytime, 30.0, 0.0)
    return {"site": 200.0 + 100.0 * daytime + len(machines) * machine_kw, "machine": machine_kw, "pv": pv}


def seed_day(engine, config: SiteConfig, day: dt.date = DAY, demand_rate_eur_per_kw: float | None = 10.0) -> pd.DatetimeIndex:
    """Store the site, a tariff with hourly prices, carbon factors and forecasts for ``day``."""
    initialise(engine, config)
    slots = day_slots(day, config.site.timezone, config.site.interval_minutes)
    flexible = [m.id for m in config.machines if m.flexible]
    profiles = day_profiles(slots, flexible)
    hours = pd.date_range(slots[0], slots[-1], freq="1h")
    store_test_tariff(engine, config, hours, demand_rate_eur_per_kw)
    with engine.begin() as conn:
        bulk.upsert(conn, schema.emission_sources, pd.DataFrame([{"id": FACTORS, "method": "location", "source": "synthetic"}]))
        bulk.upsert(
            conn,
            schema.emission_factors,
            pd.DataFrame({"source_id": FACTORS, "start_ms": to_epoch_ms(hours), "end_ms": to_epoch_ms(hours) + 3_600_000, "g_per_kwh": 300.0 + 10.0 * np.arange(len(hours))}),
        )
        series = [("site", "site", profiles["site"]), ("pv", "roof", profiles["pv"])]
        series += [("machine", m, profiles["machine"]) for m in flexible]
        store_forecasts(conn, slots, series)
    return slots


def store_test_tariff(engine, config: SiteConfig, hours: pd.DatetimeIndex, demand_rate_eur_per_kw: float | None) -> None:
    """A dynamic tariff (:func:`hourly_price`, export 0.05 EUR/kWh) with an optional monthly
    demand charge, stored through ``energy.tariffs`` as ``energy init`` would."""
    prices_path = config.resolve(Path("prices.csv"))
    pd.DataFrame(
        {"timestamp": hours.map(pd.Timestamp.isoformat), "import_per_kwh": hourly_price(hours), "export_per_kwh": 0.05}
    ).to_csv(prices_path, index=False)
    document = {"id": TARIFF, "name": "test", "currency": "EUR", "timezone": TZ, "dynamic": {"file": prices_path.name}}
    if demand_rate_eur_per_kw:
        document["demand"] = [{"name": "monthly", "rate": demand_rate_eur_per_kw}]
    store_tariff(engine, tariff_from_toml_dict(document, prices_path.parent / "tariff.toml"), "toml")


def store_forecasts(conn, slots: pd.DatetimeIndex, series: list[tuple[str, str, np.ndarray]], issued_ms: int = 1) -> None:
    """One forecast run per (kind, series id) covering ``slots``."""
    end = slots[-1] + (slots[1] - slots[0])
    for kind, series_id, values in series:
        run_id = conn.execute(
            schema.forecast_runs.insert().values(
                kind=kind,
                series_id=series_id,
                target_start_ms=int(to_epoch_ms(slots[:1])[0]),
                target_end_ms=int(to_epoch_ms(pd.DatetimeIndex([end]))[0]),
                issued_ms=issued_ms,
                model="synthetic",
                backtest_json="{}",
            )
        ).inserted_primary_key[0]
        bulk.upsert(conn, schema.forecasts, pd.DataFrame({"run_id": run_id, "start_ms": to_epoch_ms(slots), "power_kw": values}))


def store_measured(engine, slots: pd.DatetimeIndex, kind: str, series_id: str, power_kw: np.ndarray) -> None:
    """Measured intervals (kWh per slot) of one series from average power per slot."""
    hours = (slots[1] - slots[0]) / pd.Timedelta(hours=1)
    store_intervals(engine, kind, series_id, pd.DataFrame({"energy_kwh": np.asarray(power_kw) * hours, "quality": "measured"}, index=slots))


def write_jobs(folder: Path, machines: int, jobs: int, seed: int = 7) -> Path:
    """A jobs CSV: ``jobs`` jobs over the machines, planned from 06:00 on, chains of three jobs.

    Every third job starts a chain; the next two follow it on the neighbouring machines. The
    baseline (planned starts) respects machines and precedence.
    """
    rng = np.random.default_rng(seed)
    rows = ["job,machines,duration_min,power_kw,earliest_start,deadline,after,planned_start,planned_machine"]
    free = {i: 6 * 60 for i in range(1, machines + 1)}  # next free minute of each machine's baseline
    ends: dict[int, int] = {}
    for j in range(jobs):
        home = j % machines + 1
        other = home % machines + 1
        duration = int(rng.choice([30, 45, 60, 90]))
        follows = j % 3 != 0
        start = max(free[home], ends[j - 1] if follows else 0)
        free[home] = ends[j] = start + duration
        power = round(float(rng.uniform(20, 120)), 1)
        after = f"j{j - 1}" if follows else ""
        rows.append(f"j{j},m{home};m{other},{duration},{power},00:00,24:00,{after},{start // 60:02d}:{start % 60:02d},m{home}")
    path = folder / "jobs.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def count(engine, table: sa.Table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar()


def load_site(folder: Path, **kwargs) -> SiteConfig:
    return load_config(write_site(folder, **kwargs))


def toy_problem() -> dict:
    """One machine, one job, four quarter hours: every cost can be worked out by hand.

    Prices 0.10, 0.10, 0.30, 0.30 EUR/kWh; carbon 100, 100, 300, 300 g/kWh at 100 EUR/t; demand
    charge 10 EUR/kW above a 50 kW peak so far. Job ``j1`` (90 kW on ``m1``, idle 10 kW, start-up
    5 EUR) is planned in slot 2 and scheduled in slot 0.
    """
    return {
        "name": "toy",
        "start": "2024-05-02T00:00:00+02:00",
        "resolution_minutes": 15,
        "horizon_slots": 4,
        "price_eur_per_kwh": [0.1, 0.1, 0.3, 0.3],
        "export_price_eur_per_kwh": [0.05] * 4,
        "co2_g_per_kwh": [100.0, 100.0, 300.0, 300.0],
        "co2_price_eur_per_t": 100.0,
        "base_load_kw": [0.0] * 4,
        "pv_kw": [0.0] * 4,
        "demand_charge": {"eur_per_kw": 10.0, "peak_so_far_kw": 50.0},
        "machines": [{"id": "m1", "idle_kw": 10.0, "startup_eur": 5.0, "shutdown_eur": 0.0}],
        "jobs": [{"id": "j1", "machines": ["m1"], "duration_slots": 1, "power_kw": 90.0, "planned_start_slot": 2, "planned_machine": "m1"}],
    }


def toy_schedule(start_slot: int = 0) -> dict:
    """The toy's schedule (job in ``start_slot``, 0 or 2) in the contract's format, costed by hand."""
    price = [0.1, 0.1, 0.3, 0.3][start_slot]
    co2 = [100.0, 100.0, 300.0, 300.0][start_slot]
    breakdown = {"energy_eur": price * 100 * 0.25, "co2_eur": 100 * co2 * 100 * 0.25 / 1e6, "demand_eur": 500.0, "switching_eur": 5.0}
    return {
        "status": "optimal",
        "objective_eur": sum(breakdown.values()),
        "lower_bound_eur": sum(breakdown.values()),
        "gap": 0.0,
        "solve_seconds": 0.01,
        "cost_breakdown": breakdown,
        "jobs": [{"id": "j1", "machine": "m1", "start_slot": start_slot}],
        "machines_on": {"m1": [[start_slot, start_slot + 1]]},
        "baseline": {
            "objective_eur": 513.25,
            "cost_breakdown": {"energy_eur": 7.5, "co2_eur": 0.75, "demand_eur": 500.0, "switching_eur": 5.0},
        },
    }


def toy_record(site_id: str = "test-works", start_slot: int = 0, status: str = "optimal"):
    """A run record of the toy (``status`` infeasible gives a schedule without jobs)."""
    from energy.planning.runs import RunRecord

    schedule = toy_schedule(start_slot)
    if status == "infeasible":
        schedule = {"status": "infeasible", "explanation": ["job j1 cannot fit"], "jobs": []}
    return RunRecord(
        site_id=site_id,
        plan_date="2024-05-02",
        inputs={"jobs": [{"job": "j1", "recipe": None}]},
        problem=toy_problem(),
        schedule=schedule,
        solver={"time_limit_s": 5.0, "gap_limit": 0.0},
        versions={"python": "3"},
    )
