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
from energy.storage import schema


def energy(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "energy"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def test_the_demo_runs_the_whole_chain(tmp_path):
    workdir = tmp_path / "demo"
    result = energy("demo", "--no-ui", "--dir", str(workdir), "--live-seconds", "4", "--time-limit", "15", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "expected savings" in result.stdout and "scope 2, market-based" in result.stdout, result.stdout

    engine = storage.connect(f"sqlite:///{workdir / 'energy.db'}")
    with engine.connect() as conn:
        # The live part: readings of every simulated meter collected after the history ended.
        history_end = conn.execute(sa.select(sa.func.max(schema.readings.c.epoch_ms)).where(schema.readings.c.quality == "ok")).scalar()
        meters = {row[0] for row in conn.execute(sa.select(schema.readings.c.meter_id).distinct())}
        runs = conn.execute(sa.select(schema.plan_runs.c.plan_date, schema.plan_runs.c.status).where(schema.plan_runs.c.is_current)).fetchall()
        realised = conn.execute(sa.select(sa.func.count()).select_from(schema.realised_savings)).scalar()
    assert meters == {"main", "m_furnace1", "m_furnace2", "m_oven", "m_blaster", "m_compressors", "pv"}
    assert history_end is not None
    assert len(runs) == 2 and all(status in ("optimal", "feasible") for _, status in runs)
    assert realised >= 1

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
    assert forecast_runs > 2 * (1 + 5 + 1)  # yesterday's and tomorrow's by the demo, then the plan's own
