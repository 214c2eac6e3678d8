"""``energy.dashboard`` on the seeded site, on SQLite and PostgreSQL: each figure against an
independent computation from the seed's own numbers or the other areas' functions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from energy import dashboard, storage
from energy.config import load_config
from energy.dashboard import Alert
from energy.histories import machine_history, site_history
from energy.histories.store import store_intervals
from energy.reports.tables import TOTAL
from energy.planning import runs
from energy.planning.inputs import day_slots
from energy.setup import initialise
from energy.storage import schema
from tests.planning import seed as planning_seed
from tests.ui import seed


def test_overview_figures_follow_from_the_site_series_prices_and_factors(seeded):
    engine, site = seeded
    now = pd.Timestamp.now(tz="UTC")
    assert (site.id, site.timezone, site.currency) == (seed.SITE_ID, seed.TZ, "EUR")
    day = dashboard.latest_day(engine, site, now)
    assert day == now.tz_convert(seed.TZ).date()
    view = dashboard.overview(engine, site, day, now)
    month_start = pd.Timestamp(day.replace(day=1)).tz_localize(seed.TZ)
    grid = site_history(engine, month_start, view.month.end)
    kwh = grid["energy_kwh"].clip(lower=0)
    hours = grid.index.tz_convert(seed.TZ).hour.to_numpy()
    price = np.where((hours < 6) | (hours >= 22), 0.10, np.where((hours >= 17) & (hours < 20), 0.40, 0.30))
    known = kwh.notna().to_numpy()
    assert view.month.energy_kwh == pytest.approx(kwh.sum())
    assert view.month.co2_kg == pytest.approx(float((kwh.to_numpy() * (300 + 10 * hours))[known].sum()) / 1000)
    assert view.month.peak_kw == pytest.approx(grid["energy_kwh"].max() * 4)
    # The bill so far: the seeded dynamic prices on the imported energy, 10 EUR/kW on the peak.
    assert view.month.bill_problem is None and view.month.bill_currency == "EUR"
    assert view.month.bill["energy"] == pytest.approx(float((kwh.to_numpy() * price)[known].sum()))
    assert view.month.bill["demand"] == pytest.approx(seed.DEMAND_EUR_PER_KW * view.month.peak_kw)
    assert view.month.bill["total"] == pytest.approx(sum(v for k, v in view.month.bill.items() if k != "total"))
    assert view.grid_limit_kw == seed.GRID_LIMIT_KW
    # Today's site forecast: the seeded profile, beside the measured load.
    slots = day_slots(day, seed.TZ, 15)
    np.testing.assert_allclose(view.forecast["forecast_kw"], planning_seed.day_profiles(slots, ["m1", "m2", "m3"])["site"])
    # The aux meter lost contact three hours ago and keeps failing: an error alert names it.
    assert any(a.level == "error" and "m_aux" in a.text for a in view.alerts)
    assert view.today["power_kw"].iloc[0] == pytest.approx(site_history(engine, *dashboard.local_day(day, seed.TZ))["energy_kwh"].iloc[0] * 4)


def test_machine_history_quality_forecast_and_idle(seeded):
    engine, site = seeded
    now = pd.Timestamp.now(tz="UTC")
    today = now.tz_convert(seed.TZ).date()
    start, end = dashboard.local_days(today - dt.timedelta(days=1), today, seed.TZ)
    m3 = dashboard.power_kw(engine, site, "machine", "m3", start, end)
    # The two-hour hole in m_m3's readings yesterday is bridged by its counter: estimated, not lost.
    assert dashboard.quality_counts(m3)["estimated"] >= 8
    assert m3["energy_kwh"].sum() == pytest.approx(machine_history(engine, "m3", start, end)["energy_kwh"].sum())
    aux = dashboard.power_kw(engine, site, "machine", "aux", start, end)
    assert aux[(aux.index < now - pd.Timedelta(hours=3.5))]["quality"].eq("measured").all()
    assert aux[(aux.index > now - pd.Timedelta(hours=2.5)) & (aux.index < now)]["quality"].eq("missing").all()
    forecast = dashboard.forecast_vs_actual(engine, site, "machine", "m1", start, end)
    assert len(forecast) == len(pd.date_range(start, end, freq="15min", inclusive="left"))
    np.testing.assert_allclose(forecast["hi80_kw"], forecast["forecast_kw"] * 1.1 / 1.0)
    np.testing.assert_allclose(forecast["forecast_kw"], seed.machine_kw(forecast.index, "m1") * 1.05)
    measured = forecast["actual_kw"].dropna()
    np.testing.assert_allclose(measured, dashboard.power_kw(engine, site, "machine", "m1", start, end)["power_kw"].reindex(measured.index))
    idle = dashboard.idle_by_day(engine, site, "m1", start, end)
    # m1 idles at 5 kW outside 06:00–22:00: 8 hours (7 or 9 on a clock change), 5 kWh per idle
    # hour, learned from its own readings; outside the shifts, or all of it on a Sunday.
    yesterday = today - dt.timedelta(days=1)
    day_start, day_end = dashboard.local_day(yesterday, seed.TZ)
    idle_hours = (day_end - day_start) / pd.Timedelta(hours=1) - 16
    assert idle["idle_hours"].iloc[0] == pytest.approx(idle_hours) and idle["idle_kwh"].iloc[0] == pytest.approx(5.0 * idle_hours, rel=0.02)
    split = "idle_non_working_kwh" if yesterday.weekday() == 6 else "idle_outside_shifts_kwh"
    assert idle[split].iloc[0] == pytest.approx(idle["idle_kwh"].iloc[0]) and idle["idle_in_shifts_kwh"].iloc[0] == 0
    # The compressor runs around the clock at 18–22 kW: it never idles, whatever the calendar
    # says (the old rule called its 8 hours outside the shifts, some 160 kWh, idle). The day
    # before yesterday: its meter has been silent for three hours, which may reach yesterday.
    first = dashboard.local_days(today - dt.timedelta(days=2), today - dt.timedelta(days=2), seed.TZ)
    aux = dashboard.idle_by_day(engine, site, "aux", *first)
    assert aux["quality"].iloc[0] == "measured" and aux["idle_kwh"].iloc[0] == 0


def test_plan_view_savings_and_a_failed_rerun(seeded):
    engine, site = seeded
    now = pd.Timestamp.now(tz="UTC")
    today = now.tz_convert(seed.TZ).date()
    tomorrow = today + dt.timedelta(days=1)
    assert dashboard.default_plan_date(engine, site, now) == tomorrow
    view = dashboard.plan_view(engine, site, tomorrow)
    run = runs.load_run(engine, runs.current_run_id(engine, seed.SITE_ID, tomorrow.isoformat()))
    assert view.status == run.status and view.savings == run.savings
    assert sorted(view.jobs[view.jobs["plan"] == "optimised"]["job"]) == sorted(j["id"] for j in run.schedule["jobs"])
    assert len(view.jobs[view.jobs["plan"] == "baseline"]) == 6 and len(view.load) == len(day_slots(tomorrow, seed.TZ, 15))
    # Wherever an optimised job runs, the site draws at least the job's power above its base load.
    problem_jobs = {job["id"]: job for job in run.problem["jobs"]}
    machines_kw = view.load["after_kw"] - view.load["base_load_kw"] + view.load["pv_kw"]
    for job in view.jobs[view.jobs["plan"] == "optimised"].itertuples():
        running = machines_kw[(machines_kw.index >= job.start) & (machines_kw.index < job.end)]
        assert len(running) == problem_jobs[job.job]["duration_slots"] and (running >= problem_jobs[job.job]["power_kw"] - 1e-6).all()
    failed_id = seed.store_failed_plan(engine, tomorrow)
    try:
        failed = dashboard.plan_view(engine, site, tomorrow)
        assert failed.failed.status == "infeasible" and failed.run.id == run.id
        assert any(a.level == "error" and "infeasible" in a.text for a in dashboard.overview(engine, site, today, now).alerts)
    finally:  # the seeded database is shared with the page tests
        with engine.begin() as conn:
            conn.execute(schema.plan_runs.delete().where(schema.plan_runs.c.id == failed_id))
    history = dashboard.savings_history(engine, site, today - dt.timedelta(days=3), tomorrow)
    assert list(history["status"]) == [run.status] * 2
    yesterday = history.loc[today - dt.timedelta(days=1)]
    assert not np.isnan(yesterday["realised_total"]) and np.isnan(history.loc[tomorrow, "realised_total"])
    assert history["planned_total"].sum() == pytest.approx(sum(
        runs.load_run(engine, int(i)).savings["total_eur"] for i in history["run_id"]))


def test_emissions_meters_and_report(seeded):
    engine, site = seeded
    now = pd.Timestamp.now(tz="UTC")
    today = now.tz_convert(seed.TZ).date()
    start, end = dashboard.local_days(today - dt.timedelta(days=2), today, seed.TZ)
    scope = dashboard.emissions(engine, site, today - dt.timedelta(days=2), today)
    table = scope.by_consumer
    site_total = table[(table["month"] == TOTAL) & (table["consumer"] == "site")].iloc[0]
    grid = site_history(engine, start, end)["energy_kwh"].clip(lower=0)
    hours = grid.index.tz_convert(seed.TZ).hour.to_numpy()
    assert site_total["market_tco2e"] * 1000 == pytest.approx(grid.sum() * seed.MARKET_G_PER_KWH / 1000)
    assert site_total["location_tco2e"] * 1000 == pytest.approx(float((grid.to_numpy() * (300 + 10 * hours))[grid.notna().to_numpy()].sum()) / 1000)
    assert set(scope.by_source["source_id"]) == {"grid-location", "residual-mix"} and scope.missing_factor.to_numpy().sum() == 0
    assert set(table["consumer"]) == {"site", *seed.MACHINES, "other"}
    # Machines and the rest of the site add up to the site, for both methods, and equal the report's table.
    totals = table[table["month"] == TOTAL].set_index("consumer")
    for method in ("location", "market"):
        assert totals.drop(index="site")[f"{method}_tco2e"].sum() == pytest.approx(site_total[f"{method}_tco2e"])
    status = dashboard.meter_status(engine, now).set_index("meter")
    assert status.loc["m_aux", "state"] == "failing" and status.loc["main", "state"] == "live"
    assert status.loc["m_aux", "last_reading"] < now - pd.Timedelta(hours=3)
    later = now + pd.Timedelta(hours=1)
    assert dashboard.meter_status(engine, later).set_index("meter").loc["main", "state"] == "stale"
    assert Alert("warning", f"meter main: stale, its newest data is {dashboard.age_text(later - status.loc['main', 'last_reading'])} old") in dashboard.alerts(
        engine, site, dashboard.power_kw(engine, site, "site", "site", *dashboard.local_day(today, seed.TZ)), later)
    report = dashboard.sustainability_report(engine, site, today - dt.timedelta(days=2), today)
    pd.testing.assert_frame_equal(report.table("scope2_by_consumer"), table)
    files = {fmt: dashboard.report_file(report, fmt) for fmt in ("csv", "xlsx", "pdf")}
    assert files["csv"][:2] == files["xlsx"][:2] == b"PK" and files["pdf"][:5] == b"%PDF-"


def test_an_empty_database_and_a_site_without_data(engine, tmp_path):
    assert dashboard.database_problem(engine) is None
    assert dashboard.load_site(engine) is None and dashboard.data_span(engine) is None
    now = pd.Timestamp.now(tz="UTC")
    initialise(engine, load_config(seed.write_config(tmp_path, now - pd.Timedelta(days=1), now)))
    site = dashboard.load_site(engine)
    day = dashboard.latest_day(engine, site)
    view = dashboard.overview(engine, site, day)
    assert view.month.energy_kwh == 0 and view.month.bill is None and view.today["quality"].eq("missing").all()
    assert view.month.bill_problem == "no site intervals stored this month"
    assert any("no energy data" in a.text for a in view.alerts)
    assert dashboard.plan_view(engine, site, day).status == "none"
    assert dashboard.savings_history(engine, site, day, day).empty
    assert set(dashboard.meter_status(engine)["state"]) == {"no data"}
    assert Alert("info", "meter main: nothing stored from it yet") in view.alerts
    # A meter known only from imported intervals (another system's export) is judged by them.
    imported = pd.date_range(now - pd.Timedelta(days=3), periods=96, freq="15min").floor("15min")
    store_intervals(engine, "meter", "main", pd.DataFrame({"energy_kwh": 1.0, "quality": "measured"}, index=imported))
    main = dashboard.meter_status(engine, now).set_index("meter").loc["main"]
    assert pd.isna(main["last_reading"]) and main["last_interval_end"] == imported[-1] + pd.Timedelta(minutes=15)
    assert main["state"] == "stale"


def test_a_database_without_schema_is_explained(sqlite_url):
    problem = dashboard.database_problem(storage.connect(sqlite_url))
    assert "no schema" in problem and "energy init" in problem
