"""``energy optimize`` end to end (exit codes, written schedule), bad input, baseline/savings, stable plans."""

import json

import pytest

from optimizer import check, parse_problem
from tests.helpers import run_cli
from tests.optimizer.helpers import solved, tiny_problem

PLANNED = [
    {"id": "a", "machines": ["m1", "m2"], "duration_slots": 2, "power_kw": 40.0, "planned_start_slot": 3, "planned_machine": "m1"},
    {"id": "b", "machines": ["m1"], "duration_slots": 1, "power_kw": 20.0, "planned_start_slot": 5, "planned_machine": "m1"},
]


def write(tmp_path, problem) -> str:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem))
    return str(path)


def test_optimize_writes_a_checked_schedule_and_exits_0(tmp_path):
    problem = tiny_problem(jobs=PLANNED, demand_charge={"eur_per_kw": 5.0, "peak_so_far_kw": 0.0})
    out = tmp_path / "out" / "schedule.json"
    code, stdout, stderr = run_cli("optimize", write(tmp_path, problem), "--out", out, "--time-limit", "20", "--gap", "0")
    assert code == 0, stderr
    schedule = json.loads(out.read_text())
    assert schedule["status"] == "optimal" and "optimal: cost" in stdout
    assert check(parse_problem(problem), schedule).ok
    assert {"objective_eur", "lower_bound_eur", "gap", "solve_seconds", "cost_breakdown", "jobs", "machines_on", "baseline"} <= set(schedule)


def test_optimize_infeasible_exits_2_with_the_explanation(tmp_path):
    problem = tiny_problem(jobs=[{"id": "bake", "machines": ["m1"], "duration_slots": 9, "power_kw": 1.0}])
    out = tmp_path / "schedule.json"
    code, stdout, stderr = run_cli("optimize", write(tmp_path, problem), "--out", out)
    assert code == 2
    assert "infeasible" in stderr and "'bake'" in stderr
    assert json.loads(out.read_text())["status"] == "infeasible"


@pytest.mark.parametrize(
    "change, named",
    [
        ({"colour": "red"}, "field colour: unknown field"),
        ({"price_eur_per_kwh": [0.1] * 5}, "field price_eur_per_kwh: must be a list of 6 numbers"),
        ({"machines": [{"id": "m1", "idle_kw": -1}]}, "machine 'm1': field idle_kw: must be ≥ 0"),
        ({"jobs": [{"id": "x", "machines": ["m9"], "duration_slots": 1, "power_kw": 1}]}, "job 'x': field machines: unknown machine 'm9'"),
        ({"jobs": [{"id": "x", "machines": ["m1"], "duration_slots": 2, "power_kw": [1, 2, 3]}]}, "job 'x': field power_kw"),
        ({"jobs": [{"id": "x", "machines": ["m1"], "duration_slots": 1, "power_kw": 1, "uses": {"trays": 1}}]}, "job 'x': field uses"),
        ({"start": "2024-05-02T00:00:00"}, "field start: needs a UTC offset"),
    ],
)
def test_bad_input_exits_1_naming_field_and_owner(tmp_path, change, named):
    code, stdout, stderr = run_cli("optimize", write(tmp_path, tiny_problem(**change)), "--out", tmp_path / "s.json")
    assert code == 1 and named in stderr and "Traceback" not in stderr
    assert not (tmp_path / "s.json").exists()


def test_unreadable_problem_files_exit_1(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    code, _, stderr = run_cli("optimize", tmp_path / "broken.json", "--out", tmp_path / "s.json")
    assert code == 1 and "broken.json: line 1" in stderr
    code, _, stderr = run_cli("optimize", tmp_path / "missing.json", "--out", tmp_path / "s.json")
    assert code == 1 and "no such file" in stderr


def test_baseline_is_the_plan_costed_by_the_same_formula_and_savings_are_by_component():
    problem = tiny_problem(jobs=PLANNED, demand_charge={"eur_per_kw": 5.0, "peak_so_far_kw": 0.0},
                           machines=[{"id": "m1", "idle_kw": 2.0, "startup_eur": 3.0}, {"id": "m2"}])
    schedule = solved(problem)
    baseline = schedule["baseline"]
    # Plan: a on m1 in [3, 5), b in [5, 6); m1 on [3, 6): 2 kW idle all along.
    assert baseline["machines_on"] == {"m1": [[3, 6]]}
    energy = (0.30 * 42 + 0.20 * 42 + 0.20 * 22)
    assert baseline["cost_breakdown"] == pytest.approx({"energy_eur": energy, "co2_eur": 0.0, "demand_eur": 5 * 42, "switching_eur": 3.0})
    assert baseline["objective_eur"] == pytest.approx(energy + 210 + 3)
    savings = schedule["savings"]
    for name in ("energy_eur", "co2_eur", "demand_eur", "switching_eur"):
        assert savings[name] == pytest.approx(baseline["cost_breakdown"][name] - schedule["cost_breakdown"][name])
    assert savings["total_eur"] == pytest.approx(baseline["objective_eur"] - schedule["objective_eur"]) and savings["total_eur"] > 0


def test_move_penalty_keeps_the_previous_plan_unless_moving_pays():
    jobs = [dict(job, previous_start_slot=job["planned_start_slot"], previous_machine=job["planned_machine"]) for job in PLANNED]
    stay = solved(tiny_problem(jobs=jobs, move_penalty_eur=100.0))
    assert {(j["id"], j["machine"], j["start_slot"]) for j in stay["jobs"]} == {("a", "m1", 3), ("b", "m1", 5)}
    assert stay["move_penalty_eur"] == 0 and stay["moved_jobs"] == []
    move = solved(tiny_problem(jobs=jobs, move_penalty_eur=0.5))
    assert "a" in move["moved_jobs"] and move["move_penalty_eur"] == pytest.approx(0.5 * len(move["moved_jobs"]))
    assert move["objective_eur"] < stay["objective_eur"]
