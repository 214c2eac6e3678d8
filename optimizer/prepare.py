"""Input preparation: the start slots each job can really use, and pre-checks that explain infeasibility.

Before a model is built, every (job, machine, start) triple that cannot be part of any feasible
schedule is removed: starts outside the job's window, runs that touch a machine's unavailable slots,
machines whose capacity is below what the job uses, runs that would break the grid limit on top of
base load (when no job can lower the load), and starts that precedence chains rule out (earliest
start after every predecessor's earliest end, latest start before every successor's latest start
minus the duration, iterated to a fixed point). A job left with no start is reported with the reason
(job, machine, slots and limits involved), so "infeasible" never comes without a why. Then the
overload check: jobs that only one machine can run, and no two of them at once, cannot need more
of it between two slots than it has free there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.problem import Job, Machine, Problem


@dataclass
class Prepared:
    """Feasible start slots per (job id, machine id), the job order and the pre-check findings."""

    starts: dict[tuple[str, str], np.ndarray]
    order: list[str]  # job ids, predecessors first
    earliest_start: dict[str, int]
    latest_start: dict[str, int]
    explanation: list[str] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.explanation

    def job_starts(self, job_id: str, machines: tuple[str, ...]) -> dict[str, np.ndarray]:
        return {m: self.starts[(job_id, m)] for m in machines if (job_id, m) in self.starts}


def precedence_order(problem: Problem) -> tuple[list[str], list[str]]:
    """(job ids with predecessors first, the jobs caught in a precedence cycle)."""
    successors: dict[str, list[str]] = {j.id: [] for j in problem.jobs}
    pending = {j.id: len(set(j.after)) for j in problem.jobs}
    for job in problem.jobs:
        for before in set(job.after):
            successors[before].append(job.id)
    ready = [j.id for j in problem.jobs if pending[j.id] == 0]
    order = []
    while ready:
        job_id = ready.pop(0)
        order.append(job_id)
        for nxt in successors[job_id]:
            pending[nxt] -= 1
            if pending[nxt] == 0:
                ready.append(nxt)
    cycle = [j.id for j in problem.jobs if pending[j.id] > 0]
    return order, cycle


def _blocked_slots(machine: Machine, horizon: int) -> np.ndarray:
    blocked = np.zeros(horizon, dtype=bool)
    for first, end in machine.unavailable:
        blocked[first:end] = True
    return blocked


def _run_ok(bad_slot: np.ndarray, duration: int) -> np.ndarray:
    """For each start s, True when none of the slots s … s+d-1 is bad (starts with s+d ≤ T only)."""
    counts = np.concatenate([[0], np.cumsum(bad_slot)])
    return counts[duration:] - counts[:-duration] == 0


def _grid_bad_slots(problem: Problem, job: Job, machine: Machine) -> np.ndarray | None:
    """Per start, whether the run alone (on base load, machine idle) breaks the grid limit."""
    if problem.grid_limit_kw is None:
        return None
    horizon, d = problem.horizon_slots, job.duration_slots
    base = problem.net_base_kw + machine.idle_kw
    ok = np.ones(horizon - d + 1, dtype=bool)
    for k in range(d):
        ok &= base[k:horizon - d + 1 + k] + job.power_kw[k] <= problem.grid_limit_kw + 1e-9
    return ok


def _static_starts(problem: Problem, job: Job, can_lower_load: bool) -> tuple[dict[str, np.ndarray], list[str]]:
    """Starts per machine allowed by window, unavailability, capacity and grid limit; reasons for none."""
    horizon, d = problem.horizon_slots, job.duration_slots
    first, last = job.earliest_start_slot, job.deadline_slot - d
    starts: dict[str, np.ndarray] = {}
    reasons: list[str] = []
    if last < first:
        reasons.append(
            f"job {job.id!r}: its window [{job.earliest_start_slot}, {job.deadline_slot}) is "
            f"{max(job.deadline_slot - job.earliest_start_slot, 0)} slot(s), shorter than its duration of {d} slots"
        )
        return starts, reasons
    for machine_id in job.machines:
        machine = problem.machine(machine_id)
        short = {r: (a, machine.capacity[r]) for r, a in job.uses.items() if a > machine.capacity[r] + 1e-9}
        if short:
            r, (need, cap) = next(iter(short.items()))
            reasons.append(f"job {job.id!r} uses {need:g} {r!r} but machine {machine_id!r} has capacity {cap:g}")
            continue
        ok = _run_ok(_blocked_slots(machine, horizon), d)
        window = np.zeros_like(ok)
        window[first:last + 1] = True
        if not (ok & window).any():
            reasons.append(
                f"job {job.id!r}: machine {machine_id!r} is unavailable ({_intervals(machine.unavailable)}) "
                f"for every run of {d} slots inside its window [{job.earliest_start_slot}, {job.deadline_slot})"
            )
            continue
        grid_ok = None if can_lower_load else _grid_bad_slots(problem, job, machine)
        if grid_ok is not None and not (ok & window & grid_ok).any():
            peak = max(job.power_kw) + machine.idle_kw
            reasons.append(
                f"job {job.id!r} on {machine_id!r}: needs {peak:g} kW on top of base load in every slot of its window "
                f"[{job.earliest_start_slot}, {job.deadline_slot}), which the grid limit of {problem.grid_limit_kw:g} kW "
                f"cannot take (lowest base load minus PV there: {problem.net_base_kw[first:last + d].min():g} kW)"
            )
            continue
        allowed = ok & window & (grid_ok if grid_ok is not None else True)
        starts[machine_id] = np.flatnonzero(allowed)
    return starts, reasons


def _intervals(pairs) -> str:
    return ", ".join(f"[{a}, {b})" for a, b in pairs) or "never"


def prepare(problem: Problem) -> Prepared:
    """Feasible starts for every job and machine, with precedence windows propagated to a fixed point."""
    order, cycle = precedence_order(problem)
    if cycle:
        return Prepared({}, order, {}, {}, [f"precedence cycle: jobs {', '.join(map(repr, cycle))} each wait for another"])
    explanation = []
    for t in np.flatnonzero(problem.grid_limit_kw is not None and problem.net_base_kw > (problem.grid_limit_kw or 0) + 1e-9)[:1]:
        explanation.append(
            f"slot {t}: base load minus PV is {problem.net_base_kw[t]:g} kW, above grid_limit_kw "
            f"{problem.grid_limit_kw:g} before any job runs"
        )
    can_lower_load = any((j.power_kw < 0).any() for j in problem.jobs)
    starts: dict[tuple[str, str], np.ndarray] = {}
    for job in problem.jobs:
        per_machine, reasons = _static_starts(problem, job, can_lower_load)
        if not per_machine:
            explanation.extend(reasons or [f"job {job.id!r}: no eligible machine can run it"])
        starts.update({(job.id, m): s for m, s in per_machine.items()})
    earliest, latest = _propagate(problem, order, starts)
    for job_id in order:
        job = problem.job(job_id)
        had_starts = any(starts.get((job_id, m), np.empty(0)).size for m in job.machines)
        for m in job.machines:
            if (job_id, m) in starts:
                s = starts[(job_id, m)]
                starts[(job_id, m)] = s[(s >= earliest[job_id]) & (s <= latest[job_id])]
                if not starts[(job_id, m)].size:
                    del starts[(job_id, m)]
        if had_starts and not any((job_id, m) in starts for m in job.machines):
            explanation.append(_chain_reason(problem, job, earliest, latest))
    if not explanation:
        explanation = [text for machine in problem.machines if (text := _overload_reason(problem, machine, starts))]
    return Prepared(starts, order, earliest, latest, explanation)


def uses_over_half(job: Job, machine: Machine, resource: str) -> bool:
    """The job uses more than half of the machine's ``resource``: no two such jobs run on it at once."""
    return job.uses.get(resource, 0.0) > machine.capacity[resource] / 2


