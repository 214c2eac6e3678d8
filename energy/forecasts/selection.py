"""Per-series model choice by rolling-origin backtest, and the forecast with its intervals.

``forecast_series`` backtests every candidate that has enough history, picks the lowest MASE
but never a model that does not beat the better seasonal naive on that backtest, refits the
choice on the most recent ``fit_days`` and forecasts. Prediction intervals are empirical: the
10/90 % and 2.5/97.5 % quantiles of the chosen model's backtest errors (actual − forecast,
pooled over origins and lead times) added to the point forecast, i.e. split-conformal style
intervals that are as wide as the model's own measured errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from energy.forecasts import models
from energy.forecasts.backtest import Model, rolling_origin_backtest, summarize
from energy.forecasts.baselines import seasonal_naive
from energy.forecasts.calendar import ForecastCalendar
from energy.forecasts.series import on_grid, steps_per_day

NAIVE = ("naive_day", "naive_week")
# name → (model, days of history it needs before an origin)
CANDIDATES: dict[str, tuple[Model, int]] = {
    "naive_day": (partial(seasonal_naive, season_days=1), 1),
    "naive_week": (partial(seasonal_naive, season_days=7), 7),
    "holt_winters": (models.holt_winters, 3),
    "mstl": (models.mstl_ar, 14),
    "regression": (models.calendar_regression, 14),
}
INTERVALS = {"lo95_kw": 0.025, "lo80_kw": 0.10, "hi80_kw": 0.90, "hi95_kw": 0.975}
COLUMNS = ["power_kw", "lo80_kw", "hi80_kw", "lo95_kw", "hi95_kw"]


class NotEnoughHistory(ValueError):
    """The history does not cover one horizon plus a day: no backtest is possible."""


@dataclass
class SeriesForecast:
    """A forecast (kW; ``power_kw``, ``lo80_kw``, ``hi80_kw``, ``lo95_kw``, ``hi95_kw``, indexed by
    UTC interval start), the model chosen, its backtest MASE and the whole backtest summary."""

    forecast: pd.DataFrame
    model: str
    mase: float | None
    backtest: dict

    def backtest_json(self) -> str:
        return json.dumps(self.backtest, sort_keys=True)


def select_model(summary: Mapping[str, Mapping]) -> str:
    """The lowest-MASE model, unless it does not beat the better seasonal naive: then that naive.

    Models are ranked by MAE where MASE is undefined (a flat history has a zero scale).
    """
    key = "mase" if all(summary[name]["mase"] is not None for name in summary) else "mae_kw"
    score = {name: summary[name][key] for name in summary if summary[name][key] is not None}
    naive = [name for name in NAIVE if name in score]
    if not naive:
        raise ValueError("the backtest has no seasonal naive result to compare with")
    best_naive = min(naive, key=score.get)
    best = min(score, key=score.get)
    return best if score[best] < score[best_naive] else best_naive


def eligible_models(available_days: float, candidates: Mapping[str, tuple[Model, int]]) -> dict[str, Model]:
    return {name: model for name, (model, days) in candidates.items() if days <= available_days}


def forecast_series(
    history: pd.Series,
    horizon: int,
    freq: str | pd.Timedelta = "15min",
    calendar: ForecastCalendar = ForecastCalendar(),
    *,
    origins: int = 7,
    fit_days: int = 56,
    regressors: pd.DataFrame | None = None,
    candidates: Mapping[str, tuple[Model, int]] | None = None,
) -> SeriesForecast:
    """Forecast the ``horizon`` intervals that follow ``history`` (power in kW, tz-aware index of
    interval starts, gaps allowed), with the model chosen by a rolling-origin backtest.

    ``origins`` backtest origins one day apart (fewer when the history is short); models are fit
    on at most the last ``fit_days`` days; ``regressors`` (e.g. planned production in kW, covering
    history and horizon) go to the regression; ``candidates`` defaults to :data:`CANDIDATES`.
    Raises :class:`NotEnoughHistory` below one horizon plus one day of history.
    """
    candidates = CANDIDATES if candidates is None else candidates
    if regressors is not None and "regression" in candidates:
        candidates = {**candidates, "regression": (partial(models.calendar_regression, regressors=regressors), candidates["regression"][1])}
    values = on_grid(history, freq)
    day = steps_per_day(freq)
    spare_days = (len(values) - horizon) / day  # history before the latest origin
    usable_origins = min(origins, int(np.floor(spare_days)))
    if values.notna().sum() == 0 or usable_origins < 1:
        raise NotEnoughHistory(f"{len(values)} intervals of history; need at least {horizon + day}")
    earliest = spare_days - (usable_origins - 1)
    eligible = eligible_models(min(earliest, fit_days), candidates)
    result = rolling_origin_backtest(values, horizon, eligible, calendar, usable_origins, fit_days)
    summary = summarize(result.metrics)
    chosen = select_model(summary)

    recent = values.iloc[-fit_days * day:]
    step = pd.Timedelta(freq)
    index = pd.date_range(values.index[-1] + step, periods=horizon, freq=step)
    point = eligible[chosen](recent, index, calendar)
    point = point.fillna(float(np.nanmean(recent.to_numpy())))
    errors = result.errors[chosen]
    frame = pd.DataFrame({"power_kw": point})
    for column, quantile in INTERVALS.items():
        frame[column] = point + float(np.nanquantile(errors, quantile))
    if np.nanmin(values.to_numpy()) >= 0:  # a series never seen negative is not forecast negative
        frame = frame.clip(lower=0.0)
    frame.index.name = "interval_start"
    backtest = {
        "horizon": horizon,
        "freq": str(step),
        "fit_days": fit_days,
        "origins": [t.isoformat() for t in result.metrics["origin"].drop_duplicates()],
        "scale": "in-sample MAE of the daily seasonal naive at each origin",
        "models": summary,
        "failed": result.failed,
        "chosen": chosen,
        "intervals": f"empirical quantiles of {int(np.isfinite(errors).sum())} backtest errors",
    }
    return SeriesForecast(frame[COLUMNS], chosen, summary[chosen]["mase"], backtest)
