"""A small, realistic site for the dashboard tests, built through the library.

``Seed Works`` (Europe/Berlin): three flexible machines ``m1 … m3`` and a compressor ``aux``,
each with its own sub-meter, a main meter, a 50 kWp roof array, a location-based hourly and a
residual-mix constant carbon factor source (stored by ``energy init``), and shifts 06:00–22:00.

:func:`seed_site` writes minute readings of every meter from local midnight ``days − 1`` days ago
up to ``now`` and runs them through :func:`energy.histories.process_site` (so the intervals,
quality flags and site series are the histories' own); the ``m_m3`` sub-meter has a two-hour
hole yesterday (bridged by its counter: *estimated*) and ``m_aux`` stopped three hours ago (its
machine is *missing* since, and its meter health shows failed polls). With ``plans`` it also
stores a dynamic tariff with hourly prices and a monthly demand charge (``tests/planning/seed.py``,
through ``energy.tariffs``), forecasts for yesterday, today and tomorrow (machines with
prediction intervals), plans yesterday and tomorrow with the real nightly job
(``energy.planning.nightly.run_nightly``, jobs from ``tests/planning/seed.py``), and computes
yesterday's realised savings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from energy import storage
from energy.config import SiteConfig, load_config
from energy.histories import process_site
from energy.metering.health import store_health
from energy.planning import runs
from energy.planning.inputs import day_slots
from energy.planning.nightly import run_nightly
from energy.planning.savings import compute_realised_savings, store_realised_savings
from energy.readings import store_readings
from energy.setup import initialise
from energy.storage import bulk, schema
from energy.timeutil import timestamp_to_ms, to_epoch_ms
from tests.planning import seed as planning_seed

TZ = "Europe/Berlin"
SITE_ID = "seed-works"
MACHINES = ("m1", "m2", "m3", "aux")
MARKET_G_PER_KWH = 420.0
GRID_LIMIT_KW = 600.0
DEMAND_EUR_PER_KW = 10.0

SITE_TOML = f"""
[site]
name = "Seed Works"
timezone = "{TZ}"
latitude = 51.5
longitude = 7.5
currency = "EUR"
interval_minutes = 15

[[machines]]
id = "m1"
name = "Press 1"
idle_kw = 5.0
rated_kw = 200.0
flexible = true
startup_eur = 2.0

[[machines]]
id = "m2"
name = "Press 2"
idle_kw = 5.0
rated_kw = 200.0
flexible = true
startup_eur = 2.0

[[machines]]
id = "m3"
name = "Oven"
idle_kw = 5.0
rated_kw = 200.0
flexible = true
startup_eur = 2.0

[[machines]]
id = "aux"
name = "Compressor"
idle_kw = 3.0
rated_kw = 100.0

[[meters]]
id = "main"
model = "janitza_umg96rme"
role = "main"
poll_seconds = 60.0
connection = {{ protocol = "tcp", host = "127.0.0.1", port = 5020 }}
{"".join(f'''
[[meters]]
id = "m_{m}"
model = "eastron_sdm630"
machine = "{m}"
poll_seconds = 60.0
connection = {{ protocol = "tcp", host = "127.0.0.1", port = 5021, unit_id = {i + 1} }}
''' for i, m in enumerate(MACHINES))}
[[pv]]
id = "roof"
kwp = 50.0

[[emissions.factors]]
id = "{planning_seed.FACTORS}"
method = "location"
file = "factors.csv"
column = "g"
source = "synthetic hourly grid factors (tests/ui/seed.py)"

[[emissions.factors]]
id = "residual-mix"
method = "residual_mix"
g_per_kwh = {MARKET_G_PER_KWH}
source = "synthetic residual mix (tests/ui/seed.py)"

[calendar]
shifts = ["06:00-22:00"]

