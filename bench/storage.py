"""Storage figures of the foundation issue, on SQLite and PostgreSQL.

- bulk insert of 1,000,000 raw readings through ``energy.readings.store_readings`` (rows/s);
- reading one meter-year of 15-minute intervals (35,040 rows) back into a DataFrame with
  ``energy.histories.store.load_intervals`` (best of 5, seconds).

Usage: ``python bench/storage.py [--rows N] [--pg URL]`` (PostgreSQL URL default: the local
server; a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from energy import storage
from energy.histories.store import load_intervals, store_intervals
from energy.readings import store_readings

from _common import LOCAL_PG, scratch_postgresql, scratch_sqlite  # bench/, beside this script


def readings_frame(rows: int, meters: int = 100) -> pd.DataFrame:
    """``rows`` readings of ``meters`` meters polled every 10 s, as the collector would store them."""
    per_meter = rows // meters
    stamps = pd.date_range("2024-01-01", periods=per_meter, freq="10s", tz="UTC")
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "timestamp": np.tile(stamps, meters),
            "meter": np.repeat([f"m{i:03d}" for i in range(meters)], per_meter),
            "energy_kwh": np.cumsum(rng.uniform(0, 0.5, per_meter * meters)),
            "power_kw": rng.uniform(0, 200, per_meter * meters),
        }
    )


def meter_year() -> pd.DataFrame:
    index = pd.date_range("2023-01-01", periods=35_040, freq="15min", tz="UTC", name="interval_start")
    energy = np.random.default_rng(2).uniform(0, 50, len(index))
    return pd.DataFrame({"energy_kwh": energy, "quality": "measured"}, index=index)


def measure(url: str, readings: pd.DataFrame) -> tuple[float, float]:
    engine = storage.connect(url)
    storage.upgrade(engine)
    began = time.perf_counter()
    store_readings(engine, readings)
    rows_per_s = len(readings) / (time.perf_counter() - began)
    store_intervals(engine, "meter", "year", meter_year())
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        frame = load_intervals(engine, "meter", "year")
        timings.append(time.perf_counter() - began)
    assert len(frame) == 35_040
    engine.dispose()
    return rows_per_s, min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default=LOCAL_PG)
    args = parser.parse_args()
    readings = readings_frame(args.rows)

    with scratch_sqlite() as url:
        rate, read_s = measure(url, readings)
        print(f"sqlite      insert {len(readings):,} readings: {rate:,.0f} rows/s   read 35,040 intervals: {read_s:.3f} s")

    with scratch_postgresql(args.pg) as url:
        rate, read_s = measure(url, readings)
        print(f"postgresql  insert {len(readings):,} readings: {rate:,.0f} rows/s   read 35,040 intervals: {read_s:.3f} s")


if __name__ == "__main__":
    main()
