"""The annealing search and the cost pieces it relies on (switch counting, on-periods under a peak)."""

import time

import numpy as np
import pytest

from optimizer import check, parse_problem
from optimizer.anneal import anneal
from optimizer.generator import generate_problem
from optimizer.heuristic import PlacedLoad, on_intervals_for
from optimizer.prepare import prepare
from optimizer.highs import SolveStats
from optimizer.solve import beside, schedule_document, solve
from tests.optimizer.helpers import tiny_problem


def test_a_run_joins_the_on_periods_it_overlaps_or_touches():
    problem = parse_problem(tiny_problem(
        horizon_slots=12, price_eur_per_kwh=[0.1] * 12,
        machines=[{"id": "cold", "startup_eur": 1.0}, {"id": "warm", "startup_eur": 1.0, "initially_on": True}],
    ))
    load = PlacedLoad(problem)
    on = np.zeros(12, dtype=bool)
    on[[2, 3, 7, 11]] = True  # on-periods [2, 4), [7, 8), [11, 12)
    load.on = {"cold": on, "warm": on}
    one_slot = load.merged_periods(problem.machine("cold"), np.arange(11), 1)
    assert one_slot.tolist() == [0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1]
    # A machine on before the horizon: a run in slot 0 or 1 also joins that period; [5, 7) touches [7, 8).
    two_slots = load.merged_periods(problem.machine("warm"), np.arange(10), 2)
    assert two_slots.tolist() == [2, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    # A run in slots 1-10 overlaps the first two periods and touches the third (one slot fewer: two).
    assert load.merged_periods(problem.machine("cold"), np.array([1]), 10).tolist() == [3]
    assert load.merged_periods(problem.machine("cold"), np.array([1]), 9).tolist() == [2]


def test_idle_gaps_are_not_bridged_through_the_import_peak():
    # m1 would rather idle through slots 1-3 (10 kW) than pay 5 € for a second start, but in slot 2
    # job 'c' on m2 makes the day's peak: idling there would add 10 kW × 12 €/kW to the demand charge.
    problem = parse_problem(tiny_problem(
        demand_charge={"eur_per_kw": 12.0, "peak_so_far_kw": 0.0},
        machines=[{"id": "m1", "idle_kw": 10.0, "startup_eur": 5.0}, {"id": "m2"}],
        jobs=[{"id": "a", "machines": ["m1"], "duration_slots": 1, "power_kw": 50.0},
              {"id": "b", "machines": ["m1"], "duration_slots": 1, "power_kw": 50.0},
              {"id": "c", "machines": ["m2"], "duration_slots": 1, "power_kw": 80.0}],
    ))
    placements = {"a": ("m1", 0), "b": ("m1", 4), "c": ("m2", 2)}
    machines_on = on_intervals_for(problem, placements)
    assert machines_on["m1"] == [[0, 1], [4, 5]]
    result = check(problem, schedule_document(problem, placements, machines_on))
    assert result.ok and result.net_kw.max() == pytest.approx(80.0)


def start_and_prepared(problem):
    plan = {j.id: (j.planned_machine, j.planned_start_slot) for j in problem.jobs}
    return plan, prepare(problem)


def test_annealing_lowers_the_cost_and_the_peak_of_the_site_plan_and_stays_feasible():
    problem = parse_problem(generate_problem("day", 3))
    plan, prepared = start_and_prepared(problem)
    start = schedule_document(problem, plan, on_intervals_for(problem, plan))
    annealed = anneal(problem, prepared, plan, time.perf_counter() + 3)
    document = schedule_document(problem, annealed, on_intervals_for(problem, annealed))  # raises unless checked
    assert document["objective_eur"] < 0.9 * start["objective_eur"]
    assert document["cost_breakdown"]["demand_eur"] < start["cost_breakdown"]["demand_eur"]


def test_annealing_separates_two_jobs_that_make_the_peak_together():
    problem = parse_problem(tiny_problem(
        price_eur_per_kwh=[0.1] * 6, demand_charge={"eur_per_kw": 10.0},
        jobs=[{"id": "a", "machines": ["m1"], "duration_slots": 2, "power_kw": 100.0},
              {"id": "b", "machines": ["m2"], "duration_slots": 2, "power_kw": 100.0}],
    ))
    prepared = prepare(problem)
    annealed = anneal(problem, prepared, {"a": ("m1", 0), "b": ("m2", 0)}, time.perf_counter() + 0.5)
    a, b = annealed["a"][1], annealed["b"][1]
    assert abs(a - b) >= 2  # no longer overlapping: peak 100 kW instead of 200 kW


def test_a_large_move_penalty_keeps_every_job_where_it_was():
    raw = generate_problem("day", 3)
    raw["move_penalty_eur"] = 1e6
    for job in raw["jobs"]:
        job["previous_start_slot"], job["previous_machine"] = job["planned_start_slot"], job["planned_machine"]
    problem = parse_problem(raw)
    plan, prepared = start_and_prepared(problem)
    assert anneal(problem, prepared, plan, time.perf_counter() + 1) == plan


def test_a_solve_with_a_demand_charge_takes_the_annealed_schedule_and_checks_it():
    stats = SolveStats()
    schedule = solve(generate_problem("day", 3), time_limit_s=10, stats=stats)
    assert schedule["status"] == "feasible" and check(parse_problem(generate_problem("day", 3)), schedule).ok
    # HiGHS hardly lowers the peak of its start: the annealing's schedule wins at least once
    assert stats.annealing_better >= 1
    assert schedule["objective_eur"] < 0.75 * schedule["baseline"]["objective_eur"]


def lower_cased(text, stop):
    return text.lower()


def raises(text, stop):
    raise ValueError(text)


def until_stopped(stop):
    while not stop.is_set():
        time.sleep(0.01)
    return "stopped"


def test_work_beside_runs_in_another_process_and_answers_when_told_to_stop():
    assert beside(lower_cased, "ABC")() == "abc"
    assert beside(until_stopped)() == "stopped"
    assert beside(raises, "no")() is None  # a failure is logged, never raised into the solve
