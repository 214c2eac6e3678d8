"""The independent checker: validates any schedule against a problem and recomputes its cost.

It shares nothing with the MILP but the parsed :class:`~optimizer.problem.Problem`: the cost is
recomputed slot by slot from the contract's formula (``shared/contracts/schedule-problem.md``):

    P_t = base_load_kw[t] + Σ idle_kw of on machines + Σ power_kw of running jobs − pv_kw[t]
    I_t = max(P_t, 0), E_t = max(−P_t, 0)
    energy    = Σ_t (price_t · I_t − export_price_t · E_t) · h
    co2       = co2_price_eur_per_t · Σ_t co2_t · I_t · h / 1e6
    demand    = eur_per_kw · max(0, max_t I_t − peak_so_far_kw)
    switching = Σ startup_eur per switch-on + Σ shutdown_eur per switch-off

A machine that is on at the end of the horizon is switched off at T (and pays its shutdown); one
that was ``initially_on`` and is off in slot 0 pays a shutdown at 0. Every schedule the optimiser
returns passes through :func:`check`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.problem import Problem

COST_COMPONENTS = ("energy_eur", "co2_eur", "demand_eur", "switching_eur")
#: Tolerance on power and capacity sums (kW, resource units): solver round-off, not slack.
TOLERANCE = 1e-6

Placements = dict[str, tuple[str, int]]  # job id → (machine id, start slot)


@dataclass
class CheckResult:
    """Violations found (empty when the schedule is feasible) and the recomputed cost."""

    violations: list[str]
    objective_eur: float
    cost_breakdown: dict[str, float]
    net_kw: np.ndarray = field(repr=False)

    @property
    def ok(self) -> bool:
        return not self.violations


def placements_of(document: dict) -> Placements:
    """The placements of a schedule document's ``jobs`` (taken as they are: :func:`check` validates)."""
    return {j["id"]: (j["machine"], j["start_slot"]) for j in document["jobs"]}


def penalised(document: dict) -> float:
    """The objective the MILP minimises: a schedule document's cost plus any move penalty."""
    return document["objective_eur"] + document.get("move_penalty_eur", 0.0)


def move_penalty_eur(problem: Problem, placements: Placements) -> tuple[float, list[str]]:
    """(penalty, moved job ids): jobs that left their previous machine or start."""
    if not problem.move_penalty_eur:
        return 0.0, []
    moved = [
        job.id for job in problem.jobs
        if job.previous_machine is not None and job.previous_start_slot is not None
        and placements.get(job.id) != (job.previous_machine, job.previous_start_slot)
    ]
    return problem.move_penalty_eur * len(moved), moved


def on_masks(problem: Problem, machines_on: dict[str, list]) -> dict[str, np.ndarray]:
    """Machine id → boolean array over the slots: is the machine on?"""
    masks = {m.id: np.zeros(problem.horizon_slots, dtype=bool) for m in problem.machines}
    for machine_id, intervals in machines_on.items():
        for first, end in intervals:
            masks[machine_id][first:end] = True
    return masks


def switch_counts(initially_on: bool, mask: np.ndarray) -> tuple[int, int]:
    """(switch-ons, switch-offs) of a machine over the horizon; it is off after the horizon."""
    states = np.concatenate([[initially_on], mask, [False]]).astype(int)
    steps = np.diff(states)
    return int((steps == 1).sum()), int((steps == -1).sum())


def net_power_kw(problem: Problem, placements: Placements, masks: dict[str, np.ndarray]) -> np.ndarray:
    """P_t: base load + idle of on machines + job power − PV, kW per slot."""
    power = problem.net_base_kw.copy()
    for machine in problem.machines:
        power += machine.idle_kw * masks[machine.id]
    for job_id, (_, start) in placements.items():
        job = problem.job(job_id)
        end = min(start + job.duration_slots, problem.horizon_slots)
        power[start:end] += job.power_kw[: end - start]
    return power


def cost_breakdown(problem: Problem, net_kw: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, float]:
    """The four cost components (EUR) of a net grid power profile and machine on-states."""
    imported = np.maximum(net_kw, 0.0)
    exported = np.maximum(-net_kw, 0.0)
    h = problem.slot_hours
    demand = 0.0
    if problem.demand_charge is not None:
        excess = max(0.0, float(imported.max(initial=0.0)) - problem.demand_charge.peak_so_far_kw)
        demand = problem.demand_charge.eur_per_kw * excess
    switching = 0.0
    for machine in problem.machines:
        ons, offs = switch_counts(machine.initially_on, masks[machine.id])
        switching += ons * machine.startup_eur + offs * machine.shutdown_eur
    return {
        "energy_eur": float(np.sum(problem.price_eur_per_kwh * imported - problem.export_price_eur_per_kwh * exported) * h),
        "co2_eur": float(problem.co2_price_eur_per_t * np.sum(problem.co2_g_per_kwh * imported) * h / 1e6),
        "demand_eur": float(demand),
        "switching_eur": float(switching),
    }


