"""Per-series model choice by rolling-origin backtest, and the forecast with its intervals.

``forecast_series`` backtests every candidate that has enough history, picks the lowest MASE
but never a model that does not beat the better seasonal naive on that backtest, refits the
choice on the most recent ``fit_days`` and forecasts. Prediction intervals are empirical: the
10/90 % and 2.5/97.5 % quantiles of the chosen model's backtest errors (actual − forecast,
pooled over origins and lead times) added to the point forecast, i.e. split-conformal style
intervals that are as wide as the model's own measured errors.

Selection is re-run on a schedule, not every night: given the ``backtest`` dict of an earlier
forecast of the same series (``reuse=``), the model, its MASE and its interval offsets are taken
from it and only the chosen model is refitted; the nightly run re-selects at the latest when that
backtest is ``reselect_days`` old, staggered over the nights (``energy.forecasts.dayahead``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from energy.forecasts import models
from energy.forecasts.backtest import MODEL_FAILURES, Model, rolling_origin_backtest, summarize
from energy.forecasts.baselines import seasonal_naive
from energy.forecasts.calendar import ForecastCalendar
from energy.forecasts.series import on_grid, steps_per_day

NAIVE = ("naive_day", "naive_week")
# name → (model, days of history it needs before an origin)
CANDIDATES: dict[str, tuple[Model, int]] = {
    "naive_day": (partial(seasonal_naive, season_days=1), 1),
    "naive_week": (partial(seasonal_naive, season_days=7), 7),
    "profile": (models.day_type_profile, 7),
    "holt_winters": (models.holt_winters, 3),
    "mstl": (models.mstl_ar, 15),
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


def select_model(summary: Mapping[str, Mapping]) -> str:
    """The lowest-MASE model, unless it does not beat the better seasonal naive: then that naive.

    Models are ranked by MAE where MASE is undefined (a flat history has a zero scale).
    """
    score = _scores(summary)
    naive = best_naive(summary)
    best = min(score, key=score.get)
    return best if score[best] < score[naive] else naive


def _scores(summary: Mapping[str, Mapping]) -> dict[str, float]:
    key = "mase" if all(summary[name]["mase"] is not None for name in summary) else "mae_kw"
    return {name: summary[name][key] for name in summary if summary[name][key] is not None}


def best_naive(summary: Mapping[str, Mapping]) -> str:
    """The better of the two seasonal naives on the backtest."""
    score = _scores(summary)
    naive = [name for name in NAIVE if name in score]
    if not naive:
        raise ValueError("the backtest has no seasonal naive result to compare with")
    return min(naive, key=score.get)


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
    reuse: Mapping | None = None,
) -> SeriesForecast:
    """Forecast the ``horizon`` intervals that follow ``history`` (power in kW, tz-aware index of
    interval starts, gaps allowed), with the model chosen by a rolling-origin backtest.

    ``origins`` backtest origins one day apart (fewer when the history is short); models are fit
    on at most the last ``fit_days`` days; ``regressors`` (e.g. planned production in kW, covering
    history and horizon) go to the regression; ``candidates`` defaults to :data:`CANDIDATES`;
    ``reuse``: an earlier forecast's ``backtest`` dict whose selection is kept (see the module
    docstring). Raises :class:`NotEnoughHistory` below one horizon plus one day of history.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least one interval, not {horizon}")
    candidates = CANDIDATES if candidates is None else candidates
    if regressors is not None and "regression" in candidates:
        candidates = {**candidates, "regression": (partial(models.calendar_regression, regressors=regressors), candidates["regression"][1])}
    values = on_grid(history, freq)
    day = steps_per_day(freq)
    if values.notna().sum() == 0 or len(values) < horizon + day:
        raise NotEnoughHistory(f"{int(values.notna().sum())} intervals of history; need at least {horizon + day}")
    if reuse is not None and reuse.get("chosen") in candidates and "interval_offsets_kw" in reuse:
        backtest = dict(reuse)
    else:
        backtest = select(values, horizon, calendar, candidates, origins, fit_days)
    chosen = backtest["chosen"]

    recent = values.iloc[-fit_days * day:]
    step = pd.Timedelta(freq)
    index = pd.date_range(values.index[-1] + step, periods=horizon, freq=step)
    try:
        point = candidates[chosen][0](recent, index, calendar)
    except MODEL_FAILURES:  # the refit broke down where the backtest fits did not
        chosen = backtest["fallback"]
        point = candidates[chosen][0](recent, index, calendar)
    point = point.fillna(float(np.nanmean(recent.to_numpy())))
    frame = pd.DataFrame({"power_kw": point})
    for column in INTERVALS:
        frame[column] = point + backtest["interval_offsets_kw"][chosen][column]
    if np.nanmin(values.to_numpy()) >= 0:  # a series never seen negative is not forecast negative
        frame = frame.clip(lower=0.0)
    frame.index.name = "interval_start"
    return SeriesForecast(frame[COLUMNS], chosen, backtest["models"][chosen]["mase"], backtest)


def select(
    values: pd.Series,
    horizon: int,
    calendar: ForecastCalendar,
    candidates: Mapping[str, tuple[Model, int]],
    origins: int,
    fit_days: int,
) -> dict:
    """Backtest the candidates on ``values`` (kW, regular grid) and choose: the ``backtest`` dict
    stored with every forecast (summary per model, the choice, its naive fallback, interval
    offsets from the backtest errors, and the end of the history it was made on)."""
    day = steps_per_day(values.index[1] - values.index[0])
    spare_days = (len(values) - horizon) / day  # history before the latest origin
    usable_origins = max(1, min(origins, int(np.floor(spare_days))))
    earliest = spare_days - (usable_origins - 1)
    eligible = eligible_models(min(earliest, fit_days), candidates)
    result = rolling_origin_backtest(values, horizon, eligible, calendar, usable_origins, fit_days)
    summary = summarize(result.metrics)
    chosen = select_model(summary)
    offsets = {
        name: {column: _quantile(result.errors[name], q) for column, q in INTERVALS.items()}
        for name in {chosen, best_naive(summary)}
    }
    return {
        "horizon": horizon,
        "freq": str(values.index[1] - values.index[0]),
        "fit_days": fit_days,
        "origins": [t.isoformat() for t in result.metrics["origin"].drop_duplicates()],
        "scale": "in-sample MAE of the daily seasonal naive at each origin",
        "models": summary,
        "failed": result.failed,
        "chosen": chosen,
        "fallback": best_naive(summary),
        "interval_offsets_kw": offsets,
        "intervals": f"empirical quantiles of {int(np.isfinite(result.errors[chosen]).sum())} backtest errors",
        "selected_through": values.index[-1].isoformat(),
    }


def _quantile(errors: np.ndarray, q: float) -> float:
    finite = errors[np.isfinite(errors)]
    return float(np.quantile(finite, q)) if len(finite) else 0.0
