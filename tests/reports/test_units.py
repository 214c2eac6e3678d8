"""Pure parts of reports: the production CSV, the EnPI regression and its adequacy, time-ordered instruments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from energy.errors import InputError
from energy.reports import enpi, performance
from energy.reports.enpi import Variable
from energy.reports.production import read_production_csv


def test_production_csv(tmp_path):
    path = tmp_path / "production.csv"
    path.write_text("date,machine,product,units,comment\n2024-03-01,press,A,5,x\n2024-03-01, press ,A,2.5,\n2024-03-02,oven,B,0,\n", encoding="utf-8")
    frame = read_production_csv(path, ["press", "oven"])
    assert frame.to_dict("records") == [
        {"date": dt.date(2024, 3, 1), "machine": "press", "product": "A", "unit": "unit", "units": 7.5},
        {"date": dt.date(2024, 3, 2), "machine": "oven", "product": "B", "unit": "unit", "units": 0.0},
    ]
    path.write_text("date,machine,product,units,unit\n2024-03-01,press,A,0.5,t\n2024-03-01,oven,B,3,\n", encoding="utf-8")
    units = read_production_csv(path, ["press", "oven"]).set_index("product")["unit"]
    assert units.to_dict() == {"A": "t", "B": "unit"}  # an empty cell: the default
    cases = [
        ("date,machine,product\n", "missing column(s) units"),
        ("date,machine,product,units\n2024-03-01,press,A,1\n01.03.2024,press,A,1\n", "line 3: date '01.03.2024' is not a date"),
        ("date,machine,product,units\n2024-03-01,lathe,A,1\n2024-03-01,lathe,B,1\n", "line 2: unknown machine 'lathe' (config has: press, oven) (1 more such line(s))"),
        ("date,machine,product,units\n2024-03-01,press,,1\n", "line 2: product is empty"),
        ("date,machine,product,units\n2024-03-01,press,A,nan\n", "line 2: units 'nan' is not a number ≥ 0"),
        ("date,machine,product,units\n2024-03-01,press,A,-1\n", "line 2: units '-1' is not a number ≥ 0"),
        ("date,machine,product,units,unit\n2024-03-01,press,A,1,t\n2024-03-02,press,B,1,pcs\n2024-03-02,press,A,1,kg\n",
         "line 4: unit 'kg' differs from unit 't' of product 'A' on line 2 (one unit per product)"),
        ("", "file is empty"),
    ]
    for text, message in cases:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=f"^{path}: " + message.replace("(", r"\(").replace(")", r"\)")):
            read_production_csv(path, ["press", "oven"])
    with pytest.raises(InputError, match="production file not found"):
        read_production_csv(tmp_path / "absent.csv", ["press"])


UNITS = Variable("units", "kWh per unit produced", "unit")
WORKING = performance.WORKING_DAY


def _days(first: str, count: int, per_unit: float, per_working: float, factor: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(first, periods=count, freq="D")
    working = (dates.day_of_week < 5).astype(float)
    units = np.where(working > 0, rng.uniform(100, 400, count), rng.uniform(0, 40, count))
    energy = (500.0 + per_unit * units + per_working * working + rng.normal(0, 25, count)) * factor
    return pd.DataFrame({"date": dates.date, "energy_kwh": energy, "complete": True, "units": units, "working_day": working})

def test_baseline_regression_recovers_a_known_coefficient():
    days = _days("2023-01-01", 365, per_unit=2.5, per_working=150.0, factor=1.0, seed=1)
    days.loc[10:14, "complete"] = False  # incomplete days are left out, and counted
    model = enpi.fit_baseline(days, [UNITS, WORKING])
    coefficients = enpi.coefficients_table(model).set_index("term")
    assert coefficients.loc["units", "coefficient"] == pytest.approx(2.5, abs=0.1)
    assert coefficients.loc["units", "ci95_low"] < 2.5 < coefficients.loc["units", "ci95_high"]
    assert coefficients.loc["working_day", "ci95_low"] < 150.0 < coefficients.loc["working_day", "ci95_high"]
    assert coefficients.loc["intercept", "coefficient"] == pytest.approx(500.0, abs=15)
    fit = enpi.fit_table(model).set_index("statistic")["value"]
    assert fit["days_used"] == 360 and fit["days_excluded"] == 5
    assert fit["r_squared"] > 0.95 and abs(fit["nmbe_pct"]) < 1e-9
    assert fit["r_squared"] == pytest.approx(model.result.rsquared)  # statsmodels' own for a daily model

    # A reporting year that uses 10 % less than the baseline predicts.
    reporting = _days("2024-01-01", 366, per_unit=2.5, per_working=150.0, factor=0.9, seed=2)
    month = pd.Series(pd.to_datetime(reporting["date"]).dt.strftime("%Y-%m").to_numpy())
    savings = enpi.normalised_savings(model, reporting, month).set_index("month")
    total = savings.loc["total"]
    assert len(savings) == 13 and savings.drop(index="total")["savings_kwh"].sum() == pytest.approx(total["savings_kwh"])
    truth = 0.1 * (500.0 + 2.5 * reporting["units"] + 150.0 * reporting["working_day"]).sum()
    assert total["savings_lo95_kwh"] < truth < total["savings_hi95_kwh"]
    assert total["savings_pct"] == pytest.approx(10, abs=1) and total["enpi_ratio"] == pytest.approx(0.9, abs=0.01)
    verdict = enpi.assess(model, total)
    assert verdict.adequate and verdict.claimed and f"used {total['savings_pct']:.1f} % less energy" in verdict.text


def test_baseline_needs_enough_days():
    days = _days("2023-01-01", 10, 2.5, 150.0, 1.0, seed=3)
    assert "only 10 day(s) with complete data" in enpi.fit_baseline(days, [UNITS, WORKING])
    constant = _days("2023-01-01", 30, 2.5, 150.0, 1.0, seed=4).assign(working_day=1.0)
    assert enpi.fit_baseline(constant, [UNITS, WORKING]).terms == ["units"]  # a term that does not vary is left out
    twice = constant.assign(again=constant["units"] * 2)
    assert enpi.fit_baseline(twice, [UNITS, Variable("again", "x")]).terms == ["units"]  # nor one the others explain


def _noisy(noise_kwh: float, factor: float = 1.0, seed: int = 5) -> pd.DataFrame:
    """A year of days whose consumption follows production, with day-to-day noise the variables do not explain."""
    days = _days("2023-01-01", 365, per_unit=2.5, per_working=150.0, factor=factor, seed=seed)
    return days.assign(energy_kwh=days["energy_kwh"] + np.random.default_rng(seed + 100).normal(0, noise_kwh, len(days)))


def test_adequacy_verdict_on_synthetic_data():
    """ASHRAE Guideline 14's daily limits decide: CV(RMSE) 25 %. A plant whose consumption the
    variables explain is adequate; the same plant with large unexplained swings is not, and then
    no saving is claimed even when the reporting period used clearly less."""
    reporting = _noisy(20.0, factor=0.85, seed=6)
    month = pd.Series(pd.to_datetime(reporting["date"]).dt.strftime("%Y-%m").to_numpy())

    good = enpi.fit_baseline(_noisy(20.0), [UNITS, WORKING])
    assert good.cv_rmse_pct < 10 and good.adequate
    verdict = enpi.assess(good, enpi.normalised_savings(good, reporting, month).iloc[-1])
    assert verdict.claimed and verdict.checks.set_index("check").loc["verdict", "value"] == "adequate"

    bad = enpi.fit_baseline(_noisy(500.0), [UNITS, WORKING])  # ~1,000 kWh a day with ±500 kWh nobody explains
    assert bad.cv_rmse_pct > 25 and not bad.adequate
    total = enpi.normalised_savings(bad, reporting, month).iloc[-1]
    verdict = enpi.assess(bad, total)
    assert not verdict.adequate and not verdict.claimed
    assert verdict.text.startswith(f"The baseline model does not explain the plant's consumption well enough (CV(RMSE) {bad.cv_rmse_pct:.0f} % > 25 %")
    assert verdict.text.endswith("no normalised saving is claimed.")
    checks = verdict.checks.set_index("check")
    assert checks.loc["cv_rmse_pct", "passed"] is False and checks.loc["cv_rmse_pct", "criterion"] == "≤ 25"

    # Adequate, but a reporting period that matches the baseline: the difference is noise, not a saving.
    same = _noisy(20.0, seed=7)
    verdict = enpi.assess(good, enpi.normalised_savings(good, same, pd.Series(["2023"] * len(same))).iloc[-1])
    assert verdict.adequate and not verdict.claimed and "smaller than its uncertainty" in verdict.text
    assert "No baseline model could be fitted (too few)" in enpi.assess("too few", None).text


def test_monthly_model_uses_the_monthly_limits():
    """Monthly production data make a monthly model: observations sum their days, the intercept is
    per day (months differ in length), and ASHRAE Guideline 14's monthly limits apply."""
    days = _days("2021-01-01", 3 * 365, per_unit=2.5, per_working=150.0, factor=1.0, seed=8)
    assert enpi.granularity_of(pd.date_range("2021-01-01", periods=36, freq="MS").date) == "monthly"
    assert enpi.granularity_of(pd.date_range("2021-01-04", periods=20, freq="7D").date) == "weekly"
    assert enpi.granularity_of(days["date"]) == "daily"
    model = enpi.fit_baseline(days, [UNITS, WORKING], "monthly")
    assert model.observations == 36 and model.criteria.cv_rmse_max_pct == 15 and model.criteria.nmbe_max_pct == 5
    coefficients = enpi.coefficients_table(model).set_index("term")["coefficient"]
    assert coefficients["intercept"] == pytest.approx(500, abs=40) and coefficients["units"] == pytest.approx(2.5, abs=0.2)
    assert enpi.predict_kwh(model, days).sum() == pytest.approx(days["energy_kwh"].sum(), rel=1e-3)
    # A month with a missing day is not a whole month: left out of a monthly model.
    gap = days.assign(excluded="")
    gap.loc[40, "complete"] = False
    marked = enpi.whole_periods(gap, "monthly")
    february = pd.to_datetime(marked["date"]).dt.month.eq(2) & pd.to_datetime(marked["date"]).dt.year.eq(2021)
    assert not marked.loc[february, "complete"].any() and marked.loc[february & (marked.index != 40), "excluded"].eq("its month is incomplete").all()


