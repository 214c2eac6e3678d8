"""Load models on synthetic series whose right answer is known (seeded)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from energy.forecasts.calendar import ForecastCalendar
from energy.forecasts.dayahead import tomorrow
from energy.timeutil import local_day_slots as day_slots
from energy.forecasts.selection import CANDIDATES, forecast_series
from energy.forecasts.series import on_grid
from tests.forecasts.site import site_config
from tests.forecasts.synthetic import BASE_KW, PRODUCTION_KW, TZ, mae, plant_kw, split_at

CALENDAR = ForecastCalendar(timezone=TZ, country="DE", subdivision="NW")
MODELS = {name: model for name, (model, _days) in CANDIDATES.items()}


def test_calendar_models_beat_daily_naive_after_a_weekend():
    # A Monday follows a Sunday without production: "same slot yesterday" misses the whole shift.
    history, actual = split_at(plant_kw("2024-01-08", 35, seed=1), "2024-02-05")
    errors = {name: mae(model(history, actual.index, CALENDAR), actual) for name, model in MODELS.items()}
    assert errors["naive_day"] > 50
    for name in ("naive_week", "profile", "regression", "mstl"):
        assert errors[name] < 12, (name, errors)
    # The profile (median of 4 Mondays) averages the noise out: better than one week back.
    assert errors["profile"] < errors["naive_week"]


def test_public_holiday_is_forecast_like_a_sunday():
    # 2024-05-01 (Labour Day, a Wednesday) is a public holiday in Germany: no production.
    # The plant also closed on Good Friday and Easter Monday, as the holiday calendar says.
    off_days = (dt.date(2024, 3, 29), dt.date(2024, 4, 1), dt.date(2024, 5, 1))
    series = plant_kw("2024-03-04", 70, off_days=off_days, seed=2)
    history, actual = split_at(series, "2024-05-01")
    assert actual.max() < BASE_KW + 30
    naive_week = MODELS["naive_week"](history, actual.index, CALENDAR)
    profile = MODELS["profile"](history, actual.index, CALENDAR)
    regression = MODELS["regression"](history, actual.index, CALENDAR)
    assert mae(naive_week, actual) > 80  # last Wednesday produced
    assert mae(profile, actual) < 10
    assert mae(regression, actual) < 15
    # Without the holiday calendar the same models expect a working Wednesday.
    blind = ForecastCalendar(timezone=TZ)
    assert mae(MODELS["profile"](history, actual.index, blind), actual) > 80


def test_selection_picks_a_calendar_aware_model_on_a_holiday_heavy_backtest():
    holidays = (dt.date(2024, 3, 29), dt.date(2024, 4, 1), dt.date(2024, 5, 1), dt.date(2024, 5, 9))
    series = plant_kw("2024-02-05", 99, off_days=holidays, seed=3)
    history, actual = split_at(series, "2024-05-13")
    # The slow fits (Holt-Winters, MSTL) are left out to keep the test short.
    candidates = {name: CANDIDATES[name] for name in ("naive_day", "naive_week", "profile", "regression")}
    result = forecast_series(history, len(actual), "15min", CALENDAR, origins=14, candidates=candidates)
    assert result.model in {"profile", "regression"}
    assert result.mase < result.backtest["models"]["naive_week"]["mase"]
    assert mae(result.forecast["power_kw"], actual) < 10


def test_regression_follows_a_trend_that_naive_forecasts_lag():
    history, actual = split_at(plant_kw("2024-01-08", 43, trend_kw_per_day=3.0, noise_kw=2.0, seed=4), "2024-02-19")
    regression = mae(MODELS["regression"](history, actual.index, CALENDAR), actual)
    naive_week = mae(MODELS["naive_week"](history, actual.index, CALENDAR), actual)
    assert naive_week == pytest.approx(21, abs=2)  # 7 days × 3 kW/day behind
    assert regression < naive_week / 2  # what is left is the Fourier fit of the shift edges


def test_every_model_forecasts_through_missing_intervals():
    series = plant_kw("2024-01-08", 35, seed=5)
    rng = np.random.default_rng(5)
    holed = series.copy()
    holed.iloc[rng.choice(len(series) - 96, size=len(series) // 10, replace=False)] = np.nan
    holed[(holed.index >= "2024-01-29") & (holed.index < "2024-01-30")] = np.nan  # a whole day lost
    holed = holed.drop(holed.index[100:200])  # and rows absent altogether
    history, actual = split_at(holed, "2024-02-09")
    history = on_grid(history, "15min")
    _, actual = split_at(series, "2024-02-09")
    for name, model in MODELS.items():
        forecast = model(history, actual.index, CALENDAR)
        assert len(forecast) == 96 and np.isfinite(forecast).all(), name
        assert mae(forecast, actual) < (60 if name.startswith("naive") or name == "holt_winters" else 15), name


def test_missing_history_is_never_read_as_zero():
    series = plant_kw("2024-01-08", 35, noise_kw=0.0, seed=6)
    history, actual = split_at(series, "2024-02-12")
    history = history.copy()
    history[history.index >= history.index[-96 * 7]] = np.nan  # last week unknown
    forecast = MODELS["naive_week"](history, actual.index, CALENDAR)
    assert forecast.to_numpy() == pytest.approx(actual.to_numpy())  # two weeks back instead


@pytest.mark.parametrize(("day", "slots"), [("2024-03-31", 92), ("2024-10-27", 100), ("2024-06-03", 96)])
def test_daylight_saving_days_keep_local_shifts(day, slots):
    index = day_slots(dt.date.fromisoformat(day), TZ, pd.Timedelta("15min"))
    assert len(index) == slots
    series = plant_kw(str(pd.Timestamp(day) - pd.Timedelta(days=35))[:10], 36, noise_kw=0.5, seed=7)
    history, actual = split_at(series, day)
    assert actual.index.equals(index)
    result = forecast_series(history, len(actual), "15min", CALENDAR, origins=3)
    assert len(result.forecast) == slots and result.forecast.notna().all().all()
    assert result.forecast.index.equals(index)
    # The shift still starts at 06:00 local on the 23- and 25-hour days.
    local = result.forecast.index.tz_convert(TZ)
    predicted_on = result.forecast["power_kw"] > BASE_KW + PRODUCTION_KW / 4
    expected_on = (local.hour >= 6) & (local.hour < 22) & (local.day_of_week < 6)
    assert (predicted_on == expected_on).mean() > 0.97


def test_tomorrow_is_taken_in_the_site_time_zone():
    late_utc = pd.Timestamp("2024-03-30 23:30", tz="UTC")  # already 00:30 on the 31st in Berlin
    assert tomorrow(site_config(), late_utc) == dt.date(2024, 4, 1)
