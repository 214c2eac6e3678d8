"""Load models beyond the naive baselines (statsmodels and least squares).

Every model has the signature ``model(history, index, calendar) -> pd.Series``: ``history`` is
power (kW) on a regular UTC grid ending before ``index`` (NaN where missing), ``index`` the UTC
interval starts to forecast, on the same grid. Each returns the point forecast (kW).

- ``day_type_profile``: per local slot and day type (Monday … Sunday, public holidays and
  shutdown days as Sunday), the median of the last ``PROFILE_WEEKS`` days of that type. A robust
  cousin of the weekly seasonal naive that knows holidays; on spiky industrial load the median
  (which minimises absolute error) beats least-squares fits.
- ``holt_winters``: additive damped-trend Holt-Winters (ETS(A,Ad,A)) with a daily season
  (statsmodels ``ExponentialSmoothing``) on the last ``HOLT_WINTERS_DAYS`` days; weekly seasons
  of 672 slots are not estimable this way.
- ``mstl_ar``: MSTL decomposition with daily and weekly seasons (Bandara, Hyndman & Bergmeir
  2021; statsmodels ``MSTL``) of the last ``MSTL_DAYS`` days; seasons are carried forward, trend
  + remainder by an AR(2) (ARIMA(2,0,0) fitted by least squares, statsmodels ``AutoReg``).
- ``calendar_regression``: least squares on Fourier terms of the local time of day interacted
  with the local day type (Monday … Sunday, public holidays and shutdown days as Sunday), a
  linear trend, configured shift windows and optional extra regressors (planned production),
  with AR(2) errors. This is the "SARIMAX-free" regression: a seasonal SARIMAX with period 96
  took 150 s and 5.5 GB per series on this machine, so it is not offered.

The profile and the regression skip missing intervals (the regression's AR part sees their
residuals as 0); Holt-Winters and MSTL need a complete series and see gaps filled by
``energy.forecasts.series.fill_gaps``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.ar_model import AutoReg
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.seasonal import MSTL

from energy.forecasts.calendar import ForecastCalendar, calendar_features
from energy.forecasts.series import fill_gaps, steps_per_day

AR_LAGS = 2
HARMONICS = 12  # Fourier pairs of the time of day; a 2-hour shortest period at 15-minute data
PROFILE_WEEKS = 4
# Fit windows: longer ones cost time (Holt-Winters is the slowest fit) without better forecasts.
HOLT_WINTERS_DAYS = 21
MSTL_DAYS = 28  # MSTL needs more than two weekly cycles


def recent_days(history: pd.Series, days: int) -> pd.Series:
    """The last ``days`` days of a regular-grid history."""
    return history.iloc[-days * steps_per_day(history.index[1] - history.index[0]):]


def steps_ahead(history: pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """How many grid steps after the history's last interval each target lies (1 = the next)."""
    step = history.index[1] - history.index[0]
    ahead = ((index - history.index[-1]) / step).to_numpy()
    if (ahead < 1).any() or not np.allclose(ahead, np.round(ahead)):
        raise ValueError("forecast index must lie after the history, on its grid")
    return np.round(ahead).astype(int)


