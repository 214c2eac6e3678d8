"""The whole nightly job through ``energy plan``, with the real optimiser, on SQLite and PostgreSQL.

A seeded day (``tests/planning/seed.py``): three flexible machines, three jobs in a chain,
hourly prices cheaper at night. These tests need the ``optimizer`` package.
"""

import json

import pytest

from energy import storage
from energy.config import load_config
from energy.planning import export, runs
from energy.storage import schema
from tests.helpers import run_cli
from tests.planning import seed


#: One chain of three jobs over the three machines. Six (two chains) took HiGHS 13-17 s to prove
#: optimal for each of the seven plans and replays here, 40 % of the whole suite; three take 3-5 s.
JOBS = 3


@pytest.fixture
def night(db_url, tmp_path):
    """(db url, config path) of a seeded site with tomorrow's jobs in ``jobs.csv`` beside it."""
    config_path = seed.write_site(tmp_path, machines=3)
    engine = storage.connect(db_url)
    storage.upgrade(engine)
    seed.seed_day(engine, load_config(config_path))
    seed.write_jobs(tmp_path, machines=3, jobs=JOBS)
    yield db_url, config_path
    engine.dispose()


def plan(db_url, config_path, *extra):
    return run_cli("plan", "--config", config_path, "--date", "2024-05-02", "--no-forecast", "--db", db_url, *extra)


def stored(db_url):
    engine = storage.connect(db_url)
    try:
        return runs.list_runs(engine, "test-works", "2024-05-02"), engine
    finally:
        engine.dispose()


def test_a_full_night_rerun_and_replay(night, tmp_path):
    db_url, config_path = night
    code, out, err = plan(db_url, config_path)
    assert code == 0, err
    assert "plan 2024-05-02: optimal" in out and "exported" in out
    history, engine = stored(db_url)
    (first,) = history["id"].tolist()
    run = runs.load_run(engine, first)
    assert run.is_current and run.savings["total_eur"] >= -1e-6  # never worse than the baseline plan
    assert set(run.savings) == {"energy_eur", "co2_eur", "demand_eur", "switching_eur", "total_eur"}
    assert run.inputs["jobs_sha256"] and len(run.inputs["jobs"]) == JOBS and run.versions["highspy"]
    assert run.solver["status"] == "optimal" and run.solver["time_limit_s"] == 120.0
    # The export is the stored schedule, in local time.
    document = json.loads((tmp_path / "plans" / "plan_2024-05-02.json").read_text())
    assert document["run_id"] == first
    assert document["jobs"] == export.schedule_rows(run.problem, run.schedule, "Europe/Berlin")
    assert all(job["start"].endswith("+02:00") for job in document["jobs"])
    csv_lines = (tmp_path / "plans" / "plan_2024-05-02.csv").read_text().splitlines()
    assert csv_lines[0] == "job,machine,start,end" and len(csv_lines) == JOBS + 1
    assert "plan 2024-05-02: optimal" in (tmp_path / "logs" / "plan.log").read_text()

    code, out, err = plan(db_url, config_path)  # a re-run replaces the date's plan
    assert code == 0, err
    history, engine = stored(db_url)
    second = history["id"].iloc[0]
    assert history["is_current"].astype(bool).tolist() == [True, False]
    assert json.loads((tmp_path / "plans" / "plan_2024-05-02.json").read_text())["run_id"] == second
    assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == ["plan_2024-05-02.csv", "plan_2024-05-02.json"]

    code, out, err = run_cli("plan", "--replay", first, "--db", db_url)
    assert code == 0, err
    assert f"run {first}: reproduced" in out


def test_an_infeasible_job_list_explains_itself_and_exports_nothing(night, tmp_path):
    db_url, config_path = night
    # Two six-hour jobs on m1 between 08:00 and 18:00 cannot both fit.
    (tmp_path / "jobs.csv").write_text(
        "job,machines,duration_min,power_kw,earliest_start,deadline\n"
        "long1,m1,360,50,08:00,18:00\n"
        "long2,m1,360,50,08:00,18:00\n"
    )
    code, out, err = plan(db_url, config_path)
    assert code == 2
    assert "infeasible" in err and "long1" in err and "nothing exported" in err
    assert not (tmp_path / "plans").exists()
    history, engine = stored(db_url)
    assert history["status"].tolist() == ["infeasible"] and not history["is_current"].astype(bool).any()


def test_a_crash_in_the_middle_leaves_no_half_export_and_no_half_run(night, tmp_path, monkeypatch):
    db_url, config_path = night
    assert plan(db_url, config_path)[0] == 0
    before = {p.name: p.read_text() for p in (tmp_path / "plans").iterdir()}

    def killed(fd):
        raise KeyboardInterrupt  # the job is stopped while writing the export

    monkeypatch.setattr(export.os, "fsync", killed)
    code, out, err = plan(db_url, config_path)
    assert code == 130
    monkeypatch.undo()
    assert {p.name: p.read_text() for p in (tmp_path / "plans").iterdir()} == before
    history, engine = stored(db_url)
    assert len(history) == 1 and history["is_current"].astype(bool).all()
    assert seed.count(storage.connect(db_url), schema.plan_jobs) == JOBS
