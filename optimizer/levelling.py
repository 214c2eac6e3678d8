"""Peak levelling: cheaper schedules under a demand charge, packed under a falling import cap.

The annealing (:mod:`optimizer.anneal`) moves one job at a time; where the import peak is made by
several overlapping runs, no single move lowers it and the demand charge stays. Here the peak is
lowered as a whole: an import cap is set as the problem's grid limit, the greedy strategies place
what they can under it and the packing search (:mod:`optimizer.packing`) completes the placement
without exceeding it. The cap is bisected between a floor (:func:`peak_floor_kw`) and the peak of
the last schedule packed; a cap not packed within :data:`PROBE_S` counts as out of reach. Every
packed schedule is costed with the contract's formula on the real problem (move penalties
included) and the cheapest is kept, so a lower peak that costs more in energy is not taken.
Measured on the generated days in docs/benchmarks.md (session 6).
"""

from __future__ import annotations

import dataclasses
import time

from optimizer.checker import Placements, move_penalty_eur, schedule_cost
from optimizer.heuristic import STRATEGIES, greedy_schedule, on_intervals_for, searching
from optimizer.packing import pack
from optimizer.prepare import prepare
from optimizer.problem import Problem

#: Seconds the packing search may take to place every job under one cap.
PROBE_S = 3.0
#: Bisection stops when the caps out of reach and within reach are this close (kW).
TOLERANCE_KW = 1.0


def peak_floor_kw(problem: Problem) -> float:
    """The import peak no schedule goes below while jobs only draw power (kW): the highest base
    load net of PV, or the net base load with every job's energy spread evenly over the horizon."""
    net = problem.net_base_kw
    job_kw_slots = sum(float(job.power_kw.sum()) for job in problem.jobs)
    return max(float(net.max()), float(net.mean()) + job_kw_slots / problem.horizon_slots)


def cost_and_peak(problem: Problem, placements: Placements) -> tuple[float, float]:
    """(objective plus move penalty in EUR, highest import in kW) of a complete placement."""
    result = schedule_cost(problem, placements, on_intervals_for(problem, placements))
    return result.objective_eur + move_penalty_eur(problem, placements)[0], float(result.net_kw.max())


def pack_under_cap(problem: Problem, cap_kw: float, deadline: float, stop=None) -> Placements | None:
    """A complete placement whose import stays within ``cap_kw`` (and the grid limit), or None
    when the packing search finds none by ``deadline`` or before ``stop`` (an event) is set."""
    limit = cap_kw if problem.grid_limit_kw is None else min(cap_kw, problem.grid_limit_kw)
    capped = dataclasses.replace(problem, grid_limit_kw=limit)
    prepared = prepare(capped)
    if not prepared.feasible:  # some job alone exceeds the cap somewhere in every start
        return None
    placements, unplaced = min(
        (greedy_schedule(capped, prepared, order_by, place_by, restarts=0) for order_by, place_by in STRATEGIES),
        key=lambda attempt: len(attempt[1]),
    )
    return pack(capped, prepared, placements, unplaced, deadline, stop=stop)


def level_peak(problem: Problem, placements: Placements, deadline: float, stop=None) -> Placements:
    """The cheapest of the complete feasible ``placements`` and the placements packed under
    bisected import caps until ``deadline`` (a ``time.perf_counter()`` value) or until ``stop``
    (a threading or multiprocessing event) is set."""
    best = placements
    best_cost, high = cost_and_peak(problem, placements)
    low = peak_floor_kw(problem)
    while high - low > TOLERANCE_KW and searching(deadline, stop):
        cap = (low + high) / 2
        packed = pack_under_cap(problem, cap, min(deadline, time.perf_counter() + PROBE_S), stop)
        if packed is None:
            low = cap
            continue
        cost, high = cost_and_peak(problem, packed)
        if cost < best_cost:
            best, best_cost = packed, cost
    return best
