"""Bad requests fail with one clear error and leave no file; the CLI; instruments and fallbacks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from energy.errors import InputError
from energy.reports import build_report, save_report, write_report
from energy.reports import csv as report_csv
from tests.helpers import run_cli
from tests.reports import seed as seeding

MARCH_1 = dt.date(2024, 3, 1)  # these tests need no EnPI baseline: March alone is seeded


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


@seeding.SQLITE_ONLY
def test_bad_requests_leave_no_file(engine, tmp_path):
    seeded = seeding.seed(engine, tmp_path, first=MARCH_1, plan=False, location_valid_to="2024-03-15")
    config, out = seeded.config, tmp_path / "report.xlsx"
    requests = [
        (("2024-03-10", "2024-03-01"), {}, "--to: 2024-03-01 is before --from 2024-03-10: the period is empty"),
        (("2024-03-01", "2024-03-x"), {}, "--to: '2024-03-x' is not a date"),
        (("2023-06-01", "2023-06-30"), {}, "no site or machine intervals stored from 2023-06-01 to 2023-06-30"),
        (("2024-03-01", "2024-03-05"), {"machines": ["press", "lathe"]}, "--machine: unknown machine 'lathe'"),
        # The location-based factor ends on 15 March: a later interval has no factor.
        (("2024-03-10", "2024-03-20"), {}, "location-based emissions: no location emission factor for 2024-03-14T23:00:00"),
    ]
    for period, options, message in requests:
        with pytest.raises(InputError, match=message):
            write_report(engine, config, *period, "xlsx", out, **options)
        assert not out.exists() and _leftovers(tmp_path) == []
    with pytest.raises(InputError, match="--format: 'docx'"):
        write_report(engine, config, "2024-03-01", "2024-03-05", "docx", tmp_path / "r.docx")
    with pytest.raises(InputError, match="does not exist"):
        write_report(engine, config, "2024-03-01", "2024-03-05", "pdf", tmp_path / "nowhere" / "r.pdf")

    # A good report, then a failing re-run onto the same path: the first file stays intact.
    write_report(engine, config, "2024-03-01", "2024-03-05", "xlsx", out)
    before = out.read_bytes()
    with pytest.raises(InputError):
        write_report(engine, config, "2024-03-10", "2024-03-20", "xlsx", out)
    assert out.read_bytes() == before and _leftovers(tmp_path) == []

    # A CSV folder replaces a previous CSV report, never a folder of something else.
    folder = tmp_path / "csv"
    write_report(engine, config, "2024-03-01", "2024-03-02", "csv", folder)
    write_report(engine, config, "2024-03-01", "2024-03-05", "csv", folder)
    assert pd.read_csv(folder / "energy.csv")["month"].tolist()[0] == "2024-03"
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a previous CSV report folder"):
        write_report(engine, config, "2024-03-01", "2024-03-02", "csv", other)
    assert (other / "notes.txt").read_text() == "keep me" and _leftovers(tmp_path) == []


def test_instrument_used_in_time_order_from_its_start(engine, tmp_path):
    """A report from 15 March sees only what the GO has left after 1–14 March."""
    seeded = seeding.seed(engine, tmp_path, first=MARCH_1, plan=False)
    report = build_report(engine, seeded.config, "2024-03-15", "2024-03-31")
    local = seeded.site.index.tz_convert(seeding.TZ)
    imported = seeded.site["energy_kwh"].clip(lower=0).fillna(0)
    early = imported[(local >= pd.Timestamp("2024-03-01", tz=seeding.TZ)) & (local < pd.Timestamp("2024-03-15", tz=seeding.TZ))].sum()
    late = imported[(local >= pd.Timestamp("2024-03-15", tz=seeding.TZ)) & (local < pd.Timestamp("2024-04-01", tz=seeding.TZ))].sum()
    left = max(seeding.GO_MWH * 1000 - early, 0.0)
    sources = report.table("scope2_by_source").query("month == 'total' and method == 'market'").set_index("source_id")
    assert sources["grid_kwh"].get("go_march", 0.0) == pytest.approx(left)
    market = report.table("scope2_by_consumer").query("month == 'total' and consumer == 'site'")["market_tco2e"].iloc[0]
    assert market == pytest.approx((late - left) * seeding.RESIDUAL_G / 1e6)


@seeding.SQLITE_ONLY
def test_market_based_falls_back_to_grid_average(engine, tmp_path):
    seeded = seeding.seed(engine, tmp_path, first=MARCH_1, plan=False, residual=False, instrument=False, marginal=False)
    report = build_report(engine, seeded.config, "2024-03-01", "2024-03-07")
    site = report.table("scope2_by_consumer").query("month == 'total' and consumer == 'site'").iloc[0]
    assert site["market_tco2e"] == pytest.approx(site["location_tco2e"])
    assert site["market_sources"] == "location fallback (grid_average): grid_location"
    assert report.table("scheduling_savings").empty  # no plan stored
    assert "no production file given" in report.table("methodology")["detail"].str.cat(sep=" ")
    # Empty tables (no production, no plan, no baseline) still make every format, with headers.
    tables = report_csv.read(save_report(report, "csv", tmp_path / "csv"))
    assert tables["intensity"].empty and list(tables["intensity"].columns) == list(report.table("intensity").columns)
    assert tables["enpi_fit"]["statistic"].tolist() == ["no model"]
    assert save_report(report, "pdf", tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert openpyxl.load_workbook(save_report(report, "xlsx", tmp_path / "r.xlsx"))["scheduling_savings"].max_row == 1


@seeding.SQLITE_ONLY
def test_cli_report(sqlite_url, engine, tmp_path):
    seeded = seeding.seed(engine, tmp_path, first=MARCH_1, plan=False)
    out = tmp_path / "report.pdf"
    code, stdout, stderr = run_cli("report", "--config", seeded.config_path, "--from", "2024-03-01", "--to", "2024-03-10",
                                   "--format", "pdf", "--out", out, "--production", seeded.production, "--db", sqlite_url)
    assert code == 0, stderr
    assert out.read_bytes().startswith(b"%PDF") and "report written" in stdout
    code, _, stderr = run_cli("report", "--config", seeded.config_path, "--from", "2024-03-01", "--to", "2024-03-10",
                              "--format", "csv", "--out", tmp_path / "c", "--machine", "drill", "--db", sqlite_url)
    assert code == 1 and stderr.strip() == "energy: error: --machine: unknown machine 'drill' (config has: press, oven)"
    assert not (tmp_path / "c").exists()
    bad = tmp_path / "production.csv"
    bad.write_text("date,machine,product,units\n2024-03-01,press,A,5\n2024-03-02,press,A,-1\n", encoding="utf-8")
    code, _, stderr = run_cli("report", "--config", seeded.config_path, "--from", "2024-03-01", "--to", "2024-03-10",
                              "--format", "xlsx", "--out", tmp_path / "r.xlsx", "--production", bad, "--db", sqlite_url)
    assert code == 1 and f"{bad}: line 3: units '-1' is not a number ≥ 0" in stderr


@seeding.SQLITE_ONLY
def test_machine_selection_keeps_totals(engine, tmp_path):
    seeded = seeding.seed(engine, tmp_path, first=MARCH_1, plan=False)
    full = build_report(engine, seeded.config, "2024-03-01", "2024-03-03")
    press = build_report(engine, seeded.config, "2024-03-01", "2024-03-03", machines=["press"])
    scope = press.table("scope2_by_consumer").query("month == 'total'").set_index("consumer")
    assert list(scope.index) == ["press", "other", "site"]
    reference = full.table("scope2_by_consumer").query("month == 'total'").set_index("consumer")
    assert scope.loc["site", "location_tco2e"] == pytest.approx(reference.loc["site", "location_tco2e"])
    assert scope.loc["press", "market_tco2e"] == pytest.approx(reference.loc["press", "market_tco2e"])
    assert np.isclose(scope.loc["other", "location_tco2e"], reference.loc[["oven", "other"], "location_tco2e"].sum())
