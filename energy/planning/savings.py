"""Realised savings an M&V reviewer would accept: IPMVP Option B, retrofit isolation of the
flexible loads, on meter data alone.

Planned savings are a promise (the optimiser's schedule against the site's own plan, on
forecasts); realised savings are the proof, computed once the day's readings are in. The method
(IPMVP Core Concepts 2022, Option B; the *retrofit isolation* boundary is the scheduled machines,
measured by their own sub-meters):

1. **What really ran** (:mod:`energy.planning.adherence`): each scheduled machine's producing
   spans, from its measured states (:func:`energy.histories.states.machine_states`), explained by
   the plan's jobs: run as planned, moved, not run; production nobody planned is an unplanned run.
2. **Actual** = the day's measured net grid power (the site series).
3. **Counterfactual** = the same measured power with the plan's effect taken out: every job that
   really ran is moved, with its own measured energy profile above its machine's standby level,
   from where it ran to where the site's own plan had it (its planned start on its planned
   machine), with its own delay (how much later it started than its plan, its machine and its
   predecessors allowed): the same disturbances in both worlds. It then waits for its machine
   and its predecessors there (:func:`counterfactual_placements`). On a day the operators ran
   the site's own plan instead, every job stays where it ran. Each machine's standby during the plan's on-periods is replaced by
   standby over the moved jobs' span (the contract's baseline rule). What moves at the
   sub-meters moves at the grid meter with the site's losses on top (:func:`loss_factor`,
   estimated from the day's 1-minute readings). Everything else stays as it was measured: the base load, PV,
   unplanned runs, start-ups, operators' idling.
4. Both are costed with the contract's formula (:func:`grid_cost`) at the day's actual prices and
   carbon factors and the run's demand charge; switching costs are the plan's and the site plan's
   (no meter sees a switch-on): a start-up and shut-down for each of the plan's on-periods in which
   a job really ran, against one per machine of the site's plan that ran a job. **Savings =
   counterfactual − actual**, per component.

**Non-routine events** (IPMVP non-routine adjustments) are never counted as savings: a job not
run is in neither world; an unplanned run is in both, where it ran; a job run on another machine
or at another time is moved from where it really ran. They are listed with the result, with the
day's adherence. **Uncertainty**: the band is the range of the savings when every job's
counterfactual placement is one slot earlier or later (a run's start is known to within a slot
from 15-minute data). **Cash and carbon**: ``cash_eur`` (energy, demand, switching) is money;
``co2_eur`` is the internal carbon price, shown apart; ``co2_t`` the avoided tonnes.

``compute_realised_savings`` reads what it needs and ``store_realised_savings`` writes the
``realised_savings`` row of the run (idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.planning import adherence, inputs
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


#: Savings components that are money (the internal carbon price ``co2_eur`` is not).
CASH = ("energy_eur", "demand_eur", "switching_eur")


@dataclass(frozen=True)
class MachineDay:
    """One scheduled machine's measured day, one value per slot of the problem."""

    energy_kwh: np.ndarray
    producing_kwh: np.ndarray  # energy drawn in producing minutes (standby included)
    producing_min: np.ndarray
    idle_kw: float  # its standby level


def _slot_overlap_min(begin: pd.Timestamp, end: pd.Timestamp, start: pd.Timestamp, step: pd.Timedelta, count: int) -> np.ndarray:
    """Minutes of ``[begin, end)`` in each of ``count`` slots from ``start``."""
    edges = start.value + step.value * np.arange(count + 1)
    lo = np.maximum(edges[:-1], begin.value)
    hi = np.minimum(edges[1:], end.value)
    return np.clip(hi - lo, 0, None) / pd.Timedelta(minutes=1).value


def _shifted(values: np.ndarray, slots: int) -> np.ndarray:
    """``values`` moved by ``slots`` (later when positive); what leaves the horizon is dropped."""
    out = np.zeros_like(values)
    if slots >= 0:
        out[slots:] = values[: len(values) - slots] if slots < len(values) else 0.0
    else:
        out[:slots] = values[-slots:]
    return out


