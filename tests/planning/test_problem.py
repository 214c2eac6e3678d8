"""The day's problem from stored forecasts, prices, carbon factors and measured peaks."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from energy.errors import InputError
from energy.planning import inputs
from energy.planning.jobs import read_jobs
from energy.planning.problem import build_problem, scheduled_machines
from tests.planning import seed

HEADER = "job,machines,duration_min,power_kw,earliest_start,deadline,after,planned_start,planned_machine\n"


def jobs_file(tmp_path, body):
    path = tmp_path / "jobs.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_day_slots_follow_the_local_day():
    assert len(inputs.day_slots(dt.date(2024, 5, 2), "Europe/Berlin", 15)) == 96
    spring = inputs.day_slots(dt.date(2024, 3, 31), "Europe/Berlin", 15)
    autumn = inputs.day_slots(dt.date(2024, 10, 27), "Europe/Berlin", 60)
    assert len(spring) == 92 and spring[0] == pd.Timestamp("2024-03-30T23:00Z")
    assert len(autumn) == 25 and autumn[-1] == pd.Timestamp("2024-10-27T22:00Z")


def test_problem_from_stored_data(engine, tmp_path):
    config = seed.load_site(tmp_path, machines=3, grid_limit_kw=800)
    slots = seed.seed_day(engine, config)
    # Earlier in the month the grid peaked at 420 kW: that is the demand charge's peak so far.
    earlier = inputs.day_slots(dt.date(2024, 5, 1), seed.TZ, 15)
    seed.store_measured(engine, earlier, "site", "site", np.where(np.arange(96) == 40, 420.0, 250.0))
    jobs = read_jobs(
        jobs_file(tmp_path, "a,m1;m2,50,100,04:10,12:00,,06:00,m1\nb,m2,60,80,,,a,08:00,m2\n"), seed.DAY, seed.TZ
    )
    machines = scheduled_machines(config, jobs)
    day = inputs.load_day_inputs(engine, config, machines, slots)
    problem = build_problem(config, jobs, {"a": 100.0, "b": [70, 80, 90, 80]}, day, name="test")

    profiles = seed.day_profiles(slots, ["m1", "m2", "m3"])
    assert problem["start"] == "2024-05-02T00:00:00+02:00" and problem["horizon_slots"] == 96
    assert problem["resolution_minutes"] == 15
    # Base load: the site's net grid forecast plus PV, minus the scheduled machines (m1, m2).
    assert np.allclose(problem["base_load_kw"], profiles["site"] + profiles["pv"] - 2 * profiles["machine"], atol=1e-5)
    assert np.allclose(problem["pv_kw"], profiles["pv"], atol=1e-6)
    assert np.allclose(problem["price_eur_per_kwh"], seed.hourly_price(slots))  # hourly prices held for 4 slots
    assert problem["export_price_eur_per_kwh"] == [0.05] * 96
    assert problem["co2_g_per_kwh"][:8] == [300.0] * 4 + [310.0] * 4
    assert problem["co2_price_eur_per_t"] == 80.0 and problem["grid_limit_kw"] == 800
    assert problem["demand_charge"] == {"eur_per_kw": 10.0, "peak_so_far_kw": pytest.approx(420.0)}
    assert problem["machines"] == [
        {"id": "m1", "idle_kw": 5.0, "startup_eur": 2.0, "shutdown_eur": 0.0},
        {"id": "m2", "idle_kw": 5.0, "startup_eur": 2.0, "shutdown_eur": 0.0},
    ]
    a, b = problem["jobs"]
    # 50 min → 4 slots; 04:10 rounds up to slot 17 (04:15); 12:00 is slot 48; 06:00 is slot 24.
    assert a == {
        "id": "a", "machines": ["m1", "m2"], "duration_slots": 4, "power_kw": 100.0,
        "earliest_start_slot": 17, "deadline_slot": 48, "planned_start_slot": 24, "planned_machine": "m1",
    }
    assert b == {
        "id": "b", "machines": ["m2"], "duration_slots": 4, "power_kw": [70, 80, 90, 80],
        "after": ["a"], "planned_start_slot": 32, "planned_machine": "m2",
    }
    assert day.sources["tariff"] == seed.TARIFF and day.sources["emission_source"] == f"location: {seed.FACTORS}"
    assert set(day.sources["forecast_runs"]) == {"site", "machine:m1", "machine:m2", "pv:roof"}


def test_newest_forecast_wins_and_gaps_are_errors(engine, tmp_path):
    config = seed.load_site(tmp_path, machines=1)
    slots = seed.seed_day(engine, config)
    with engine.begin() as conn:
        seed.store_forecasts(conn, slots, [("site", "site", np.full(96, 999.0))], issued_ms=2)
    site, _ = inputs.latest_forecast_kw(engine, "site", "site", slots)
    assert (site == 999.0).all()
    with engine.begin() as conn:  # a newer run that misses slots is not used
        seed.store_forecasts(conn, slots[:50], [("site", "site", np.full(50, 1.0))], issued_ms=3)
    assert (inputs.latest_forecast_kw(engine, "site", "site", slots)[0] == 999.0).all()
    other_day = inputs.day_slots(dt.date(2024, 5, 3), seed.TZ, 15)
    with pytest.raises(InputError, match="no complete site forecast for 'site' on 2024-05-03: run 'energy forecast --date 2024-05-03'"):
        inputs.load_day_inputs(engine, config, ["m1"], other_day)


def test_missing_prices_name_the_first_slot(engine, tmp_path):
    config = seed.load_site(tmp_path, machines=1)
    seed.seed_day(engine, config)
    later = inputs.day_slots(dt.date(2024, 5, 2), seed.TZ, 15)
    with engine.begin() as conn:
        conn.execute(inputs.schema.prices.delete().where(inputs.schema.prices.c.start_ms >= int(later[40].value // 10**6)))
    with pytest.raises(InputError, match=r"tariff 'test-tariff': .*no price for 2024-05-02T08:00:00\+00:00 \(56 interval"):
        inputs.tariff_prices(engine, later)


def test_machines_must_exist_and_be_flexible(tmp_path):
    config = seed.load_site(tmp_path, machines=2)
    for body, message in (("a,aux,60,10,,,,,\n", "machine 'aux' is not flexible"), ("a,m9,60,10,,,,,\n", "unknown machine 'm9'")):
        jobs = read_jobs(jobs_file(tmp_path, body), seed.DAY, seed.TZ)
        with pytest.raises(InputError, match=message):
            scheduled_machines(config, jobs)


def test_shutdown_day_and_profile_length(engine, tmp_path):
    config = seed.load_site(tmp_path, machines=1, shutdown_days=(seed.DAY,))
    slots = seed.seed_day(engine, config, demand_rate_eur_per_kw=None)
    jobs = read_jobs(jobs_file(tmp_path, "a,m1,30,10,,,,,\n"), seed.DAY, seed.TZ)
    day = inputs.load_day_inputs(engine, config, ["m1"], slots)
    problem = build_problem(config, jobs, {"a": 10.0}, day)
    assert problem["machines"][0]["unavailable"] == [[0, 96]]
    assert "demand_charge" not in problem and "grid_limit_kw" not in problem
    with pytest.raises(InputError, match=r"line 2 \(job a\): field power_kw: the profile has 3 value\(s\) but the job lasts 2 slot"):
        build_problem(config, jobs, {"a": [1, 2, 3]}, day)
