"""Savings from optimised scheduling: planned and realised, kept apart from the inventory.

For every day of the period with a current nightly plan (``energy plan``):

- **€ planned**: the plan's expected savings (baseline plan cost − optimised cost, on forecasts);
  **€ realised**: the realised savings stored for the run (``energy.planning.savings``: IPMVP
  Option B on the meters), blank until they have been computed from the day's readings, with
  their uncertainty band, the part that is money (``realised_cash_eur``: the internal carbon
  price is not) and the plan's **adherence** (share of its jobs run as planned) they rest on;
- **kWh shifted**: planned, the energy moved out of the slots where the baseline plan (every job
  at its planned start on its planned machine) would have drawn it, Σ max(baseline − optimised, 0)
  × hours; realised, the measured energy of the jobs that really ran away from the site plan's
  position (the realised savings' ``kwh_shifted``);
- **avoided tCO2e**: Σ (baseline − other) × hours × the *marginal* factor of the slot (the
  ``method = "marginal"`` sources, via :func:`energy.emissions.avoided_emissions`), with *other*
  the optimised plan (planned) or the measured grid against the realised savings' counterfactual
  (realised): the emissions the change of timing avoided at the margin of the grid. This is a consequential figure: it is not part of, and must not be netted
  against, the scope 2 inventory (GHG Protocol Scope 2 Guidance §7; avoided emissions are
  reported separately).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from energy.emissions import avoided_emissions
from energy.emissions.sources import FactorSource
from energy.planning.runs import slot_times
from energy.planning.savings import baseline_plan, plan_power_kw
from energy.reports.inputs import PlanRun

COLUMNS = [
    "plan_date", "run_id", "jobs", "jobs_moved", "planned_eur", "realised_eur", "realised_low_eur", "realised_high_eur",
    "realised_cash_eur", "adherence", "planned_shifted_kwh", "realised_shifted_kwh", "planned_avoided_tco2e",
    "realised_avoided_tco2e", "marginal_factor_source", "note",
]


def _moved(problem: dict, schedule: dict) -> int:
    planned = {job["id"]: (job.get("planned_machine"), job.get("planned_start_slot")) for job in problem["jobs"]}
    return sum(1 for job in schedule.get("jobs", []) if planned.get(job["id"]) != (job["machine"], job["start_slot"]))


def run_row(run: PlanRun, marginal: Sequence[FactorSource]) -> dict:
    """One table row for a plan run; ``marginal``: the stored marginal factor sources (none: not
    valued). A marginal source that does not cover a slot whose load changed raises ``InputError``."""
    problem, schedule = run.problem, run.schedule
    start, step = slot_times(problem)
    slots = pd.date_range(start, periods=problem["horizon_slots"], freq=step)
    hours = step / pd.Timedelta(hours=1)
    realised = run.realised or {}
    row = {"plan_date": run.plan_date, "run_id": run.id, "jobs": len(problem["jobs"]), "jobs_moved": _moved(problem, schedule),
           "planned_eur": (run.planned or {}).get("total_eur", np.nan),
           "realised_eur": realised["savings"]["total_eur"] if realised else np.nan,
           "realised_low_eur": realised.get("band", {}).get("low_eur", np.nan),
           "realised_high_eur": realised.get("band", {}).get("high_eur", np.nan),
           "realised_cash_eur": realised.get("cash_eur", np.nan),
           "adherence": realised.get("adherence", {}).get("rate", np.nan),
           "realised_shifted_kwh": realised.get("kwh_shifted", np.nan),
           "marginal_factor_source": ", ".join(s.id for s in marginal)}
    if not schedule.get("baseline"):
        return row | {"note": "no baseline plan (jobs without planned start): nothing to compare"}
    baseline = pd.Series(plan_power_kw(problem, *baseline_plan(problem)) * hours, index=slots)
    optimised = pd.Series(plan_power_kw(problem, schedule["jobs"], schedule.get("machines_on", {})) * hours, index=slots)
    notes = []
    row["planned_shifted_kwh"] = float((baseline - optimised).clip(lower=0).sum())
    row["planned_avoided_tco2e"] = row["realised_avoided_tco2e"] = np.nan
    if not marginal:
        notes.append("no marginal factor source: avoided tCO2e not valued")
    else:
        row["planned_avoided_tco2e"] = float(avoided_emissions(baseline, optimised, marginal, interval=step)["avoided_emissions_kg"].sum() / 1000)
        if "counterfactual_kw" in realised:
            counterfactual = pd.Series(realised["counterfactual_kw"], index=slots) * hours
            actual = pd.Series(realised["grid_kw"], index=slots) * hours
            row["realised_avoided_tco2e"] = float(avoided_emissions(counterfactual, actual, marginal, interval=step)["avoided_emissions_kg"].sum() / 1000)
    if not realised:
        notes.append("realised savings not computed yet")
    elif "adherence" not in realised:
        notes.append("realised savings computed by an older method: run 'energy savings' again for the day")
    row["note"] = "; ".join(notes)
    return row


def scheduling_table(rows: list[dict]) -> pd.DataFrame:
    """The per-day rows and a ``total`` row (sums of the known values)."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    if table.empty:
        return table
    numeric = ["jobs", "jobs_moved", "planned_eur", "realised_eur", "realised_low_eur", "realised_high_eur", "realised_cash_eur",
               "planned_shifted_kwh", "realised_shifted_kwh", "planned_avoided_tco2e", "realised_avoided_tco2e"]
    total = {name: table[name].sum(min_count=1) for name in numeric}
    total["adherence"] = table["adherence"].mean()
    total |= {"plan_date": "total", "run_id": np.nan, "marginal_factor_source": "", "note": "sum of the days with a value"}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True).astype({"run_id": "Int64"})