def _placements(problem: Problem, jobs: list, violations: list[str]) -> Placements:
    placements: Placements = {}
    for entry in jobs:
        job_id, machine, start = entry.get("id"), entry.get("machine"), entry.get("start_slot")
        if job_id not in problem._jobs_by_id:
            violations.append(f"job {job_id!r} is not in the problem")
        elif job_id in placements:
            violations.append(f"job {job_id!r} is scheduled more than once")
        elif machine not in problem._machines_by_id or not isinstance(start, int) or start < 0:
            violations.append(f"job {job_id!r}: machine {machine!r} / start slot {start!r} are not valid")
        else:
            placements[job_id] = (machine, start)
    for job in problem.jobs:
        if job.id not in placements and not any(v.startswith(f"job {job.id!r}") for v in violations):
            violations.append(f"job {job.id!r} is not scheduled")
    return placements


def _job_violations(problem: Problem, placements: Placements, masks: dict[str, np.ndarray]) -> list[str]:
    violations = []
    for job_id, (machine_id, start) in placements.items():
        job, machine = problem.job(job_id), problem.machine(machine_id)
        end = start + job.duration_slots
        if machine_id not in job.machines:
            violations.append(f"job {job_id!r} runs on {machine_id!r}, which is not among its machines {list(job.machines)}")
        if start < job.earliest_start_slot or end > job.deadline_slot:
            violations.append(
                f"job {job_id!r} runs in slots [{start}, {end}), outside its window "
                f"[{job.earliest_start_slot}, {job.deadline_slot})"
            )
        for first, stop in machine.unavailable:
            if start < stop and first < end:
                violations.append(f"job {job_id!r} runs on {machine_id!r} in [{start}, {end}), which is unavailable in [{first}, {stop})")
        if not masks[machine_id][start:min(end, problem.horizon_slots)].all():
            violations.append(f"job {job_id!r} runs on {machine_id!r} in [{start}, {end}) while the machine is off")
        for before in job.after:
            if before in placements:
                before_end = placements[before][1] + problem.job(before).duration_slots
                if start < before_end:
                    violations.append(f"job {job_id!r} starts at slot {start} before job {before!r} ends at slot {before_end}")
    return violations


def _capacity_violations(problem: Problem, placements: Placements) -> list[str]:
    violations = []
    for machine in problem.machines:
        for resource, capacity in machine.capacity.items():
            load = np.zeros(problem.horizon_slots)
            for job_id, (machine_id, start) in placements.items():
                if machine_id == machine.id:
                    job = problem.job(job_id)
                    load[start:start + job.duration_slots] += job.uses.get(resource, 0.0)
            over = np.flatnonzero(load > capacity + TOLERANCE)
            if over.size:
                violations.append(
                    f"machine {machine.id!r}: resource {resource!r} needs {load[over[0]]:g} > capacity {capacity:g} "
                    f"in {over.size} slot(s) from slot {over[0]}"
                )
    return violations


def schedule_cost(problem: Problem, placements: Placements, machines_on: dict[str, list]) -> CheckResult:
    """The cost of a placement and on-intervals, without checking feasibility."""
    masks = on_masks(problem, machines_on)
    net = net_power_kw(problem, placements, masks)
    breakdown = cost_breakdown(problem, net, masks)
    return CheckResult([], float(sum(breakdown.values())), breakdown, net)


def check(problem: Problem, schedule: dict) -> CheckResult:
    """Validate ``schedule`` (contract JSON: ``jobs`` and ``machines_on``) and recompute its cost.

    ``violations`` names every broken constraint; when the schedule states ``objective_eur``,
    a mismatch with the recomputed cost is a violation too.
    """
    violations: list[str] = []
    machines_on = schedule.get("machines_on") or {}
    for machine_id, intervals in machines_on.items():
        if machine_id not in problem._machines_by_id:
            violations.append(f"machines_on names unknown machine {machine_id!r}")
            continue
        for interval in intervals:
            if len(interval) != 2 or not 0 <= interval[0] < interval[1] <= problem.horizon_slots:
                violations.append(f"machine {machine_id!r}: on-interval {interval!r} is not within [0, {problem.horizon_slots})")
    machines_on = {m: v for m, v in machines_on.items() if m in problem._machines_by_id}
    machines_on = {m: [i for i in v if len(i) == 2 and 0 <= i[0] < i[1] <= problem.horizon_slots] for m, v in machines_on.items()}
    placements = _placements(problem, schedule.get("jobs") or [], violations)
    result = schedule_cost(problem, placements, machines_on)
    violations += _job_violations(problem, placements, on_masks(problem, machines_on))
    violations += _capacity_violations(problem, placements)
    if problem.grid_limit_kw is not None:
        over = np.flatnonzero(result.net_kw > problem.grid_limit_kw + TOLERANCE)
        if over.size:
            violations.append(
                f"grid import {result.net_kw[over[0]]:.3f} kW exceeds grid_limit_kw {problem.grid_limit_kw:g} "
                f"in {over.size} slot(s) from slot {over[0]}"
            )
    stated = schedule.get("objective_eur")
    if stated is not None and abs(stated - result.objective_eur) > 1e-6 * max(1.0, abs(result.objective_eur)):
        violations.append(f"objective_eur {stated} differs from the recomputed cost {result.objective_eur}")
    result.violations = violations
    return result
