"""Realised savings on a day whose outcome is known by construction (``seed.toy_problem``).

The day really went like this (kW per quarter hour): base load 50, 40, 40, 0; PV 0, 0, 0, 20;
the job ran in slot 0 as scheduled (idle 10 + 90 kW). So the main meter read 150, 40, 40, −20
and the machine 100, 0, 0, 0. Had the site's own plan run instead (job in slot 2), the grid would
have read 50, 40, 140, −20: the counterfactual moves the job's 90 kW above standby and the
machine's standby from slot 0 to slot 2. Worked by hand (h = 0.25 h):

actual:   energy (0.1·150 + 0.1·40 + 0.3·40 − 0.05·20)·0.25 = 7.5; CO₂ 100·(100·150 + 100·40 +
          300·40)·0.25/1e6 = 0.775; demand 10·(150 − 50) = 1000; switching 5 (one start-up)
baseline: energy (0.1·50 + 0.1·40 + 0.3·140 − 0.05·20)·0.25 = 12.5; CO₂ 100·(100·50 + 100·40 +
          300·140)·0.25/1e6 = 1.275; demand 10·(140 − 50) = 900; switching 5
savings:  energy 5.0, CO₂ 0.5, demand −100 (the unplanned 50 kW base at midnight met the job),
          switching 0, total −94.5.
"""

import json

import numpy as np
import pandas as pd
import pytest

from energy.errors import InputError
from energy.planning import inputs, runs, savings
from energy.storage import bulk, schema
from tests.planning import seed

GRID_KW = np.array([150.0, 40.0, 40.0, -20.0])
MACHINE_KW = np.array([100.0, 0.0, 0.0, 0.0])
EXPECTED = {"energy_eur": 5.0, "co2_eur": 0.5, "demand_eur": -100.0, "switching_eur": 0.0, "total_eur": -94.5}


def toy_machine(producing_min: float = 15.0) -> savings.MachineDay:
    """The toy's machine, measured: 100 kW in slot 0 while producing (standby 10 kW)."""
    return savings.MachineDay(np.array([25.0, 0, 0, 0]), np.array([25.0, 0, 0, 0]), np.array([producing_min, 0, 0, 0]), 10.0)


def toy_savings(grid_kw=GRID_KW, machine=None, schedule=None) -> dict:
    problem = seed.toy_problem()
    return savings.verified_savings(
        problem, schedule or seed.toy_schedule(), {"j1": 15}, grid_kw, {"m1": machine or toy_machine()},
        np.array(problem["price_eur_per_kwh"]), np.array(problem["export_price_eur_per_kwh"]), np.array(problem["co2_g_per_kwh"]),
    )


def test_realised_savings_by_hand():
    result = toy_savings()
    assert result["actual"] == pytest.approx({"energy_eur": 7.5, "co2_eur": 0.775, "demand_eur": 1000.0, "switching_eur": 5.0, "total_eur": 1013.275})
    assert result["baseline"] == pytest.approx({"energy_eur": 12.5, "co2_eur": 1.275, "demand_eur": 900.0, "switching_eur": 5.0, "total_eur": 918.775})
    assert result["savings"] == pytest.approx(EXPECTED)
    # money and the internal carbon price apart; the avoided tonnes; the moved energy; the band
    assert result["cash_eur"] == pytest.approx(-95.0) and result["co2_t"] == pytest.approx(0.005)
    assert result["kwh_shifted"] == pytest.approx(22.5)
    assert result["band"]["low_eur"] <= EXPECTED["total_eur"] <= result["band"]["high_eur"]
    assert result["adherence"]["rate"] == 1.0 and result["non_routine"] == []


def test_a_day_on_which_nothing_was_produced_saves_nothing():
    # The planned job was not produced: the machine stayed off, the grid saw only the base load.
    idle_day = savings.MachineDay(np.zeros(4), np.zeros(4), np.zeros(4), 10.0)
    result = toy_savings(np.array([50.0, 40.0, 40.0, -20.0]), idle_day)
    assert all(value == pytest.approx(0.0) for value in result["savings"].values())
    assert result["band"] == {"low_eur": pytest.approx(0.0), "high_eur": pytest.approx(0.0)}
    assert result["adherence"]["not_run"] == 1 and result["non_routine"][0]["event"] == "job not run"


