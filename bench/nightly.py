"""The whole nightly job for a synthetic plant, timed by stage.

    /tmp/venv/bin/python bench/nightly.py [--machines 50] [--jobs 100] [--time-limit 240] [--db URL]

Seeds a fresh database (SQLite in a temporary folder unless ``--db`` names an empty one) with the
plant of ``tests/planning/seed.py`` (``--machines`` flexible machines, tomorrow's forecasts,
hourly prices, carbon factors) and ``--jobs`` jobs in precedence chains of three, then runs
``energy.planning.run_nightly`` once and prints the time of each stage: reading the jobs, reading
the stored inputs and building the problem, solving, storing the run and writing the export.
Seeding is not part of the nightly job and is reported separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from energy import storage  # noqa: E402
from energy.config import load_config  # noqa: E402
from energy.planning import run_nightly  # noqa: E402
from tests.planning import seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=240.0, help="solver wall-clock limit, s")
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--db", help="an empty database URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        engine = storage.connect(args.db or f"sqlite:///{folder / 'energy.db'}")
        clock = time.perf_counter()
        storage.upgrade(engine)
        config = load_config(seed.write_site(folder, machines=args.machines))
        seed.seed_day(engine, config)
        jobs = seed.write_jobs(folder, machines=args.machines, jobs=args.jobs)
        seeding = time.perf_counter() - clock

        clock = time.perf_counter()
        summary = run_nightly(engine, config, seed.DAY, jobs, time_limit_s=args.time_limit, gap=args.gap)
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
