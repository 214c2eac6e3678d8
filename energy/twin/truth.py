"""The twin's ground truth: what really happened in the simulated plant, kept apart.

**For tests and benchmarks only.** No estimator of the product (histories, forecasts, planning,
savings, reports, dashboard) may read it: a figure "measured against the truth" is computed by
the product from meter data alone and then compared with these tables
(``tests/twin/test_separation.py`` fails if an estimator module imports the twin).

The store is a folder of CSV files (UTC ISO 8601 instants), written by :func:`write_truth`:

- ``runs.csv``: every run that really ran, was aborted by a breakdown or dropped (day, job, kind,
  machine, planned start, true start and end, status, energy of the run in kWh);
- ``counterfactual_runs.csv``: the same for the site's own plan executed under the same
  disturbances (the counterfactual);
- ``machine_intervals.csv``: per machine and interval, the minutes spent off, idle, warming and
  producing, the energy in each state and the dominant state;
- ``site_intervals.csv``: per interval, the main meter's true import and export, the machines',
  base load's, losses' and PV's energy, and the counterfactual's import, export and machines;
- ``days.csv``: per day, which plan the site was given and which really ran, and counts of
  jobs and disturbances;
- ``disturbances.csv``: every disturbance drawn (delays, cancellations, breakdowns, extra runs,
  ignored plans, machines left idling).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from energy.planning.runs import slot_times
from energy.planning.savings import grid_cost

README = """Ground truth of the simulated plant (the plant twin, energy/twin).
For tests and benchmarks only: the product's estimators never read these files.
See energy/twin/truth.py and docs/twin.md for the columns.
"""
_TIME_COLUMNS = ("interval_start", "planned_start", "start", "end")


@dataclass
class GroundTruth:
    runs: pd.DataFrame
    counterfactual_runs: pd.DataFrame
    machine_intervals: pd.DataFrame
    site_intervals: pd.DataFrame
    days: pd.DataFrame
    disturbances: pd.DataFrame


def write_truth(truth: GroundTruth, folder: Path) -> Path:
    """Write every table of ``truth`` as ``folder/<name>.csv`` (and a README saying what it is)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.txt").write_text(README, encoding="utf-8")
    for item in fields(truth):
        frame = getattr(truth, item.name).copy()
        for column in _TIME_COLUMNS:
            if column in frame:
                frame[column] = pd.to_datetime(frame[column], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        frame.to_csv(folder / f"{item.name}.csv", index=False, encoding="utf-8")
    return folder


def read_truth(folder: Path) -> GroundTruth:
    """The tables written by :func:`write_truth` (instants as tz-aware UTC)."""
    tables = {}
    for item in fields(GroundTruth):
        frame = pd.read_csv(folder / f"{item.name}.csv", encoding="utf-8", keep_default_na=False)
        for column in _TIME_COLUMNS:
            if column in frame:
                frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True, format="ISO8601")
        tables[item.name] = frame
    return GroundTruth(**tables)


def true_grid_savings(site_intervals: pd.DataFrame, problem: dict) -> dict[str, float]:
    """What a plan really saved on its day: the counterfactual's grid cost minus the actual one.

    Both net grid series come from the truth (``site_intervals``, the problem's slot length);
    both are costed with the problem's prices, carbon factors and demand charge by the
    contract's formula (:func:`energy.planning.savings.grid_cost`). Returns ``energy_eur``,
    ``co2_eur``, ``demand_eur`` and their ``total_eur`` (switching is not metered).
    """
    start, step = slot_times(problem)
    slots = pd.date_range(start, periods=problem["horizon_slots"], freq=step)
    frame = site_intervals.set_index("interval_start").reindex(slots)
    if frame["import_kwh"].isna().any():
        raise ValueError(f"the truth does not cover {problem.get('name') or 'the problem'}'s day")
    hours = step / pd.Timedelta(hours=1)
    count = problem["horizon_slots"]
    price = np.asarray(problem["price_eur_per_kwh"], dtype=float)
    export_price = np.broadcast_to(np.asarray(problem.get("export_price_eur_per_kwh", 0.0), dtype=float), (count,))
    co2 = np.asarray(problem.get("co2_g_per_kwh", np.zeros(count)), dtype=float)
    costs = {}
    for name, prefix in (("actual", ""), ("counterfactual", "counterfactual_")):
        net_kw = ((frame[f"{prefix}import_kwh"] - frame[f"{prefix}export_kwh"]) / hours).to_numpy()
        costs[name] = grid_cost(net_kw, problem, price, export_price, co2)
    savings = {key: costs["counterfactual"][key] - costs["actual"][key] for key in costs["actual"]}
    savings["total_eur"] = sum(savings.values())
    return savings