def _overload_reason(problem: Problem, machine: Machine, starts) -> str | None:
    """Why ``machine`` cannot fit its own jobs, or None.

    Its own jobs: those it alone can run, each using more than half of one resource of it (so no
    two run at once). Each needs its duration inside [earliest start, latest end) of its starts
    there; when the jobs whose spans lie inside some [a, b) need more slots than the machine has
    free in [a, b), no schedule exists (the overload rule of edge finding, Vilím 2004, "O(n log n)
    filtering algorithms for unary resource constraints"). Checked over every a that is an earliest
    start and b that is a latest end: O(n²) windows.
    """
    free = np.concatenate([[0], np.cumsum(~_blocked_slots(machine, problem.horizon_slots))])
    own = [job for job in problem.jobs if [m for m in job.machines if (job.id, m) in starts] == [machine.id]]
    for resource in machine.capacity:
        spans = []
        for job in (job for job in own if uses_over_half(job, machine, resource)):
            s = starts[(job.id, machine.id)]
            spans.append((int(s[0]), int(s[-1]) + job.duration_slots, job.duration_slots, job.id))
        if len(spans) < 2:
            continue
        by_end = sorted(spans, key=lambda span: span[1])
        for a in sorted({span[0] for span in spans}):
            need, inside = 0, []
            for first, end, duration, job_id in by_end:
                if first < a:
                    continue
                need += duration
                inside.append(job_id)
                has = int(free[end] - free[a])
                if need > has:
                    return (
                        f"machine {machine.id!r} cannot run {', '.join(map(repr, inside))} (only it can, one at a "
                        f"time): between slots {a} and {end} they need {need} slots of it, and it has {has} free there"
                    )
    return None


