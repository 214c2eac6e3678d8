"""Large-neighbourhood search over time windows, for week-sized problems.

The full week model (≈ 50,000 variables) is too large for HiGHS to improve on the heuristic start
within minutes on two cores. Here the schedule is improved one time window at a time: the jobs
whose run touches the window may move to any start that keeps their run inside it (or stay), all
other jobs are fixed where they are, and the sub-model (same formulation, same objective over the
whole horizon, so the demand charge and switching see everything) is solved from the current
schedule as its MIP start. Windows of one day overlap by half; each gets an equal share of the
time. A window's result is kept only when the checker passes it and it is cheaper.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from optimizer.checker import penalised, placements_of
from optimizer.highs import SolveStats, run_highs
from optimizer.model import ModelOptions, build_model, read_schedule, set_start_values
from optimizer.prepare import Prepared
from optimizer.problem import Problem

log = logging.getLogger(__name__)


def window_prepared(problem: Problem, prepared: Prepared, placements: dict, first: int, end: int) -> Prepared:
    """The starts of the neighbourhood: free jobs inside [first, end), every other job fixed."""
    starts: dict[tuple[str, str], np.ndarray] = {}
    for job in problem.jobs:
        machine_id, start = placements[job.id]
        d = job.duration_slots
        free = start < end and first < start + d
        for m in job.machines:
            own = prepared.starts.get((job.id, m))
            if own is None:
                continue
            keep = own == start if m == machine_id else np.zeros(own.size, dtype=bool)
            if free:
                keep = keep | ((own >= first) & (own + d <= end))
            if keep.any():
                starts[(job.id, m)] = own[keep]
    return Prepared(starts, prepared.order, prepared.earliest_start, prepared.latest_start)


def improve_by_windows(
    problem: Problem, prepared: Prepared, document: dict, deadline: float, options: ModelOptions | None,
    window_slots: int, evaluate,
) -> dict:
    """The best schedule found by re-optimising overlapping windows until ``deadline``.

    ``evaluate(placements, machines_on)`` returns a checked schedule document (or raises).
    """
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
        model = build_model(problem, window_prepared(problem, prepared, placements, first, end), options)
        set_start_values(model, problem, placements, current["machines_on"])
        outcome = run_highs(model, time.perf_counter() + max(share - (time.perf_counter() - now), 0.5), 0.0, True, SolveStats())
        if not outcome.has_solution:
            continue
        solved, machines_on = read_schedule(model, problem)
        if len(solved) < len(problem.jobs):
            continue
        candidate = evaluate(solved, machines_on)
        if penalised(candidate) < penalised(current) - 1e-6:
            log.info("window [%d, %d): %.2f → %.2f", first, end, current["objective_eur"], candidate["objective_eur"])
            current = candidate
    return current