[planning]
jobs_file = "jobs.csv"
export_dir = "plans"
time_limit_s = 5.0
gap = 0.05
grid_limit_kw = {GRID_LIMIT_KW}
"""


def sqlite_database(folder: Path) -> tuple[str, object]:
    """(URL, engine) of a new, migrated SQLite database ``energy.db`` in ``folder``."""
    url = f"sqlite:///{folder / 'energy.db'}"
    engine = storage.connect(url)
    storage.upgrade(engine)
    return url, engine


def write_config(folder: Path, start: pd.Timestamp, end: pd.Timestamp) -> Path:
    """``site.toml``, ``factors.csv`` (hourly location factors from ``start`` to ``end``: 300 +
    10 g/kWh per local hour) and the ``jobs.csv`` of a plan in ``folder``; returns the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site.toml"
    path.write_text(SITE_TOML, encoding="utf-8")
    hours = pd.date_range(start.tz_convert("UTC").floor("h"), end.tz_convert("UTC"), freq="1h", inclusive="left")
    factors = pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%dT%H:%M:%SZ"), "g": 300.0 + 10.0 * hours.tz_convert(TZ).hour})
    factors.to_csv(folder / "factors.csv", index=False)
    planning_seed.write_jobs(folder, machines=3, jobs=6)
    return path


def machine_kw(times: pd.DatetimeIndex, machine: str) -> np.ndarray:
    """Synthetic power (kW): machines run 06–22 local, the compressor all day."""
    local = times.tz_convert(TZ)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60
    day = (hour >= 6) & (hour < 22)
    wave = 1 + 0.1 * np.sin(2 * np.pi * hour / 3 + len(machine))
    if machine == "aux":
        return 20.0 * wave
    level = {"m1": 40.0, "m2": 30.0, "m3": 25.0}[machine]
    return np.where(day, level * wave, 5.0)


def base_kw(times: pd.DatetimeIndex) -> np.ndarray:
    """What no sub-meter sees: 80 kW at night, 150 kW by day."""
    hour = times.tz_convert(TZ).hour.to_numpy()
    return np.where((hour >= 6) & (hour < 22), 150.0, 80.0)


def _counter(meter: str, times: pd.DatetimeIndex, kw: np.ndarray) -> pd.DataFrame:
    energy = np.concatenate([[1000.0], 1000.0 + np.cumsum(kw[:-1]) / 60])
    return pd.DataFrame({"timestamp": times, "meter": meter, "energy_kwh": energy, "power_kw": kw})


