"""Large-neighbourhood search: re-optimise a few jobs at a time with the same MILP, the rest fixed.

A neighbourhood is a set of *free* jobs and a time range: free jobs may move to any of their
feasible starts (on any eligible machine) that keeps their run inside the range, or stay; every
other job is fixed where it is. The sub-model is the full formulation over the whole horizon
(so the demand charge and switching see everything), solved from the current schedule as its MIP
start; with most jobs fixed it is small and HiGHS solves it to optimality in about a second.
A result is kept only when the checker passes it and it is cheaper.

Two ways of choosing neighbourhoods, each measured in docs/benchmarks.md:

- :func:`improve_by_windows` — overlapping one-day windows, for week-sized problems: the full
  week model (≈ 50,000 variables) is too large for HiGHS to improve on the start within minutes.
- :func:`improve_by_peak` — the jobs running in the slot of the current import peak together with
  others drawn at random, for problems with a demand charge: the peak term's LP bound is weak, so
  HiGHS's own search on the full model hardly lowers the peak (day seed 1: 488 kW after 600 s),
  while moving the jobs that make the peak does.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import numpy as np

from optimizer.checker import penalised, placements_of, schedule_cost
from optimizer.highs import SolveStats, run_highs
from optimizer.model import ModelOptions, build_model, read_schedule, set_start_values
from optimizer.prepare import Prepared
from optimizer.problem import Problem

log = logging.getLogger(__name__)

#: Jobs freed per peak neighbourhood (measured on the day benchmark: 10 solves in ~1 s).
PEAK_NEIGHBOURHOOD_JOBS = 10
#: Seconds one peak neighbourhood may take at most.
PEAK_SOLVE_S = 3.0
#: The peak search gives the rest of its time to the full model after this many neighbourhoods in
#: a row without an improvement.
PEAK_PATIENCE = 15


def neighbourhood_prepared(
    problem: Problem, prepared: Prepared, placements: dict, free: set[str], first: int = 0, end: int | None = None
) -> Prepared:
    """The starts of a neighbourhood: ``free`` jobs anywhere their run stays inside [first, end),
    or where they are; every other job fixed."""
    end = problem.horizon_slots if end is None else end
    starts: dict[tuple[str, str], np.ndarray] = {}
    for job in problem.jobs:
        machine_id, start = placements[job.id]
        d = job.duration_slots
        for m in job.machines:
            own = prepared.starts.get((job.id, m))
            if own is None:
                continue
            keep = own == start if m == machine_id else np.zeros(own.size, dtype=bool)
            if job.id in free:
                keep = keep | ((own >= first) & (own + d <= end))
            if keep.any():
                starts[(job.id, m)] = own[keep]
    return Prepared(starts, prepared.order, prepared.earliest_start, prepared.latest_start)


def improve_neighbourhood(
    problem: Problem, prepared: Prepared, document: dict, free: set[str], first: int, end: int,
    solve_until: float, options: ModelOptions | None, evaluate: Callable,
) -> dict:
    """``document`` improved by re-optimising one neighbourhood until ``solve_until`` (else as it was)."""
    placements = placements_of(document)
    model = build_model(problem, neighbourhood_prepared(problem, prepared, placements, free, first, end), options)
    set_start_values(model, problem, placements, document["machines_on"])
    outcome = run_highs(model, solve_until, 0.0, True, SolveStats())
    if not outcome.has_solution:
        return document
    solved, machines_on = read_schedule(model, problem)
    if len(solved) < len(problem.jobs):
        return document
    candidate = evaluate(solved, machines_on)
    return candidate if penalised(candidate) < penalised(document) - 1e-6 else document


def improve_by_windows(
    problem: Problem, prepared: Prepared, document: dict, deadline: float, options: ModelOptions | None,
    window_slots: int, evaluate: Callable,
) -> dict:
    """The best schedule found by re-optimising overlapping windows (half a window apart) until
    ``deadline``; each window gets an equal share of the time. ``evaluate(placements,
    machines_on)`` returns a checked schedule document (or raises)."""
    horizon = problem.horizon_slots
    step = max(window_slots // 2, 1)
    windows = [(a, min(a + window_slots, horizon)) for a in range(0, max(horizon - step, 1), step)]
    current = document
    for number, (first, end) in enumerate(windows):
        now = time.perf_counter()
        share = (deadline - now) / (len(windows) - number)
        if share < 1.0:
            break
        placements = placements_of(current)
        touching = {j.id for j in problem.jobs if placements[j.id][1] < end and first < placements[j.id][1] + j.duration_slots}
        before = penalised(current)
        current = improve_neighbourhood(problem, prepared, current, touching, first, end, now + max(share, 0.5), options, evaluate)
        if penalised(current) < before:
            log.info("window [%d, %d): %.2f → %.2f", first, end, before, current["objective_eur"])
    return current


def peak_neighbourhood(problem: Problem, document: dict, rng: random.Random, size: int = PEAK_NEIGHBOURHOOD_JOBS) -> set[str]:
    """Up to half of ``size`` jobs running in the slot of the highest grid import, the rest drawn
    at random from the other jobs."""
    placements = placements_of(document)
    peak_slot = int(np.argmax(schedule_cost(problem, placements, document["machines_on"]).net_kw))
    at_peak = [j.id for j in problem.jobs if placements[j.id][1] <= peak_slot < placements[j.id][1] + j.duration_slots]
    peak_jobs = set(at_peak)
    others = [j.id for j in problem.jobs if j.id not in peak_jobs]
    chosen = rng.sample(at_peak, min(len(at_peak), size // 2))
    return set(chosen) | set(rng.sample(others, min(len(others), size - len(chosen))))


def improve_by_peak(
    problem: Problem, prepared: Prepared, document: dict, deadline: float, options: ModelOptions | None,
    evaluate: Callable, seed: int = 0,
) -> dict:
    """The best schedule found by re-optimising peak neighbourhoods (:func:`peak_neighbourhood`)
    until ``deadline`` or :data:`PEAK_PATIENCE` neighbourhoods in a row bring nothing."""
    rng = random.Random(seed)
    current, idle = document, 0
    while (left := deadline - time.perf_counter()) > 0.5 and idle < PEAK_PATIENCE:
        before = penalised(current)
        free = peak_neighbourhood(problem, current, rng)
        current = improve_neighbourhood(
            problem, prepared, current, free, 0, problem.horizon_slots, time.perf_counter() + min(PEAK_SOLVE_S, left), options, evaluate
        )
        idle = idle + 1 if penalised(current) >= before else 0
        if not idle:
            log.info("peak neighbourhood: %.2f → %.2f", before, current["objective_eur"])
    return current
