"""Reports end to end on SQLite and PostgreSQL: every total recomputed here from the seeded
intervals and factors, then each format written and read back."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from energy.reports import build_report, save_report
from energy.reports import csv as report_csv
from tests.reports import seed as seeding

MARCH = ("2024-03-01", "2024-03-31")
MIXED = ("enpi_fit", "enpi_days", "enpi_adequacy", "enpi_factors")  # a column mixing text and numbers, or dates: compared as text


def _march(frame: pd.DataFrame) -> pd.DataFrame:
    local = frame.index.tz_convert(seeding.TZ)
    return frame[(local >= pd.Timestamp("2024-03-01", tz=seeding.TZ)) & (local < pd.Timestamp("2024-04-01", tz=seeding.TZ))]


def _location_g(index: pd.DatetimeIndex) -> np.ndarray:
    return seeding.location_g(index.floor("h"))


def test_totals_reconcile_with_intervals_and_factors(engine, seeded):
    report = build_report(engine, seeded.config, *MARCH, production=seeded.production)
    site, pv = _march(seeded.site), _march(seeded.pv)
    press, oven = _march(seeded.machines["press"]), _march(seeded.machines["oven"])
    known = site["quality"] != "missing"
    net = site["energy_kwh"][known]
    imported = net.clip(lower=0)
    consumption = net + pv["energy_kwh"][known]
    location_t = float((imported * _location_g(imported.index)).sum() / 1e6)
    market_t = float((imported.sum() - seeding.GO_MWH * 1000) * seeding.RESIDUAL_G / 1e6)

    energy = report.table("energy").set_index(["month", "series_id"])
    assert energy.loc[("total", "site"), "energy_kwh"] == pytest.approx(consumption.sum())
    assert energy.loc[("total", "grid_import"), "energy_kwh"] == pytest.approx(imported.sum())
    assert energy.loc[("2024-03", "press"), "energy_kwh"] == pytest.approx(press["energy_kwh"].sum())
    assert energy.loc[("2024-03", "oven"), "energy_kwh"] == pytest.approx(oven["energy_kwh"].sum())
    intervals = len(site)  # 2,972: 31 days less the hour lost to summer time on 31 March
    assert intervals == 31 * 96 - 4 and energy.loc[("2024-03", "site"), "intervals"] == intervals
    assert energy.loc[("2024-03", "site"), "missing_pct"] == pytest.approx(100 * 4 / intervals)
    assert energy.loc[("2024-03", "oven"), "missing_pct"] == pytest.approx(100 * 4 / intervals)
    assert energy.loc[("2024-03", "oven"), "estimated_pct"] == pytest.approx(100 * 10 / intervals)
    assert energy.loc[("2024-03", "press"), "measured_pct"] == 100

    scope = report.table("scope2_by_consumer").set_index(["month", "consumer"])
    assert scope.loc[("total", "site"), "location_tco2e"] == pytest.approx(location_t)
    assert scope.loc[("total", "site"), "market_tco2e"] == pytest.approx(market_t)
    share = press["energy_kwh"][known] / consumption
    press_location_t = float((share * imported * _location_g(imported.index)).sum() / 1e6)
    assert scope.loc[("2024-03", "press"), "location_tco2e"] == pytest.approx(press_location_t)
    consumers = scope.loc["total"].drop(index="site")
    for method in ("location", "market"):  # machines + rest of site = site, both methods
        assert consumers[f"{method}_tco2e"].sum() == pytest.approx(scope.loc[("total", "site"), f"{method}_tco2e"])
    assert "residual_mix: residual_mix_2024" in scope.loc[("total", "site"), "market_sources"]

    sources = report.table("scope2_by_source")
    total = sources[sources["month"] == "total"].set_index(["method", "source_id"])
    assert total.loc[("market", "go_march"), "grid_kwh"] == pytest.approx(seeding.GO_MWH * 1000)
    assert total.loc[("market", "go_march"), "tco2e"] == 0
    assert total.loc[("market", "residual_mix_2024"), "factor_g_per_kwh"] == pytest.approx(seeding.RESIDUAL_G)
    for method, expected in (("location", location_t), ("market", market_t)):
        assert total.xs(method)["tco2e"].sum() == pytest.approx(expected)
        assert total.xs(method)["grid_kwh"].sum() == pytest.approx(imported.sum())
    assert set(total["citation"]) >= {"synthetic hourly grid average, v1", "GO registry certificate 42 (synthetic)"}

    pv_row = report.table("pv").set_index(["month", "pv_meter"]).loc[("total", "site (all PV)")]
    exported = (-net).clip(lower=0).sum()
    assert pv_row["generation_kwh"] == pytest.approx(pv["energy_kwh"][known].sum())
    assert pv_row["exported_kwh"] == pytest.approx(exported)
    assert pv_row["self_consumed_kwh"] == pytest.approx(pv["energy_kwh"][known].sum() - exported)

    summary = report.table("summary").set_index("item")["value"]
    assert summary["scope 2, location-based"] == pytest.approx(location_t)
    assert summary["scope 2, market-based"] == pytest.approx(market_t)


def test_intensity_enpi_and_scheduling(engine, seeded):
    report = build_report(engine, seeded.config, *MARCH, production=seeded.production)
    production = pd.read_csv(seeded.production)
    march = production[production["date"].str.startswith("2024-03")]
    press = _march(seeded.machines["press"])["energy_kwh"].sum()
    intensity = report.table("intensity").set_index(["month", "machine", "product"]).sort_index()
    press_units = march.loc[march["machine"] == "press", "units"].sum()
    assert intensity.loc[("2024-03", "press", "(all products)"), "kwh_per_unit"] == pytest.approx(press / press_units)
    products = intensity.loc[("2024-03", "press")].drop(index="(all products)")
    assert products["energy_kwh"].sum() == pytest.approx(press)  # products + idle days = the machine
    assert products["units"].sum() == press_units

    # The seeded reporting period uses 5 % less than the baseline model predicts.
    fit = report.table("enpi_fit").set_index("statistic")["value"]
    assert fit["baseline_first_day"] == "2024-01-01" and fit["baseline_last_day"] == "2024-02-29"
    coefficients = report.table("enpi_model").set_index("term")
    units = coefficients.loc["production_unit"]  # all products, in the default unit
    assert units["ci95_low"] < seeding.PER_UNIT < units["ci95_high"]
    savings = report.table("enpi_savings").set_index("month").loc["total"]
    assert savings["savings_lo95_kwh"] < savings["savings_kwh"] < savings["savings_hi95_kwh"]
    assert 3 < savings["savings_pct"] < 7
    # An adequate model (noise 15 kWh on ~1,000 kWh a day) and a saving far above its uncertainty: claimed.
    checks = report.table("enpi_adequacy").set_index("check")
    assert checks.loc["verdict", "value"] == "adequate" and checks.loc["cv_rmse_pct", "value"] < 25
    headline = report.table("summary").set_index("item")
    assert headline.loc["normalised savings", "value"] == pytest.approx(savings["savings_pct"])
    assert "the plant used" in headline.loc["EnPI baseline model, CV(RMSE)", "note"]
    days = report.table("enpi_days")
    reporting = days[(days["period"] == "reporting") & days["complete"]]
    assert len(days[days["period"] == "reporting"]) == 31 and len(reporting) == 30  # 5 March has a missing hour
    assert reporting["baseline_kwh"].sum() == pytest.approx(savings["baseline_kwh"])
    local_day = seeded.site.index.tz_convert(seeding.TZ).date
    site_day = (seeded.site["energy_kwh"] + seeded.pv["energy_kwh"]).groupby(local_day).sum()
    march_4 = days[days["date"] == pd.Timestamp("2024-03-04").date()].iloc[0]
    assert march_4["energy_kwh"] == pytest.approx(site_day[pd.Timestamp("2024-03-04").date()])
    assert march_4["production_unit"] == seeded.units[pd.Timestamp("2024-03-04").date()]

    schedule = report.table("scheduling_savings").set_index("plan_date")
    day = schedule.loc[seeding.PLAN_DAY.isoformat()]
    assert day["planned_eur"] == pytest.approx(15.5 - 11.0) and day["realised_eur"] == pytest.approx(3.5)
    assert day["planned_shifted_kwh"] == pytest.approx(100.0)  # 4 slots × 100 kW × 0.25 h moved
    # Planned: 100 kWh leave 09:00–10:00 UTC (690 g) for 01:00–02:00 UTC (610 g).
    assert day["planned_avoided_tco2e"] == pytest.approx(100 * (690 - 610) / 1e6)
    # Realised: what the stored realised savings (IPMVP Option B on the meters) found, and the
    # same 100 kWh valued at the margin between their counterfactual and the measured grid.
    assert day["realised_shifted_kwh"] == pytest.approx(100.0) and day["adherence"] == 1.0
    assert (day["realised_low_eur"], day["realised_cash_eur"], day["realised_high_eur"]) == pytest.approx((3.1, 3.0, 3.9))
    assert day["realised_avoided_tco2e"] == pytest.approx(100 * (690 - 610) / 1e6)


@seeding.SQLITE_ONLY
def test_xlsx_pdf_csv(engine, tmp_path):
    # The writers only see the built report: one database is enough here.
    seeded = seeding.seed(engine, tmp_path)
    report = build_report(engine, seeded.config, *MARCH, production=seeded.production)

    xlsx = save_report(report, "xlsx", tmp_path / "report.xlsx")
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["contents", *(t.name for t in report.tables)]
    for table in report.tables:
        sheet = book[table.name]
        assert [c.value for c in sheet[1]] == list(table.frame.columns), table.name
        assert sheet.max_row == len(table.frame) + 1, table.name
        assert sheet.freeze_panes == "A2"
    energy = book["energy"]
    header = [c.value for c in energy[1]]
    column = header.index("energy_kwh") + 1
    rows = list(energy.iter_rows(min_row=2, values_only=True))
    site_total = next(r for r in rows if r[0] == "total" and r[header.index("series_id")] == "site")
    assert site_total[column - 1] == pytest.approx(report.table("energy").query("month == 'total' and series_id == 'site'")["energy_kwh"].iloc[0])
    assert energy.cell(row=2, column=column).number_format == "#,##0.0"
    scope = book["scope2_by_consumer"]
    assert scope.cell(row=2, column=[c.value for c in scope[1]].index("location_tco2e") + 1).number_format == "#,##0.000"
    methodology = "\n".join(str(r) for r in book["methodology"].iter_rows(values_only=True))
    assert "grid_location" in methodology and "SHA-256" in methodology and "go_march" in methodology

    pdf = save_report(report, "pdf", tmp_path / "report.pdf")
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        assert len(document) == 7  # the scope 2 quality page is the fourth
        text = document[0].get_textpage().get_text_range()
        assert "Sustainability report" in text and "scope 2, market-based" in text
        image = document[2].render(scale=0.5).to_pil()
        pixels = np.asarray(image.convert("L"))
        assert (pixels < 128).mean() > 0.005  # the scope 2 page has charts and text drawn on it
    finally:
        document.close()
    # As an auditor's tools see it: poppler renders every page to PNG (.ci/run installs it).
    if shutil.which("pdftoppm") is None:
        assert not os.environ.get("CI"), "pdftoppm is missing: .ci/run installs poppler-utils"
    else:
        subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
        assert len(list(tmp_path.glob("page-*.png"))) == 7

    folder = save_report(report, "csv", tmp_path / "csv")
    archive = save_report(report, "csv", tmp_path / "report.zip")
    assert zipfile.is_zipfile(archive)
    for tables in (report_csv.read(folder), report_csv.read(archive)):
        assert set(tables) == {t.name for t in report.tables}
        for table in report.tables:
            read, expected = tables[table.name], table.frame.reset_index(drop=True)
            if table.frame.empty:
                continue
            if table.name in MIXED:  # a value column holding text and numbers: compare as text
                pd.testing.assert_frame_equal(read.astype(object).fillna("").astype(str), expected.astype(object).fillna("").astype(str), obj=table.name)
            else:
                # CSV has one empty cell for an empty text and a missing value.
                pd.testing.assert_frame_equal(read, expected.replace("", np.nan), check_dtype=False, obj=table.name)
    index = pd.read_csv(folder / "index.csv")
    assert set(index["file"]) == {"index.csv", *(f"{t.name}.csv" for t in report.tables)}
