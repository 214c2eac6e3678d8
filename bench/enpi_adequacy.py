"""EnPI figure: does the ISO 50006 baseline of a twin year pass ASHRAE Guideline 14, with and without production data?

The demo site (``data/demo/site.toml``) and its twin (``data/demo/twin.toml``) run ``--days`` days
ending yesterday with the site's own plans (as ``bench/twin_year.py``); every meter's readings at
15 minutes go into a scratch SQLite database and through ``energy.histories.process.process_site``;
the twin's MES file comes from ``energy.twin.production`` (tonnes per day and product, from its
runs). Then the product's EnPI (``energy.reports.energy_performance``: what the report and the
dashboard show) is fitted on the first ``--baseline-days`` days and applied to the rest, three ways:

- **products**: melted, heat-treated and blasted tonnes each a variable, and the working day;
- **pooled**: all tonnes summed (one variable), and the working day;
- **no production**: the working day alone (the same year without the MES file).

Printed per model: observations, R², CV(RMSE), NMBE, the fractional savings uncertainty of the
reporting period at 68 and 90 % confidence, the verdict and the wall time. The twin does not save
anything in the reporting period (the site's own plans throughout), so no saving should be claimed; the truth's
mean base load and machine energy per day in both periods are printed beside (the base load is a
real plant's, and drifts).

``--job-probability P`` overrides the order book's weekday job probability (the twin file's 0.92)
and ``--energy-spread PCT`` its job-to-job energy spread (3 %): lower, resp. higher, make the daily
production, and so the load, vary more from one working day to the next.

Usage: ``python bench/enpi_adequacy.py [--days D] [--baseline-days B] [--job-probability P] [--energy-spread PCT] [--seed S]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from energy import storage
from energy.config import Enpi, load_config
from energy.histories.process import process_site
from energy.planning.jobs import read_jobs
from energy.readings import store_readings
from energy.reports import energy_performance
from energy.setup import initialise
from energy.twin.params import load_twin_params
from energy.twin.plant import PlantTwin
from energy.twin.production import daily_production, write_production_csv

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
START_COUNTER_KWH = 100_000.0
PRODUCTS = ["melted steel", "heat-treated castings", "blasted castings"]


def twin_year(config, params, first_day: dt.date, last_day: dt.date, folder: Path) -> PlantTwin:
    twin = PlantTwin(config, params, first_day, last_day, DEMO / "jobs.csv")
    day = first_day
    while day <= last_day:
        path = twin.write_jobs_file(day, folder / f"jobs-{day}.csv")
        twin.run_day(day, read_jobs(path, day, config.site.timezone) if path else [])
        day += dt.timedelta(days=1)
    return twin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=364, help="days ending yesterday (default 364 = 52 weeks)")
    parser.add_argument("--baseline-days", type=int, default=273, help="the first days, the baseline period (default 273 = 39 weeks)")
    parser.add_argument("--job-probability", type=float, help="the order book's weekday job probability (default: the twin file's)")
    parser.add_argument("--energy-spread", type=float, help="the order book's job-to-job energy spread, %% (default: the twin file's)")
    parser.add_argument("--seed", type=int, help="the twin's seed (default: the twin file's)")
    args = parser.parse_args()

    config = load_config(DEMO / "site.toml")
    params = load_twin_params(DEMO / "twin.toml", config)
    if args.seed is not None:
        params = params.model_copy(update={"seed": args.seed})
    for option, field in ((args.job_probability, "weekday_job_probability"), (args.energy_spread, "energy_spread_pct")):
        if option is not None:
            params = params.model_copy(update={"orders": params.orders.model_copy(update={field: option})})
    yesterday = pd.Timestamp.now(tz=config.site.timezone).date() - dt.timedelta(days=1)
    first_day = yesterday - dt.timedelta(days=args.days - 1)
    baseline = (first_day, first_day + dt.timedelta(days=args.baseline_days - 1))
    reporting = (baseline[1] + dt.timedelta(days=1), yesterday)
    print(f"twin of {config.site.name}: {first_day} … {yesterday}, seed {params.seed}, weekday job probability "
          f"{params.orders.weekday_job_probability}, energy spread {params.orders.energy_spread_pct:g} %; baseline {baseline[0]} … {baseline[1]}, reporting {reporting[0]} … {reporting[1]}")

    with tempfile.TemporaryDirectory(prefix="enpi-bench-") as name:
        folder = Path(name)
        began = time.perf_counter()
        twin = twin_year(config, params, first_day, yesterday, folder)
        simulated = time.perf_counter() - began

        began = time.perf_counter()
        engine = storage.connect(f"sqlite:///{folder / 'energy.db'}")
        storage.upgrade(engine)
        initialise(engine, config)
        store_readings(engine, twin.readings(np.arange(0, twin.actual.minutes + 1, 15), START_COUNTER_KWH))
        process_site(engine, config, hold_back=False)
        stored = time.perf_counter() - began

        truth = twin.ground_truth()
        kinds = {machine: behaviour.kind for machine, behaviour in twin.machines.items()}
        production = write_production_csv(daily_production(truth.runs, kinds, params.seed), folder / "production.csv")
        site = truth.site_intervals.assign(day=truth.site_intervals["interval_start"].dt.tz_convert(config.site.timezone).dt.date)
        daily = site.groupby("day")[["machines_kwh", "base_kwh", "losses_kwh"]].sum()
        print(f"simulated in {simulated:.1f} s; 15-minute readings stored and processed in {stored:.1f} s; "
              f"mean day (truth, kWh): machines {daily['machines_kwh'].mean():,.0f} (sd {daily['machines_kwh'].std():,.0f}), "
              f"base load {daily['base_kwh'].mean():,.0f} (sd {daily['base_kwh'].std():,.0f}), losses {daily['losses_kwh'].mean():,.0f}")
        in_baseline = daily.index <= baseline[1]
        print("  the twin's truth (no estimator sees it), mean day in the baseline → reporting period: base load "
              f"{daily['base_kwh'][in_baseline].mean():,.0f} → {daily['base_kwh'][~in_baseline].mean():,.0f} kWh, machines "
              f"{daily['machines_kwh'][in_baseline].mean():,.0f} → {daily['machines_kwh'][~in_baseline].mean():,.0f} kWh")

        variants = {
            "products": (Enpi(products=PRODUCTS), production),
            "pooled": (Enpi(), production),
            "no production": (Enpi(), None),
        }
        for label, (settings, path) in variants.items():
            began = time.perf_counter()
            result = energy_performance(engine, config.model_copy(update={"enpi": settings}), *reporting, production=path, baseline=baseline)
            seconds = time.perf_counter() - began
            model, total = result.model, result.total
            print(f"\n{label}: energy_kwh ~ {' + '.join(['days', *model.terms])} ({model.granularity}, n = {model.observations}, "
                  f"{model.days_excluded} day(s) excluded); {seconds:.2f} s")
            print(f"  R² {model.r_squared:.3f}, CV(RMSE) {model.cv_rmse_pct:.1f} % (limit {model.criteria.cv_rmse_max_pct:g} %), "
                  f"NMBE {model.nmbe_pct:+.2f} % (limit ±{model.criteria.nmbe_max_pct:g} %), ρ₁ {model.rho1:.2f}")
            print(f"  reporting period: expected {total['expected_kwh']:,.0f} kWh, measured {total['actual_kwh']:,.0f} kWh, "
                  f"difference {total['savings_pct']:+.2f} %, FSU {total['fsu68_pct']:,.0f} % (68 %) / {total['fsu90_pct']:,.0f} % (90 %)")
            print(f"  verdict: {'adequate' if result.verdict.adequate else 'INADEQUATE'}; saving claimed: {result.verdict.claimed}")
            print(f"  {result.verdict.text}")
        engine.dispose()
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
