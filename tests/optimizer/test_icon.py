"""The ICON 2014 / CSPLib 059 adapter: parsing, conversion, and scoring with the specification's formula."""

import pytest

from optimizer.icon import icon_cost, read_instance, read_prices, to_problem, write_solution
from tests.helpers import shared_data
from tests.optimizer.helpers import solved

INSTANCE = """5
2
2
0 10 1.5 0.5
4 4
1 20 0.0 2.0
2 2
3
0 3 0 12 30.0
3 1
1 2 2 12 50.0
2 2
2 4 0 12 10.0
1 1
"""
PRICES = "12\n" + "".join(f"{t} {p}\n" for t, p in enumerate([0.3, 0.3, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.5, 0.5, 0.1, 0.1]))


@pytest.fixture
def icon_files(tmp_path):
    (tmp_path / "instance.txt").write_text(INSTANCE)
    (tmp_path / "forecast.txt").write_text(PRICES)
    return tmp_path


def test_a_small_instance_is_converted_solved_and_scored_identically(icon_files, tmp_path):
    instance = read_instance(icon_files / "instance.txt")
    prices = read_prices(icon_files / "forecast.txt")
    assert [t.duration for t in instance.tasks] == [3, 2, 4] and instance.machines[1].capacity == (2, 2)
    problem = to_problem(instance, prices)
    assert problem["jobs"][0]["machines"] == ["m0"]  # task 0 needs 3 of r0: only m0 has that
    schedule = solved(problem)
    assert schedule["status"] == "optimal"
    score = icon_cost(instance, prices, schedule)
    assert score["violations"] == []
    assert score["cost"] == pytest.approx(schedule["objective_eur"], abs=1e-9)
    write_solution(instance, schedule, tmp_path / "solution.txt")
    lines = (tmp_path / "solution.txt").read_text().splitlines()
    assert lines[0] == "2" and lines[-4] == "3"


def test_icon_cost_counts_each_term_and_flags_violations():
    instance = read_instance_text(INSTANCE)
    prices = [0.1] * 12
    schedule = {
        "jobs": [{"id": "t0", "machine": "m0", "start_slot": 0}, {"id": "t1", "machine": "m0", "start_slot": 1},
                 {"id": "t2", "machine": "m1", "start_slot": 10}],
        "machines_on": {"m0": [[0, 4]], "m1": [[10, 12]]},
    }
    score = icon_cost(instance, prices, schedule)
    h = 5 / 60
    assert score["c_J"] == pytest.approx((3 * 30 + 2 * 50 + 2 * 10) * 0.1 * h)
    assert score["c_M"] == pytest.approx((4 * 10 + 2 * 20) * 0.1 * h)
    assert score["c_up"] == pytest.approx(1.5) and score["c_down"] == pytest.approx(0.5 + 2.0)
    assert any("resource 0 over capacity" in v for v in score["violations"])  # t0 + t1 need 5 > 4 of r0
    assert any("task 2 ends at 14" in v for v in score["violations"])


def read_instance_text(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "instance.txt"
        path.write_text(text)
        return read_instance(path)


def test_the_shared_samples_parse():
    folder = shared_data("benchmarks", "icon2014", "sampleinstances", "sample01")
    instance = read_instance(folder / "instance.txt")
    prices = read_prices(folder / "forecast.txt")
    assert (instance.q, len(instance.machines), len(instance.tasks), len(prices)) == (5, 2, 25, 288)
    problem = to_problem(instance, prices)
    assert problem["horizon_slots"] == 288 and problem["jobs"][0]["duration_slots"] == 171
