"""Histories figure 2: one machine-year of intervals read back at 15 min, hourly and daily.

A year (2024, a leap year: 35,136 intervals) of one machine's 15-minute intervals, with a few
estimated and missing ones, is stored; ``energy.histories.machine_history`` then reads the whole
year at ``15min``, ``1h`` and ``1D`` (local days in Europe/Berlin, both DST changes included) into
a tz-aware DataFrame. Best of 5 per resolution, from SQLite and from PostgreSQL.

Usage: ``python bench/histories_read.py [--pg URL]`` (PostgreSQL URL default: the local server;
a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from energy import storage
from energy.config import parse_config
from energy.histories import machine_history
from energy.histories.store import store_intervals
from energy.storage.site import store_site
from _common import LOCAL_PG, scratch_postgresql, scratch_sqlite  # bench/, beside this script

TZ = "Europe/Berlin"
YEAR_START = pd.Timestamp("2024-01-01", tz=TZ)
YEAR_END = pd.Timestamp("2025-01-01", tz=TZ)
RESOLUTIONS = ("15min", "1h", "1D")


def machine_year() -> pd.DataFrame:
    index = pd.date_range(YEAR_START.tz_convert("UTC"), YEAR_END.tz_convert("UTC"), freq="15min", inclusive="left", name="interval_start")
    rng = np.random.default_rng(3)
    flag = rng.choice(["measured", "estimated", "missing"], len(index), p=[0.98, 0.015, 0.005])
    energy = np.where(flag == "missing", np.nan, rng.uniform(0, 60, len(index)))
    return pd.DataFrame({"energy_kwh": energy, "quality": flag}, index=index)


def measure(url: str) -> dict[str, tuple[float, int]]:
    engine = storage.connect(url)
    storage.upgrade(engine)
    store_site(engine, parse_config({"site": {"name": "Bench", "timezone": TZ, "latitude": 50.0, "longitude": 8.0}}))
    store_intervals(engine, "machine", "press", machine_year())
    figures = {}
    for freq in RESOLUTIONS:
        timings = []
        for _ in range(5):
            began = time.perf_counter()
            frame = machine_history(engine, "press", YEAR_START, YEAR_END, freq=freq)
            timings.append(time.perf_counter() - began)
        figures[freq] = (min(timings), len(frame))
    engine.dispose()
    return figures


def report(name: str, figures: dict[str, tuple[float, int]]) -> None:
    cells = "   ".join(f"{freq}: {seconds:.3f} s ({rows:,} rows)" for freq, (seconds, rows) in figures.items())
    print(f"{name:<11} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=LOCAL_PG)
    args = parser.parse_args()
    with scratch_sqlite() as url:
        report("sqlite", measure(url))
    with scratch_postgresql(args.pg) as url:
        report("postgresql", measure(url))


if __name__ == "__main__":
    main()
