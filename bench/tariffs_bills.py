"""Tariffs figure: bills for one year of 15-minute data for 200 meters (target ≤ 10 s).

Each meter's load is the demo plant's real 15-minute steel-works profile (2018 shape, laid on
2024), scaled and shifted per meter with noise, so TOU periods, demand peaks and holidays all
matter. Timed: the whole ``energy.tariffs.bill`` call (calendar, TOU energy, levies, demand on
15-minute averages, fixed charges, the line table) for all 200 meters at once; best of
``--repeat`` runs. Printed per tariff: the demo German HT/NT tariff (holidays, five levies,
monthly demand) and SCE TOU-8 Option D from URDB (six TOU energy periods, TOU + flat demand).

Usage: ``python bench/tariffs_bills.py [--meters 200] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from energy.tariffs import bill, load_tariff

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def meter_loads(meters: int) -> pd.DataFrame:
    """kWh per 15 minutes for 2024 (Europe/Berlin), one column per meter."""
    steel = pd.read_csv(REPO / "data" / "demo" / "steel_industry_2018_15min.csv", encoding="utf-8-sig")
    profile = steel["Usage_kWh"].to_numpy(dtype=float)
    index = pd.date_range("2024-01-01", "2025-01-01", freq="15min", inclusive="left", tz="Europe/Berlin").tz_convert("UTC")
    base = np.resize(profile, len(index))
    rng = np.random.default_rng(42)
    shifts = rng.integers(0, 96 * 7, meters)
    scales = rng.uniform(0.5, 5.0, meters)  # ~50–550 kW mean load per meter
    columns = {f"m{i:03d}": np.roll(base, shifts[i]) * scales[i] * rng.uniform(0.9, 1.1, len(index)) for i in range(meters)}
    return pd.DataFrame(columns, index=index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    loads = meter_loads(args.meters)
    print(f"{args.meters} meters × {len(loads):,} intervals = {loads.size:,} values")
    tariffs = {
        "demo DE HT/NT (TOML)": load_tariff(REPO / "data" / "demo" / "tariff.toml"),
        "SCE TOU-8 D (URDB)": load_tariff(SHARED / "tariffs" / "urdb_sce_tou8_option_d.json", timezone="America/Los_Angeles"),
    }
    for name, tariff in tariffs.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            bills = bill(tariff, loads, pd.Timedelta("15min"))
            times.append(time.perf_counter() - started)
        total = bills.summary()["total"].sum()
        print(f"{name}: best {min(times):.2f} s of {args.repeat} (target ≤ 10 s); {len(bills.lines):,} bill lines; "
              f"sum of all bills {total:,.2f} {tariff.currency}")


if __name__ == "__main__":
    main()