def _merged(periods: list[tuple[pd.Timestamp, pd.Timestamp]]) -> list[list[pd.Timestamp]]:
    """The union of ``periods`` as disjoint ``[from, to)`` periods in time order."""
    merged: list[list[pd.Timestamp]] = []
    for a, b in sorted(periods):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def _mask_min(periods: list[tuple[pd.Timestamp, pd.Timestamp]], start: pd.Timestamp, step: pd.Timedelta, count: int) -> np.ndarray:
    """Minutes per slot covered by the union of ``periods``."""
    covered = np.zeros(count)
    for a, b in _merged(periods):
        covered += _slot_overlap_min(a, b, start, step, count)
    return covered


def verified_savings(
    problem: dict,
    schedule: dict,
    job_minutes: dict[str, float],
    grid_kw: np.ndarray,
    machines: dict[str, MachineDay],
    price: np.ndarray,
    export_price: np.ndarray,
    co2_g_per_kwh: np.ndarray,
    tolerance: pd.Timedelta = adherence.DEFAULT_TOLERANCE,
    losses: float = 0.0,
) -> dict:
    """Realised savings of a planned day by the method of the module docstring.

    ``job_minutes``: each job's true length (minutes); ``grid_kw``: the measured net grid power
    per slot; ``machines``: each scheduled machine's measured day; ``losses``: the site's losses
    per kW of sub-metered load between the sub-meters and the grid meter (:func:`loss_factor`),
    which move with the load. Returns ``actual``,
    ``baseline`` (the counterfactual) and ``savings`` by component (with ``total_eur``), plus
    ``cash_eur``, ``co2_t`` (avoided), ``kwh_shifted``, ``band`` (low, high of ``total_eur``),
    ``adherence``, ``jobs`` (each planned job's outcome, and the unplanned runs), ``non_routine``,
    and the two grid series per slot, ``grid_kw`` and ``counterfactual_kw``.
    """
    start, step = slot_times(problem)
    count = problem["horizon_slots"]
    hours = step / pd.Timedelta(hours=1)
    jobs = {job["id"]: job for job in problem["jobs"]}
    for job in jobs.values():
        if job.get("planned_start_slot") is None:
            raise InputError(f"job {job['id']!r} has no planned start: the run has no baseline to compare with")
    planned = [
        adherence.PlannedJob(
            placed["id"], placed["machine"], start + placed["start_slot"] * step,
            pd.Timedelta(minutes=job_minutes.get(placed["id"], jobs[placed["id"]]["duration_slots"] * step / adherence.MINUTE)),
            tuple(jobs[placed["id"]]["machines"]),
        )
        for placed in schedule["jobs"]
    ]
    slots = pd.date_range(start, periods=count, freq=step)
    spans = [
        span
        for machine, day in machines.items()
        for span in adherence.producing_spans(machine, pd.Series(day.producing_min, index=slots), step)
    ]
    site_plan = [
        adherence.PlannedJob(j.id, jobs[j.id]["planned_machine"], start + jobs[j.id]["planned_start_slot"] * step, j.duration, j.machines)
        for j in planned
    ]
    outcome = adherence.match_plans(planned, site_plan, spans, tolerance)
    ran = [o for o in outcome.jobs if o.status != adherence.NOT_RUN]

    switch_eur = {m["id"]: m.get("startup_eur", 0.0) + m.get("shutdown_eur", 0.0) for m in problem["machines"]}
    placements = counterfactual_placements(outcome, jobs, start, step)
    given_periods: dict[str, list] = {}
    for o in ran:
        given_periods.setdefault(o.machine, []).extend(
            (a, b) for a, b in _given_on_periods(schedule, o.machine, start, step) if o.start < b and o.end > a
        )
    for p in placements:
        given_periods.setdefault(p.machine, []).append((p.start, p.end))

    def counterfactual_kw(nudge: int) -> tuple[np.ndarray, float]:
        """The counterfactual grid power, every placement moved ``nudge`` more slots; and the
        energy of the jobs it moves (kWh)."""
        delta_kwh = np.zeros(count)
        shifted_kwh = 0.0
        site_on: dict[str, list] = {}
        for p in placements:
            day = machines[p.machine]
            overlap = _slot_overlap_min(p.start, p.end, start, step, count)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(day.producing_min > 0, np.minimum(overlap / day.producing_min, 1.0), 0.0)
            above_idle = np.clip(day.producing_kwh * share - day.idle_kw * overlap / 60.0, 0.0, None)
            moved = round((p.cf_start - p.start) / step) + nudge
            delta_kwh += _shifted(above_idle, moved) - above_idle
            shifted_kwh += float(above_idle.sum()) if moved and p.planned else 0.0
            site_on.setdefault((p.cf_machine, p.planned or p.key), []).append((p.start + moved * step, p.end + moved * step))
        envelopes: dict[str, list] = {}
        for (machine, _), spans in site_on.items():  # the site plan's jobs: one on-period; each unplanned run its own
            envelopes.setdefault(machine, []).append((min(a for a, _ in spans), max(b for _, b in spans)))
        for machine in set(given_periods) | set(envelopes):
            idle_kw = machines[machine].idle_kw if machine in machines else 0.0
            delta_kwh += idle_kw * (_mask_min(envelopes.get(machine, []), start, step, count) - _mask_min(given_periods.get(machine, []), start, step, count)) / 60.0
        return grid_kw + (1.0 + losses) * delta_kwh / hours, shifted_kwh

    # Switch-ons and -offs: each on-period of the plan in which a job really ran, against one
    # on-period per machine of the site's plan that ran a job (no meter sees them).
    switching_actual = sum(switch_eur.get(machine, 0.0) * n for machine, n in _switch_ons(schedule, ran, start, step).items())
    switching_baseline = sum(switch_eur.get(m, 0.0) for m in {p.cf_machine for p in placements if p.planned})

    def costs(net_kw: np.ndarray, switching_eur: float) -> dict:
        cost = grid_cost(net_kw, problem, price, export_price, co2_g_per_kwh)
        cost["switching_eur"] = switching_eur
        cost["total_eur"] = sum(cost[name] for name in COMPONENTS)
        return cost

    def co2_t(net_kw: np.ndarray) -> float:
        return float(np.sum(co2_g_per_kwh * np.maximum(net_kw, 0.0)) * hours / 1e6)

    baseline_kw, kwh_shifted = counterfactual_kw(0)
    actual = costs(grid_kw, switching_actual)
    baseline = costs(baseline_kw, switching_baseline)
    saved = {name: baseline[name] - actual[name] for name in (*COMPONENTS, "total_eur")}
    band = [costs(counterfactual_kw(nudge)[0], baseline["switching_eur"])["total_eur"] - actual["total_eur"] for nudge in (-1, 1)]
    return {
        "method": "IPMVP Option B, retrofit isolation of the scheduled machines (docs/nightly.md)",
        "actual": actual,
        "baseline": baseline,
        "savings": saved,
        "cash_eur": sum(saved[name] for name in CASH),
        "co2_t": co2_t(baseline_kw) - co2_t(grid_kw),
        "kwh_shifted": kwh_shifted,
        "loss_factor": losses,
        "band": {"low_eur": min([saved["total_eur"], *band]), "high_eur": max([saved["total_eur"], *band])},
        "adherence": {"rate": outcome.rate, **outcome.counts()},
        "grid_kw": [float(v) for v in grid_kw],
        "counterfactual_kw": [float(v) for v in baseline_kw],
        "jobs": json.loads(outcome.table().to_json(orient="records", date_format="iso")),
        "non_routine": _non_routine(outcome),
    }


