"""Every dashboard page through Streamlit's AppTest: on the seeded site the numbers shown are the
library's (``energy.dashboard``); an empty database, one day of data and a failed plan give
explanations, never an exception."""

from __future__ import annotations

import base64
import hashlib
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from energy import dashboard, storage
from energy.emissions import load_factor_sources, quality
from energy.planning.runs import COMPONENTS
from energy.reports.tables import TOTAL
from tests.ui import seed
from ui import common

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
PAGES = ("overview", "machines", "plan", "savings", "emissions", "reports", "meters")
TITLES = {page: page.capitalize() for page in PAGES}


def open_page(url: str, page: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("ENERGY_DB_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [TITLES[page]]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def values(array) -> np.ndarray:
    """A plotly data array (a list, or a typed array ``{"dtype", "bdata"}``) as floats."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).astype(float)
    return np.array([np.nan if v is None else v for v in array], dtype=float)


def engine_and_site(url):
    engine = storage.connect(url)
    return engine, dashboard.load_site(engine)


@pytest.mark.parametrize("page", PAGES)
def test_every_chart_has_titled_axes(seeded_url, page, monkeypatch):
    at = open_page(seeded_url, page, monkeypatch)
    specs = charts(at)
    assert specs, f"{page} shows no chart"
    for spec in specs:
        layout = spec["layout"]
        for axis in [k for k in layout if k.startswith(("xaxis", "yaxis"))] or ["xaxis", "yaxis"]:
            assert layout.get(axis, {}).get("title", {}).get("text"), f"{page}: {axis} has no title"
        assert "(" in layout["yaxis"]["title"]["text"] or page == "plan", f"{page}: no unit on {layout['yaxis']['title']}"


def test_overview_shows_the_library_figures(seeded_url, monkeypatch):
    at = open_page(seeded_url, "overview", monkeypatch)
    engine, site = engine_and_site(seeded_url)
    day = at.date_input(key="day").value
    view = dashboard.overview(engine, site, day)
    month = view.month
    assert month.bill is not None, month.bill_problem
    assert metrics(at) == {
        "Grid import": common.number(month.energy_kwh, "kWh", 0),
        "Bill so far": common.money(month.bill["total"], "EUR", 0),
        "Demand charges so far": common.money(month.bill["demand"], "EUR", 0),
        "Peak so far": common.number(month.peak_kw, "kW"),
        "CO₂ (location-based)": common.number(month.co2_kg / 1000, "t CO₂e", 2),
    }
    assert [e.value for e in at.error] == [a.text for a in view.alerts if a.level == "error"]
    (load,) = charts(at)
    np.testing.assert_allclose(values(load["data"][0]["y"]), view.today["power_kw"].to_numpy())
    forecast = next(trace for trace in load["data"] if trace["name"] == "Forecast")
    np.testing.assert_allclose(values(forecast["y"]), view.forecast["forecast_kw"].to_numpy())
    assert load["layout"]["shapes"][0]["y0"] == pytest.approx(month.peak_kw)


def test_machines_page_marks_quality_and_shows_forecast_and_idle(seeded_url, monkeypatch):
    at = open_page(seeded_url, "machines", monkeypatch)
    at.selectbox(key="machine").select("m3").run()
    engine, site = engine_and_site(seeded_url)
    first, last = at.date_input(key="machines_period").value
    start, end = dashboard.local_days(first, last, site.timezone)
    end = dashboard.elapsed(site, start, end)
    series = dashboard.power_kw(engine, site, "machine", "m3", start, end)
    counts = dashboard.quality_counts(series)
    assert counts["estimated"] > 0
    shown = metrics(at)
    assert shown["Energy"] == common.number(series["energy_kwh"].sum(), "kWh", 0)
    assert shown["Estimated intervals"] == f"{counts['estimated']:,}" and shown["Missing intervals"] == f"{counts['missing']:,}"
    history, forecast, idle = charts(at)
    assert [t["name"] for t in history["data"]][1:] == ["estimated", "missing (no data)"]
    assert len(values(history["data"][1]["y"])) == counts["estimated"]
    assert {"95 % prediction interval", "80 % prediction interval", "forecast", "actual"} <= {t.get("name") for t in forecast["data"]}
    # Standby per day, stacked by the three splits of the site calendar, units in the labels.
    idle_days = dashboard.idle_by_day(engine, site, "m3", start, end)
    assert idle["layout"]["barmode"] == "stack" and idle["layout"]["yaxis"]["title"]["text"] == "Standby energy (kWh per day)"
    assert [t["name"] for t in idle["data"]] == ["in shifts (kWh)", "outside shifts (working days) (kWh)", "non-working days (kWh)"]
    for trace, column in zip(idle["data"], ("idle_in_shifts_kwh", "idle_outside_shifts_kwh", "idle_non_working_kwh")):
        np.testing.assert_allclose(values(trace["y"]), idle_days[column].to_numpy())
    assert shown["Standby energy in the period"] == common.number(idle_days["idle_kwh"].sum(), "kWh", 1)
    assert shown["Standby level"] == common.number(idle_days["idle_kwh"].sum() / idle_days["idle_hours"].sum(), "kW", 1) == "5.0 kW"


def test_plan_page_shows_the_current_plan(seeded_url, monkeypatch):
    at = open_page(seeded_url, "plan", monkeypatch)
    engine, site = engine_and_site(seeded_url)
    plan_date = at.date_input(key="plan_date").value
    assert plan_date == dashboard.default_plan_date(engine, site)
    view = dashboard.plan_view(engine, site, plan_date)
    assert metrics(at)["Solver status"] == view.run.status
    assert metrics(at)["Expected savings"] == common.money(view.savings["total_eur"], "EUR")
    gantt, load, savings = charts(at)
    assert sorted(t["name"] for t in gantt["data"]) == ["baseline", "optimised"]
    np.testing.assert_allclose(values(load["data"][1]["y"]), view.load["after_kw"].to_numpy())
    np.testing.assert_allclose(values(savings["data"][0]["y"]), [view.savings[c] for c in COMPONENTS] + [view.savings["total_eur"]])
    # Tomorrow has not run yet; yesterday's plan shows what really ran, matched to it.
    assert any("Not known yet" in info.value for info in at.info)
    yesterday = plan_date - dt.timedelta(days=2)
    at.date_input(key="plan_date").set_value(yesterday).run()
    realised = dashboard.realised_day(engine, site, dashboard.plan_view(engine, site, yesterday).run.id)
    assert metrics(at)["Adherence"] == f"{realised['adherence']['rate']:.0%}"
    assert metrics(at)["Realised savings"] == common.money(realised["savings"]["total_eur"], "EUR")
    table = at.dataframe[-1].value  # the page's last table
    assert list(table["Job"]) == list(realised["adherence_table"]["Job"]) and len(table) >= 1


def test_savings_emissions_reports_and_meters_pages(seeded_url, monkeypatch):
    engine, site = engine_and_site(seeded_url)
    at = open_page(seeded_url, "savings", monkeypatch)
    history = dashboard.savings_history(engine, site, *at.date_input(key="savings_period").value)
    assert len(history) == 2  # yesterday's plan (with realised savings) and tomorrow's
    assert metrics(at)["Planned savings"] == common.money(history["planned_total"].sum(), "EUR")
    assert metrics(at)["Realised savings"] == common.money(history["realised_total"].sum(), "EUR")
    # money apart from the internal carbon price, and the adherence the savings rest on
    assert metrics(at)["of which money"] == common.money(history["realised_cash"].sum(), "EUR")
    assert metrics(at)["Adherence"] == f"{history['adherence'].mean():.0%}"

    at = open_page(seeded_url, "emissions", monkeypatch)
    scope = dashboard.emissions(engine, site, *at.date_input(key="emissions_period").value)
    site_total = scope.by_consumer.set_index(["month", "consumer"]).loc[(TOTAL, "site")]
    # The units say what the factors count: the seeded factors do not state their gases.
    units = {m: quality.emissions_unit(scope.gases[m]).replace("CO2", "CO₂") for m in ("location", "market")}
    assert units == {"location": "t (CO₂ or CO₂e: not stated)", "market": "t (CO₂ or CO₂e: not stated)"}
    assert metrics(at) == {f"Site, {m}-based": common.number(site_total[f"{m}_tco2e"], units[m], 2) for m in ("location", "market")}
    # The quality checks are the report's; every warning is on the page (the constant residual mix states no vintage).
    pd.testing.assert_frame_equal(at.dataframe[3].value.reset_index(drop=True), scope.quality, check_dtype=False)
    warned = [w.value for w in at.warning]
    assert any("vintage, residual-mix" in text and "no vintage stated" in text for text in warned), warned
    assert len(warned) == (scope.quality["severity"] == "warning").sum() + int(scope.missing_factor.drop(index=TOTAL).to_numpy().astype(bool).sum())
    pd.testing.assert_frame_equal(at.dataframe[0].value.reset_index(drop=True), scope.by_consumer, check_dtype=False)
    assert set(at.dataframe[1].value["source_id"]) == {source.id for source in load_factor_sources(engine)} == {"grid-location", "residual-mix"}
    (chart,) = charts(at)
    machines = [trace for trace in chart["data"] if trace["type"] == "bar"]
    assert sum(values(trace["y"]).sum() for trace in machines) == pytest.approx(site_total["location_tco2e"])

    at = open_page(seeded_url, "reports", monkeypatch)
    report = dashboard.sustainability_report(engine, site, *at.date_input(key="reports_period").value)
    shown = [table.name for table in report.tables].index("scope2_by_consumer")
    pd.testing.assert_frame_equal(at.dataframe[shown].value.reset_index(drop=True), report.table("scope2_by_consumer"), check_dtype=False)
    assert len(at.get("download_button")) == 3
    (chart,) = charts(at)
    by_consumer = report.table("scope2_by_consumer").set_index(["month", "consumer"])
    assert sum(values(trace["y"]).sum() for trace in chart["data"]) == pytest.approx(by_consumer.loc[("total", "site"), "location_tco2e"])

    at = open_page(seeded_url, "meters", monkeypatch)
    states = dashboard.meter_status(engine)["state"].value_counts()
    assert metrics(at) == {"Live": "4", "Stale": "0", "Failing": "1", "No data": "0"} == {
        label: str(int(states.get(state, 0))) for state, label in (("live", "Live"), ("stale", "Stale"), ("failing", "Failing"), ("no data", "No data"))
    }


@pytest.mark.parametrize("page", PAGES)
def test_a_database_without_schema_explains_itself(sqlite_url, page, monkeypatch):
    at = open_page(sqlite_url, page, monkeypatch)
    assert not at.error and "energy init" in at.info[0].value


@pytest.fixture(scope="module")
def one_day_url(tmp_path_factory):
    """A site with readings since midnight only, no forecasts, no tariff, and only a failed plan."""
    folder = tmp_path_factory.mktemp("one_day")
    url, engine = seed.sqlite_database(folder)
    now = pd.Timestamp.now(tz="UTC")
    seed.seed_site(engine, folder, now=now, days=1, plans=False)
    seed.store_failed_plan(engine, now.tz_convert(seed.TZ).date() + dt.timedelta(days=1))
    engine.dispose()
    return url


@pytest.mark.parametrize("page", PAGES)
def test_one_day_of_data_and_a_failed_plan(one_day_url, page, monkeypatch):
    at = open_page(one_day_url, page, monkeypatch)
    said = [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    expected = {
        "overview": "No bill so far: no tariff stored",
        "machines": "No forecast stored",
        "plan": "is infeasible; there is no good plan",
        "savings": "No plans between",
        "emissions": "",
        "reports": "",
        "meters": "",
    }[page]
    assert any(expected in text for text in said) or not expected, said
    if page == "plan":
        assert "job j1 cannot fit" in " ".join(m.value for m in at.markdown)
        assert metrics(at)["Solver status"] == "infeasible" and metrics(at)["Expected savings"] == "–"


@pytest.fixture(scope="module")
def configured_url(tmp_path_factory):
    """A site that is configured ('energy init') and has nothing else: no readings, health or plans."""
    from energy.config import load_config
    from energy.setup import initialise

    folder = tmp_path_factory.mktemp("configured")
    url, engine = seed.sqlite_database(folder)
    now = pd.Timestamp.now(tz="UTC")
    initialise(engine, load_config(seed.write_config(folder, now - pd.Timedelta(days=1), now)))
    engine.dispose()
    return url


@pytest.mark.parametrize("page", PAGES)
def test_a_configured_site_without_data(configured_url, page, monkeypatch):
    at = open_page(configured_url, page, monkeypatch)
    assert not at.error, [e.value for e in at.error]
    assert at.info or at.warning or page == "meters"
    if page == "meters":
        assert metrics(at)["No data"] == str(len(seed.MACHINES) + 1)


def test_a_configured_password_is_asked_for_first(seeded_url, monkeypatch):
    monkeypatch.setenv("ENERGY_DB_URL", seeded_url)
    monkeypatch.setenv("ENERGY_UI_PASSWORD_SHA256", hashlib.sha256(b"s3cret").hexdigest())
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert [t.value for t in at.title] == ["Energy dashboard"] and not at.metric
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong password."] and not at.metric
    at.text_input[0].input("s3cret")
    at.button[0].click().run()
    assert not at.exception and [t.value for t in at.title] == ["Overview"] and at.metric
