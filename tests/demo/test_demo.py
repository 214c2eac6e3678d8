"""``energy demo --no-ui`` end to end, through the installed console script, as the README runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from energy import storage
from energy.histories.store import load_intervals
from energy.planning.runs import load_run, slot_times
from energy.storage import schema
from energy.twin.truth import read_truth


def energy(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "energy"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def test_the_demo_runs_the_whole_chain(tmp_path):
    """The demo end to end, then the nightly job on its site; and the plant behind it behaves
    like a plant: machines that differ, production in the shifts, plans visible in the machine
    meters, and a ground truth kept beside (not in) the database."""
    workdir = tmp_path / "demo"
    result = energy("demo", "--no-ui", "--dir", str(workdir), "--live-seconds", "4", "--time-limit", "15", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "expected savings" in result.stdout and "scope 2, market-based" in result.stdout, result.stdout
    assert "really saved" in result.stdout, result.stdout  # the twin's truth beside the product's figures

    engine = storage.connect(f"sqlite:///{workdir / 'energy.db'}")
    with engine.connect() as conn:
        # The live part: readings of every simulated meter collected after the history ended.
        history_end = conn.execute(sa.select(sa.func.max(schema.readings.c.epoch_ms)).where(schema.readings.c.quality == "ok")).scalar()
        meters = {row[0] for row in conn.execute(sa.select(schema.readings.c.meter_id).distinct())}
        runs = conn.execute(sa.select(schema.plan_runs.c.plan_date, schema.plan_runs.c.status).where(schema.plan_runs.c.is_current)).fetchall()
        realised = conn.execute(sa.select(sa.func.count()).select_from(schema.realised_savings)).scalar()
    assert meters == {"main", "m_furnace1", "m_furnace2", "m_oven", "m_blaster", "m_compressors", "pv"}
    assert history_end is not None
    # Every working day since the go-live was planned by the product; tomorrow too.
    assert len(runs) >= 15 and all(status in ("optimal", "feasible") for _, status in runs)
    assert realised >= 14

    # A year of site history, processed into intervals with no hole.
    site = load_intervals(engine, "site", "site")
    assert len(site) > 34_000 and (site["quality"] != "missing").mean() > 0.999

    tomorrow = max(date for date, _ in runs)
    exported = json.loads((workdir / "site" / "plans" / f"plan_{tomorrow}.json").read_text())
    assert exported
    reports = workdir / "reports"
    assert any(p.suffix == ".xlsx" for p in reports.iterdir()) and any(p.suffix == ".pdf" for p in reports.iterdir())
    assert pd.Timestamp(tomorrow) > pd.Timestamp.now().normalize() - pd.Timedelta(days=1)

    # Then the nightly job as cron runs it on that site: forecast, plan, store, export; the
    # re-run replaces tomorrow's plan (kept as history) instead of adding a second one.
    db_url = f"sqlite:///{workdir / 'energy.db'}"
    config = str(workdir / "site" / "site.toml")
    result = energy("plan", "--config", config, "--date", str(tomorrow), "--time-limit", "15", "--db", db_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"plan {tomorrow}:" in result.stdout
    with engine.connect() as conn:
        dated = conn.execute(sa.select(schema.plan_runs.c.is_current).where(schema.plan_runs.c.plan_date == str(tomorrow))).fetchall()
        forecast_runs = conn.execute(sa.select(sa.func.count()).select_from(schema.forecast_runs)).scalar()
    assert sorted(current for (current,) in dated) == [False, True]
    assert forecast_runs > len(runs) * (1 + 5 + 1)  # every planned night's by the demo, then the plan's own

    # The plant behind the demo is the twin: its ground truth is kept beside the database.
    truth = read_truth(workdir / "twin-truth")

    # Machines differ: their weekly profiles are not copies of one another (they were, as shares of one meter).
    weeks = {}
    for machine in ("furnace1", "oven", "blaster", "compressors"):
        energy_kwh = load_intervals(engine, "machine", machine)["energy_kwh"]
        weeks[machine] = energy_kwh.iloc[-96 * 28:].to_numpy()
    for a, b in (("furnace1", "oven"), ("oven", "blaster"), ("furnace1", "compressors")):
        assert abs(pd.Series(weeks[a]).corr(pd.Series(weeks[b]))) < 0.9, (a, b)

    # Production happens inside the configured shifts (06:00-22:00 local) on the site's clock.
    furnace = load_intervals(engine, "machine", "furnace1")["energy_kwh"]
    local_hours = furnace.index.tz_convert("Europe/Berlin").hour
    before_go_live = furnace.index < pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=22)
    in_shift = furnace[before_go_live & (local_hours >= 6) & (local_hours < 22)].sum()
    assert in_shift > 0.95 * furnace[before_go_live].sum()

    # Each plan the site followed is visible in its machines' meters: most of the planned
    # energy is measured on the planned machine in the planned slots.
    with engine.connect() as conn:
        current = conn.execute(sa.select(schema.plan_runs.c.id, schema.plan_runs.c.plan_date).where(schema.plan_runs.c.is_current)).fetchall()
    followed = set(truth.days.loc[truth.days["executed"] == "optimised", "day"])
    followed_runs = [run_id for run_id, day in current if day in followed]
    assert len(followed_runs) >= 8
    planned_kwh = measured_kwh = 0.0
    for run_id in followed_runs:
        run = load_run(engine, run_id)
        start, step = slot_times(run.problem)
        jobs = {job["id"]: job for job in run.problem["jobs"]}
        for placed in run.schedule["jobs"]:
            job = jobs[placed["id"]]
            begin = start + placed["start_slot"] * step
            series = load_intervals(engine, "machine", placed["machine"], begin, begin + job["duration_slots"] * step)["energy_kwh"]
            planned_kwh += job["power_kw"] * job["duration_slots"] * step / pd.Timedelta(hours=1)
            measured_kwh += series.sum()
    assert 0.6 * planned_kwh < measured_kwh < 1.3 * planned_kwh

    # The ground truth is beside the database, not in it.
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert not any("truth" in name or "twin" in name for name in tables)
    assert {"ran"} <= set(truth.runs["status"]) and len(truth.days) >= 360

