"""Infeasibility is always explained: pre-checks and the elastic re-solve name jobs, machines, slots, limits."""

from tests.optimizer.helpers import solved, tiny_problem


def explanation(problem: dict) -> str:
    schedule = solved(problem)
    assert schedule["status"] == "infeasible" and schedule["jobs"] == []
    assert schedule["explanation"]
    return " | ".join(schedule["explanation"])


def test_window_shorter_than_duration():
    text = explanation(tiny_problem(jobs=[
        {"id": "bake", "machines": ["m1"], "duration_slots": 3, "power_kw": 1.0, "earliest_start_slot": 2, "deadline_slot": 4},
    ]))
    assert "'bake'" in text and "[2, 4)" in text and "duration of 3" in text


def test_no_eligible_machine_available_in_the_window():
    text = explanation(tiny_problem(
        machines=[{"id": "m1", "unavailable": [[0, 4]]}, {"id": "m2"}],
        jobs=[{"id": "weld", "machines": ["m1"], "duration_slots": 2, "power_kw": 1.0, "deadline_slot": 5}],
    ))
    assert "'weld'" in text and "'m1'" in text and "[0, 4)" in text


def test_precedence_chain_longer_than_its_windows():
    text = explanation(tiny_problem(jobs=[
        {"id": "mix", "machines": ["m1"], "duration_slots": 3, "power_kw": 1.0},
        {"id": "pour", "machines": ["m2"], "duration_slots": 2, "power_kw": 1.0, "after": ["mix"], "deadline_slot": 4},
    ]))
    assert "'pour'" in text and "'mix'" in text and "precedence" in text


def test_precedence_cycle():
    text = explanation(tiny_problem(jobs=[
        {"id": "a", "machines": ["m1"], "duration_slots": 1, "power_kw": 1.0, "after": ["b"]},
        {"id": "b", "machines": ["m1"], "duration_slots": 1, "power_kw": 1.0, "after": ["a"]},
    ]))
    assert "cycle" in text and "'a'" in text and "'b'" in text


def test_grid_limit_below_what_a_job_needs_on_top_of_base_load():
    text = explanation(tiny_problem(
        base_load_kw=[40.0] * 6, grid_limit_kw=60.0,
        jobs=[{"id": "furnace", "machines": ["m1"], "duration_slots": 1, "power_kw": 30.0}],
    ))
    assert "'furnace'" in text and "grid limit of 60" in text and "30" in text


def test_jobs_competing_for_one_machine_are_named_by_the_elastic_re_solve():
    # Any two of the three fit in the oven at once, all three do not: no pre-check sees it.
    text = explanation(tiny_problem(
        machines=[{"id": "oven", "capacity": {"trays": 10}}],
        jobs=[{"id": k, "machines": ["oven"], "duration_slots": 4, "power_kw": 1.0, "uses": {"trays": 5}} for k in ("a", "b", "c")],
    ))
    assert "cannot be placed" in text and "'oven' is taken by" in text
    assert all(f"'{k}'" in text for k in ("a", "b", "c"))


def test_jobs_that_only_one_machine_can_run_and_that_overload_it_are_named_before_solving():
    from optimizer import parse_problem
    from optimizer.prepare import prepare

    # m1 has slots 0-4 free; 'long1' and 'long2' only run there, 'other' can also run on m2.
    def problem(long2_slots: int) -> dict:
        return tiny_problem(
            machines=[{"id": "m1", "unavailable": [[5, 6]]}, {"id": "m2"}],
            jobs=[
                {"id": "long1", "machines": ["m1"], "duration_slots": 3, "power_kw": 1.0},
                {"id": "long2", "machines": ["m1"], "duration_slots": long2_slots, "power_kw": 1.0},
                {"id": "other", "machines": ["m1", "m2"], "duration_slots": 1, "power_kw": 1.0},
            ],
        )

    assert solved(problem(2))["status"] == "optimal"  # 5 slots of work in 5 free ones…
    assert not prepare(parse_problem(problem(3))).feasible  # …6 do not: found before any search
    text = explanation(problem(3))
    assert "machine 'm1' cannot run 'long1', 'long2'" in text and "'other'" not in text
    assert "between slots 0 and 5 they need 6 slots of it, and it has 5 free there" in text


def test_jobs_that_together_break_the_grid_limit_are_named():
    jobs = [{"id": k, "machines": ["m1", "m2"], "duration_slots": 4, "power_kw": 30.0, "deadline_slot": 5} for k in ("a", "b")]
    text = explanation(tiny_problem(jobs=jobs, base_load_kw=[10.0] * 6, grid_limit_kw=60.0))
    assert "grid_limit_kw 60" in text and "'a'" in text and "'b'" in text


def test_jobs_left_out_by_the_heuristic_are_explained_with_the_blocking_resource():
    from optimizer import parse_problem
    from optimizer.diagnose import explain_unplaced

    problem = parse_problem(tiny_problem(
        machines=[{"id": "oven", "capacity": {"trays": 10}}],
        jobs=[
            {"id": "bread", "machines": ["oven"], "duration_slots": 6, "power_kw": 1.0, "uses": {"trays": 8}},
            {"id": "cake", "machines": ["oven"], "duration_slots": 2, "power_kw": 1.0, "uses": {"trays": 5}},
        ],
    ))
    (text,) = explain_unplaced(problem, {"bread": ("oven", 0)}, ["cake"], 30)
    assert "'cake'" in text and "'oven'" in text and "'trays'" in text and "'bread'" in text
    assert "at most 2 of 10 free" in text and "needs 5" in text


def test_a_model_too_large_to_build_still_answers_from_the_heuristic(monkeypatch):
    import importlib

    solve_module = importlib.import_module("optimizer.solve")
    monkeypatch.setattr(solve_module, "MAX_MODEL_ENTRIES", 0)
    problem = tiny_problem(jobs=[{"id": "a", "machines": ["m1"], "duration_slots": 2, "power_kw": 10.0}])
    schedule = solve_module.solve(problem, time_limit_s=10)
    assert schedule["status"] == "feasible" and schedule["lower_bound_eur"] is None and schedule["gap"] is None
    assert schedule["jobs"] == [{"id": "a", "machine": "m1", "start_slot": 1}]


def test_an_interrupted_highs_still_returns_the_best_checked_schedule(monkeypatch):
    import importlib

    from tests.optimizer.test_solve import identical_machines_problem

    monkeypatch.setattr(importlib.import_module("optimizer.highs"), "HARD_GRACE_S", -1e6)  # interrupt at once
    schedule = solved(identical_machines_problem(idle_kw=3.0))
    assert schedule["status"] in ("optimal", "feasible") and len(schedule["jobs"]) == 4
