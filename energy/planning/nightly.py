"""The nightly job: tomorrow's jobs → problem → schedule → stored run → MES export.

:func:`run_nightly` is what ``energy plan`` and ``energy demo`` call. Under the site's planning
lock it reads the jobs, learns recipe profiles, reads the day's stored forecasts, prices and
carbon factors, builds the contract problem, solves it within the wall-clock limit, and then, in
one database transaction, stores the run and stages the export files; only after the commit are
the files renamed into place. A failure anywhere before the commit leaves neither a stored run
nor a file behind. An infeasible or failed solve is stored as history (with the optimiser's
explanation), exports nothing and keeps the date's previous plan current.

:func:`replay` re-solves a stored run's problem with its solver settings and compares the result
with the stored schedule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.planning import export, inputs, recipes, runs
from energy.planning.jobs import Job, read_jobs
from energy.planning.problem import build_problem, duration_slots, scheduled_machines
from energy.storage.site import site_id as config_site_id
from energy.timeutil import timestamp_to_ms

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """The outcome of one nightly run, for the log, the CLI and the demo."""

    run_id: int | None
    plan_date: str
    status: str
    objective_eur: float | None = None
    baseline_eur: float | None = None
    expected_savings: dict | None = None
    gap: float | None = None
    exported: list[Path] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status in runs.SUCCESS

    def describe(self) -> str:
        """A short, log-friendly account of the run."""
        if not self.succeeded:
            reasons = "; ".join(self.explanation) or "no explanation given by the optimiser"
            return f"plan {self.plan_date}: {self.status} (run {self.run_id}, nothing exported): {reasons}"
        text = f"plan {self.plan_date}: {self.status}, run {self.run_id}, cost {self.objective_eur:.2f}"
        if self.expected_savings:
            text += f", expected savings {self.expected_savings['total_eur']:.2f} against the planned baseline"
        if self.status == "feasible":
            gap = "unknown (no bound proven)" if self.gap is None else f"{self.gap:.2%}"
            text += f" (time or gap limit reached: best schedule found, gap {gap})"
        return text + "; exported " + ", ".join(str(p) for p in self.exported)


def solve(problem: dict, time_limit_s: float, gap: float) -> dict:
    """The optimiser's schedule for a contract problem (``optimizer.solve``)."""
    from optimizer import solve as optimizer_solve  # Pyomo loads only when a plan is solved

    return optimizer_solve(problem, time_limit_s=time_limit_s, gap=gap)


def default_plan_date(config: SiteConfig, now: pd.Timestamp | None = None) -> dt.date:
    """Tomorrow in the site's time zone."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    return (now.tz_convert(config.site.timezone) + pd.Timedelta(days=1)).date()


def jobs_file(config: SiteConfig, jobs_path: Path | None) -> Path:
    """The jobs file given, else the config's ``planning.jobs_file``."""
    path = jobs_path or config.resolve(config.planning.jobs_file)
    if path is None:
        raise InputError(f"{config.path or 'config'}: planning.jobs_file is not set and no --jobs file was given")
    return Path(path)


def _job_powers(engine: Engine, config: SiteConfig, sid: str, jobs: list[Job], slots: pd.DatetimeIndex) -> dict:
    resolution = config.site.interval_minutes
    before_ms = timestamp_to_ms(slots[0])
    return {
        job.id: job.power_kw
        if job.recipe is None
        else recipes.learn_profile_kw(engine, config, sid, job, duration_slots(job, resolution), resolution, before_ms)
        for job in jobs
    }


