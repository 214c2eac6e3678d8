"""The packing search: complete, checked placements where the greedy heuristics leave jobs out."""

import importlib
import threading
import time

import pytest

from optimizer import check, parse_problem
from optimizer.diagnose import explain_unplaced
from optimizer.generator import generate_problem
from optimizer.heuristic import STRATEGIES, greedy_schedule, on_intervals_for
from optimizer.icon import icon_cost, read_instance, read_prices, to_problem
from optimizer.packing import pack
from optimizer.prepare import prepare
from tests.helpers import shared_data
from tests.optimizer.helpers import tiny_problem

solve_module = importlib.import_module("optimizer.solve")  # the package's `solve` is the function


def oven_problem() -> dict:
    """One oven, 4 trays and 4 crew, six hours, four jobs that fill it exactly one way (and its mirror).

    'cure' and 'dry' take 3 trays each, so they cannot overlap and leave one hour of the six free;
    'bake' and 'temper' (3 + 4 hours) must overlap, and only in that free hour do the trays or the
    crew allow it: temper [0, 4), cure [0, 3), bake [3, 6), dry [4, 6).
    """
    def job(job_id, hours, trays, crew):
        return {"id": job_id, "machines": ["oven"], "duration_slots": hours, "power_kw": 10.0,
                "uses": {"trays": trays, "crew": crew}}

    return tiny_problem(
        price_eur_per_kwh=[0.20, 0.18, 0.23, 0.13, 0.19, 0.18],
        machines=[{"id": "oven", "capacity": {"trays": 4, "crew": 4}}],
        jobs=[job("bake", 3, 1, 1), job("cure", 3, 3, 1), job("dry", 2, 3, 2), job("temper", 4, 1, 2)],
    )


def checked(problem, placements):
    """The checker's verdict on complete placements with their optimal on-periods."""
    document = {
        "jobs": [{"id": j, "machine": m, "start_slot": s} for j, (m, s) in placements.items()],
        "machines_on": on_intervals_for(problem, placements),
    }
    return check(problem, document)


def test_the_packing_search_completes_a_tight_oven_that_every_greedy_rule_leaves_a_job_out_of():
    problem = parse_problem(oven_problem())
    prepared = prepare(problem)
    attempts = [greedy_schedule(problem, prepared, order_by, place_by, restarts=100) for order_by, place_by in STRATEGIES]
    assert all(unplaced for _, unplaced in attempts)  # the premise: no greedy rule fills the oven
    placements, unplaced = min(attempts, key=lambda attempt: len(attempt[1]))
    packed = pack(problem, prepared, placements, unplaced, time.perf_counter() + 10)
    assert packed is not None and set(packed) == {"bake", "cure", "dry", "temper"}
    assert checked(problem, packed).ok, checked(problem, packed).violations
    # the one way (or its mirror): bake and temper meet in the single hour cure and dry leave free
    overlap = set(range(packed["bake"][1], packed["bake"][1] + 3)) & set(range(packed["temper"][1], packed["temper"][1] + 4))
    assert len(overlap) == 1


def test_the_packing_search_stops_when_told():
    problem = parse_problem(oven_problem())
    prepared = prepare(problem)
    placements, unplaced = greedy_schedule(problem, prepared, restarts=0)
    stop = threading.Event()
    stop.set()
    assert pack(problem, prepared, placements, unplaced, time.perf_counter() + 60, stop=stop) is None
    assert pack(problem, prepared, placements, unplaced, time.perf_counter() + 60) is not None


