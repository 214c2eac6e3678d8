"""Power profiles of named recipes, learned from the machines' measured history.

A job may name a ``recipe`` instead of giving ``power_kw``. Its profile is learned from earlier
runs of the same recipe: every job of a past *current* plan that named the recipe, ran on one of
the job's eligible machines, lasted as many slots, and ended before the planned day, with the
machine's measured interval energy complete over the run. The profile is the per-slot median of
those runs' power minus the machine's idle power (the optimiser adds idle power itself), clipped
at zero. The newest ``MAX_RUNS`` occurrences are used.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.histories.store import load_intervals
from energy.planning.jobs import Job
from energy.storage import schema
from energy.timeutil import from_epoch_ms

MAX_RUNS = 20


def past_occurrences(engine: Engine, site_id: str, recipe: str, before_ms: int) -> pd.DataFrame:
    """Past planned runs of ``recipe`` (newest first): machine_id, start_ms, end_ms."""
    runs, jobs = schema.plan_runs, schema.plan_jobs
    with engine.connect() as conn:
        past = conn.execute(
            sa.select(runs.c.id, runs.c.inputs_json)
            .where(runs.c.site_id == site_id, runs.c.is_current.is_(True))
            .order_by(runs.c.plan_date.desc())
        ).fetchall()
        named = {
            (run_id, job["job"])
            for run_id, inputs in past
            for job in json.loads(inputs).get("jobs", [])
            if job.get("recipe") == recipe
        }
        if not named:
            return pd.DataFrame(columns=["machine_id", "start_ms", "end_ms"])
        rows = conn.execute(
            sa.select(jobs.c.run_id, jobs.c.job_id, jobs.c.machine_id, jobs.c.start_ms, jobs.c.end_ms)
            .where(jobs.c.run_id.in_({run_id for run_id, _ in named}), jobs.c.end_ms <= before_ms)
            .order_by(jobs.c.start_ms.desc())
        ).fetchall()
    found = [(m, s, e) for run_id, job_id, m, s, e in rows if (run_id, job_id) in named]
    return pd.DataFrame(found, columns=["machine_id", "start_ms", "end_ms"])


def learn_profile_kw(engine: Engine, config: SiteConfig, site_id: str, job: Job, slots: int, resolution_minutes: int, before_ms: int) -> list[float]:
    """The learned power profile (kW per slot of the run) of ``job.recipe``."""
    step_ms = resolution_minutes * 60_000
    occurrences = past_occurrences(engine, site_id, job.recipe, before_ms)
    occurrences = occurrences[
        occurrences["machine_id"].isin(job.machines) & ((occurrences["end_ms"] - occurrences["start_ms"]) == slots * step_ms)
    ]
    profiles = []
    for machine_id, start_ms, end_ms in occurrences.itertuples(index=False):
        measured = load_intervals(engine, "machine", machine_id, from_epoch_ms([start_ms])[0], from_epoch_ms([end_ms])[0])
        energy = measured["energy_kwh"].to_numpy(dtype=float)
        if len(energy) != slots or np.isnan(energy).any():
            continue
        profiles.append(energy / (resolution_minutes / 60) - config.machine(machine_id).idle_kw)
        if len(profiles) == MAX_RUNS:
            break
    if not profiles:
        raise InputError(
            f"{job.where}: field recipe: no past run of recipe {job.recipe!r} lasting {slots} slot(s) on "
            f"{', '.join(job.machines)} with complete readings to learn its power from; give power_kw instead"
        )
    median = np.median(np.vstack(profiles), axis=0).clip(min=0)
    return [round(float(v), 3) for v in median]