def run_nightly(
    engine: Engine,
    config: SiteConfig,
    plan_date: dt.date | None = None,
    jobs_path: Path | None = None,
    time_limit_s: float | None = None,
    gap: float | None = None,
    forecast: bool = False,
) -> RunSummary:
    """Plan ``plan_date`` (default tomorrow, site time) and store and export the result.

    With ``forecast``, the day's load and PV forecasts are made and stored first
    (:func:`energy.forecasts.forecast_site`, as ``energy plan`` does); otherwise the newest
    stored forecasts covering the day are used.

    Raises ``InputError`` for bad or missing input, ``runs.RunLockedError`` when another run
    holds the lock; an infeasible problem returns a summary with ``succeeded`` false.
    """
    sid = config_site_id(config)
    day = plan_date or default_plan_date(config)
    time_limit_s = time_limit_s or config.planning.time_limit_s
    gap = config.planning.gap if gap is None else gap
    tz = config.site.timezone
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[stage] = round(now - clock, 3)
        clock = now

    with runs.run_lock(engine, sid):
        if forecast:
            from energy.forecasts import forecast_site

            made = forecast_site(engine, config, day)
            log.info("forecasts for %s: %d series stored, %d skipped", day, len(made.series), len(made.skipped))
            lap("forecast")
        path = jobs_file(config, jobs_path)
        jobs = read_jobs(path, day, tz)
        slots = inputs.day_slots(day, tz, config.site.interval_minutes)
        powers = _job_powers(engine, config, sid, jobs, slots)
        lap("jobs")
        day_inputs = inputs.load_day_inputs(engine, config, scheduled_machines(config, jobs), slots)
        problem = build_problem(config, jobs, powers, day_inputs, name=f"{sid} {day}")
        lap("problem")
        log.info("solving %s: %d jobs on %d machines, %d slots, limit %gs", day, len(jobs), len(problem["machines"]), len(slots), time_limit_s)
        schedule = solve(problem, time_limit_s, gap)
        lap("solve")
        record = runs.RunRecord(
            site_id=sid,
            plan_date=day.isoformat(),
            inputs={
                "plan_date": day.isoformat(),
                "timezone": tz,
                "jobs_file": str(path),
                "jobs_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "jobs": [job.to_json(tz) for job in jobs],
                "config": config.model_dump(mode="json"),
                **day_inputs.sources,
            },
            problem=problem,
            schedule=schedule,
            solver={"time_limit_s": time_limit_s, "gap_limit": gap, **_solver_figures(schedule)},
            versions=runs.software_versions(),
        )
        summary = store_and_export(engine, config, record)
        lap("store_export")
    summary.stage_seconds = stages
    return summary


def _solver_figures(schedule: dict) -> dict:
    return {key: schedule.get(key) for key in ("status", "objective_eur", "lower_bound_eur", "gap", "solve_seconds")}


def store_and_export(engine: Engine, config: SiteConfig, record: runs.RunRecord) -> RunSummary:
    """Store the run and, for a schedule, write the MES export: both happen or neither does.

    The run is inserted and the export files are staged inside one transaction; the files are
    renamed into place only after the commit.
    """
    schedule = record.schedule
    summary = RunSummary(
        run_id=None,
        plan_date=record.plan_date,
        status=record.status,
        objective_eur=schedule.get("objective_eur"),
        baseline_eur=(schedule.get("baseline") or {}).get("objective_eur"),
        expected_savings=runs.expected_savings(schedule),
        gap=schedule.get("gap"),
        explanation=list(schedule.get("explanation") or []),
    )
    staged = None
    try:
        with engine.begin() as conn:
            summary.run_id = runs.store_run(conn, record)
            if summary.succeeded:
                header = {
                    "site": record.site_id,
                    "plan_date": record.plan_date,
                    "run_id": summary.run_id,
                    "status": record.status,
                    "timezone": config.site.timezone,
                    "objective_eur": schedule["objective_eur"],
                }
                export_dir = config.resolve(config.planning.export_dir)
                staged = export.stage_schedule(export_dir, record.plan_date, record.problem, schedule, config.site.timezone, header)
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    if staged is not None:
        summary.exported = staged.publish()
    return summary


@dataclass
class ReplayResult:
    run_id: int
    reproduced: bool
    status: str
    objective_eur: float | None
    stored_objective_eur: float | None
    differences: list[str]


def replay(engine: Engine, run_id: int, time_limit_s: float | None = None) -> ReplayResult:
    """Re-solve a stored run's problem with its solver settings; compare with its schedule."""
    run = runs.load_run(engine, run_id)
    settings = run.solver or {}
    limit = time_limit_s or settings.get("time_limit_s") or 60.0
    schedule = solve(run.problem, limit, settings.get("gap_limit", 0.0))
    stored = {j["id"]: (j["machine"], j["start_slot"]) for j in run.schedule.get("jobs", [])}
    again = {j["id"]: (j["machine"], j["start_slot"]) for j in schedule.get("jobs", [])}
    differences = [
        f"job {job}: stored {stored.get(job)}, replayed {again.get(job)}"
        for job in sorted(set(stored) | set(again))
        if stored.get(job) != again.get(job)
    ]
    if schedule.get("status") != run.status:
        differences.insert(0, f"status: stored {run.status}, replayed {schedule.get('status')}")
    return ReplayResult(
        run_id=run_id,
        reproduced=not differences,
        status=schedule.get("status", "error"),
        objective_eur=schedule.get("objective_eur"),
        stored_objective_eur=run.schedule.get("objective_eur"),
        differences=differences,
    )
