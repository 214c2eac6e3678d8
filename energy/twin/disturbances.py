"""What goes differently from the plan on one day, drawn once and applied to every plan.

The same :class:`DayDisturbances` are applied to the plan the site ran and to the counterfactual
(the site's own plan), so the difference between the two executions is the plan's effect alone:
the true savings. Draws are seeded by the twin's seed and the day, so a twin run is reproducible
and any day can be re-drawn without drawing the days before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from energy.planning.jobs import Job
from energy.twin.params import Disturbances, Orders
from energy.twin.plans import PlannedRun


@dataclass(frozen=True)
class DayDisturbances:
    """One day's departures from any plan (all instants UTC)."""

    delays_min: dict[str, int] = field(default_factory=dict)  # job → minutes its start slips
    cancelled: frozenset[str] = frozenset()  # jobs not produced after all
    energy_scale: dict[str, float] = field(default_factory=dict)  # job → true energy / planned energy
    breakdowns: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=dict)  # machine → down [from, to)
    extra_runs: tuple[PlannedRun, ...] = ()  # unplanned runs (rework, urgent orders)
    plan_ignored: bool = False  # operators run the site's own plan whatever they were given
    left_idle_until: dict[str, pd.Timestamp] = field(default_factory=dict)  # machine → idling until

    def events(self) -> list[dict]:
        """The day's disturbances as rows (``kind``, ``job``, ``machine``, ``detail``) for the truth store."""
        rows = [{"kind": "delay", "job": job, "machine": "", "detail": f"{minutes} min"} for job, minutes in sorted(self.delays_min.items())]
        rows += [{"kind": "cancelled", "job": job, "machine": "", "detail": ""} for job in sorted(self.cancelled)]
        rows += [
            {"kind": "breakdown", "job": "", "machine": machine, "detail": f"{start.isoformat()} to {end.isoformat()}"}
            for machine, (start, end) in sorted(self.breakdowns.items())
        ]
        rows += [
            {"kind": "extra_run", "job": run.job, "machine": run.machine, "detail": f"{run.start.isoformat()}, {run.duration_min} min"}
            for run in self.extra_runs
        ]
        if self.plan_ignored:
            rows.append({"kind": "plan_ignored", "job": "", "machine": "", "detail": "the site's own plan was run"})
        rows += [
            {"kind": "left_idle", "job": "", "machine": machine, "detail": f"until {until.isoformat()}"}
            for machine, until in sorted(self.left_idle_until.items())
        ]
        return rows


def day_rng(seed: int, day: dt.date, stream: int) -> np.random.Generator:
    """A generator for one purpose (``stream``) on one day: independent of the other days."""
    return np.random.default_rng([seed, day.toordinal(), stream])


def draw_disturbances(
    settings: Disturbances,
    orders: Orders,
    rng: np.random.Generator,
    jobs: list[Job],
    machines: list[str],
    day_start: pd.Timestamp,
    day_end: pd.Timestamp,
    shift_window: tuple[pd.Timestamp, pd.Timestamp] | None,
    idle_until: pd.Timestamp | None,
) -> DayDisturbances:
    """Draw one day's disturbances.

    ``machines``: the site's machines (breakdowns, idling); ``shift_window``: the day's first
    shift start and last shift end when it is a working day (extra runs fall inside it);
    ``idle_until``: when the next working day starts if a non-working stretch follows the day
    (machines may be left idling until then).
    """
    delays = {}
    for job in jobs:
        if rng.random() < settings.delay_probability:
            delays[job.id] = max(1, int(round(rng.exponential(settings.delay_mean_min))))
    cancelled = frozenset(job.id for job in jobs if rng.random() < settings.cancel_probability)
    spread = orders.energy_spread_pct / 100.0
    energy_scale = {job.id: float(max(0.5, 1.0 + spread * rng.standard_normal())) for job in jobs} if spread else {}
    breakdowns = {}
    day_minutes = int((day_end - day_start) / pd.Timedelta(minutes=1))
    for machine in machines:
        if rng.random() < settings.breakdowns_per_machine_year / 365.0:
            start = day_start + pd.Timedelta(minutes=int(rng.integers(0, day_minutes)))
            hours = rng.uniform(*settings.breakdown_hours)
            breakdowns[machine] = (start, start + pd.Timedelta(minutes=int(round(hours * 60))))
    extra = []
    if shift_window is not None:
        for machine in machines:
            templates = [job for job in jobs if machine in job.machines and job.power_kw is not None]
            if not templates or rng.random() >= settings.extra_run_probability:
                continue
            template = templates[int(rng.integers(0, len(templates)))]
            minutes = int(round(template.duration_min))
            latest = int((shift_window[1] - shift_window[0]) / pd.Timedelta(minutes=1)) - minutes
            if latest < 0:
                continue
            start = shift_window[0] + pd.Timedelta(minutes=int(rng.integers(0, latest + 1)))
            extra.append(PlannedRun(f"extra-{machine}-{template.id}", machine, start, minutes, template.power_kw, kind="extra"))
    ignored = bool(rng.random() < settings.ignored_day_probability)
    left_idle = {}
    if idle_until is not None:
        left_idle = {machine: idle_until for machine in machines if rng.random() < settings.weekend_idle_probability}
    return DayDisturbances(delays, cancelled, energy_scale, breakdowns, tuple(extra), ignored, left_idle)
