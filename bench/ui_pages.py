"""Dashboard page render times for a year of data of a 50-machine site.

    /tmp/venv/bin/python bench/ui_pages.py [--machines 50] [--days 365] [--db URL] [--repeat 3]

Builds a site (``--machines`` metered machines, a main meter, hourly location factors and a
constant residual mix, a dynamic tariff with hourly prices, 30 days of stored plans of 100 jobs each) with ``--days``
days of 15-minute intervals per machine and for the site, ending now, stored through
``energy.histories.store``. Then runs each page script through Streamlit's AppTest (the same
script run a browser session triggers, without the network and the browser's drawing) and prints,
per page, the first render with empty caches (cold: every read goes to the database; modules are
imported beforehand, as in a running server) and the same render again (warm, served by the
``st.cache_data`` reads of ``ui/common.py``); once with the page's default period and, for the
pages with a period picker, with the whole year picked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from energy import storage  # noqa: E402
from energy.config import load_config  # noqa: E402
from energy.histories.store import store_intervals  # noqa: E402
from energy.planning import runs  # noqa: E402
from energy.setup import initialise  # noqa: E402
from tests.planning.seed import store_test_tariff  # noqa: E402

TZ = "Europe/Berlin"
PAGES = ("overview", "machines", "plan", "savings", "emissions", "reports", "meters")
PERIOD_KEYS = {"machines": "machines_period", "savings": "savings_period", "emissions": "emissions_period", "reports": "reports_period"}
APP = Path(__file__).resolve().parents[1] / "ui" / "views"


def write_config(folder: Path, machines: int, start: pd.Timestamp, end: pd.Timestamp) -> Path:
    lines = ["[site]", 'name = "Bench Works"', f'timezone = "{TZ}"', "latitude = 51.5", "longitude = 7.5", ""]
    lines += ['[[meters]]', 'id = "main"', 'model = "janitza_umg96rme"', 'role = "main"',
              'connection = { protocol = "tcp", host = "127.0.0.1", port = 5020 }', ""]
    for i in range(1, machines + 1):
        lines += ["[[machines]]", f'id = "m{i:02d}"', f'name = "Machine {i}"', "idle_kw = 4.0", "flexible = true", ""]
        lines += ["[[meters]]", f'id = "meter_m{i:02d}"', 'model = "eastron_sdm630"', f'machine = "m{i:02d}"',
                  f'connection = {{ protocol = "tcp", host = "127.0.0.1", port = 5021, unit_id = {i} }}', ""]
    lines += ["[[emissions.factors]]", 'id = "grid"', 'method = "location"', 'file = "factors.csv"', 'column = "g"', 'source = "synthetic"', ""]
    lines += ["[[emissions.factors]]", 'id = "residual"', 'method = "residual_mix"', "g_per_kwh = 420.0", 'source = "synthetic"', ""]
    lines += ["[calendar]", 'shifts = ["06:00-22:00"]']
    hours = pd.date_range(start.floor("h"), end, freq="1h", inclusive="left")
    pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%dT%H:%M:%SZ"), "g": 300 + 100 * np.sin(np.arange(len(hours)) / 24)}).to_csv(folder / "factors.csv", index=False)
    path = folder / "site.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def store_history(engine, machines: int, index: pd.DatetimeIndex, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    local_hour = index.tz_convert(TZ).hour.to_numpy()
    day = (local_hour >= 6) & (local_hour < 22)
    site = np.zeros(len(index))
    for i in range(1, machines + 1):
        kwh = np.where(day, rng.uniform(5, 20), 1.0) * rng.uniform(0.9, 1.1, len(index))
        quality = np.where(rng.random(len(index)) < 0.002, "missing", np.where(rng.random(len(index)) < 0.01, "estimated", "measured"))
        kwh = np.where(quality == "missing", np.nan, kwh)
        site += np.nan_to_num(kwh)
        store_intervals(engine, "machine", f"m{i:02d}", pd.DataFrame({"energy_kwh": kwh, "quality": quality}, index=index))
    store_intervals(engine, "site", "site", pd.DataFrame({"energy_kwh": site + 20, "quality": "measured"}, index=index))


def plan_record(site_id: str, day: dt.date, machines: int, jobs: int) -> runs.RunRecord:
    """A stored-plan-shaped run: ``jobs`` jobs of 1 h, the optimised plan two hours earlier."""
    slots = 96
    problem = {
        "start": pd.Timestamp(day).tz_localize(TZ).isoformat(), "resolution_minutes": 15, "horizon_slots": slots,
        "price_eur_per_kwh": [0.2] * slots, "base_load_kw": [100.0] * slots, "pv_kw": [0.0] * slots, "grid_limit_kw": 5000.0,
        "machines": [{"id": f"m{i:02d}", "idle_kw": 4.0} for i in range(1, machines + 1)],
        "jobs": [{"id": f"j{j}", "machines": [f"m{j % machines + 1:02d}"], "duration_slots": 4, "power_kw": 50.0,
                  "planned_start_slot": 40 + 4 * (j // machines % 12), "planned_machine": f"m{j % machines + 1:02d}"} for j in range(jobs)],
    }
    placed = [{"id": job["id"], "machine": job["planned_machine"], "start_slot": job["planned_start_slot"] - 8} for job in problem["jobs"]]
    breakdown = {"energy_eur": 900.0, "co2_eur": 0.0, "demand_eur": 100.0, "switching_eur": 0.0}
    schedule = {"status": "optimal", "objective_eur": 1000.0, "gap": 0.0, "solve_seconds": 1.0, "cost_breakdown": breakdown, "jobs": placed,
                "machines_on": {}, "baseline": {"objective_eur": 1100.0, "cost_breakdown": breakdown | {"energy_eur": 1000.0}}}
    return runs.RunRecord(site_id, day.isoformat(), {}, problem, schedule, {}, {})


def build(url: str, folder: Path, machines: int, days: int) -> None:
    end = pd.Timestamp.now(tz="UTC").floor("15min")
    start = end - pd.Timedelta(days=days)
    engine = storage.connect(url)
    storage.upgrade(engine)
    config = load_config(write_config(folder, machines, start, end + pd.Timedelta(days=2)))
    site_id = initialise(engine, config) and "bench-works"
    index = pd.date_range(start, end, freq="15min", inclusive="left")
    store_history(engine, machines, index)
    store_test_tariff(engine, config, index[::4], demand_rate_eur_per_kw=10.0)  # hourly dynamic prices
    today = end.tz_convert(TZ).date()
    with engine.begin() as conn:
        for offset in range(-29, 2):
            runs.store_run(conn, plan_record(site_id, today + dt.timedelta(days=offset), machines, 100))
    engine.dispose()


def timed_run(at) -> float:
    clock = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - clock
    if at.exception:
        raise SystemExit(f"page failed: {at.exception[0].value}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--db", help="an empty database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the machine may be shared: min and median are printed)")
    args = parser.parse_args()
    import os

    import plotly.graph_objects  # noqa: F401  (imported once per server, not per page: not timed)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import ui.common  # noqa: F401

    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'energy.db'}"
        clock = time.perf_counter()
        build(url, Path(folder), args.machines, args.days)
        print(f"seeded {args.machines} machines × {args.days} days in {time.perf_counter() - clock:.1f} s ({url.split(':')[0]})")
        os.environ["ENERGY_DB_URL"] = url
        print(f"{'page':<10} {'period':<10} {'cold s (min / median)':>22} {'warm s (min / median)':>22}   ({args.repeat} runs each)")
        for page in PAGES:
            for whole_period in (False, True):
                if whole_period and page not in PERIOD_KEYS:
                    continue
                cold, warm = [], []
                for _ in range(args.repeat):
                    st.cache_data.clear()
                    at = AppTest.from_file(str(APP / f"{page}.py"), default_timeout=300)
                    if whole_period:  # a first run makes the picker, then the year is picked (cold again)
                        at.run()
                        st.cache_data.clear()
                        last = at.date_input(key=PERIOD_KEYS[page]).value[1]
                        at.date_input(key=PERIOD_KEYS[page]).set_value((last - dt.timedelta(days=args.days - 1), last))
                    cold.append(timed_run(at))
                    warm.append(timed_run(at))
                label = f"{args.days} days" if whole_period else "default"
                print(f"{page:<10} {label:<10} {min(cold):>10.2f} / {np.median(cold):<9.2f} {min(warm):>10.2f} / {np.median(warm):<9.2f}", flush=True)

if __name__ == "__main__":
    main()
