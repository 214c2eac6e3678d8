"""Solving: optimal answers against brute force, every contract field, and the schedule format."""

import itertools

import numpy as np
import pytest

from optimizer import check, parse_problem
from optimizer.checker import schedule_cost
from tests.optimizer.helpers import solved, tiny_problem


def brute_force_eur(problem: dict) -> float:
    """Cheapest feasible cost by enumeration; machines have no idle power, so on = first to last run."""
    parsed = parse_problem(problem)
    options = []
    for job in parsed.jobs:
        options.append([(m, s) for m in job.machines for s in range(parsed.horizon_slots - job.duration_slots + 1)])
    best = float("inf")
    for combo in itertools.product(*options):
        placements = {job.id: choice for job, choice in zip(parsed.jobs, combo)}
        spans = {}
        for job_id, (m, s) in placements.items():
            e = s + parsed.job(job_id).duration_slots
            a, b = spans.get(m, (s, e))
            spans[m] = (min(a, s), max(b, e))
        schedule = {
            "jobs": [{"id": j, "machine": m, "start_slot": s} for j, (m, s) in placements.items()],
            "machines_on": {m: [list(span)] for m, span in spans.items()},
        }
        result = check(parsed, schedule)
        if result.ok:
            best = min(best, result.objective_eur)
    return best