def ar_forecast(values: pd.Series, ahead: np.ndarray) -> np.ndarray:
    """AR(2) with a constant fitted by least squares; its forecast ``ahead`` steps out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns about the plain integer index
        fitted = AutoReg(values.to_numpy(), lags=AR_LAGS, trend="c").fit()
        path = fitted.predict(start=len(values), end=len(values) + int(ahead.max()) - 1)
    return np.asarray(path)[ahead - 1]


def repeat_last_season(component: np.ndarray, period: int, ahead: np.ndarray) -> np.ndarray:
    """A seasonal component carried forward: each target takes the same phase of the last season."""
    last = len(component) - 1
    return component[last + ahead - period * np.ceil(ahead / period).astype(int)]


def day_type_profile(history: pd.Series, index: pd.DatetimeIndex, calendar: ForecastCalendar) -> pd.Series:
    known = history.dropna()
    past = calendar_features(known.index, calendar)
    slots = pd.DataFrame({"kw": known.to_numpy(), "day_type": past["day_type"].to_numpy(), "minute": past["minute_of_day"].to_numpy()})
    profile = slots.groupby(["day_type", "minute"]).tail(PROFILE_WEEKS).groupby(["day_type", "minute"])["kw"].median()
    target = calendar_features(index, calendar)
    key = pd.MultiIndex.from_arrays([target["day_type"].to_numpy(), target["minute_of_day"].to_numpy()])
    return pd.Series(profile.reindex(key).to_numpy(), index=index)


def holt_winters(history: pd.Series, index: pd.DatetimeIndex, calendar: ForecastCalendar) -> pd.Series:
    history = recent_days(history, HOLT_WINTERS_DAYS)
    season = steps_per_day(history.index.freq or (history.index[1] - history.index[0]))
    ahead = steps_ahead(history, index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on flat or short series
        fitted = ExponentialSmoothing(
            fill_gaps(history, season).to_numpy(),
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=season,
            initialization_method="heuristic",
        ).fit(use_brute=False)  # the brute-force start grid took 85 % of the fit for no better forecasts
        path = fitted.forecast(int(ahead.max()))
    return pd.Series(np.asarray(path)[ahead - 1], index=index)


def mstl_ar(history: pd.Series, index: pd.DatetimeIndex, calendar: ForecastCalendar) -> pd.Series:
    history = recent_days(history, MSTL_DAYS)
    day = steps_per_day(history.index[1] - history.index[0])
    ahead = steps_ahead(history, index)
    filled = fill_gaps(history, day)
    periods = (day, 7 * day)
    parts = MSTL(filled.to_numpy(), periods=periods, stl_kwargs={"robust": False, "seasonal_jump": 7, "trend_jump": day // 4, "low_pass_jump": day // 4}).fit()
    seasonal = np.asarray(parts.seasonal).reshape(len(filled), -1)
    forecast = sum(repeat_last_season(seasonal[:, i], period, ahead) for i, period in enumerate(periods))
    deseasonalised = pd.Series(filled.to_numpy() - seasonal.sum(axis=1))
    return pd.Series(forecast + ar_forecast(deseasonalised, ahead), index=index)


def regression_design(
    index: pd.DatetimeIndex,
    calendar: ForecastCalendar,
    origin: pd.Timestamp,
    regressors: pd.DataFrame | None = None,
    harmonics: int = HARMONICS,
) -> np.ndarray:
    """The regression's design matrix for ``index`` (rows) — see the module docstring."""
    features = calendar_features(index, calendar)
    phase = 2 * np.pi * features["minute_of_day"].to_numpy() / 1440.0
    orders = np.arange(1, harmonics + 1)
    basis = np.hstack([np.ones((len(index), 1)), np.cos(np.outer(phase, orders)), np.sin(np.outer(phase, orders))])
    day_type = np.eye(7)[features["day_type"].to_numpy()]
    profile = (basis[:, :, None] * day_type[:, None, :]).reshape(len(index), -1)
    trend_days = ((index - origin) / pd.Timedelta(days=1)).to_numpy()[:, None]
    columns = [profile, trend_days, features.filter(like="shift_").to_numpy()]
    if regressors is not None:
        columns.append(regressors.reindex(index).fillna(0.0).to_numpy(dtype=float))
    return np.hstack(columns)


def least_squares(design: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares coefficients by the normal equations with a tiny ridge (1e-8 of the mean
    diagonal) that keeps columns empty in this window (a day type not seen) solvable; ~50×
    faster than an SVD solver on these tall, narrow designs."""
    gram = design.T @ design
    ridge = 1e-8 * max(float(np.trace(gram)) / len(gram), 1e-12)
    return np.linalg.solve(gram + ridge * np.eye(len(gram)), design.T @ target)


def calendar_regression(
    history: pd.Series,
    index: pd.DatetimeIndex,
    calendar: ForecastCalendar,
    regressors: pd.DataFrame | None = None,
) -> pd.Series:
    """See the module docstring; ``regressors`` (e.g. planned production, kW) must cover the
    history and ``index``."""
    ahead = steps_ahead(history, index)
    origin = history.index[0]
    design = regression_design(history.index, calendar, origin, regressors)
    known = history.notna().to_numpy()
    coef = least_squares(design[known], history.to_numpy()[known])
    residual = pd.Series(history.to_numpy() - design @ coef).fillna(0.0)
    target = regression_design(index, calendar, origin, regressors) @ coef
    return pd.Series(target + ar_forecast(residual, ahead), index=index)
