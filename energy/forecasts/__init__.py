"""Forecasts: load per machine and site (statsmodels), on-site PV (pvlib), always with accuracy.

- ``series``: interval energy → power on a regular UTC grid; gap filling for models that need it.
- ``calendar``: local-time calendar features (weekday, public holidays, shutdown days, shifts).
- ``baselines``: seasonal naive (same local slot yesterday / last week).
- ``models``: day-type profile, Holt-Winters, MSTL with an AR remainder, Fourier/calendar
  regression with AR errors.
- ``backtest``: rolling-origin backtest, MASE against the seasonal-naive scale, MAPE, bias.
- ``selection``: per-series model choice that never loses to seasonal naive; prediction intervals.
- ``pv``: PV array power from weather or clear sky (pvlib), bias correction against a PV meter.
- ``parallel``: fit and forecast many series in worker processes with single-threaded BLAS.
- ``store``: forecast runs (model, MASE, backtest) and their rows in the database.
- ``dayahead``: the ``energy forecast`` run: every machine, the site and PV for one day.
- ``evaluate``: ``energy forecast backtest`` on any CSV series.

See docs/forecasts.md.
"""

from energy.forecasts.backtest import rolling_origin_backtest, summarize
from energy.forecasts.calendar import ForecastCalendar, calendar_from_config
from energy.forecasts.dayahead import ForecastSummary, forecast_site
from energy.forecasts.selection import SeriesForecast, forecast_series

__all__ = [
    "ForecastCalendar",
    "ForecastSummary",
    "SeriesForecast",
    "calendar_from_config",
    "forecast_series",
    "forecast_site",
    "rolling_origin_backtest",
    "summarize",
]