@dataclass(frozen=True)
class Placement:
    """A stretch of production that really ran, and where it runs in the counterfactual."""

    key: str  # the job's id, or "unplanned <n>"
    planned: bool  # a job of the plan (False: an unplanned run)
    machine: str  # where it ran
    start: pd.Timestamp
    end: pd.Timestamp
    cf_machine: str
    cf_start: pd.Timestamp


def counterfactual_placements(outcome: adherence.DayAdherence, jobs: dict[str, dict], start: pd.Timestamp, step: pd.Timedelta) -> list[Placement]:
    """Where what really ran would have run under the site's own plan, with the same disturbances.

    A planned job gets its own delay (how much later it started than its plan, its machine and
    its predecessors allowed) added to its place in the site's plan, and starts once its machine
    there is free and its predecessors have ended; on a day run by the site's own plan
    (:func:`energy.planning.adherence.match_plans`) every job starts where it did. An unplanned
    run starts where it did, or once its machine is free. Placed in the order they would start.
    """
    ran = [o for o in outcome.jobs if o.status != adherence.NOT_RUN]
    ends = {o.job.id: o.end for o in ran}
    own_delay: dict[str, pd.Timedelta] = {}
    by_machine: dict[str, list[adherence.JobOutcome]] = {}
    for o in ran:
        by_machine.setdefault(o.machine, []).append(o)
    for runs in by_machine.values():
        runs.sort(key=lambda o: o.start)
        for k, o in enumerate(runs):
            previous = [runs[k - 1].end] if k else []
            ready = max([o.job.start] + previous + [ends[p] for p in jobs[o.job.id].get("after", []) if p in ends])
            own_delay[o.job.id] = o.start - ready
    # (order, intended start, key, planned, machine, start, end, counterfactual machine, kept, after);
    # a negative own delay (a start-up detected as the run's first minutes) places a job but does
    # not let it overtake a job whose turn it was
    wanted = []
    zero = pd.Timedelta(0)
    for o in ran:
        job = jobs[o.job.id]
        site = start + job["planned_start_slot"] * step
        kept = outcome.run_by_site_plan
        intended = o.start if kept else site + own_delay[o.job.id]
        order = o.start if kept else site + max(own_delay[o.job.id], zero)
        wanted.append((order, intended, o.job.id, True, o.machine, o.start, o.end, job["planned_machine"], kept, job.get("after", [])))
    for n, span in enumerate(outcome.unplanned, start=1):
        wanted.append((span.start, span.start, f"unplanned {n}", False, span.machine, span.start, span.end, span.machine, False, []))
    placed: dict[str, Placement] = {}
    free: dict[str, pd.Timestamp] = {}  # machine → when it is free in the counterfactual
    for _, intended, key, planned, machine, begin, end, cf_machine, kept, after in sorted(wanted, key=lambda w: (w[0], w[2])):
        cf_start = intended
        if not kept:
            before = [placed[p].cf_start + (placed[p].end - placed[p].start) for p in after if p in placed]
            cf_start = max([intended] + ([free[cf_machine]] if cf_machine in free else []) + before)
        placed[key] = Placement(key, planned, machine, begin, end, cf_machine, cf_start)
        free[cf_machine] = max(free.get(cf_machine, cf_start), cf_start + (end - begin))
    return list(placed.values())


