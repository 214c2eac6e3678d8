"""Scope 2 quality checks (GHG Protocol Scope 2 Guidance, Table 7.1): vintage, cancellation,
evidence, market boundary, gases and instrument coverage, from the configuration through the
database to the report; and the demo's re-dated factors stay flagged as the years they are."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from energy.config import load_config, parse_config
from energy.demo import demo_config_text
from energy.emissions import instruments_from_config, load_factor_sources, load_instruments, quality
from energy.emissions.sources import FactorSource, Instrument, _empty_rows, source_from_config
from energy.errors import InputError
from energy.reports import build_report
from energy.setup import initialise
from tests.helpers import REPO
from tests.reports import seed as seeding

TZ = "Europe/Berlin"


def constant(source_id: str, method: str = "residual_mix", vintage: int | None = None, gases: str | None = None) -> FactorSource:
    return FactorSource(source_id, method, "test", None, None, _empty_rows(), constant_g_per_kwh=500.0, vintage=vintage, gases=gases)


def instrument(instrument_id: str = "go", **stated) -> Instrument:
    return Instrument(instrument_id, "go", 1.0, pd.Timestamp("2020-01-01", tz="UTC"), pd.Timestamp("2030-01-01", tz="UTC"), 0.0, "registry", **stated)


def applied(first: str, hours: int, market: str, location: str = "grid", covered_kwh: float = 0.0, instrument_id: str = "go",
            kwh: float = 10.0, market_g: float = 500.0) -> pd.DataFrame:
    """What valued each hour: the location source every hour; in market-based the instrument
    first (``covered_kwh`` in all, hour by hour), the rest at ``market``."""
    starts = pd.date_range(pd.Timestamp(first, tz=TZ), periods=hours, freq="1h").tz_convert("UTC")
    rows, left = [], covered_kwh
    for start in starts:
        rows.append((start, "location", location, kwh, kwh * 0.4))
        take = min(left, kwh)
        left -= take
        if take:
            rows.append((start, "market", instrument_id, take, 0.0))
        if kwh - take:
            rows.append((start, "market", market, kwh - take, (kwh - take) * market_g / 1000))
    return pd.DataFrame(rows, columns=["interval_start", "method", "source_id", "grid_kwh", "emissions_kg"]).assign(basis="")


def check(frame, sources, instruments=(), country: str | None = "DE") -> pd.DataFrame:
    findings = quality.check_scope2(frame, sources, instruments, tz=TZ, site_country=country, period="the period")
    return quality.findings_table(findings)


def one(table: pd.DataFrame, check_name: str, subject: str) -> pd.Series:
    rows = table[(table["check"] == check_name) & (table["subject"] == subject)]
    assert len(rows) == 1, table
    return rows.iloc[0]


def test_a_2021_residual_mix_applied_to_2026_is_applied_and_flagged_and_the_same_year_passes():
    stale = check(applied("2026-03-01", 24, "rm"), [constant("rm", vintage=2021), FactorSource("grid", "location", "s", None, None, _empty_rows(), 400.0)])
    finding = one(stale, "vintage", "rm")
    assert finding["severity"] == "warning"
    assert finding["what"].startswith("2021 data applied to 2026 activity (5 years older): applied as configured; disclose it as the latest available")
    assert finding["period"] == "2026-03-01" and "Table" not in finding["rule"] and "accuracy" in finding["rule"]
    current = check(applied("2026-03-01", 24, "rm"), [constant("rm", vintage=2026), constant("grid", "location", vintage=2026)])
    assert one(current, "vintage", "rm")["severity"] == "ok"
    unstated = check(applied("2026-03-01", 24, "rm"), [constant("rm"), constant("grid", "location", vintage=2026)])
    assert one(unstated, "vintage", "rm")["severity"] == "warning" and "no vintage stated" in one(unstated, "vintage", "rm")["what"]


def test_a_factor_valuing_two_calendar_years_is_checked_for_each():
    table = check(applied("2025-12-31 20:00", 8, "rm"), [constant("rm", vintage=2025), constant("grid", "location", vintage=2025)])
    rm = table[(table["check"] == "vintage") & (table["subject"] == "rm")].set_index("period")
    assert rm.loc["2025-12-31", "severity"] == "ok"
    assert rm.loc["2026-01-01", "severity"] == "warning" and rm.loc["2026-01-01", "what"].startswith("2025 data applied to 2026 activity (1 year older)")
    assert "valuing 0.040 MWh" in rm.loc["2026-01-01", "what"]  # 4 hours of 10 kWh


def test_a_series_without_vintage_is_taken_as_the_dates_of_its_rows():
    series = FactorSource("grid", "location", "s", None, None, pd.DataFrame({"start": [pd.Timestamp("2026-01-01", tz="UTC")],
                          "end": [pd.Timestamp("2027-01-01", tz="UTC")], "g_per_kwh": [400.0]}))
    finding = one(check(applied("2026-05-01", 2, "rm"), [series, constant("rm", vintage=2026)]), "vintage", "grid")
    assert finding["severity"] == "info" and "taken to describe the dates of its rows (2026)" in finding["what"]


def test_a_hydro_2022_certificate_on_2026_consumption_and_the_instrument_details():
    go = instrument("hydro_2022", vintage=2022, country="DE", registry_id="R-1", device="hydro plant X",
                    cancelled_on=pd.Timestamp("2023-03-30 22:00", tz="UTC"))  # 31 March 2023, local midnight
    table = check(applied("2026-02-01", 10, "rm", covered_kwh=30.0, instrument_id="hydro_2022"), [constant("rm", vintage=2026), constant("grid", "location", vintage=2026)], [go])
    vintage = one(table, "vintage", "hydro_2022")
    assert vintage["severity"] == "warning" and vintage["what"] == "generated in 2022, covering 0.030 MWh of 2026 consumption (4 years older)"
    assert "Criterion 4" in vintage["rule"] and "as close as possible to the period of energy consumption" in vintage["rule"]
    assert vintage["period"] == "2026-02-01"  # the instrument covered the first three hours only
    cancelled = one(table, "cancellation", "hydro_2022")
    assert cancelled["severity"] == "warning" and cancelled["what"].startswith("cancelled on 2023-03-31, not in 2026 or 2027")
    assert one(table, "evidence", "hydro_2022")["severity"] == "ok" and "registry id R-1; device hydro plant X" in one(table, "evidence", "hydro_2022")["what"]
    assert one(table, "market boundary", "hydro_2022")["severity"] == "ok"
    assert list(table["severity"]).index("ok") > list(table["severity"]).index("warning")  # warnings first

    timely = instrument("go", vintage=2026, country="FR", cancelled_on=pd.Timestamp("2027-02-14 23:00", tz="UTC"))
    table = check(applied("2026-02-01", 10, "rm", covered_kwh=30.0), [constant("rm", vintage=2026), constant("grid", "location", vintage=2026)], [timely])
    assert one(table, "vintage", "go")["severity"] == "ok" and one(table, "cancellation", "go")["severity"] == "ok"
    market = one(table, "market boundary", "go")
    assert market["severity"] == "warning" and market["what"].startswith("from FR, the site is in DE") and "Criterion 5" in market["rule"]
    evidence = one(table, "evidence", "go")
    assert evidence["severity"] == "warning" and evidence["what"].startswith("not stated: registry_id, device;") and "Criterion 3" in evidence["rule"]
    unknown = check(applied("2026-02-01", 10, "rm", covered_kwh=30.0), [constant("rm"), constant("grid", "location")], [instrument()], country=None)
    assert one(unknown, "market boundary", "go")["what"].startswith("the instrument's country and site.country not stated")
    assert one(unknown, "evidence", "go")["what"].startswith("not stated: registry_id, device, cancelled_on")


def test_coverage_is_stated_per_month_and_for_the_period():
    frame = applied("2026-01-31 22:00", 4, "rm", covered_kwh=15.0)  # two hours in January, two in February (local)
    month_of = pd.Series(frame["interval_start"].dt.tz_convert(TZ).dt.strftime("%Y-%m").to_numpy(), index=frame["interval_start"]).groupby(level=0).first()
    table = quality.instrument_coverage(frame, [instrument()], month_of, ["2025-12", "2026-01", "2026-02"])
    assert list(table.index) == ["2025-12", "2026-01", "2026-02", "total"]
    assert table.loc["2026-01", ["grid_import_kwh", "instrument_kwh"]].tolist() == [20.0, 15.0]
    assert table.loc["2026-02", "statement"] == "0 of 0.020 MWh covered by instruments"
    assert table.loc["total", "covered_pct"] == pytest.approx(37.5) and pd.isna(table.loc["2025-12", "covered_pct"])
    nothing = check(applied("2026-01-01", 7400, "rm", kwh=10.0), [constant("rm", vintage=2026), constant("grid", "location", vintage=2026)], [instrument()])
    assert one(nothing, "coverage", "market-based")["what"] == "0 of 74.0 MWh covered by instruments"


def test_gases_give_the_unit_and_mixing_is_flagged():
    assert [quality.emissions_unit(g) for g in ("co2e", "co2", "mixed", "unknown", "none")] == [
        "tCO2e", "tCO2", "tCO2 + tCO2e (mixed)", "t (CO2 or CO2e: not stated)", "tCO2e"]
    grid = constant("grid", "location", vintage=2026, gases="co2e")
    frame = applied("2026-03-01", 3, "rm")
    same = check(frame, [grid, constant("rm", vintage=2026, gases="co2e")])
    assert one(same, "gases", "market-based")["what"] == "reported in tCO2e: rm counts CO2e"
    assert not (same["subject"] == "location- vs market-based").any()
    co2 = check(frame, [grid, constant("rm", vintage=2026, gases="co2")])
    assert one(co2, "gases", "market-based")[["severity", "what"]].tolist() == ["info", "reported in tCO2: rm counts CO2 only"]
    assert one(co2, "gases", "location- vs market-based")["what"].startswith("location-based counts CO2e, market-based CO2 only")
    # Market-based energy valued partly at the residual mix (CO2) and partly at a supplier rate (CO2e).
    mixed = pd.concat([frame, applied("2026-03-02", 3, "supplier")], ignore_index=True)
    sources = [grid, constant("rm", vintage=2026, gases="co2"), constant("supplier", "supplier", vintage=2026, gases="co2e")]
    assert quality.gases_of(mixed, "market", sources) == "mixed"
    assert one(check(mixed, sources), "gases", "market-based")["severity"] == "warning"
    assert quality.gases_of(mixed, "market", [grid, constant("rm", vintage=2026), sources[2]]) == "unknown"
    # Zero-emission instruments count no gas: fully covered energy is "none", reported as tCO2e.
    covered = applied("2026-03-01", 2, "rm", covered_kwh=20.0)
    assert quality.gases_of(covered, "market", sources, [instrument()]) == "none"


def test_grid_average_standing_in_for_a_residual_mix_is_disclosed():
    table = check(applied("2026-03-01", 5, "grid"), [constant("grid", "location", vintage=2026)])
    finding = one(table, "residual mix", "market-based")
    assert finding["severity"] == "warning" and finding["what"].startswith("0.050 MWh valued at the grid average (grid)")
    assert "Criterion 8" in finding["rule"]


def test_severity_is_one_of_three():
    with pytest.raises(ValueError, match="severity must be one of warning, info, ok"):
        quality.Finding("error", "vintage", "x", "p", "w", "r")


def _site(tmp_path, instrument: dict, factor: dict | None = None):
    data = {
        "site": {"name": "T", "timezone": TZ, "latitude": 50.0, "longitude": 8.0, "country": "DE"},
        "emissions": {"factors": [{"id": "rm", "method": "residual_mix", "g_per_kwh": 600.0, "source": "AIB", **(factor or {})}],
                      "instruments": [{"id": "go", "kind": "go", "mwh": 1.0, "valid_from": dt.date(2026, 1, 1), "valid_to": dt.date(2027, 1, 1),
                                       "source": "registry", **instrument}]},
    }
    return parse_config(data, tmp_path / "site.toml")


@pytest.mark.parametrize("instrument_fields, factor_fields, message", [
    ({"country": "de"}, {}, "emissions.instruments[0].country: 'de' is not an ISO 3166-1 alpha-2 country code"),
    ({"country": "DEU"}, {}, "emissions.instruments[0].country: 'DEU' is not an ISO 3166-1 alpha-2"),
    ({"vintage": 2026, "cancelled_on": dt.date(2025, 12, 31)}, {}, "emissions.instruments[0]: cancelled_on 2025-12-31 is before the vintage year 2026"),
    ({"registry_id": ""}, {}, "emissions.instruments[0].registry_id: String should have at least 1 character"),
    ({}, {"gases": "ch4"}, "emissions.factors[0].gases: Input should be 'co2' or 'co2e'"),
    ({}, {"vintage": 21}, "emissions.factors[0].vintage: must be ≥ 1900"),
])
def test_bad_quality_fields_name_the_file_and_field(tmp_path, instrument_fields, factor_fields, message):
    with pytest.raises(InputError, match="^" + str(tmp_path / "site.toml").replace(".", r"\.") + ": " + message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        _site(tmp_path, instrument_fields, factor_fields)


def test_quality_fields_are_stored_and_loaded(engine, tmp_path):
    config = _site(tmp_path, {"vintage": 2026, "gases": "co2e", "country": "AT", "registry_id": "AT-42", "device": "Danube hydro",
                              "cancelled_on": dt.date(2027, 2, 1)}, {"vintage": 2025, "gases": "co2"})
    initialise(engine, config)
    (source,) = load_factor_sources(engine)
    (stored,) = load_instruments(engine)
    assert (source.vintage, source.gases) == (2025, "co2")
    assert stored == instruments_from_config(config)[0]
    assert stored.cancelled_on == pd.Timestamp("2027-02-01", tz=TZ).tz_convert("UTC") and stored.country == "AT"


def test_the_report_has_the_quality_and_coverage_tables_and_honest_units(engine, tmp_path):
    seeded = seeding.seed(engine, tmp_path, plan=False)
    text = seeded.config_path.read_text(encoding="utf-8")
    text = text.replace('source = "AIB European residual mix 2024 (synthetic)"', 'source = "AIB European residual mix 2024 (synthetic)"\nvintage = 2023\ngases = "co2"')
    text = text.replace('source = "synthetic hourly grid average, v1"', 'source = "synthetic hourly grid average, v1"\ngases = "co2e"')
    text = text.replace('source = "GO registry certificate 42 (synthetic)"',
                        'source = "GO registry certificate 42 (synthetic)"\nvintage = 2022\ncountry = "NO"\nregistry_id = "42"\ndevice = "hydro"\ncancelled_on = 2024-04-15')
    seeded.config_path.write_text(text, encoding="utf-8")
    config = load_config(seeded.config_path)
    initialise(engine, config)
    report = build_report(engine, config, "2024-02-01", "2024-03-31")

    findings = report.table("scope2_quality")
    warned = findings[findings["severity"] == "warning"]
    assert set(zip(warned["check"], warned["subject"])) == {
        ("vintage", seeding.RESIDUAL), ("vintage", "go_march"), ("market boundary", "go_march"), ("gases", "location- vs market-based")}
    assert one(findings, "vintage", seeding.RESIDUAL)["what"].startswith("2023 data applied to 2024 activity (1 year older)")
    assert one(findings, "market boundary", "go_march")["what"].startswith("from NO, the site is in DE")
    assert one(findings, "cancellation", "go_march")["severity"] == "ok"

    coverage = report.table("scope2_coverage").set_index("month")
    imported = report.table("energy").set_index(["month", "series_id"]).loc[("total", "grid_import"), "energy_kwh"]
    assert coverage.loc["total", "instrument_kwh"] == pytest.approx(seeding.GO_MWH * 1000)
    assert coverage.loc["total", "grid_import_kwh"] == pytest.approx(imported)
    assert coverage.loc["2024-02", "statement"].startswith("0 of ") and coverage.loc["2024-02", "instrument_kwh"] == 0
    assert one(findings, "coverage", "market-based")["what"] == coverage.loc["total", "statement"]

    summary = report.table("summary").set_index("item")
    assert summary.loc["scope 2, location-based", "unit"] == "tCO2e" and summary.loc["scope 2, market-based", "unit"] == "tCO2"
    assert summary.loc["grid import covered by instruments", "value"] == pytest.approx(seeding.GO_MWH * 1000)
    site = report.table("scope2_by_consumer").query("consumer == 'site'").set_index("month")
    assert site["market_gases"].tolist() == ["co2", "co2", "co2"] and site["location_gases"].tolist() == ["co2e"] * 3
    by_source = report.table("scope2_by_source").drop_duplicates("source_id").set_index("source_id")
    assert by_source.loc[seeding.RESIDUAL, "vintage"] == 2023 and by_source.loc[seeding.LOCATION, "gases"] == "co2e"
    assert by_source.loc["go_march", "gases"] == "not stated"
    methodology = report.table("methodology").set_index("item")["detail"]
    assert "vintage 2022; gases not stated; country NO; registry id 42; device hydro; cancelled on 2024-04-15" in methodology["go_march"]


def test_the_demo_keeps_what_its_factors_describe_when_it_moves_them_onto_its_dates(tmp_path):
    shipped = (REPO / "data" / "demo" / "site.toml").read_text(encoding="utf-8")
    path = tmp_path / "site" / "site.toml"
    path.parent.mkdir()
    path.write_text(demo_config_text(shipped, dt.date(2025, 12, 1), dt.date(2026, 12, 10)), encoding="utf-8")
    config = load_config(path)
    factors = {f.id: f for f in config.emissions.factors}
    assert (factors["de_residual_mix"].vintage, factors["de_residual_mix"].gases) == (2021, "co2")
    assert (factors["de_grid_demo"].vintage, factors["de_grid_demo"].gases) == (2022, "co2e")
    (go,) = instruments_from_config(config)
    assert (go.vintage, go.country, go.cancelled_on.tz_convert(TZ).date()) == (2022, "DE", dt.date(2023, 3, 31))
    assert "invented" in go.source.lower() and "invented" in go.registry_id.lower() and "invented" in go.device.lower()

    residual = source_from_config(config.emissions.factors[1], config)
    grid = constant("de_grid_demo", "location", vintage=2022, gases="co2e")
    frame = applied("2026-01-05", 48, "de_residual_mix", location="de_grid_demo", covered_kwh=200.0, instrument_id=go.id)
    table = check(frame, [grid, residual], [go], country=config.site.country)
    warned = table[table["severity"] == "warning"]
    assert one(warned, "vintage", "de_residual_mix")["what"].startswith("2021 data applied to 2026 activity (5 years older)")
    assert one(warned, "vintage", "de_grid_demo")["what"].startswith("2022 data applied to 2026 activity")
    assert one(warned, "vintage", go.id)["what"].startswith("generated in 2022")
    assert one(warned, "cancellation", go.id)["what"].startswith("cancelled on 2023-03-31")
    assert one(table, "market boundary", go.id)["severity"] == "ok"
    assert quality.gases_of(frame, "market", [grid, residual], [go]) == "co2"
