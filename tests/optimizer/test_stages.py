"""The coarse-time first stage and the neighbourhood searches: they only ever hand on checked schedules."""

import random
import time

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.contrib.appsi.solvers import Highs

from optimizer import check, parse_problem
from optimizer.coarse import coarsen
from optimizer.generator import generate_problem
from optimizer.heuristic import on_intervals_for
from optimizer.lns import improve_by_windows, improve_neighbourhood, peak_neighbourhood
from optimizer.prepare import prepare
from optimizer.highs import SolveStats
from optimizer.model import build_model
from optimizer.solve import coarse_start, schedule_document, solve, windows_with_lp_bound
from tests.optimizer.helpers import tiny_problem


def three_days(jobs=8) -> dict:
    """Hourly slots over three days, prices low at night; jobs planned at 08:00 on day one."""
    rng = np.random.default_rng(7)
    hours = np.arange(72) % 24
    problem = tiny_problem(
        horizon_slots=72,
        price_eur_per_kwh=np.where((hours < 6) | (hours >= 22), 0.1, 0.3).tolist(),
        base_load_kw=[20.0] * 72,
        demand_charge={"eur_per_kw": 2.0, "peak_so_far_kw": 30.0},
        machines=[{"id": "m1", "idle_kw": 2.0, "startup_eur": 1.0}, {"id": "m2", "unavailable": [[30, 40]]}],
        jobs=[
            {"id": f"j{k}", "machines": ["m1", "m2"], "duration_slots": int(rng.integers(1, 4)),
             "power_kw": float(rng.integers(10, 40)), "planned_start_slot": 8 + 4 * k, "planned_machine": "m1"}
            for k in range(jobs)
        ],
    )
    return problem


def test_a_coarse_schedule_maps_to_a_feasible_fine_one():
    raw = three_days()
    problem = parse_problem(raw)
    coarse = coarsen(problem, 3)
    assert coarse.horizon_slots == 24 and coarse.machine("m2").unavailable == ((10, 14),)
    assert all(j.duration_slots == 1 for j in coarse.jobs)
    document = coarse_start(problem, time.perf_counter() + 20)
    assert document is not None
    assert check(problem, document).ok
    assert all(entry["start_slot"] % 3 == 0 for entry in document["jobs"])  # coarse starts × 6 or × 3


def test_window_search_never_gets_worse_and_stays_feasible():
    problem = parse_problem(three_days())
    prepared = prepare(problem)
    plan = problem.planned_placements()
    start = schedule_document(problem, plan, on_intervals_for(problem, plan))
    improved = improve_by_windows(
        problem, prepared, start, time.perf_counter() + 20, None, 24,
        lambda placements, machines_on: schedule_document(problem, placements, machines_on),
    )
    assert check(problem, improved).ok
    assert improved["objective_eur"] < start["objective_eur"]  # the day-one jobs move to the night
    assert improved["objective_eur"] == pytest.approx(check(problem, improved).objective_eur)


def test_peak_search_lowers_the_peak_of_the_site_plan_and_stays_feasible():
    problem = parse_problem(generate_problem("day", 3))
    prepared = prepare(problem)
    plan = problem.planned_placements()
    start = schedule_document(problem, plan, on_intervals_for(problem, plan))
    rng = random.Random(1)
    net = check(problem, start).net_kw
    peak_slot = int(np.argmax(net))
    free = peak_neighbourhood(problem, start, rng)
    running = {j for j, (_, s) in plan.items() if s <= peak_slot < s + problem.job(j).duration_slots}
    assert len(free) == 10 and free & running  # the jobs that make the peak are among the freed ones
    # One neighbourhood, solved to its optimum (0.5 s here; the limit is for a busy machine)
    improved = improve_neighbourhood(problem, prepared, start, free, 0, problem.horizon_slots, time.perf_counter() + 120, None,
                                     lambda placements, machines_on: schedule_document(problem, placements, machines_on))
    result = check(problem, improved)
    assert result.ok and improved["objective_eur"] == pytest.approx(result.objective_eur)
    assert result.cost_breakdown["demand_eur"] < start["cost_breakdown"]["demand_eur"]
    assert improved["objective_eur"] < start["objective_eur"]


def test_window_search_with_the_lp_relaxation_as_its_bound():
    problem = parse_problem(three_days())
    prepared = prepare(problem)
    plan = problem.planned_placements()
    start = schedule_document(problem, plan, on_intervals_for(problem, plan))
    improved, outcome = windows_with_lp_bound(
        problem, prepared, build_model(problem, prepared), start, time.perf_counter() + 20, None, 24, SolveStats()
    )
    assert check(problem, improved).ok and improved["objective_eur"] < start["objective_eur"]
    # The bound is the LP relaxation's optimum (solved here by Pyomo's relaxation and HiGHS's simplex) …
    relaxed = build_model(problem, prepared)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(relaxed)
    Highs().solve(relaxed)
    assert outcome.bound == pytest.approx(pyo.value(relaxed.objective), rel=1e-5)
    # … so no schedule is cheaper than it.
    assert outcome.bound <= solve(three_days(), time_limit_s=20)["objective_eur"] + 1e-6


def test_machines_bridge_idle_gaps_only_where_the_other_machines_leave_grid_room():
    # m1 would rather idle through slots 1-3 than pay 100 € for a second start; in slot 2 m2 runs
    # (50 kW + 45 kW idle), so idling m1 (10 kW) there would take the import to 105 > 100 kW.
    problem = parse_problem(tiny_problem(
        grid_limit_kw=100.0,
        machines=[{"id": "m1", "idle_kw": 10.0, "startup_eur": 100.0}, {"id": "m2", "idle_kw": 45.0}],
        jobs=[{"id": "a", "machines": ["m1"], "duration_slots": 1, "power_kw": 50.0},
              {"id": "b", "machines": ["m1"], "duration_slots": 1, "power_kw": 50.0},
              {"id": "c", "machines": ["m2"], "duration_slots": 1, "power_kw": 50.0}],
    ))
    placements = {"a": ("m1", 0), "b": ("m1", 4), "c": ("m2", 2)}
    machines_on = on_intervals_for(problem, placements)
    assert machines_on == {"m1": [[0, 1], [4, 5]], "m2": [[2, 3]]}  # off in slot 2, so no bridge pays
    assert check(problem, schedule_document(problem, placements, machines_on)).ok
