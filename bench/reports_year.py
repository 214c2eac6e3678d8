"""A year's sustainability report for a 50-machine plant, timed by stage.

    /tmp/venv/bin/python bench/reports_year.py [--machines 50] [--db URL]

Seeds a fresh database (SQLite in a temporary folder unless ``--db`` names an empty one) with the
plant of ``tests/reports/seed.py``: ``--machines`` machines, a main meter and a PV meter, 15-minute
intervals for 2023 (the EnPI baseline) and 2024 (the reported year), hourly location-based and
marginal factors, a residual mix, a guarantee of origin, production counts and one nightly plan.
Then it builds the 2024 report once (``build_report``: reading the intervals and factors and
computing every table) and writes it as XLSX, PDF and CSV (``save_report``), printing each time.
The figure of the issue is build + XLSX + PDF; seeding is reported separately.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from energy.reports import build_report, save_report  # noqa: E402
from tests.reports import seed  # noqa: E402

from _common import scratch_site  # noqa: E402  (bench/, beside this script)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--db", help="an empty database URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()

    with scratch_site(args.db) as (folder, engine):
        machines = ["press", "oven"] + [f"m{i}" for i in range(3, args.machines + 1)]
        began = time.perf_counter()
        seeded = seed.seed(engine, folder, machines=machines, first=dt.date(2023, 1, 1), last=dt.date(2024, 12, 31),
                           reporting_from=dt.date(2024, 1, 1))
        seeding = time.perf_counter() - began
        print(f"database: {engine.url.get_backend_name()}; {len(machines)} machines, {len(seeded.index):,} intervals per series "
              f"({len(seeded.index) * (len(machines) + 2):,} rows); seeding {seeding:.1f} s")

        began = time.perf_counter()
        report = build_report(engine, seeded.config, "2024-01-01", "2024-12-31", production=seeded.production)
        build = time.perf_counter() - began
        times = {}
        for fmt, name in (("xlsx", "report.xlsx"), ("pdf", "report.pdf"), ("csv", "report.zip")):
            began = time.perf_counter()
            path = save_report(report, fmt, folder / name)
            times[fmt] = time.perf_counter() - began
            print(f"{fmt}: {times[fmt]:.2f} s, {path.stat().st_size / 1024:.0f} KiB")
        print(f"build (read + tables): {build:.2f} s")
        total = build + times["xlsx"] + times["pdf"]
        print(f"year report, build + XLSX + PDF: {total:.2f} s (target ≤ 30 s)")


if __name__ == "__main__":
    main()
