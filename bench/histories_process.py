"""Histories figure 1: raw readings → intervals, end to end through the database.

10,000,000 readings of 200 meters (one main meter and 199 machine sub-meters, 50,000 readings
each, one every 10 s ≈ 5.8 days) are stored, then ``energy.histories.process_site`` turns them
into meter, machine, virtual-meter and site intervals (timed). Every meter has a counter; a few
carry a reset, a 32-bit rollover, a spike or a gap so the slow paths run too. A second, timed
run with nothing new shows the cost of an idle incremental pass.

Usage: ``python bench/histories_process.py [--readings N] [--meters M] [--pg URL | --sqlite-only]``
(PostgreSQL URL default: the local server; a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import sqlalchemy as sa

from energy import storage
from energy.config import parse_config
from energy.histories import process_site
from energy.readings import store_readings
from energy.storage.site import store_site
from _common import LOCAL_PG, scratch_postgresql, scratch_sqlite  # bench/, beside this script

POLL = pd.Timedelta(seconds=10)
START = pd.Timestamp("2024-03-01", tz="UTC")


def site_config(meters: int):
    machines = [{"id": f"machine{i:03d}", "name": f"Machine {i}", "rated_kw": 400.0} for i in range(1, meters)]
    connection = {"host": "127.0.0.1", "port": 5020}
    meter_rows = [{"id": "main", "model": "janitza_umg96rme", "role": "main", "rated_kw": 80_000.0, "connection": connection}]
    meter_rows += [
        {"id": f"m{i:03d}", "model": "eastron_sdm630", "machine": f"machine{i:03d}", "connection": connection}
        for i in range(1, meters)
    ]
    virtual = [{"id": "unmetered", "add": ["main"], "subtract": [m["id"] for m in meter_rows[1:]]}]
    return parse_config({
        "site": {"name": "Bench works", "timezone": "Europe/Berlin", "latitude": 50.0, "longitude": 8.0},
        "machines": machines, "meters": meter_rows, "virtual_meters": virtual,
    })


def meter_readings(meter: str, power_kw: np.ndarray, seed: int) -> pd.DataFrame:
    """One meter's readings: a counter (kWh) integrating ``power_kw``, with the odd anomaly."""
    count = len(power_kw)
    counter = 1000.0 + np.cumsum(power_kw * POLL.total_seconds() / 3600)
    if seed % 50 == 1:
        counter[count // 2:] -= counter[count // 2 - 1]  # a counter reset
    if seed % 50 == 2:
        wrap = 2**32 / 1000  # a 32-bit Wh register rolls over a third of the way in
        counter = (counter - counter[count // 3] + wrap) % wrap
    if seed % 50 == 3:
        counter[count // 4] = 1e9  # a spike
    stamps = START + POLL * np.arange(count)
    frame = pd.DataFrame({"timestamp": stamps, "meter": meter, "energy_kwh": counter, "power_kw": power_kw})
    if seed % 50 == 4:
        frame = frame.drop(index=range(count // 5, count // 5 + 400))  # a gap of ~67 minutes
    return frame


def measure(url: str, readings: int, meters: int) -> None:
    engine = storage.connect(url)
    storage.upgrade(engine)
    config = site_config(meters)
    store_site(engine, config)
    per_meter = readings // meters
    began = time.perf_counter()
    power = np.random.default_rng(1).uniform(0, 200, (meters - 1, per_meter))
    for i, meter in enumerate(m.id for m in config.meters[1:]):
        store_readings(engine, meter_readings(meter, power[i], i + 1))
    store_readings(engine, meter_readings("main", power.sum(axis=0) + 30.0, 0))  # 30 kW nobody sub-meters
    stored_s = time.perf_counter() - began
    began = time.perf_counter()
    summary = process_site(engine, config)
    process_s = time.perf_counter() - began
    began = time.perf_counter()
    idle = process_site(engine, config)
    idle_s = time.perf_counter() - began
    assert sum(idle.meters.values()) == 0
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT quality, count(*) FROM intervals GROUP BY quality ORDER BY quality")).fetchall()
    engine.dispose()
    name = url.split(":", 1)[0]
    print(f"{name:<11} {per_meter * meters:,} readings of {meters} meters: stored in {stored_s:.1f} s (setup, not the figure)")
    print(f"{name:<11} process_site: {process_s:.1f} s ({per_meter * meters / process_s:,.0f} readings/s); "
          f"nothing new: {idle_s:.2f} s; {sum(summary.meters.values()):,} meter intervals")
    print(f"{name:<11} interval rows by quality: " + ", ".join(f"{q} {n:,}" for q, n in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--pg", default=LOCAL_PG)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()

    with scratch_sqlite() as url:
        measure(url, args.readings, args.meters)
    if not args.sqlite_only:
        with scratch_postgresql(args.pg) as url:
            measure(url, args.readings, args.meters)


if __name__ == "__main__":
    main()