def test_a_day_run_as_the_site_planned_saves_nothing_whatever_the_plan_said():
    # The operators ignored the plan (job in slot 0) and ran the site's own (slot 2).
    machine = savings.MachineDay(np.array([0, 0, 25.0, 0]), np.array([0, 0, 25.0, 0]), np.array([0, 0, 15.0, 0]), 10.0)
    result = toy_savings(np.array([50.0, 40.0, 140.0, -20.0]), machine)
    assert result["savings"]["total_eur"] == pytest.approx(0.0) and result["jobs"][0]["shift_min"] == 30


def test_baseline_plan_keeps_machines_on_between_first_and_last_planned_job():
    problem = seed.toy_problem()
    problem["jobs"] = [
        {"id": "a", "machines": ["m1"], "duration_slots": 1, "power_kw": 90.0, "planned_start_slot": 0, "planned_machine": "m1"},
        {"id": "b", "machines": ["m1"], "duration_slots": 1, "power_kw": [30.0], "planned_start_slot": 2, "planned_machine": "m1"},
    ]
    placed, machines_on = savings.baseline_plan(problem)
    assert machines_on == {"m1": [[0, 3]]}
    assert savings.plan_power_kw(problem, placed, machines_on).tolist() == [100.0, 10.0, 40.0, 0.0]
    del problem["jobs"][1]["planned_start_slot"]
    with pytest.raises(InputError, match="job 'b' has no planned start"):
        savings.baseline_plan(problem)


def seed_actual_day(engine, tmp_path):
    config = seed.load_site(tmp_path, machines=1)
    seed.seed_day(engine, config)
    problem = seed.toy_problem()
    slots = pd.date_range(pd.Timestamp(problem["start"]).tz_convert("UTC"), periods=4, freq="15min")
    # The stored tariff's prices and factors for the day are the toy's: 0.1/0.3 and 100/300.
    with engine.begin() as conn:
        conn.execute(schema.prices.delete())
        conn.execute(schema.emission_factors.delete())
        bulk.upsert(conn, schema.prices, pd.DataFrame({"tariff_id": seed.TARIFF, "start_ms": slots.as_unit("ms").asi8, "import_per_kwh": problem["price_eur_per_kwh"], "export_per_kwh": 0.05}))
        bulk.upsert(conn, schema.emission_factors, pd.DataFrame({"source_id": seed.FACTORS, "start_ms": slots.as_unit("ms").asi8, "end_ms": slots.as_unit("ms").asi8 + 900_000, "g_per_kwh": problem["co2_g_per_kwh"]}))
    with engine.begin() as conn:
        run_id = runs.store_run(conn, seed.toy_record())
    return config, slots, run_id


def test_realised_savings_from_stored_readings(engine, tmp_path):
    config, slots, run_id = seed_actual_day(engine, tmp_path)
    seed.store_measured(engine, slots, "site", "site", GRID_KW)
    seed.store_measured(engine, slots, "machine", "m1", MACHINE_KW)
    result = savings.compute_realised_savings(engine, config, run_id)
    assert result["savings"] == pytest.approx(EXPECTED)
    assert result["expected"]["total_eur"] == pytest.approx(5.5)  # the promise; −94.5 is the proof
    savings.store_realised_savings(engine, result)
    savings.store_realised_savings(engine, result)  # recomputing replaces, never duplicates
    assert seed.count(engine, schema.realised_savings) == 1
    with engine.connect() as conn:
        row = conn.execute(schema.realised_savings.select()).mappings().one()
    assert row["actual_cost"] == pytest.approx(1013.275) and row["baseline_cost"] == pytest.approx(918.775)
    assert json.loads(row["savings_json"])["savings"] == pytest.approx(EXPECTED)


def test_missing_readings_are_named(engine, tmp_path):
    config, slots, run_id = seed_actual_day(engine, tmp_path)
    seed.store_measured(engine, slots, "site", "site", GRID_KW)
    seed.store_measured(engine, slots[:2], "machine", "m1", MACHINE_KW[:2])
    with pytest.raises(InputError, match=r"readings of the scheduled machines are missing for 2 slot\(s\) from 2024-05-01T22:30:00\+00:00"):
        savings.compute_realised_savings(engine, config, run_id)
    assert inputs.measured_kw(engine, "machine", "m1", slots).isna().sum() == 2
