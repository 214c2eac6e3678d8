"""The whole nightly job for a synthetic plant, timed by stage.

    /tmp/venv/bin/python bench/nightly.py [--machines 50] [--jobs 100] [--time-limit 240] [--db URL]

Seeds a fresh database (SQLite in a temporary folder unless ``--db`` names an empty one) with the
plant of ``tests/planning/seed.py`` (``--machines`` flexible machines, hourly prices, carbon
factors), ``--history-days`` of 15-minute history for the site and every machine (the seed's day
profiles with seeded noise) and ``--jobs`` jobs in precedence chains of three, then runs
``energy.planning.run_nightly`` once as ``energy plan`` does (forecast included) and prints the
time of each stage: forecasting every machine, the site and PV; reading the jobs; reading the
stored inputs and building the problem; solving; storing the run and writing the export.
Seeding is not part of the nightly job and is reported separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datetime as dt  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from energy.histories.store import store_intervals  # noqa: E402
from energy.config import load_config  # noqa: E402
from energy.planning import run_nightly  # noqa: E402
from tests.planning import seed  # noqa: E402

from _common import scratch_site  # noqa: E402  (bench/, beside this script)


def store_history(engine, config, days: int) -> None:
    """``days`` before the planned day: the seed's day profiles (kW) with seeded noise, as energy."""
    slots = pd.date_range(
        pd.Timestamp(seed.DAY - dt.timedelta(days=days), tz=seed.TZ), pd.Timestamp(seed.DAY, tz=seed.TZ), freq="15min", inclusive="left"
    ).tz_convert("UTC")
    flexible = [m.id for m in config.machines if m.flexible]
    profiles = seed.day_profiles(slots, flexible)
    rng = np.random.default_rng(3)
    series = {("site", "site"): profiles["site"]} | {("machine", m): profiles["machine"] for m in flexible}
    for (kind, series_id), kw in series.items():
        energy_kwh = np.clip(kw * (1 + 0.1 * rng.standard_normal(len(slots))), 0, None) / 4
        store_intervals(engine, kind, series_id, pd.DataFrame({"energy_kwh": energy_kwh, "quality": "measured"}, index=slots))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=240.0, help="solver wall-clock limit, s")
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--history-days", type=int, default=60, help="days of stored history to forecast from")
    parser.add_argument("--db", help="an empty database URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()

    clock = time.perf_counter()
    with scratch_site(args.db) as (folder, engine):
        config = load_config(seed.write_site(folder, machines=args.machines))
        seed.seed_day(engine, config)
        store_history(engine, config, args.history_days)
        jobs = seed.write_jobs(folder, machines=args.machines, jobs=args.jobs)
        seeding = time.perf_counter() - clock

        clock = time.perf_counter()
        summary = run_nightly(engine, config, seed.DAY, jobs, time_limit_s=args.time_limit, gap=args.gap, forecast=True)
        total = time.perf_counter() - clock

    print(f"nightly job: {args.machines} machines, {args.jobs} jobs, {engine.dialect.name}, load {os.getloadavg()[0]:.2f}")
    print(f"  seeding (not part of the job): {seeding:7.2f} s")
    for stage, seconds in summary.stage_seconds.items():
        print(f"  {stage:<28} {seconds:7.2f} s")
    print(f"  {'total':<28} {total:7.2f} s")
    print(f"  status {summary.status}, gap {summary.gap}, cost {summary.objective_eur}, baseline {summary.baseline_eur}")
    if summary.expected_savings:
        print("  expected savings: " + ", ".join(f"{k} {v:.2f}" for k, v in summary.expected_savings.items()))


if __name__ == "__main__":
    main()
