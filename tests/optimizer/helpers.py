"""Helpers for the optimiser tests: a small problem builder and a solve that the checker verifies."""

import pytest

from optimizer import check, parse_problem, solve
from optimizer.generator import generate_problem


def tiny_problem(**changes) -> dict:
    """Six hourly slots, cheap in the middle; two machines; overridable at the top level."""
    problem = {
        "name": "tiny",
        "start": "2024-05-02T00:00:00+02:00",
        "resolution_minutes": 60,
        "horizon_slots": 6,
        "price_eur_per_kwh": [0.30, 0.10, 0.10, 0.30, 0.20, 0.20],
        "machines": [{"id": "m1"}, {"id": "m2"}],
        "jobs": [],
    }
    problem.update(changes)
    return problem


def solved(problem: dict, time_limit_s: float = 20.0, gap: float = 0.0) -> dict:
    """Solve and assert the schedule passes the independent checker (every test solve goes here)."""
    schedule = solve(problem, time_limit_s=time_limit_s, gap=gap)
    if schedule["status"] in ("optimal", "feasible"):
        result = check(parse_problem(problem), schedule)
        assert result.ok, result.violations
        assert schedule["objective_eur"] == pytest.approx(result.objective_eur, abs=1e-6)
        assert schedule["cost_breakdown"] == pytest.approx(result.cost_breakdown, abs=1e-6)
        if schedule["lower_bound_eur"] is None:  # only when no solver bound exists (heuristic answer)
            assert schedule["status"] == "feasible" and schedule["gap"] is None
        else:
            assert schedule["lower_bound_eur"] <= schedule["objective_eur"] + schedule.get("move_penalty_eur", 0) + 1e-6
    return schedule


def pinned_day(seed: int, move_penalty_eur: float) -> dict:
    """A generated day whose previous plan is the site's plan, with a move penalty per job moved."""
    raw = generate_problem("day", seed)
    raw["move_penalty_eur"] = move_penalty_eur
    for job in raw["jobs"]:
        job["previous_start_slot"], job["previous_machine"] = job["planned_start_slot"], job["planned_machine"]
    return raw
