"""Infeasibility diagnosis: an elastic re-solve that names the jobs, machines, slots and limits in conflict.

When HiGHS proves that no schedule exists (and the pre-checks in :mod:`optimizer.prepare` found no
single-job reason), the model is solved again with its soft-able constraints made elastic: a job may
stay unplaced (at a high price per job) and grid import may exceed the grid limit (at a price per
kW). The fewest unplaced jobs and the least excess show where the conflict is; each is then
explained from the elastic schedule: what occupies the job's eligible machines inside its window,
which of its predecessors stayed unplaced, and in which slots the grid limit is exceeded by whom.
"""

from __future__ import annotations

import numpy as np

from optimizer.checker import Placements
from optimizer.highs import SolveStats, run_highs
from optimizer.model import ModelOptions, build_model, read_schedule
from optimizer.prepare import Prepared
from optimizer.problem import Job, Problem


def _occupants(problem: Problem, placements: Placements, job: Job, machine_id: str) -> list[str]:
    """Placed jobs on ``machine_id`` whose run overlaps ``job``'s window, as 'id [from, to)'."""
    first, end = job.earliest_start_slot, job.deadline_slot
    found = []
    for other_id, (m, s) in placements.items():
        e = s + problem.job(other_id).duration_slots
        if m == machine_id and s < end and first < e:
            found.append(f"{other_id!r} [{s}, {e})")
    return found


def _unplaced_reason(problem: Problem, placements: Placements, unplaced: set[str], job: Job) -> str:
    parts = []
    for machine_id in job.machines:
        machine = problem.machine(machine_id)
        text = f"{machine_id!r}"
        occupants = _occupants(problem, placements, job, machine_id)
        if occupants:
            text += " is taken by " + ", ".join(occupants)
        blocked = [(a, b) for a, b in machine.unavailable if a < job.deadline_slot and job.earliest_start_slot < b]
        if blocked:
            text += (" and" if occupants else " is") + " unavailable in " + ", ".join(f"[{a}, {b})" for a, b in blocked)
        parts.append(text)
    reason = (
        f"job {job.id!r} ({job.duration_slots} slots in window [{job.earliest_start_slot}, {job.deadline_slot})) "
        f"cannot be placed: " + "; ".join(parts)
    )
    waiting = [b for b in job.after if b in unplaced]
    if waiting:
        reason += f"; it waits for unplaced job(s) {', '.join(map(repr, waiting))}"
    elif job.after:
        reason += "; it must follow " + ", ".join(
            f"{b!r} (ends {placements[b][1] + problem.job(b).duration_slots})" for b in job.after if b in placements
        )
    if problem.grid_limit_kw is not None:
        reason += f"; grid_limit_kw is {problem.grid_limit_kw:g}"
    return reason


def _grid_reason(problem: Problem, placements: Placements, excess_kw: np.ndarray) -> str:
    slots = np.flatnonzero(excess_kw > 1e-6)
    worst = int(slots[np.argmax(excess_kw[slots])])
    running = [
        job_id for job_id, (_, s) in placements.items() if s <= worst < s + problem.job(job_id).duration_slots
    ]
    return (
        f"grid_limit_kw {problem.grid_limit_kw:g} cannot be kept in {slots.size} slot(s) from slot {slots[0]} to "
        f"{slots[-1]} (by up to {excess_kw[worst]:.3g} kW in slot {worst}, where base load minus PV is "
        f"{problem.net_base_kw[worst]:g} kW and jobs {', '.join(map(repr, running)) or 'none'} run)"
    )


def diagnose(problem: Problem, prepared: Prepared, deadline: float) -> list[str]:
    """Human-readable reasons why ``problem`` has no schedule, from an elastic re-solve."""
    model = build_model(problem, prepared, ModelOptions(elastic=True))
    outcome = run_highs(model, deadline, 0.0, False, SolveStats())
    if not outcome.has_solution:
        return [
            "HiGHS proved that no schedule exists, and the elastic re-solve that would locate the conflict "
            "did not finish in time (no job alone breaks its window, machines or grid limit; "
            "the conflict is between jobs competing for machines, precedence or the grid limit)"
        ]
    placements, _ = read_schedule(model, problem)
    unplaced = {j.id for j in problem.jobs if j.id not in placements}
    reasons = [_unplaced_reason(problem, placements, unplaced, problem.job(j)) for j in sorted(unplaced)]
    if hasattr(model, "grid_excess"):
        excess = np.array([model.grid_excess[t].value or 0.0 for t in range(problem.horizon_slots)])
        if (excess > 1e-6).any():
            reasons.append(_grid_reason(problem, placements, excess))
    return reasons or ["HiGHS proved that no schedule exists, but the elastic re-solve placed every job within the limits"]


def explain_unplaced(problem: Problem, placements: Placements, unplaced: list[str], limit_s: float) -> list[str]:
    """Why the heuristic's best attempt left jobs out: per eligible machine, the resource that never
    has room for the whole run inside the job's window, and the placed jobs that use it there."""
    horizon = problem.horizon_slots
    used = {m.id: {r: np.zeros(horizon) for r in m.capacity} for m in problem.machines}
    for job_id, (machine_id, s) in placements.items():
        job = problem.job(job_id)
        for resource, amount in job.uses.items():
            used[machine_id][resource][s:s + job.duration_slots] += amount
    reasons = []
    for job_id in unplaced:
        job = problem.job(job_id)
        first, end, d = job.earliest_start_slot, job.deadline_slot, job.duration_slots
        parts = []
        for machine_id in job.machines:
            machine = problem.machine(machine_id)
            for resource, need in job.uses.items():
                free = machine.capacity[resource] - used[machine_id][resource][first:end]
                # the most that stays free through any whole run of d slots inside the window
                best = max((free[k:k + d].min() for k in range(0, len(free) - d + 1)), default=0.0)
                if best + 1e-9 < need:
                    worst = first + int(np.argmin(free))
                    users = [j for j, (m, s) in placements.items()
                             if m == machine_id and s <= worst < s + problem.job(j).duration_slots and problem.job(j).uses.get(resource)]
                    parts.append(
                        f"on {machine_id!r} resource {resource!r} has at most {best:g} of {machine.capacity[resource]:g} free "
                        f"through any {d}-slot run, it needs {need:g} (in slot {worst} it is used by {', '.join(map(repr, users[:6]))}"
                        f"{' …' if len(users) > 6 else ''})"
                    )
                    break
        reasons.append(
            f"job {job_id!r} ({d} slots in window [{first}, {end})) could not be placed within {limit_s:g} s: "
            + ("; ".join(parts) if parts else "every eligible machine has room, but not without breaking precedence or the grid limit")
        )
    return reasons
