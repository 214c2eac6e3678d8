"""The EnPI on the dashboard: a normalised saving is headlined on the Overview only when the
baseline model is adequate (ASHRAE Guideline 14) and the saving exceeds its uncertainty; otherwise
the Overview says in words why there is none. The site is the report tests' plant
(``tests/reports/seed.py``: a known daily model, 5 % less in March 2024), its baseline period and
production file named in its ``[enpi]`` section."""

from __future__ import annotations

import pytest

from energy import dashboard, storage
from energy.reports import performance
from tests.reports import seed as seeding
from tests.ui.test_pages import charts, engine_and_site, metrics, open_page

ENPI = '[enpi]\nproduction_file = "production.csv"\nbaseline_from = 2024-01-01\nbaseline_to = 2024-02-29\n'
ENPI += 'static_factors = ["two presses, one shift"]\n'


@pytest.fixture(scope="module", params=[15.0, 600.0], ids=["explained", "unexplained"])
def enpi_url(request, tmp_path_factory):
    """The plant with day-to-day noise its variables explain (15 kWh on ~1,100 kWh a day) or do not (600 kWh)."""
    folder = tmp_path_factory.mktemp("enpi")
    url = f"sqlite:///{folder / 'energy.db'}"
    engine = storage.connect(url)
    storage.upgrade(engine)
    seeding.seed(engine, folder, plan=False, noise_kwh=request.param, enpi=ENPI)
    engine.dispose()
    return url


def test_overview_headlines_a_saving_only_when_the_baseline_is_adequate(enpi_url, monkeypatch):
    at = open_page(enpi_url, "overview", monkeypatch)
    engine, site = engine_and_site(enpi_url)
    day = at.date_input(key="day").value
    month = dashboard.month_performance(engine, site, day)
    assert day.isoformat() == "2024-03-31" and month.baseline_label == "2024-01-01 to 2024-02-29"  # the configured baseline
    shown = metrics(at)
    if month.model.cv_rmse_pct < 25:
        assert month.verdict.claimed
        total = month.total
        assert shown["Normalised saving"] == f"{total['savings_pct']:.1f} %" and 3 < total["savings_pct"] < 7
        assert shown["EnPI (actual / expected)"] == f"{total['enpi_ratio']:.3f}"
        assert month.verdict.text in [s.value for s in at.success]
    else:
        assert not month.verdict.claimed
        assert "Normalised saving" not in shown and "EnPI (actual / expected)" not in shown
        warning = next(w.value for w in at.warning if "baseline model" in w.value)
        assert warning.startswith("The baseline model does not explain the plant's consumption well enough (CV(RMSE)")
        assert warning.endswith("no normalised saving is claimed.")


def test_reports_page_shows_the_verdict_and_the_cusum(enpi_url, monkeypatch):
    at = open_page(enpi_url, "reports", monkeypatch)
    engine, site = engine_and_site(enpi_url)
    first, last = at.date_input(key="reports_period").value
    assert at.date_input(key="reports_baseline").value == (seeding.dt.date(2024, 1, 1), seeding.dt.date(2024, 2, 29))
    report = dashboard.sustainability_report(engine, site, first, last, None, (seeding.dt.date(2024, 1, 1), seeding.dt.date(2024, 2, 29)))
    said = [m.value for m in (*at.success, *at.warning)]
    assert performance.verdict_text(report.table("summary")) in said
    cusum = next(c for c in charts(at) if "CUSUM" in c["layout"]["yaxis"]["title"]["text"])
    assert {trace["name"] for trace in cusum["data"]} == {"baseline period", "reporting period"}
