"""Emission figures: scope 2 dual reporting of a year of 15-minute data for many machines.

- reading the Electricity Maps DE 2022 hourly file into a factor source (best of 3, seconds);
- ``energy.emissions.dual_report`` (location- and market-based, instruments allocated) and
  ``summarise`` by month and machine for one year (2022, 35,040 quarter hours) of N machines
  (default 50, the reporting issue's size), best of 3.

Usage: ``python bench/emissions.py [--machines N]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from energy.config import parse_config
from energy.emissions import dual_report, instruments_from_config, sources_from_config, summarise

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference" / "electricitymaps_DE_2022_hourly.csv"


def demo_like_config():
    return parse_config({
        "site": {"name": "Bench", "timezone": "UTC", "latitude": 51.5, "longitude": 7.5},
        "emissions": {
            "factors": [
                {"id": "de", "method": "location", "file": str(REFERENCE), "column": "Carbon Intensity gCO₂eq/kWh (direct)",
                 "source": "Electricity Maps DE 2022"},
                {"id": "rm", "method": "residual_mix", "g_per_kwh": 617.84, "source": "AIB 2021"},
            ],
            "instruments": [{"id": "go", "kind": "go", "mwh": 2000.0, "valid_from": "2022-01-01", "valid_to": "2023-01-01", "source": "bench"}],
        },
    })


def best_of(runs: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=50)
    args = parser.parse_args()
    config = demo_like_config()
    read_s, sources = best_of(3, lambda: sources_from_config(config))
    instruments = instruments_from_config(config)
    index = pd.date_range("2022-01-01", "2023-01-01", freq="15min", tz="UTC", inclusive="left")
    rng = np.random.default_rng(1)
    energy = pd.DataFrame(rng.uniform(0, 20, (len(index), args.machines)), index=index, columns=[f"m{i}" for i in range(args.machines)])

    def report():
        intervals, _ = dual_report(energy, sources, instruments)
        return summarise(intervals, "Europe/Berlin")

    report_s, summary = best_of(3, report)
    print(f"read DE 2022 hourly factors (8,760 rows): {read_s:.3f} s")
    print(f"dual report + monthly summary, {len(index):,} intervals × {args.machines} machines "
          f"({energy.size:,} values → {len(summary)} rows): {report_s:.2f} s")


if __name__ == "__main__":
    main()
