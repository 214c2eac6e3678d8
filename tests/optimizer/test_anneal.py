"""The annealing search and the cost pieces it relies on (the on-cost of a run, on-periods under a peak)."""

import time

import numpy as np
import pytest

from optimizer import check, parse_problem
from optimizer.anneal import anneal
from optimizer.generator import generate_problem
from optimizer.heuristic import PlacedLoad, bridge_limit_kw, machine_on_mask, on_intervals_for, slot_cost_eur
from optimizer.prepare import prepare
from optimizer.highs import SolveStats
from optimizer.solve import beside, schedule_document, solve
from tests.optimizer.helpers import pinned_day, tiny_problem


def on_cost_by_dp(problem, machine, running, net_kw):
    """Switching plus idle cost between runs of the optimal on-pattern (machine_on_mask), EUR."""
    mask = machine_on_mask(problem, machine, running, net_kw, bridge_limit_kw(problem, float(net_kw.max())))
    idle = slot_cost_eur(problem, net_kw + machine.idle_kw) - slot_cost_eur(problem, net_kw)
    steps = np.diff(np.concatenate([[machine.initially_on], mask, [False]]).astype(int))
    return float(idle[mask & ~running].sum() + machine.startup_eur * (steps == 1).sum() + machine.shutdown_eur * (steps == -1).sum())


@pytest.mark.parametrize("seed", range(6))
def test_the_on_cost_of_a_run_is_what_the_on_period_choice_makes_of_it(seed):
    rng = np.random.default_rng(seed)
    horizon = 24
    problem = parse_problem(tiny_problem(
        horizon_slots=horizon, price_eur_per_kwh=rng.uniform(0.05, 0.4, horizon).round(3).tolist(),
        base_load_kw=rng.uniform(0, 50, horizon).round(1).tolist(), grid_limit_kw=120.0 if seed % 2 else None,
        machines=[{"id": "m", "idle_kw": float(rng.choice([0.0, 5.0, 20.0])), "startup_eur": float(rng.choice([0.0, 1.0, 4.0])),
                   "shutdown_eur": float(rng.choice([0.5, 2.0])), "initially_on": bool(seed % 3 == 0)}],
    ))
    machine = problem.machine("m")
    load = PlacedLoad(problem)
    load.peak = float(load.net.max())
    for running in (rng.random(horizon) < 0.3, np.zeros(horizon, dtype=bool)):  # other runs' on-periods, or none
        load.on = {"m": running.copy()}
        for duration in (1, 3):
            starts = np.arange(horizon - duration + 1)
            change = load.on_cost_change(machine, starts, duration)
            for start, value in zip(starts, change):
                after = running.copy()
                after[start:start + duration] = True
                expected = on_cost_by_dp(problem, machine, after, load.net) - on_cost_by_dp(problem, machine, running, load.net)
                assert value == pytest.approx(expected, abs=1e-9), (running.any(), duration, start)


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
    plan = problem.planned_placements()
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
    problem = parse_problem(pinned_day(3, move_penalty_eur=1e6))
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