def random_problem(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    T = 7
    jobs = []
    for k in range(3):
        d = int(rng.integers(1, 4))
        power = float(rng.integers(5, 40)) if rng.random() < 0.6 else rng.integers(-10, 40, d).astype(float).tolist()
        job = {"id": f"j{k}", "machines": ["m1", "m2"] if rng.random() < 0.5 else ["m1"], "duration_slots": d, "power_kw": power}
        if rng.random() < 0.5:
            job["earliest_start_slot"] = int(rng.integers(0, 3))
        if k and rng.random() < 0.3:
            job["after"] = ["j0"]
        jobs.append(job)
    return tiny_problem(
        horizon_slots=T,
        price_eur_per_kwh=rng.uniform(-0.05, 0.4, T).round(3).tolist(),
        export_price_eur_per_kwh=rng.uniform(0, 0.3, T).round(3).tolist(),
        co2_g_per_kwh=rng.uniform(100, 500, T).round(0).tolist(),
        co2_price_eur_per_t=float(rng.choice([0.0, 90.0])),
        base_load_kw=rng.uniform(0, 30, T).round(1).tolist(),
        pv_kw=rng.uniform(0, 40, T).round(1).tolist(),
        grid_limit_kw=80.0,
        demand_charge={"eur_per_kw": float(rng.choice([0.0, 3.0, 10.0])), "peak_so_far_kw": float(rng.integers(0, 40))},
        machines=[
            {"id": "m1", "startup_eur": float(rng.choice([0, 2])), "shutdown_eur": 1.0, "unavailable": [[5, 6]]},
            {"id": "m2", "startup_eur": 0.5},
        ],
        jobs=jobs,
    )


@pytest.mark.parametrize("seed", range(12))
def test_random_small_problems_match_brute_force(seed):
    problem = random_problem(seed)
    expected = brute_force_eur(problem)
    schedule = solved(problem)
    if expected == float("inf"):
        assert schedule["status"] == "infeasible" and schedule["explanation"]
    else:
        assert schedule["status"] == "optimal"
        assert schedule["objective_eur"] == pytest.approx(expected, abs=1e-6)
        assert schedule["gap"] <= 1e-4 and schedule["lower_bound_eur"] == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_jobs_go_to_cheap_slots_and_the_schedule_has_every_contract_field():
    problem = tiny_problem(jobs=[{"id": "a", "machines": ["m1"], "duration_slots": 2, "power_kw": 10.0}])
    schedule = solved(problem)
    assert schedule["status"] == "optimal"
    assert schedule["jobs"] == [{"id": "a", "machine": "m1", "start_slot": 1}]
    assert schedule["machines_on"] == {"m1": [[1, 3]], "m2": []}
    assert schedule["objective_eur"] == pytest.approx(2.0)  # 2 h × 10 kW × 0.10
    assert schedule["cost_breakdown"] == {"energy_eur": pytest.approx(2.0), "co2_eur": 0.0, "demand_eur": 0.0, "switching_eur": 0.0}
    assert schedule["lower_bound_eur"] == pytest.approx(2.0) and schedule["gap"] == pytest.approx(0.0, abs=1e-6)
    assert schedule["solve_seconds"] >= 0 and "baseline" not in schedule


def test_idle_power_and_switching_decide_between_bridging_and_switching_off():
    jobs = [
        {"id": "a", "machines": ["m1"], "duration_slots": 1, "power_kw": 10.0, "deadline_slot": 1},
        {"id": "b", "machines": ["m1"], "duration_slots": 1, "power_kw": 10.0, "earliest_start_slot": 4},
    ]
    cheap_idle = tiny_problem(machines=[{"id": "m1", "idle_kw": 1.0, "startup_eur": 5.0}, {"id": "m2"}], jobs=jobs)
    schedule = solved(cheap_idle)
    assert schedule["machines_on"]["m1"] == [[0, 5]]  # idling 3 h at ≤ 0.3 costs less than a 5 € restart
    assert schedule["cost_breakdown"]["switching_eur"] == pytest.approx(5.0)
    dear_idle = tiny_problem(machines=[{"id": "m1", "idle_kw": 50.0, "startup_eur": 5.0}, {"id": "m2"}], jobs=jobs)
    schedule = solved(dear_idle)
    assert schedule["machines_on"]["m1"] == [[0, 1], [4, 5]]
    assert schedule["cost_breakdown"]["switching_eur"] == pytest.approx(10.0)


def test_an_initially_on_machine_pays_its_shutdown():
    problem = tiny_problem(machines=[{"id": "m1", "initially_on": True, "shutdown_eur": 4.0, "idle_kw": 2.0}, {"id": "m2"}])
    schedule = solved(problem)
    assert schedule["machines_on"]["m1"] == []
    assert schedule["cost_breakdown"]["switching_eur"] == pytest.approx(4.0)


def test_demand_charge_spreads_jobs_and_respects_the_peak_so_far():
    jobs = [{"id": k, "machines": ["m1", "m2"], "duration_slots": 2, "power_kw": 50.0} for k in ("a", "b")]
    problem = tiny_problem(jobs=jobs, demand_charge={"eur_per_kw": 10.0, "peak_so_far_kw": 20.0})
    schedule = solved(problem)
    starts = sorted(j["start_slot"] for j in schedule["jobs"])
    assert starts[1] - starts[0] >= 2  # never both at once: 100 kW would cost 800 € of demand
    assert schedule["cost_breakdown"]["demand_eur"] == pytest.approx(300.0)


def test_capacity_resources_let_two_jobs_share_a_machine():
    machines = [{"id": "oven", "capacity": {"units": 2, "trays": 2}}]
    jobs = [
        {"id": "a", "machines": ["oven"], "duration_slots": 2, "power_kw": 5.0, "uses": {"units": 1, "trays": 2}},
        {"id": "b", "machines": ["oven"], "duration_slots": 2, "power_kw": 5.0, "uses": {"units": 1, "trays": 1}},
        {"id": "c", "machines": ["oven"], "duration_slots": 2, "power_kw": 5.0, "uses": {"units": 1, "trays": 1}},
    ]
    schedule = solved(tiny_problem(machines=machines, jobs=jobs))
    starts = {j["id"]: j["start_slot"] for j in schedule["jobs"]}
    assert starts["b"] == starts["c"] == 1  # b and c share the cheap slots; a cannot join (trays)
    assert starts["a"] != 1


def test_precedence_and_unavailability_are_kept():
    machines = [{"id": "m1", "unavailable": [[1, 3]]}, {"id": "m2", "unavailable": [[0, 6]]}]
    jobs = [
        {"id": "first", "machines": ["m1", "m2"], "duration_slots": 1, "power_kw": 10.0},
        {"id": "second", "machines": ["m1"], "duration_slots": 1, "power_kw": 10.0, "after": ["first"]},
    ]
    prices = [0.1, 0.1, 0.1, 0.3, 0.5, 0.5]
    schedule = solved(tiny_problem(machines=machines, jobs=jobs, price_eur_per_kwh=prices))
    starts = {j["id"]: (j["machine"], j["start_slot"]) for j in schedule["jobs"]}
    assert starts == {"first": ("m1", 0), "second": ("m1", 3)}


def test_pv_surplus_is_exported_and_negative_prices_are_used():
    problem = tiny_problem(
        price_eur_per_kwh=[0.2, 0.2, -0.05, 0.2, 0.2, 0.2],
        export_price_eur_per_kwh=0.3,  # exporting pays more than importing costs in most slots
        pv_kw=[0.0, 30.0, 0.0, 0.0, 0.0, 0.0],
        jobs=[{"id": "a", "machines": ["m1"], "duration_slots": 1, "power_kw": 20.0}],
    )
    schedule = solved(problem)
    assert schedule["jobs"][0]["start_slot"] == 2  # paid to import beats exporting 20 kW more in slot 1
    assert schedule["cost_breakdown"]["energy_eur"] == pytest.approx(-0.05 * 20 - 0.3 * 30)


def test_grid_limit_keeps_jobs_apart():
    jobs = [{"id": k, "machines": ["m1", "m2"], "duration_slots": 2, "power_kw": 30.0} for k in ("a", "b")]
    schedule = solved(tiny_problem(jobs=jobs, base_load_kw=[10.0] * 6, grid_limit_kw=50.0))
    net = schedule_cost(parse_problem(tiny_problem(jobs=jobs, base_load_kw=[10.0] * 6)),
                        {j["id"]: (j["machine"], j["start_slot"]) for j in schedule["jobs"]}, schedule["machines_on"]).net_kw
    assert net.max() <= 50.0 + 1e-9


def test_a_gap_limit_is_reported_with_a_bound():
    schedule = solved(random_problem(3), gap=0.5)
    assert schedule["status"] in ("optimal", "feasible")
    assert schedule["gap"] == pytest.approx(
        (schedule["objective_eur"] - schedule["lower_bound_eur"]) / max(abs(schedule["objective_eur"]), 1e-9)
    )


def identical_machines_problem(idle_kw: float) -> dict:
    machines = [{"id": f"press{k}", "idle_kw": idle_kw, "startup_eur": 1.5, "shutdown_eur": 0.5} for k in (1, 2, 3)]
    jobs = [
        {"id": f"j{k}", "machines": ["press1", "press2", "press3"], "duration_slots": d, "power_kw": p,
         **({"after": ["j0"]} if k == 3 else {})}
        for k, (d, p) in enumerate([(2, 30.0), (3, 20.0), (1, 40.0), (2, 25.0)])
    ]
    return tiny_problem(machines=machines, jobs=jobs, demand_charge={"eur_per_kw": 0.4, "peak_so_far_kw": 0.0})


def test_pooled_identical_machines_match_brute_force():
    problem = identical_machines_problem(idle_kw=0.0)
    schedule = solved(problem)
    assert schedule["status"] == "optimal"
    assert schedule["objective_eur"] == pytest.approx(brute_force_eur(problem), abs=1e-6)


def test_machines_whose_jobs_can_share_them_are_not_pooled():
    # Every job is over half of one resource, but not of the same one: 'a' and 'b' fit on one
    # machine at once, so the three run at once on two machines (a pool would need three).
    from optimizer.model import is_unary

    problem = tiny_problem(
        horizon_slots=2, price_eur_per_kwh=[0.1, 0.1],
        machines=[{"id": k, "capacity": {"r1": 10, "r2": 10}} for k in ("m1", "m2")],
        jobs=[{"id": j, "machines": ["m1", "m2"], "duration_slots": 2, "power_kw": 1.0, "uses": uses}
              for j, uses in [("a", {"r1": 6, "r2": 1}), ("b", {"r1": 1, "r2": 6}), ("c", {"r1": 6, "r2": 1})]],
    )
    assert not is_unary(parse_problem(problem), "m1")
    schedule = solved(problem)
    assert schedule["status"] == "optimal"
    assert schedule["objective_eur"] == pytest.approx(brute_force_eur(problem), abs=1e-6)


def test_pooling_identical_machines_changes_nothing_but_the_model():
    from optimizer import solve
    from optimizer.model import ModelOptions

    problem = identical_machines_problem(idle_kw=3.0)
    pooled = solved(problem)
    separate = solve(problem, time_limit_s=20, options=ModelOptions(pool_identical_machines=False, symmetry_breaking=False))
    assert pooled["status"] == separate["status"] == "optimal"
    assert pooled["objective_eur"] == pytest.approx(separate["objective_eur"], abs=1e-6)
    assert pooled["stats"]["variables"] < separate["stats"]["variables"]