def readings(start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
    """Minute readings of every meter from ``start`` to ``now`` (the holes described above)."""
    times = pd.date_range(start.tz_convert("UTC"), now.floor("min"), freq="1min", inclusive="left")
    yesterday = (now.tz_convert(TZ).normalize() - pd.Timedelta(days=1)).tz_localize(None)
    frames, total = [], base_kw(times)
    for machine in MACHINES:
        kw = machine_kw(times, machine)
        total = total + kw
        keep = np.ones(len(times), dtype=bool)
        if machine == "m3":  # a two-hour hole yesterday morning, bridged by the counter
            local = times.tz_convert(TZ).tz_localize(None)
            keep &= ~((local >= yesterday + pd.Timedelta(hours=10)) & (local < yesterday + pd.Timedelta(hours=12)))
        if machine == "aux":  # the gateway lost this meter three hours ago
            keep &= times < now - pd.Timedelta(hours=3)
        frames.append(_counter(f"m_{machine}", times, kw)[keep])
    frames.append(_counter("main", times, total))
    return pd.concat(frames, ignore_index=True)


def day_forecasts(engine, config: SiteConfig, day: dt.date) -> None:
    """The forecasts the nightly job reads for ``day``: site, PV and each flexible machine."""
    slots = day_slots(day, TZ, config.site.interval_minutes)
    flexible = [m.id for m in config.machines if m.flexible]
    profiles = planning_seed.day_profiles(slots, flexible)
    series = [("site", "site", profiles["site"]), ("pv", "roof", profiles["pv"])]
    with engine.begin() as conn:
        planning_seed.store_forecasts(conn, slots, series + [("machine", m, profiles["machine"]) for m in flexible])


def forecast_bands(engine, day: dt.date, issued_ms: int) -> None:
    """A forecast with 80 % and 95 % prediction intervals for each machine on ``day``."""
    slots = day_slots(day, TZ, 15)
    bounds = to_epoch_ms(pd.DatetimeIndex([slots[0], slots[-1] + pd.Timedelta(minutes=15)]))
    with engine.begin() as conn:
        for machine in MACHINES:
            values = machine_kw(slots, machine) * 1.05
            run_id = conn.execute(
                schema.forecast_runs.insert().values(
                    kind="machine", series_id=machine, target_start_ms=int(bounds[0]), target_end_ms=int(bounds[1]),
                    issued_ms=issued_ms, model="synthetic-band", backtest_json="{}",
                )
            ).inserted_primary_key[0]
            bands = {"lo80_kw": 0.9, "hi80_kw": 1.1, "lo95_kw": 0.8, "hi95_kw": 1.2}
            frame = pd.DataFrame({"run_id": run_id, "start_ms": to_epoch_ms(slots), "power_kw": values} | {k: values * f for k, f in bands.items()})
            bulk.upsert(conn, schema.forecasts, frame)


def seed_site(engine, folder: Path, now: pd.Timestamp | None = None, days: int = 3, plans: bool = True) -> SiteConfig:
    """Build the site in ``engine`` (migrated) with ``days`` local days of data up to ``now``."""
    now = (now or pd.Timestamp.now(tz="UTC")).floor("min")
    today = now.tz_convert(TZ).date()
    start = pd.Timestamp(today - dt.timedelta(days=days - 1)).tz_localize(TZ)
    end = pd.Timestamp(today + dt.timedelta(days=2)).tz_localize(TZ)
    config = load_config(write_config(folder, start, end))
    initialise(engine, config)  # the site, machines, meters and emission factor sources
    store_readings(engine, readings(start, now))
    process_site(engine, config)
    with engine.begin() as conn:
        store_health(conn, [
            {"meter_id": "main", "last_attempt_ms": timestamp_to_ms(now), "last_good_ms": timestamp_to_ms(now), "ok_count": 4000, "error_count": 2, "consecutive_errors": 0, "last_error": "timeout", "last_error_ms": timestamp_to_ms(now - pd.Timedelta(days=1))},
            {"meter_id": "m_aux", "last_attempt_ms": timestamp_to_ms(now), "last_good_ms": timestamp_to_ms(now - pd.Timedelta(hours=3)), "ok_count": 3800, "error_count": 180, "consecutive_errors": 180, "last_error": "no response from unit 4 (Modbus timeout)", "last_error_ms": timestamp_to_ms(now)},
        ])
    if plans:
        tomorrow, yesterday = today + dt.timedelta(days=1), today - dt.timedelta(days=1)
        hours = pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq="1h", inclusive="left")
        planning_seed.store_test_tariff(engine, config, hours, demand_rate_eur_per_kw=DEMAND_EUR_PER_KW)
        for day in (yesterday, today, tomorrow):
            day_forecasts(engine, config, day)
        for day in (yesterday, today):
            forecast_bands(engine, day, issued_ms=2)
        for day in (yesterday, tomorrow):
            run_nightly(engine, config, day)
        store_realised_savings(engine, compute_realised_savings(engine, config, runs.current_run_id(engine, SITE_ID, yesterday.isoformat())))
    return config


def store_failed_plan(engine, day: dt.date) -> int:
    """An infeasible run for ``day`` (stored as history: a good plan of the day stays current)."""
    record = planning_seed.toy_record(SITE_ID, status="infeasible")
    problem = record.problem | {"start": pd.Timestamp(day).tz_localize(TZ).isoformat()}
    record = dataclasses.replace(record, plan_date=day.isoformat(), problem=problem)
    with engine.begin() as conn:
        return runs.store_run(conn, record)
