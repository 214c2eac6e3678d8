"""The EnPI as the report builds it from the site's ``[enpi]`` section: the configured production
file and baseline period (and an explicit one winning), non-routine adjustments, degree days from
a weather file, and a model that is reported inadequate with no saving claimed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from energy.config import load_config
from energy.errors import InputError
from energy.forecasts.pv import read_weather_csv
from energy.reports import build_report, energy_performance
from tests.reports import seed as seeding

MARCH = ("2024-03-01", "2024-03-31")
ENPI = """[enpi]
production_file = "production.csv"
baseline_from = 2024-01-15
baseline_to = 2024-02-25
static_factors = ["two machines, one shift"]

[[enpi.adjustments]]
date = 2024-03-11
until = 2024-03-15
description = "trial run of a new line"
kwh = 100.0
"""


@seeding.SQLITE_ONLY
def test_the_configured_baseline_production_and_adjustments(engine, tmp_path):
    seeded = seeding.seed(engine, tmp_path, plan=False, enpi=ENPI)
    report = build_report(engine, seeded.config, *MARCH)  # no production argument: the configured file
    fit = report.table("enpi_fit").set_index("statistic")["value"]
    assert (fit["baseline_first_day"], fit["baseline_last_day"]) == ("2024-01-15", "2024-02-25")
    assert "production_unit" in report.table("enpi_model")["term"].tolist()
    # The adjustment: 100 kWh more expected on each of 5 days, so 500 kWh more saving than the model alone.
    total = report.table("enpi_savings").set_index("month").loc["total"]
    assert total["adjustments_kwh"] == pytest.approx(500.0)
    assert total["expected_kwh"] == pytest.approx(total["baseline_kwh"] + 500.0)
    assert total["savings_kwh"] == pytest.approx(total["expected_kwh"] - total["actual_kwh"])
    days = report.table("enpi_days")
    reporting = days[days["period"] == "reporting"]
    assert reporting["cusum_kwh"].iloc[-1] == pytest.approx(-total["savings_kwh"])  # the CUSUM ends at −(savings)
    factors = report.table("enpi_factors")
    assert factors["kind"].tolist() == ["static factor", "adjustment"] and factors["kwh"].iloc[1] == 100.0
    assert "2024-03-11 to 2024-03-15: +100 kWh per day (trial run of a new line)" in report.table("methodology")["detail"].tolist()

    # An explicit baseline wins over the configured one; the dashboard's call gives the report's figures.
    other = energy_performance(engine, seeded.config, *MARCH, baseline=("2024-01-01", "2024-02-29"))
    assert other.model.first_day == dt.date(2024, 1, 1) and other.baseline_label == "2024-01-01 to 2024-02-29"
    same = energy_performance(engine, seeded.config, *MARCH)
    assert same.total["savings_kwh"] == pytest.approx(total["savings_kwh"])


@seeding.SQLITE_ONLY
def test_an_unexplained_plant_is_inadequate_and_claims_nothing(engine, tmp_path):
    seeded = seeding.seed(engine, tmp_path, plan=False, noise_kwh=600.0, enpi=ENPI.split("\n\n")[0])
    report = build_report(engine, seeded.config, *MARCH)
    checks = report.table("enpi_adequacy").set_index("check")
    assert checks.loc["verdict", "value"] == "inadequate" and checks.loc["cv_rmse_pct", "passed"] is False
    summary = report.table("summary").set_index("item")
    assert "normalised savings vs baseline" not in summary.index and "EnPI, actual / expected consumption" not in summary.index
    note = summary.loc["EnPI baseline model, CV(RMSE)", "note"]
    assert note.startswith("The baseline model does not explain the plant's consumption well enough (CV(RMSE)")
    assert "> 25 %" in note and note.endswith("no normalised saving is claimed.")


@seeding.SQLITE_ONLY
def test_degree_days_from_the_weather_file(engine, tmp_path):
    """A plant that also heats: the weather file's temperatures become heating degree days, and the
    model finds their coefficient."""
    hours = pd.date_range("2023-12-30", "2024-04-02", freq="1h", tz="UTC")
    day_of_year = hours.day_of_year.to_numpy()
    temperature = 6.0 + 8.0 * np.sin(day_of_year / 9.0)  # cold and mild spells
    lines = ["timestamp,temp_air_c"] + [f"{t:%Y-%m-%dT%H:%M:%SZ},{v:.2f}" for t, v in zip(hours, temperature)]
    (tmp_path / "weather.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    seeded = seeding.seed(engine, tmp_path, plan=False, enpi=ENPI.split("\n\n")[0] + '\nweather_file = "weather.csv"\n')
    config = load_config(seeded.config_path)
    performance = energy_performance(engine, config, *MARCH)
    assert [v.name for v in performance.variables] == ["production_unit", "working_day", "hdd_kd", "cdd_kd"]
    assert performance.days["hdd_kd"].notna().all() and (performance.days["hdd_kd"] > 0).any()
    # The seeded consumption does not depend on temperature: the coefficient's interval holds 0.
    hdd = performance.coefficients.set_index("term").loc["hdd_kd"]
    assert hdd["ci95_low"] < 0 < hdd["ci95_high"]

    (tmp_path / "bad.csv").write_text("timestamp,temp_air_c\n2024-01-01T00:00Z,3.5\n2024-01-01T01:00Z,warm\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv: line 3: temp_air_c 'warm' is not a number"):
        read_weather_csv(tmp_path / "bad.csv", needs=("temp_air_c",))
    (tmp_path / "none.csv").write_text("timestamp,ghi_w_m2\n2024-01-01T00:00Z,0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"none.csv: needs a 'temp_air_c' column"):
        read_weather_csv(tmp_path / "none.csv", needs=("temp_air_c",))