def test_cusum_runs_within_each_period():
    days = pd.DataFrame({
        "period": ["baseline"] * 3 + ["reporting"] * 4,
        "energy_kwh": [10.0, 12.0, 8.0, 9.0, 9.0, 50.0, 8.0],
        "expected_kwh": [10.0] * 7,
        "complete": [True, True, True, True, True, False, True],
    })
    out = enpi.cusum(days)
    assert out["cusum_kwh"].tolist() == [0.0, 2.0, 0.0, -1.0, -2.0, -2.0, -4.0]  # an incomplete day adds nothing
    assert np.isnan(out["difference_kwh"].iloc[5])


def test_degree_days_and_production_variables():
    hours = pd.date_range("2024-01-01", "2024-01-03", freq="1h", inclusive="left", tz="Europe/Berlin").tz_convert("UTC")
    temperature = pd.Series(np.where(hours.tz_convert("Europe/Berlin").day == 1, 8.3, 23.3), index=hours)
    temperature.iloc[30:40] = np.nan  # 2 January has values in only 14 of its hours: no temperature
    degree = performance.degree_days(temperature, "Europe/Berlin", heating_base_c=18.3, cooling_base_c=18.3)
    assert degree.loc[dt.date(2024, 1, 1), "hdd_kd"] == pytest.approx(10.0) and degree.loc[dt.date(2024, 1, 1), "cdd_kd"] == 0
    assert np.isnan(degree.loc[dt.date(2024, 1, 2), "hdd_kd"])

    production = pd.DataFrame({"date": [dt.date(2024, 1, 2)] * 3, "machine": ["f1", "oven", "f2"],
                               "product": ["melt", "heat", "melt"], "unit": ["t", "t", "t"], "units": [1.0, 2.0, 0.5]})
    frame, variables = performance.production_variables(production, [])
    assert [v.name for v in variables] == ["production_t"] and frame.loc[dt.date(2024, 1, 2), "production_t"] == 3.5
    frame, variables = performance.production_variables(production, ["melt"])
    assert [v.name for v in variables] == ["product_melt", "production_t"] and frame.loc[dt.date(2024, 1, 2)].tolist() == [1.5, 2.0]
    with pytest.raises(InputError, match=r"enpi.products\[0\]: product 'billet' is not in p.csv \(it has: heat, melt\)"):
        performance.production_variables(production, ["billet"], "p.csv")
