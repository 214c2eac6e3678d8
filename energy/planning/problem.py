"""A local day's scheduling problem, in the optimiser's contract format.

``build_problem`` is pure: the jobs (with their power resolved), the site's machines and the
day's per-slot inputs (``energy.planning.inputs.DayInputs``) go in; the problem dict of
``shared/contracts/schedule-problem.md`` comes out. The horizon is the local day, midnight to
midnight in the site's time zone (92, 96 or 100 quarter hours), slot 0 starting at local midnight.
"""

from __future__ import annotations

import math

import pandas as pd

from energy.config import SiteConfig
from energy.errors import InputError
from energy.planning.inputs import DayInputs
from energy.planning.jobs import Job


def duration_slots(job: Job, resolution_minutes: int) -> int:
    """Whole slots a job occupies (its minutes rounded up: a started slot is a used slot)."""
    return math.ceil(job.duration_min / resolution_minutes - 1e-9)


def scheduled_machines(config: SiteConfig, jobs: list[Job]) -> list[str]:
    """The flexible machines the jobs may run on, in config order; others are an input error."""
    known = {m.id: m for m in config.machines}
    for job in jobs:
        for machine in job.machines:
            if machine not in known:
                raise InputError(f"{job.where}: field machines: unknown machine {machine!r} (config has: {', '.join(known)})")
            if not known[machine].flexible:
                raise InputError(f"{job.where}: field machines: machine {machine!r} is not flexible in the config")
    named = {machine for job in jobs for machine in job.machines}
    return [m.id for m in config.machines if m.id in named]


def _slot(instant: pd.Timestamp, slots: pd.DatetimeIndex, rounding) -> int:
    step = slots[1] - slots[0]
    return int(rounding((instant - slots[0]) / step))


def _job_entry(job: Job, power_kw: float | list[float], slots: pd.DatetimeIndex, resolution_minutes: int) -> dict:
    horizon = len(slots)
    length = duration_slots(job, resolution_minutes)
    if isinstance(power_kw, (list, tuple)) and len(power_kw) != length:
        raise InputError(
            f"{job.where}: field power_kw: the profile has {len(power_kw)} value(s) but the job lasts {length} slot(s)"
        )
    entry: dict = {
        "id": job.id,
        "machines": list(job.machines),
        "duration_slots": length,
        "power_kw": list(power_kw) if isinstance(power_kw, (list, tuple)) else float(power_kw),
    }
    if job.earliest_start is not None:
        entry["earliest_start_slot"] = min(max(_slot(job.earliest_start, slots, math.ceil), 0), horizon)
    if job.deadline is not None:
        entry["deadline_slot"] = min(max(_slot(job.deadline, slots, math.floor), 0), horizon)
    if job.after:
        entry["after"] = list(job.after)
    if job.planned_start is not None:
        start = _slot(job.planned_start, slots, math.floor)
        if not 0 <= start <= horizon - length:
            raise InputError(f"{job.where}: field planned_start: the planned run does not fit in the planned day")
        entry["planned_start_slot"] = start
        entry["planned_machine"] = job.planned_machine
    return entry


def _unavailable(config: SiteConfig, slots: pd.DatetimeIndex) -> list[list[int]]:
    day = slots[0].tz_convert(config.site.timezone).date()
    return [[0, len(slots)]] if day in config.calendar.shutdown_days else []


def build_problem(
    config: SiteConfig,
    jobs: list[Job],
    power_kw: dict[str, float | list[float]],
    inputs: DayInputs,
    name: str = "",
) -> dict:
    """The contract problem for the day of ``inputs.slots``.

    ``power_kw`` maps each job id to its power (a number, or one value per slot of its run), as
    given in the jobs file or learned for its recipe. Shutdown days from the config's calendar
    make every scheduled machine unavailable for the whole day.
    """
    slots = inputs.slots
    resolution = config.site.interval_minutes
    machines = scheduled_machines(config, jobs)
    unavailable = _unavailable(config, slots)
    problem: dict = {
        "name": name,
        "start": slots[0].tz_convert(config.site.timezone).isoformat(),
        "resolution_minutes": resolution,
        "horizon_slots": len(slots),
        "price_eur_per_kwh": _values(inputs.price_eur_per_kwh),
        "export_price_eur_per_kwh": _values(inputs.export_price_eur_per_kwh),
        "co2_g_per_kwh": _values(inputs.co2_g_per_kwh),
        "co2_price_eur_per_t": config.planning.co2_price_eur_per_t,
        "base_load_kw": _values(inputs.base_load_kw),
        "pv_kw": _values(inputs.pv_kw),
        "machines": [],
        "jobs": [_job_entry(job, power_kw[job.id], slots, resolution) for job in jobs],
    }
    for machine_id in machines:
        machine = config.machine(machine_id)
        entry = {
            "id": machine.id,
            "idle_kw": machine.idle_kw,
            "startup_eur": machine.startup_eur,
            "shutdown_eur": machine.shutdown_eur,
        }
        if unavailable:
            entry["unavailable"] = unavailable
        problem["machines"].append(entry)
    if config.planning.grid_limit_kw is not None:
        problem["grid_limit_kw"] = config.planning.grid_limit_kw
    if inputs.demand_charge is not None:
        problem["demand_charge"] = dict(inputs.demand_charge)
    return problem


def _values(series: pd.Series) -> list[float]:
    # Rounded to µ-units: stored problems stay short and replay from their JSON bit for bit.
    return [round(float(v), 6) for v in series.to_numpy()]