def _switch_ons(schedule: dict, ran: list[adherence.JobOutcome], start: pd.Timestamp, step: pd.Timedelta) -> dict[str, int]:
    """Per machine: the plan's on-periods in which a job really ran (a job outside all of them
    was switched on for on its own)."""
    counts = {}
    for machine in {o.machine for o in ran}:
        periods = _given_on_periods(schedule, machine, start, step)
        used, own = set(), 0
        for o in (o for o in ran if o.machine == machine):
            hit = {i for i, (a, b) in enumerate(periods) if o.start < b and o.end > a}
            used |= hit
            own += not hit
        counts[machine] = len(used) + own
    return counts


def _given_on_periods(schedule: dict, machine: str, start: pd.Timestamp, step: pd.Timedelta) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    return [(start + a * step, start + b * step) for a, b in (schedule.get("machines_on") or {}).get(machine, [])]


def _non_routine(outcome: adherence.DayAdherence) -> list[dict]:
    """The day's non-routine events and how the savings treat them."""
    events = []
    for o in outcome.jobs:
        if o.status == adherence.NOT_RUN:
            events.append({"event": "job not run", "job": o.job.id, "machine": o.job.machine, "treatment": "excluded from both the actual and the counterfactual day"})
        elif o.machine != o.job.machine:
            events.append({"event": "job run on another machine", "job": o.job.id, "machine": o.machine, "treatment": "moved from where it ran to the site plan's position"})
    for span in outcome.unplanned:
        events.append({"event": "unplanned run", "job": "", "machine": span.machine, "treatment": f"kept where it ran ({span.start.isoformat()} to {span.end.isoformat()}) in both days"})
    return events