@pytest.mark.parametrize("start", [
    {"wash": ("m1", 1), "rinse": ("m2", 2), "dry": ("m2", 2)},  # all three broken
    {"wash": ("m1", 0), "dry": ("m2", 1), "rinse": ("m2", 3)},  # 50 kW in slot 1 only with m1's idle power
])
def test_the_packing_search_repairs_grid_limit_capacity_and_precedence(start):
    """From a placement that breaks the grid limit (counting the idle power of a running machine),
    a machine's capacity or precedence ('rinse' after 'wash'), the search ends with no violation."""
    problem = parse_problem(tiny_problem(
        base_load_kw=[10.0] * 6, grid_limit_kw=45.0,
        machines=[{"id": "m1", "idle_kw": 5.0}, {"id": "m2"}],
        jobs=[
            {"id": "wash", "machines": ["m1", "m2"], "duration_slots": 2, "power_kw": 25.0},
            {"id": "rinse", "machines": ["m1", "m2"], "duration_slots": 2, "power_kw": 20.0, "after": ["wash"]},
            {"id": "dry", "machines": ["m2"], "duration_slots": 2, "power_kw": [10.0, 20.0]},
        ],
    ))
    assert not checked(problem, start).ok
    packed = pack(problem, prepare(problem), start, [], time.perf_counter() + 10)
    assert packed is not None and checked(problem, packed).ok, packed and checked(problem, packed).violations
    assert packed["rinse"][1] >= packed["wash"][1] + 2


def test_an_infeasible_packing_gives_up_at_its_deadline_and_the_left_out_jobs_stay_explained():
    problem = parse_problem(tiny_problem(
        machines=[{"id": "oven", "capacity": {"trays": 10}}],
        jobs=[
            {"id": "bread", "machines": ["oven"], "duration_slots": 6, "power_kw": 1.0, "uses": {"trays": 8}},
            {"id": "cake", "machines": ["oven"], "duration_slots": 2, "power_kw": 1.0, "uses": {"trays": 5}},
        ],
    ))
    started = time.perf_counter()
    document, partial = solve_module.heuristic_start(problem, prepare(problem), None, started + 1.0)
    assert time.perf_counter() - started < 2.0
    assert document is None and partial is not None
    (text,) = explain_unplaced(problem, *partial, 1.0)
    assert "could not be placed" in text and "'trays'" in text


def test_the_packing_search_does_not_run_when_the_greedy_places_every_job(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the packing search ran although the greedy placed every job")

    monkeypatch.setattr(solve_module, "pack", must_not_run)
    problem = parse_problem(generate_problem("day", 1))
    document, partial = solve_module.heuristic_start(problem, prepare(problem), None, time.perf_counter() + 6)
    assert document is not None and partial is None


def test_icon_sample02_gets_a_complete_checked_schedule_from_the_packing_search(monkeypatch):
    folder = shared_data("benchmarks", "icon2014", "sampleinstances", "sample02")
    instance, prices = read_instance(folder / "instance.txt"), read_prices(folder / "forecast.txt")
    problem = parse_problem(to_problem(instance, prices))
    runs = []
    monkeypatch.setattr(solve_module, "pack", lambda *args: runs.append(args[3]) or pack(*args))
    document, partial = solve_module.heuristic_start(problem, prepare(problem), None, time.perf_counter() + 12)
    assert runs and runs[0]  # the greedy left tasks out, the packing search placed them
    assert document is not None and partial is None
    assert check(problem, document).ok
    score = icon_cost(instance, prices, document)
    assert score["violations"] == [] and score["cost"] == pytest.approx(document["objective_eur"], abs=1e-6)


def test_on_a_small_model_highs_decides_what_the_greedy_cannot(monkeypatch):
    # The oven's greedy strategies leave a job out; the model is small, so neither the packing
    # search nor the coarse stage spends the limit on it before HiGHS, which places every job.
    def must_not_run(*args, **kwargs):
        raise AssertionError("a search for big models ran on a small one")

    problem = parse_problem(oven_problem())
    assert solve_module.model_entries(problem, prepare(problem)) <= solve_module.SMALL_MODEL_ENTRIES
    monkeypatch.setattr(solve_module, "pack", must_not_run)
    monkeypatch.setattr(solve_module, "coarse_start", must_not_run)
    schedule = solve_module.solve(problem, time_limit_s=60)
    assert schedule["status"] == "optimal" and check(problem, schedule).ok
