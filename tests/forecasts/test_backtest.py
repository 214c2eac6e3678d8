"""The rolling-origin backtest against hand-computed metrics, and the selection rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy.forecasts.backtest import rolling_origin_backtest, summarize
from energy.forecasts.baselines import seasonal_naive
from energy.forecasts.calendar import ForecastCalendar
from energy.forecasts.selection import CANDIDATES, NotEnoughHistory, forecast_series, select_model
from tests.forecasts.synthetic import plant_kw, split_at

UTC = ForecastCalendar()


def constant_four(history, index, calendar):
    return pd.Series(4.0, index=index)


def test_backtest_metrics_match_a_hand_computation():
    # 6-hour steps (4 a day); one origin at the start of day 3.
    index = pd.date_range("2024-01-01", periods=12, freq="6h", tz="UTC")
    history = pd.Series([1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6], index=index, dtype=float)
    result = rolling_origin_backtest(
        history, 4, {"constant": constant_four, "naive_day": lambda h, i, c: seasonal_naive(h, i, c, 1)}, UTC, origins=1
    )
    metrics = summarize(result.metrics)
    # Scale: daily naive on days 1–2 errs by |2−1|, |3−2|, |4−3|, |5−4| → 1.0.
    # Constant 4 against 3, 4, 5, 6: errors +1, 0, −1, −2.
    assert metrics["constant"]["mae_kw"] == pytest.approx(1.0)
    assert metrics["constant"]["mase"] == pytest.approx(1.0)
    assert metrics["constant"]["bias_kw"] == pytest.approx(-0.5)
    assert metrics["constant"]["mape_pct"] == pytest.approx(100 * (1 / 3 + 0 + 1 / 5 + 2 / 6) / 4)
    # Daily naive forecasts 2, 3, 4, 5: every error −1.
    assert metrics["naive_day"]["mase"] == pytest.approx(1.0)
    assert metrics["naive_day"]["bias_kw"] == pytest.approx(-1.0)
    assert result.errors["constant"].tolist() == [-1.0, 0.0, 1.0, 2.0]  # actual − forecast


def test_backtest_origins_are_days_apart_and_use_only_the_past():
    series = plant_kw("2024-01-08", 30, seed=11)
    seen = []

    def spy(history, index, calendar):
        seen.append((history.index[-1], index[0]))
        return pd.Series(0.0, index=index)

    result = rolling_origin_backtest(series, 96, {"spy": spy}, UTC, origins=5)
    origins = result.metrics["origin"].tolist()
    assert len(origins) == 5 and origins[-1] == series.index[-96]
    assert all(b - a == pd.Timedelta(days=1) for a, b in zip(origins, origins[1:]))
    assert all(last < first for last, first in seen)


def test_backtest_skips_missing_actuals_and_names_failed_models():
    series = plant_kw("2024-01-08", 20, seed=12)
    series.iloc[-50:] = np.nan

    def broken(history, index, calendar):
        raise np.linalg.LinAlgError("singular")

    result = rolling_origin_backtest(series, 96, {"naive_day": lambda h, i, c: seasonal_naive(h, i, c, 1), "broken": broken}, UTC, origins=2)
    assert "broken" in result.failed and "broken" not in set(result.metrics["model"])
    assert result.metrics["n"].tolist() == [96, 46]


@pytest.mark.parametrize(
    ("scores", "chosen"),
    [
        ({"naive_day": 1.0, "naive_week": 0.8, "profile": 0.5}, "profile"),
        ({"naive_day": 1.0, "naive_week": 0.8, "profile": 0.8}, "naive_week"),  # a tie is no win
        ({"naive_day": 0.7, "naive_week": 0.8, "regression": 0.75}, "naive_day"),  # beats one naive only
        ({"naive_day": 0.7, "naive_week": 0.8, "regression": None}, "naive_day"),
    ],
)
def test_selection_never_picks_a_model_that_loses_to_seasonal_naive(scores, chosen):
    summary = {name: {"mase": mase, "mae_kw": mase} for name, mase in scores.items()}
    assert select_model(summary) == chosen


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_on_noise_the_choice_never_loses_to_naive_on_its_own_backtest(seed):
    # No seasonality at all: nothing should look better than it measured.
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=96 * 21, freq="15min", tz="UTC")
    history = pd.Series(100 + rng.normal(0, 10, len(index)).cumsum() * 0.1, index=index)
    candidates = {name: CANDIDATES[name] for name in ("naive_day", "naive_week", "profile", "regression")}
    result = forecast_series(history, 96, "15min", UTC, origins=4, candidates=candidates)
    models = result.backtest["models"]
    best_naive = min(models["naive_day"]["mase"], models["naive_week"]["mase"])
    assert result.mase <= best_naive
    assert result.model in candidates


def test_intervals_are_ordered_and_cover_about_their_level():
    series = plant_kw("2024-01-08", 50, noise_kw=10.0, seed=31)
    history, actual = split_at(series, "2024-02-20", days=7)
    candidates = {name: CANDIDATES[name] for name in ("naive_day", "naive_week", "profile")}
    result = forecast_series(history, len(actual), "15min", UTC, origins=10, candidates=candidates)
    f = result.forecast
    assert (f["lo95_kw"] <= f["lo80_kw"]).all() and (f["lo80_kw"] <= f["power_kw"] + 1e-9).all()
    assert (f["power_kw"] <= f["hi80_kw"] + 1e-9).all() and (f["hi80_kw"] <= f["hi95_kw"]).all()
    inside80 = ((actual >= f["lo80_kw"]) & (actual <= f["hi80_kw"])).mean()
    inside95 = ((actual >= f["lo95_kw"]) & (actual <= f["hi95_kw"])).mean()
    assert 0.65 <= inside80 <= 0.95 and 0.85 <= inside95 <= 1.0
    assert result.backtest["interval_offsets_kw"][result.model]["hi95_kw"] > 0


def test_a_history_shorter_than_horizon_plus_a_day_is_refused():
    series = plant_kw("2024-01-08", 1, seed=41)
    with pytest.raises(NotEnoughHistory):
        forecast_series(series.iloc[:-10], 96)


def test_a_stored_selection_is_reused_without_a_new_backtest():
    series = plant_kw("2024-01-08", 30, seed=51)
    candidates = {name: CANDIDATES[name] for name in ("naive_day", "naive_week", "profile")}
    first = forecast_series(series, 96, "15min", UTC, origins=3, candidates=candidates)
    calls = []

    def must_not_run(history, index, calendar):
        calls.append(1)
        raise AssertionError("the backtest ran again")

    other = next(name for name in candidates if name != first.model)
    reused_candidates = {**candidates, other: (must_not_run, 1)}
    again = forecast_series(series, 96, "15min", UTC, candidates=reused_candidates, reuse=first.backtest)
    assert again.model == first.model and again.mase == first.mase
    pd.testing.assert_frame_equal(again.forecast, first.forecast)
    assert not calls
