"""Runs as records: storing, replacing a date's plan (kept as history), and the planning lock."""

import pandas as pd
import pytest
import sqlalchemy as sa

from energy.planning import runs
from energy.storage import schema
from tests.planning import seed


def store(engine, record):
    with engine.begin() as conn:
        return runs.store_run(conn, record)


def test_a_run_stores_everything_needed_to_explain_it(engine):
    run_id = store(engine, seed.toy_record())
    run = runs.load_run(engine, run_id)
    assert run.is_current and run.status == "optimal" and run.plan_date == "2024-05-02"
    assert run.problem == seed.toy_problem() and run.schedule == seed.toy_schedule()
    assert run.baseline == seed.toy_schedule()["baseline"]
    assert run.savings == pytest.approx({"energy_eur": 5.0, "co2_eur": 0.5, "demand_eur": 0.0, "switching_eur": 0.0, "total_eur": 5.5})
    assert run.solver == {"time_limit_s": 5.0, "gap_limit": 0.0} and run.inputs["jobs"][0]["job"] == "j1"
    jobs = runs.load_plan_jobs(engine, run_id)
    assert jobs.to_dict("records") == [
        {
            "run_id": run_id,
            "job_id": "j1",
            "machine_id": "m1",
            "start_ms": pd.Timestamp("2024-05-01T22:00Z").value // 10**6,
            "end_ms": pd.Timestamp("2024-05-01T22:15Z").value // 10**6,
            "planned_machine_id": "m1",
            "planned_start_ms": pd.Timestamp("2024-05-01T22:30Z").value // 10**6,
        }
    ]


def test_rerunning_a_date_replaces_its_plan_and_keeps_history(engine):
    first = store(engine, seed.toy_record(start_slot=2))
    second = store(engine, seed.toy_record(start_slot=0))
    assert runs.current_run_id(engine, "test-works", "2024-05-02") == second
    history = runs.list_runs(engine, "test-works", "2024-05-02")
    assert history["id"].tolist() == [second, first]
    assert history["is_current"].astype(bool).tolist() == [True, False]
    assert seed.count(engine, schema.plan_runs, schema.plan_runs.c.is_current.is_(True)) == 1
    assert runs.load_run(engine, first).schedule["jobs"][0]["start_slot"] == 2  # history intact
    # Another site's plan of the same date is untouched.
    other = store(engine, seed.toy_record(site_id="elsewhere"))
    assert runs.current_run_id(engine, "test-works", "2024-05-02") == second
    assert runs.current_run_id(engine, "elsewhere", "2024-05-02") == other


def test_an_infeasible_run_is_history_and_keeps_the_last_good_plan(engine):
    good = store(engine, seed.toy_record())
    failed = store(engine, seed.toy_record(status="infeasible"))
    assert runs.current_run_id(engine, "test-works", "2024-05-02") == good
    run = runs.load_run(engine, failed)
    assert not run.is_current and run.status == "infeasible" and run.savings is None
    assert run.schedule["explanation"] == ["job j1 cannot fit"]
    assert runs.load_plan_jobs(engine, failed).empty


def test_a_failed_transaction_stores_nothing(engine):
    good = store(engine, seed.toy_record())
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            runs.store_run(conn, seed.toy_record(start_slot=2))
            raise RuntimeError("crash after the insert")
    assert runs.current_run_id(engine, "test-works", "2024-05-02") == good
    assert seed.count(engine, schema.plan_runs) == 1 and seed.count(engine, schema.plan_jobs) == 1


def test_unknown_run_is_an_input_error(engine):
    with pytest.raises(runs.InputError, match="no stored plan run 42"):
        runs.load_run(engine, 42)


def test_lock_stops_a_second_run_and_is_released(engine):
    with runs.run_lock(engine, "test-works"):
        with pytest.raises(runs.RunLockedError, match="another 'energy plan' is running"):
            with runs.run_lock(engine, "test-works"):
                pass
        with runs.run_lock(engine, "another-site"):  # other sites plan independently
            pass
    with pytest.raises(RuntimeError):
        with runs.run_lock(engine, "test-works"):
            raise RuntimeError("the run failed")
    with runs.run_lock(engine, "test-works"):  # released after success and after failure
        pass


def test_sqlite_lock_file_sits_beside_the_database(sqlite_url, tmp_path):
    from energy import storage

    engine = storage.connect(sqlite_url)
    assert runs.lock_path(engine, "test-works") == tmp_path / "energy.db.plan-test-works.lock"
    with runs.run_lock(engine, "test-works"):
        assert "pid" in (tmp_path / "energy.db.plan-test-works.lock").read_text()
    with pytest.raises(runs.InputError, match="in-memory"):
        runs.lock_path(sa.create_engine("sqlite://"), "test-works")


def test_software_versions_name_the_solver_stack():
    versions = runs.software_versions()
    assert {"python", "pyomo", "highspy", "pandas"} <= set(versions)
