"""Plans the twin can execute: the site's own (baseline) plan and the optimiser's schedule.

A :class:`DayPlan` is what the shop floor is told: each job's machine and start, and when each
machine is switched on and off. Both kinds come from the same jobs, so the twin can execute the
optimiser's plan and, under the same disturbances, the plan the site would have run anyway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from energy.errors import InputError
from energy.planning.jobs import Job


@dataclass(frozen=True)
class PlannedRun:
    """One job as planned: machine, start (UTC), true length and power (kW, or one per slot)."""

    job: str
    machine: str
    start: pd.Timestamp
    duration_min: int
    power_kw: float | tuple[float, ...]
    after: tuple[str, ...] = ()
    kind: str = "planned"  # planned | extra | shift
    slot_min: int = 15  # the length of one value of a per-slot power profile


@dataclass(frozen=True)
class DayPlan:
    """A local day's plan: its runs and each machine's on-periods ``[from, to)`` (UTC)."""

    day: dt.date
    source: str  # "baseline" (the site's own plan) or "optimised"
    runs: tuple[PlannedRun, ...]
    machines_on: dict[str, tuple[tuple[pd.Timestamp, pd.Timestamp], ...]] = field(default_factory=dict)


def _minutes(job: Job) -> int:
    return int(round(job.duration_min))


def baseline_day_plan(day: dt.date, jobs: list[Job], slot_min: int) -> DayPlan:
    """The site's own plan: each job at its planned start on its planned machine, each machine
    on from its first planned start to its last planned end (as the schedule contract's baseline)."""
    runs, spans = [], {}
    for job in jobs:
        if job.planned_start is None:
            raise InputError(f"{job.where}: fields planned_start, planned_machine: the twin needs the site's own plan")
        run = PlannedRun(job.id, job.planned_machine, job.planned_start, _minutes(job), job.power_kw, job.after, slot_min=slot_min)
        runs.append(run)
        end = run.start + pd.Timedelta(minutes=run.duration_min)
        first, last = spans.get(run.machine, (run.start, end))
        spans[run.machine] = (min(first, run.start), max(last, end))
    return DayPlan(day, "baseline", tuple(runs), {machine: (span,) for machine, span in spans.items()})


def schedule_day_plan(day: dt.date, jobs: list[Job], problem: dict, schedule: dict) -> DayPlan:
    """The optimiser's plan: the schedule's job placements and machine on-intervals, with each
    job's true length and power from the jobs it was made from."""
    start = pd.Timestamp(problem["start"]).tz_convert("UTC")
    step = pd.Timedelta(minutes=problem["resolution_minutes"])
    by_id = {job.id: job for job in jobs}
    powers = {entry["id"]: entry["power_kw"] for entry in problem["jobs"]}
    runs = []
    for placed in schedule["jobs"]:
        job = by_id[placed["id"]]
        power = powers[job.id]
        runs.append(
            PlannedRun(
                job.id,
                placed["machine"],
                start + placed["start_slot"] * step,
                _minutes(job),
                tuple(power) if isinstance(power, list) else float(power),
                job.after,
                slot_min=problem["resolution_minutes"],
            )
        )
    machines_on = {
        machine: tuple((start + a * step, start + b * step) for a, b in intervals)
        for machine, intervals in (schedule.get("machines_on") or {}).items()
    }
    return DayPlan(day, "optimised", tuple(runs), machines_on)
