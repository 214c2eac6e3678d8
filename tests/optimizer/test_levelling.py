"""Peak levelling: packing under a falling import cap, and keeping the cheapest schedule."""

import dataclasses
import threading
import time

import pytest

from optimizer import check, parse_problem
from optimizer.generator import generate_problem
from optimizer.heuristic import on_intervals_for
from optimizer.levelling import cost_and_peak, level_peak, pack_under_cap, peak_floor_kw
from optimizer.solve import schedule_document
from tests.optimizer.helpers import pinned_day, solved, tiny_problem


def test_the_floor_is_the_base_peak_or_the_evenly_spread_energy():
    problem = parse_problem(tiny_problem(
        base_load_kw=[10, 10, 40, 10, 10, 10],
        jobs=[{"id": "a", "machines": ["m1"], "duration_slots": 3, "power_kw": 30.0},
              {"id": "b", "machines": ["m2"], "duration_slots": 2, "power_kw": [20.0, 40.0]}],
    ))
    assert peak_floor_kw(problem) == pytest.approx(15 + (90 + 60) / 6)  # mean base 15 kW + 25 kW of jobs
    assert peak_floor_kw(dataclasses.replace(problem, jobs=[])) == 40.0  # the base load's own peak


def test_a_packing_under_a_cap_keeps_the_import_below_it_and_passes_the_checker():
    problem = parse_problem(generate_problem("day", 3))
    plan_peak = cost_and_peak(problem, problem.planned_placements())[1]
    cap = 0.85 * plan_peak
    packed = pack_under_cap(problem, cap, time.perf_counter() + 10)
    assert packed is not None and len(packed) == len(problem.jobs)
    capped = dataclasses.replace(problem, grid_limit_kw=cap)
    schedule = schedule_document(capped, packed, on_intervals_for(capped, packed))  # raises unless checked
    assert check(capped, schedule).ok
    assert cost_and_peak(problem, packed)[1] <= cap + 1e-6


def test_a_cap_below_the_base_load_packs_nothing():
    problem = parse_problem(generate_problem("day", 3))
    assert pack_under_cap(problem, float(problem.net_base_kw.max()) - 1, time.perf_counter() + 1) is None


def test_levelling_lowers_the_peak_and_the_cost_of_the_site_plan():
    problem = parse_problem(generate_problem("day", 3))
    plan = problem.planned_placements()
    levelled = level_peak(problem, plan, time.perf_counter() + 8)
    schedule = schedule_document(problem, levelled, on_intervals_for(problem, levelled))
    assert check(problem, schedule).ok
    (plan_cost, plan_peak), (cost, peak) = cost_and_peak(problem, plan), cost_and_peak(problem, levelled)
    assert cost < plan_cost and peak < plan_peak
    assert schedule["objective_eur"] == pytest.approx(cost)


def test_levelling_keeps_the_start_when_every_move_costs_more_than_it_saves():
    problem = parse_problem(pinned_day(3, move_penalty_eur=1e6))
    plan = problem.planned_placements()
    assert level_peak(problem, plan, time.perf_counter() + 3) == plan


def test_levelling_stops_when_told():
    problem = parse_problem(generate_problem("day", 3))
    stop = threading.Event()
    stop.set()
    clock = time.perf_counter()
    assert level_peak(problem, problem.planned_placements(), clock + 30, stop) == problem.planned_placements()
    assert time.perf_counter() - clock < 5


def test_a_solve_with_a_demand_charge_levels_anneals_and_checks():
    schedule = solved(generate_problem("day", 4), time_limit_s=10)  # asserts the checker's verdict
    assert schedule["status"] == "feasible"
    assert schedule["objective_eur"] < 0.75 * schedule["baseline"]["objective_eur"]
