"""Rolling-origin backtest: MASE against the seasonal-naive scale, MAPE and bias per model.

Origins are spaced one day apart and end where the latest full horizon still has actuals: the
last origin is ``horizon`` intervals before the end of the history. At each origin every model is
fitted on the data before it only (capped at ``fit_days`` days) and forecasts ``horizon``
intervals, which are compared with the actuals (missing actuals are skipped).

Per origin: ``mae_kw``; ``mase`` = mae / scale, where scale is the in-sample mean absolute error
of the daily seasonal naive on that origin's training data (Hyndman & Koehler 2006,
doi:10.1016/j.ijforecast.2006.03.001); ``mape_pct`` over actuals ≠ 0; ``bias_kw`` = mean of
forecast − actual (positive: over-forecast). ``summarize`` averages each over the origins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from energy.forecasts.baselines import naive_scale
from energy.forecasts.calendar import ForecastCalendar
from energy.forecasts.series import steps_per_day

Model = Callable[[pd.Series, pd.DatetimeIndex, ForecastCalendar], pd.Series]
METRICS = ("mase", "mae_kw", "mape_pct", "bias_kw")
MODEL_FAILURES = (ValueError, np.linalg.LinAlgError)  # numerical breakdowns of one fit


@dataclass
class Backtest:
    """Per (model, origin) metrics, and each model's errors (actual − forecast, kW) pooled."""

    metrics: pd.DataFrame
    errors: dict[str, np.ndarray] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def origin_times(history: pd.Series, horizon: int, origins: int) -> pd.DatetimeIndex:
    """The backtest origins (UTC), oldest first: one day apart, the last ``horizon`` steps
    before the end of the history."""
    step = history.index[1] - history.index[0]
    last = history.index[-1] + step - horizon * step
    return pd.DatetimeIndex([last - k * pd.Timedelta(days=1) for k in range(origins - 1, -1, -1)])


def forecast_errors(actual: pd.Series, forecast: pd.Series, scale_kw: float) -> dict[str, float]:
    """Metrics of one forecast against its actuals (kW); NaN actuals or forecasts are skipped."""
    error = (forecast - actual).dropna()
    actual = actual.reindex(error.index)
    mae = float(error.abs().mean()) if len(error) else float("nan")
    nonzero = actual != 0
    return {
        "mase": mae / scale_kw if scale_kw > 0 else float("nan"),
        "mae_kw": mae,
        "mape_pct": float((error[nonzero] / actual[nonzero]).abs().mean() * 100) if nonzero.any() else float("nan"),
        "bias_kw": float(error.mean()) if len(error) else float("nan"),
        "n": int(len(error)),
    }


def rolling_origin_backtest(
    history: pd.Series,
    horizon: int,
    models: Mapping[str, Model],
    calendar: ForecastCalendar,
    origins: int = 7,
    fit_days: int | None = None,
) -> Backtest:
    """Backtest ``models`` on ``history`` (kW on a regular UTC grid) — see the module docstring.

    A model raising a numerical error at an origin is dropped from the result and named in
    ``failed``.
    """
    day = steps_per_day(history.index[1] - history.index[0])
    rows, errors, failed = [], {name: [] for name in models}, {}
    for origin in origin_times(history, horizon, origins):
        train = history[history.index < origin]
        if fit_days:
            train = train.iloc[-fit_days * day:]
        actual = history[history.index >= origin].iloc[:horizon]
        if actual.notna().sum() == 0 or len(train) < 2:
            continue
        scale = naive_scale(train, calendar)
        for name, model in models.items():
            if name in failed:
                continue
            try:
                forecast = model(train, actual.index, calendar)
            except MODEL_FAILURES as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"
                continue
            rows.append({"model": name, "origin": origin, "scale_kw": scale, **forecast_errors(actual, forecast, scale)})
            errors[name].append((actual - forecast).to_numpy())
    metrics = pd.DataFrame(rows, columns=["model", "origin", "scale_kw", *METRICS, "n"])
    metrics = metrics[~metrics["model"].isin(failed)]
    pooled = {name: np.concatenate(parts) for name, parts in errors.items() if parts and name not in failed}
    return Backtest(metrics, pooled, failed)


def summarize(metrics: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each model's metrics averaged over its origins (plus how many origins it had)."""
    summary = {}
    for name, group in metrics.groupby("model", sort=False):
        summary[name] = {metric: _finite(group[metric].mean()) for metric in METRICS}
        summary[name]["origins"] = int(len(group))
    return summary


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
