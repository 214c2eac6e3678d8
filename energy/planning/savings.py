"""Realised savings: what the site paid against what its baseline plan would have cost.

Planned savings are a promise (the optimiser's schedule against the baseline on forecasts);
realised savings are the proof, computed once the day's readings are in:

- **actual**: the measured net grid power of the day (the site series: main meters, kW per slot);
- **baseline**: the same measured power with the scheduled machines' measured power taken out
  and the baseline plan's power put in (each job at its planned start on its planned machine,
  each machine on from its first planned start to its last planned end, at idle power when no
  job runs). Base load, PV and everything else stay as they really were;
- both are costed with the contract's formula (``shared/contracts/schedule-problem.md``) on the
  same prices and carbon factors as stored for the day (the actual ones) and the run's demand
  charge; switching costs are the plan's and the baseline's (switch-ons are not metered).

Savings per component = baseline − actual. ``compute_realised_savings`` reads what it needs and
``store_realised_savings`` writes the ``realised_savings`` row of the run (idempotent).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.planning import inputs
from energy.planning.runs import COMPONENTS, load_run, slot_times
from energy.storage import bulk, schema
from energy.timeutil import now_ms


def plan_power_kw(problem: dict, placed: list[dict], machines_on: dict[str, list[list[int]]]) -> np.ndarray:
    """Power (kW per slot) of the scheduled machines under a plan: idle while on, plus jobs."""
    power = np.zeros(problem["horizon_slots"])
    idle = {m["id"]: m.get("idle_kw", 0.0) for m in problem["machines"]}
    for machine, intervals in machines_on.items():
        for begin, end in intervals:
            power[begin:end] += idle[machine]
    jobs = {job["id"]: job for job in problem["jobs"]}
    for item in placed:
        job = jobs[item["id"]]
        length = job["duration_slots"]
        profile = job["power_kw"] if isinstance(job["power_kw"], list) else [job["power_kw"]] * length
        power[item["start_slot"]:item["start_slot"] + length] += np.asarray(profile, dtype=float)
    return power


def baseline_plan(problem: dict) -> tuple[list[dict], dict[str, list[list[int]]]]:
    """The baseline plan of a problem: jobs at their planned slots, machines on around them."""
    placed, spans = [], {}
    for job in problem["jobs"]:
        if job.get("planned_start_slot") is None:
            raise InputError(f"job {job['id']!r} has no planned start: the run has no baseline to compare with")
        start, machine = job["planned_start_slot"], job["planned_machine"]
        placed.append({"id": job["id"], "machine": machine, "start_slot": start})
        first, last = spans.get(machine, (start, start))
        spans[machine] = (min(first, start), max(last, start + job["duration_slots"]))
    return placed, {machine: [[first, last]] for machine, (first, last) in spans.items()}


def grid_cost(net_kw: np.ndarray, problem: dict, price: np.ndarray, export_price: np.ndarray, co2_g_per_kwh: np.ndarray) -> dict:
    """Energy, CO₂ and demand cost of a net grid power series (kW per slot), contract formula."""
    hours = problem["resolution_minutes"] / 60
    imported = np.maximum(net_kw, 0.0)
    exported = np.maximum(-net_kw, 0.0)
    demand = problem.get("demand_charge")
    demand_eur = 0.0
    if demand:
        demand_eur = demand["eur_per_kw"] * max(0.0, float(imported.max()) - demand.get("peak_so_far_kw", 0.0))
    return {
        "energy_eur": float(np.sum(price * imported - export_price * exported) * hours),
        "co2_eur": float(problem.get("co2_price_eur_per_t", 0.0) * np.sum(co2_g_per_kwh * imported) * hours / 1e6),
        "demand_eur": float(demand_eur),
    }


def realised_savings(
    problem: dict,
    schedule: dict,
    grid_kw: np.ndarray,
    machines_kw: np.ndarray,
    price: np.ndarray,
    export_price: np.ndarray,
    co2_g_per_kwh: np.ndarray,
) -> dict:
    """Actual and baseline cost by component, and their difference (all in the problem's currency).

    ``grid_kw`` is the measured net grid power and ``machines_kw`` the summed measured power of
    the scheduled machines, one value per slot of the problem's horizon.
    """
    placed, machines_on = baseline_plan(problem)
    baseline_kw = grid_kw - machines_kw + plan_power_kw(problem, placed, machines_on)
    actual = grid_cost(grid_kw, problem, price, export_price, co2_g_per_kwh)
    actual["switching_eur"] = schedule["cost_breakdown"]["switching_eur"]
    baseline = grid_cost(baseline_kw, problem, price, export_price, co2_g_per_kwh)
    baseline["switching_eur"] = schedule["baseline"]["cost_breakdown"]["switching_eur"]
    actual["total_eur"] = sum(actual[name] for name in COMPONENTS)
    baseline["total_eur"] = sum(baseline[name] for name in COMPONENTS)
    return {
        "actual": actual,
        "baseline": baseline,
        "savings": {name: baseline[name] - actual[name] for name in (*COMPONENTS, "total_eur")},
    }


def compute_realised_savings(engine: Engine, config: SiteConfig, run_id: int) -> dict:
    """Realised savings of a stored run from the day's stored readings, prices and factors."""
    run = load_run(engine, run_id)
    if run.status not in ("optimal", "feasible"):
        raise InputError(f"plan run {run_id} is {run.status}: it has no schedule to compare")
    if not run.schedule.get("baseline"):
        raise InputError(f"plan run {run_id} has no baseline (some jobs had no planned start and machine)")
    start, step = slot_times(run.problem)
    slots = pd.date_range(start, periods=run.problem["horizon_slots"], freq=step)
    grid = inputs.grid_kw(engine, slots)
    machines = sum(inputs.measured_kw(engine, "machine", m["id"], slots) for m in run.problem["machines"])
    for name, series in (("site (grid)", grid), ("scheduled machines", machines)):
        if series.isna().any():
            gaps = slots[series.isna().to_numpy()]
            raise InputError(
                f"plan run {run_id} ({run.plan_date}): readings of the {name} are missing for {len(gaps)} slot(s) "
                f"from {gaps[0].isoformat()}: import or collect the day's readings first"
            )
    price, export, _, _, _ = inputs.tariff_prices(engine, slots)
    co2, _ = inputs.carbon_factors(engine, slots)
    result = realised_savings(
        run.problem, run.schedule, grid.to_numpy(), machines.to_numpy(), price.to_numpy(), export.to_numpy(), co2.to_numpy()
    )
    result["run_id"] = run_id
    result["plan_date"] = run.plan_date
    result["expected"] = run.savings
    return result


def store_realised_savings(engine: Engine, result: dict) -> None:
    """Write (or replace) the run's ``realised_savings`` row."""
    row = pd.DataFrame(
        [
            {
                "run_id": result["run_id"],
                "computed_ms": now_ms(),
                "actual_cost": result["actual"]["total_eur"],
                "baseline_cost": result["baseline"]["total_eur"],
                "savings_json": json.dumps(result, sort_keys=True, separators=(",", ":")),
            }
        ]
    )
    with engine.begin() as conn:
        bulk.upsert(conn, schema.realised_savings, row)