def _propagate(problem: Problem, order: list[str], starts) -> tuple[dict[str, int], dict[str, int]]:
    """Earliest/latest start per job from its allowed starts and its precedence chain, to a fixed point."""
    horizon = problem.horizon_slots
    earliest, latest = {}, {}
    for job in problem.jobs:
        own = [starts[(job.id, m)] for m in job.machines if (job.id, m) in starts]
        earliest[job.id] = min((int(s[0]) for s in own if s.size), default=horizon)
        latest[job.id] = max((int(s[-1]) for s in own if s.size), default=-1)
    successors: dict[str, list[str]] = {j.id: [] for j in problem.jobs}
    for job in problem.jobs:
        for before in job.after:
            successors[before].append(job.id)
    for _ in range(len(order) + 1):
        changed = False
        for job_id in order:
            job = problem.job(job_id)
            bound = max((earliest[b] + problem.job(b).duration_slots for b in job.after), default=0)
            options = [s[s >= max(bound, earliest[job_id])] for m in job.machines if (s := starts.get((job_id, m))) is not None]
            new = min((int(s[0]) for s in options if s.size), default=horizon)
            changed |= new != earliest[job_id]
            earliest[job_id] = new
        for job_id in reversed(order):
            job = problem.job(job_id)
            bound = min((latest[n] - job.duration_slots for n in successors[job_id]), default=horizon)
            options = [s[s <= min(bound, latest[job_id])] for m in job.machines if (s := starts.get((job_id, m))) is not None]
            new = max((int(s[-1]) for s in options if s.size), default=-1)
            changed |= new != latest[job_id]
            latest[job_id] = new
        if not changed:
            break
    return earliest, latest


def _chain_reason(problem: Problem, job: Job, earliest: dict[str, int], latest: dict[str, int]) -> str:
    before = [b for b in job.after if earliest[b] + problem.job(b).duration_slots > job.earliest_start_slot]
    chain = ", ".join(f"{b!r} (earliest end slot {earliest[b] + problem.job(b).duration_slots})" for b in before)
    successors = [j.id for j in problem.jobs if job.id in j.after]
    text = (
        f"job {job.id!r}: its precedence chain leaves no start slot inside its window "
        f"[{job.earliest_start_slot}, {job.deadline_slot}) with duration {job.duration_slots}"
    )
    if chain:
        text += f"; it must wait for {chain}"
    if successors:
        text += f"; it must end before {', '.join(map(repr, successors))} start"
    return text
