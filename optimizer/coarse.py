"""A coarse-time first stage: solve the problem on slots ``factor`` times longer, then refine.

For tightly packed instances (the ICON samples: long tasks, several resources) neither the greedy
heuristics nor HiGHS's own heuristics find a first schedule in time on the fine grid, where the
model has over a million nonzeros. On a grid ``factor`` times coarser the model has about
``factor²`` times fewer nonzeros. The coarse problem is *conservative*, so every coarse schedule
maps to a fine one that is feasible:

- a job's duration is rounded up to whole coarse slots, its earliest start rounded up and its
  deadline rounded down (the fine run [s·k, s·k + d) lies inside the coarse run's slots);
- a coarse slot is unavailable on a machine when any of its fine slots is;
- per-slot powers, base load and the negative of PV take the maximum over the fine slots (so the
  grid limit holds in every fine slot), prices the mean (they only steer the cost).

The fine schedule is then the start ``s·k`` on the same machine, with each machine's on-periods
re-chosen optimally for the fine grid; it is the MIP start of the fine model.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from optimizer.checker import Placements
from optimizer.problem import Problem


def _blocks(series: np.ndarray, factor: int, how) -> np.ndarray:
    horizon = series.size
    padded = np.concatenate([series, np.full((-horizon) % factor, series[-1] if horizon else 0.0)])
    return how(padded.reshape(-1, factor), axis=1)


def coarsen(problem: Problem, factor: int) -> Problem:
    """The conservative coarse problem (slots ``factor`` times longer), or a problem whose jobs no
    longer fit their windows (then the caller tries a smaller factor)."""
    horizon = problem.horizon_slots // factor  # a partial last block is dropped: conservative
    machines = []
    for machine in problem.machines:
        unavailable = tuple(
            (first // factor, min(math.ceil(end / factor), horizon))
            for first, end in machine.unavailable if first // factor < horizon
        )
        machines.append(dataclasses.replace(machine, unavailable=unavailable))
    jobs = []
    for job in problem.jobs:
        d = math.ceil(job.duration_slots / factor)
        profile = np.full(d, float(job.power_kw.max()))  # the run's highest fine power in every coarse slot
        jobs.append(dataclasses.replace(
            job,
            duration_slots=d,
            power_kw=profile,
            earliest_start_slot=min(math.ceil(job.earliest_start_slot / factor), horizon),
            deadline_slot=min(job.deadline_slot // factor, horizon),
            planned_start_slot=None, planned_machine=None, previous_start_slot=None, previous_machine=None,
        ))
    keep = slice(0, horizon)
    return dataclasses.replace(
        problem,
        name=f"{problem.name} (coarse ×{factor})",
        resolution_minutes=problem.resolution_minutes * factor,
        horizon_slots=horizon,
        price_eur_per_kwh=_blocks(problem.price_eur_per_kwh, factor, np.mean)[keep],
        export_price_eur_per_kwh=_blocks(problem.export_price_eur_per_kwh, factor, np.mean)[keep],
        co2_g_per_kwh=_blocks(problem.co2_g_per_kwh, factor, np.mean)[keep],
        base_load_kw=_blocks(problem.base_load_kw, factor, np.max)[keep],
        pv_kw=_blocks(problem.pv_kw, factor, np.min)[keep],
        machines=tuple(machines),
        jobs=tuple(jobs),
        move_penalty_eur=0.0,
    )


def refine(coarse_jobs: list[dict], factor: int) -> Placements:
    """Fine placements from a coarse schedule's ``jobs`` (start s → s·factor, same machine)."""
    return {entry["id"]: (entry["machine"], entry["start_slot"] * factor) for entry in coarse_jobs}
