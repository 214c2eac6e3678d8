"""Plan adherence: which planned jobs really ran, when and where, detected from the meters.

The machines' measured states (:func:`energy.histories.states.machine_states`: per interval the
minutes each machine spent producing) give each machine's **producing spans**: maximal runs of
intervals with production, their edges placed to the minute from the producing minutes of the
first and last interval (production is taken to start at the end of its first interval and to end
at the start of its last one). A span may hold several jobs run back to back, part of an aborted
job, or production nobody planned.

:func:`match_day` explains each machine's spans with the day's planned jobs on it, in planned
order, by dynamic programming: every span is either a sequence of consecutive planned jobs
(started one after the other from the span's start, each ending where the next begins, the last
with the span) or an unplanned run; every planned job is
either in a span or not run. The explanation chosen minimises, in minutes,

    |span length − the jobs' planned durations| + START_WEIGHT × Σ |actual start − planned start|
    + the planned duration of each job called not run + the length of each span called unplanned,

with each job's actual start within [planned start − EARLY_LIMIT, planned start + LATE_LIMIT]. A
job not found on its planned machine is then looked for among the unplanned spans of its other
eligible machines (a job moved to another machine). Each job is **as planned** when it ran on its
planned machine within ``tolerance`` of its planned start, **moved** when it ran elsewhere or
later or earlier, **not run** otherwise; spans left over are **unplanned runs**. The day's
adherence rate is the share of planned jobs run as planned. :func:`match_plans` also tries the
site's own plan as the explanation (a day on which the operators ignored the plan given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

MINUTE = pd.Timedelta(minutes=1)
#: Weight of a minute of start deviation against a minute of length mismatch.
START_WEIGHT = 0.1
#: How far from its planned start a job's actual start may be to be recognised as that job.
EARLY_LIMIT = pd.Timedelta(hours=1)
LATE_LIMIT = pd.Timedelta(hours=6)
#: Shorter production is noise (a test run, a meter glitch), not a run.
MIN_RUN = pd.Timedelta(minutes=10)
#: A job that starts within this of its planned start ran as planned.
DEFAULT_TOLERANCE = pd.Timedelta(minutes=30)
AS_PLANNED, MOVED, NOT_RUN = "as_planned", "moved", "not_run"


@dataclass(frozen=True)
class PlannedJob:
    """A job of the plan the site was given (instants UTC)."""

    id: str
    machine: str
    start: pd.Timestamp
    duration: pd.Timedelta
    machines: tuple[str, ...] = ()  # every machine the job may run on

    @property
    def end(self) -> pd.Timestamp:
        return self.start + self.duration


@dataclass(frozen=True)
class Span:
    """A stretch of measured production on one machine, ``[start, end)`` UTC."""

    machine: str
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / MINUTE


@dataclass(frozen=True)
class JobOutcome:
    """What became of one planned job."""

    job: PlannedJob
    status: str  # as_planned | moved | not_run
    machine: str | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    @property
    def shift_min(self) -> float | None:
        return None if self.start is None else (self.start - self.job.start) / MINUTE


@dataclass(frozen=True)
class DayAdherence:
    jobs: tuple[JobOutcome, ...]
    unplanned: tuple[Span, ...]
    cost: float = 0.0  # of the explanation (minutes, module docstring): lower explains the day better
    run_by_site_plan: bool = False  # the day is better explained by the site's own plan than by the given one

    @property
    def rate(self) -> float:
        """Share of planned jobs run as planned (1.0 for a day without planned jobs)."""
        if not self.jobs:
            return 1.0
        return sum(outcome.status == AS_PLANNED for outcome in self.jobs) / len(self.jobs)

    def counts(self) -> dict[str, int]:
        counts = {AS_PLANNED: 0, MOVED: 0, NOT_RUN: 0}
        for outcome in self.jobs:
            counts[outcome.status] += 1
        return {**counts, "unplanned": len(self.unplanned)}

    def table(self) -> pd.DataFrame:
        """One row per planned job and per unplanned run (instants UTC)."""
        rows = [
            {
                "job": o.job.id,
                "status": o.status,
                "planned_machine": o.job.machine,
                "planned_start": o.job.start,
                "planned_end": o.job.end,
                "machine": o.machine,
                "start": o.start,
                "end": o.end,
                "shift_min": o.shift_min,
            }
            for o in self.jobs
        ]
        rows += [
            {"job": "", "status": "unplanned", "planned_machine": None, "planned_start": pd.NaT, "planned_end": pd.NaT,
             "machine": s.machine, "start": s.start, "end": s.end, "shift_min": None}
            for s in self.unplanned
        ]
        return pd.DataFrame(rows, columns=["job", "status", "planned_machine", "planned_start", "planned_end", "machine", "start", "end", "shift_min"])


def producing_spans(machine: str, producing_min: pd.Series, interval: pd.Timedelta) -> list[Span]:
    """The machine's producing spans from its producing minutes per interval (index: UTC interval
    starts of a regular grid); spans shorter than :data:`MIN_RUN` are dropped.

    A span opens in an interval with production (at the end of it, when production fills only part
    of it), goes on through full intervals and closes in the next interval that is not full (after
    its producing minutes).
    """
    width = interval / MINUTE
    spans: list[Span] = []
    start = None
    for begin, minutes in zip(producing_min.index, producing_min.fillna(0.0).to_numpy(dtype=float)):
        full = minutes >= width - 1e-9
        if start is None:
            if minutes > 0:
                start = begin + (width - minutes) * MINUTE
        elif not full:
            spans.append(Span(machine, start, begin + minutes * MINUTE))
            start = None
    if start is not None:
        spans.append(Span(machine, start, producing_min.index[-1] + interval))
    return [span for span in spans if span.end - span.start >= MIN_RUN]


def _explain_machine(jobs: list[PlannedJob], spans: list[Span]) -> tuple[list[tuple[PlannedJob, Span | None, pd.Timestamp | None]], list[Span]]:
    """The cheapest explanation of one machine's spans by its planned jobs (module docstring):
    (job, span or None, actual start) per job, and the spans left unplanned."""
    jobs = sorted(jobs, key=lambda j: (j.start, j.id))
    spans = sorted(spans, key=lambda s: s.start)

    @lru_cache(maxsize=None)
    def best(i: int, b: int) -> tuple[float, tuple]:
        if i == len(jobs) and b == len(spans):
            return 0.0, ()
        options = []
        if i < len(jobs):  # job i not run
            cost, plan = best(i + 1, b)
            options.append((jobs[i].duration / MINUTE + cost, (("job", i, None),) + plan))
        if b < len(spans):  # span b unplanned
            cost, plan = best(i, b + 1)
            options.append((spans[b].minutes + cost, (("span", b),) + plan))
            start, deviation, planned = spans[b].start, 0.0, 0.0
            for k in range(i, len(jobs)):  # span b = jobs i..k, started one after the other
                job = jobs[k]
                if not (job.start - EARLY_LIMIT <= start <= job.start + LATE_LIMIT):
                    break
                deviation += abs((start - job.start) / MINUTE)
                planned += job.duration / MINUTE
                cost, plan = best(k + 1, b + 1)
                total = abs(spans[b].minutes - planned) + START_WEIGHT * deviation + cost
                options.append((total, tuple(("job", j, b) for j in range(i, k + 1)) + plan))
                start = start + job.duration
        return min(options, key=lambda option: option[0])

    cost, plan = best(0, 0)
    assigned, used = [], set()
    offsets: dict[int, pd.Timestamp] = {}
    for step in plan:
        if step[0] == "job":
            _, i, b = step
            if b is None:
                assigned.append((jobs[i], None, None))
            else:
                start = offsets.get(b, spans[b].start)
                assigned.append((jobs[i], spans[b], start))
                offsets[b] = start + jobs[i].duration
                used.add(b)
    unplanned = [span for b, span in enumerate(spans) if b not in used]
    return assigned, unplanned, cost


def match_day(jobs: list[PlannedJob], spans: list[Span], tolerance: pd.Timedelta = DEFAULT_TOLERANCE) -> DayAdherence:
    """The day's adherence: each planned job's outcome and the unplanned runs (module docstring)."""
    by_machine: dict[str, list[Span]] = {}
    for span in spans:
        by_machine.setdefault(span.machine, []).append(span)
    outcomes: dict[str, JobOutcome] = {}
    unplanned: list[Span] = []
    machines = {job.machine for job in jobs} | set(by_machine)
    total = 0.0
    for machine in sorted(machines):
        assigned, left, cost = _explain_machine([j for j in jobs if j.machine == machine], by_machine.get(machine, []))
        unplanned += left
        total += cost
        # the jobs of a span share it out: each ends where the next begins, the last at its end
        following = {}
        in_spans = [(span, start, job) for job, span, start in assigned if span is not None]
        for (span, _, job), (next_span, next_start, _) in zip(in_spans, in_spans[1:]):
            if next_span is span:
                following[job.id] = next_start
        for job, span, start in assigned:
            if span is None:
                outcomes[job.id] = JobOutcome(job, NOT_RUN)
            else:
                status = AS_PLANNED if abs(start - job.start) <= tolerance else MOVED
                outcomes[job.id] = JobOutcome(job, status, machine, start, following.get(job.id, span.end))
    # a job not found on its machine may have run on another eligible one
    for job in sorted(jobs, key=lambda j: j.start):
        if outcomes[job.id].status != NOT_RUN:
            continue
        candidates = [
            s for s in unplanned
            if s.machine in job.machines and s.machine != job.machine
            and job.start - EARLY_LIMIT <= s.start <= job.start + LATE_LIMIT
            and math.isclose(s.minutes, job.duration / MINUTE, rel_tol=0.25)
        ]
        if candidates:
            span = min(candidates, key=lambda s: abs(s.start - job.start))
            unplanned.remove(span)
            outcomes[job.id] = JobOutcome(job, MOVED, span.machine, span.start, span.end)
    return DayAdherence(tuple(outcomes[job.id] for job in sorted(jobs, key=lambda j: (j.start, j.id))), tuple(sorted(unplanned, key=lambda s: s.start)), total)


def match_plans(given: list[PlannedJob], site_plan: list[PlannedJob], spans: list[Span], tolerance: pd.Timedelta = DEFAULT_TOLERANCE) -> DayAdherence:
    """The day's adherence to the ``given`` plan, when the day may have been run by the site's
    own plan instead (operators who ignore a plan run their usual one): both plans explain the
    spans, and the better explanation is kept, its outcomes judged against the given plan.
    ``site_plan`` holds the same jobs at their site-plan machine and start."""
    followed = match_day(given, spans, tolerance)
    usual = match_day(site_plan, spans, tolerance)
    if usual.cost >= followed.cost:
        return followed
    places = {job.id: job for job in given}
    outcomes = []
    for o in usual.jobs:
        job = places[o.job.id]
        if o.status == NOT_RUN:
            outcomes.append(JobOutcome(job, NOT_RUN))
            continue
        status = AS_PLANNED if o.machine == job.machine and abs(o.start - job.start) <= tolerance else MOVED
        outcomes.append(JobOutcome(job, status, o.machine, o.start, o.end))
    return DayAdherence(tuple(sorted(outcomes, key=lambda o: (o.job.start, o.job.id))), usual.unplanned, usual.cost, run_by_site_plan=True)
