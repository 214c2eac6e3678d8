"""Pure parts of reports: the production CSV, the EnPI regression, time-ordered instruments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from energy.errors import InputError
from energy.reports import enpi
from energy.reports.production import read_production_csv


def test_production_csv(tmp_path):
    path = tmp_path / "production.csv"
    path.write_text("date,machine,product,units,comment\n2024-03-01,press,A,5,x\n2024-03-01, press ,A,2.5,\n2024-03-02,oven,B,0,\n", encoding="utf-8")
    frame = read_production_csv(path, ["press", "oven"])
    assert frame.to_dict("records") == [
        {"date": dt.date(2024, 3, 1), "machine": "press", "product": "A", "units": 7.5},
        {"date": dt.date(2024, 3, 2), "machine": "oven", "product": "B", "units": 0.0},
    ]
    cases = [
        ("date,machine,product\n", "missing column(s) units"),
        ("date,machine,product,units\n2024-03-01,press,A,1\n01.03.2024,press,A,1\n", "line 3: date '01.03.2024' is not a date"),
        ("date,machine,product,units\n2024-03-01,lathe,A,1\n2024-03-01,lathe,B,1\n", "line 2: unknown machine 'lathe' (config has: press, oven) (1 more such line(s))"),
        ("date,machine,product,units\n2024-03-01,press,,1\n", "line 2: product is empty"),
        ("date,machine,product,units\n2024-03-01,press,A,nan\n", "line 2: units 'nan' is not a number ≥ 0"),
        ("", "file is empty"),
    ]
    for text, message in cases:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=f"^{path}: " + message.replace("(", r"\(").replace(")", r"\)")):
            read_production_csv(path, ["press", "oven"])
    with pytest.raises(InputError, match="production file not found"):
        read_production_csv(tmp_path / "absent.csv", ["press"])


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
    model = enpi.fit_baseline(days)
    coefficients = enpi.coefficients_table(model).set_index("term")
    assert coefficients.loc["units", "coefficient"] == pytest.approx(2.5, abs=0.1)
    assert coefficients.loc["units", "ci95_low"] < 2.5 < coefficients.loc["units", "ci95_high"]
    assert coefficients.loc["working_day", "ci95_low"] < 150.0 < coefficients.loc["working_day", "ci95_high"]
    assert coefficients.loc["intercept", "coefficient"] == pytest.approx(500.0, abs=15)
    fit = enpi.fit_table(model).set_index("statistic")["value"]
    assert fit["days_used"] == 360 and fit["days_excluded"] == 5
    assert fit["r_squared"] > 0.95 and abs(fit["nmbe_pct"]) < 1e-9

    # A reporting year that uses 10 % less than the baseline predicts.
    reporting = _days("2024-01-01", 366, per_unit=2.5, per_working=150.0, factor=0.9, seed=2)
    month = pd.Series(pd.to_datetime(reporting["date"]).dt.strftime("%Y-%m").to_numpy())
    savings = enpi.normalised_savings(model, reporting, month).set_index("month")
    total = savings.loc["total"]
    assert len(savings) == 13 and savings.drop(index="total")["savings_kwh"].sum() == pytest.approx(total["savings_kwh"])
    truth = 0.1 * (500.0 + 2.5 * reporting["units"] + 150.0 * reporting["working_day"]).sum()
    assert total["savings_lo95_kwh"] < truth < total["savings_hi95_kwh"]
    assert total["savings_pct"] == pytest.approx(10, abs=1)


def test_baseline_needs_enough_days():
    days = _days("2023-01-01", 10, 2.5, 150.0, 1.0, seed=3)
    assert "only 10 complete day(s)" in enpi.fit_baseline(days)
    constant = _days("2023-01-01", 30, 2.5, 150.0, 1.0, seed=4).assign(working_day=1.0)
    assert enpi.fit_baseline(constant).terms == ["units"]  # a term that does not vary is left out