def compute_realised_savings(engine: Engine, config: SiteConfig, run_id: int) -> dict:
    """Realised savings of a stored run from the day's stored meter data, prices and factors."""
    from energy.histories.states import machine_states

    run = load_run(engine, run_id)
    if run.status not in ("optimal", "feasible"):
        raise InputError(f"plan run {run_id} is {run.status}: it has no schedule to compare")
    if not run.schedule.get("baseline"):
        raise InputError(f"plan run {run_id} has no baseline (some jobs had no planned start and machine)")
    start, step = slot_times(run.problem)
    slots = pd.date_range(start, periods=run.problem["horizon_slots"], freq=step)
    end = slots[-1] + step
    grid = inputs.grid_kw(engine, slots)
    if grid.isna().any():
        _missing(run_id, run.plan_date, "site (grid)", slots[grid.isna().to_numpy()])
    machines = {}
    for machine in (m["id"] for m in run.problem["machines"]):
        states = machine_states(engine, config, machine, start, end).reindex(slots)
        if states["energy_kwh"].isna().any():
            _missing(run_id, run.plan_date, "scheduled machines", slots[states["energy_kwh"].isna().to_numpy()])
        machines[machine] = MachineDay(
            states["energy_kwh"].to_numpy(dtype=float),
            states["producing_kwh"].to_numpy(dtype=float),
            states["producing_min"].to_numpy(dtype=float),
            standby_kw(states, config.machine(machine).idle_kw),
        )
    price, export, _, _, _ = inputs.tariff_prices(engine, slots)
    co2, _ = inputs.carbon_factors(engine, slots)
    minutes = {job["job"]: job["duration_min"] for job in (run.inputs or {}).get("jobs", []) if job.get("duration_min")}
    result = verified_savings(
        run.problem, run.schedule, minutes, grid.to_numpy(), machines, price.to_numpy(), export.to_numpy(), co2.to_numpy(),
        losses=loss_factor(engine, config, start, end),
    )
    result["run_id"] = run_id
    result["plan_date"] = run.plan_date
    result["expected"] = run.savings
    return result


def loss_factor(engine: Engine, config: SiteConfig, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """The site's losses between its sub-meters and its grid meter (cables, transformer) per kW of
    sub-metered load, a fraction, from the period's 1-minute readings.

    What the sub-meters measure reaches the grid meter with its losses on top: moving a machine's
    load moves those losses too. Their share is the slope, through the origin, of the
    minute-to-minute changes of the unmetered load (main + PV − the machine meters) on those of
    the machine meters: the base load's own changes do not follow the machines' and average out.
    0 without 1-minute readings of every main, PV and machine meter (the savings are then those
    at the sub-meters); clipped to [0, 0.2].
    """
    from energy.histories.intervals import meter_intervals
    from energy.histories.site import meter_rated_kw
    from energy.readings import load_readings

    minutes = int((end - start) / pd.Timedelta(minutes=1))
    parts = {"main": [], "pv": [], "machine": []}
    for meter in config.meters:
        if not meter.enabled or meter.role not in parts:
            continue
        readings = load_readings(engine, meter.id, start, end + pd.Timedelta(minutes=1))
        if len(readings) < 0.9 * minutes:  # no 1-minute readings: no minute-level changes to compare
            return 0.0
        parts[meter.role].append(meter_intervals(readings, 1, meter_rated_kw(config, meter), start, end)["energy_kwh"].to_numpy() * 60.0)
    if not parts["main"] or not parts["machine"]:
        return 0.0
    machines = sum(parts["machine"])
    unmetered = sum(parts["main"]) + sum(parts["pv"], np.zeros(minutes)) - machines
    dx, dy = np.diff(machines), np.diff(unmetered)
    usable = np.isfinite(dx) & np.isfinite(dy)
    spread = float(np.sum(dx[usable] ** 2))
    if usable.sum() < 120 or spread == 0:
        return 0.0
    return float(np.clip(np.sum(dx[usable] * dy[usable]) / spread, 0.0, 0.2))


def standby_kw(states: pd.DataFrame, configured_kw: float) -> float:
    """A machine's standby level on the day: its mean power in idle minutes, else the configured one."""
    idle_min = float(states["idle_min"].sum())
    return float(states["idle_kwh"].sum() / (idle_min / 60.0)) if idle_min >= 15 else configured_kw


def _missing(run_id: int, plan_date: str, name: str, gaps: pd.DatetimeIndex) -> None:
    raise InputError(
        f"plan run {run_id} ({plan_date}): readings of the {name} are missing for {len(gaps)} slot(s) "
        f"from {gaps[0].isoformat()}: import or collect the day's readings first"
    )


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
