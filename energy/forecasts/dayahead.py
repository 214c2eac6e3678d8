"""The ``energy forecast`` run: every machine's and the site's load, and each PV array, for one
local day, stored with their measured accuracy.

``forecast_site(engine, config, day)``:

1. For the site (``kind="site"``) and each machine (``kind="machine"``): the stored interval
   history before the day (``forecasts.history_days`` days; ``missing`` intervals are gaps, never
   zeros) becomes power in kW; the forecast runs from the end of that history to the end of the
   day (up to ``MAX_LEAD_DAYS`` ahead), by the model the rolling-origin backtest selects
   (``energy.forecasts.selection``), re-selected when the stored selection is older than
   ``forecasts.reselect_days``. All series are fitted in parallel worker processes.
2. Each PV array (``kind="pv"``): pvlib power from the weather file, else derated clear sky,
   bias-corrected against the array's meter when it has one; with a meter, the last
   ``PV_BACKTEST_DAYS`` days are a backtest against seasonal naive (which is used if it wins).
3. The site series is the grid connection, i.e. *net* of PV. Where every array has a meter, the
   *gross* site load (site + PV measured) is forecast and the PV forecasts subtracted: the stored
   site forecast is net load = load − PV. Otherwise the net series is forecast directly.

Each series' forecast is stored as one run (``energy.forecasts.store``) covering exactly the
day's slots (92, 96 or 100 at 15 minutes on daylight-saving days). Series without enough history
are skipped and named in the summary, not guessed.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from energy.config import PVArray, SiteConfig
from energy.errors import InputError
from energy.forecasts import pv, store
from energy.forecasts.backtest import forecast_errors, summarize
from energy.forecasts.baselines import naive_scale, seasonal_naive
from energy.forecasts.calendar import ForecastCalendar, calendar_from_config
from energy.forecasts.parallel import map_in_processes
from energy.forecasts.selection import CANDIDATES, INTERVALS, NAIVE, NotEnoughHistory, SeriesForecast, forecast_series, select_model
from energy.forecasts.series import power_kw_from_intervals
from energy.histories.site import SITE_ID
from energy.histories.store import load_intervals
from energy.timeutil import local_day_slots, now_ms

MAX_LEAD_DAYS = 7
PV_BACKTEST_DAYS = 7


@dataclass
class LoadTask:
    """One load series to forecast in a worker (picklable)."""

    kind: str
    series_id: str
    history_kw: pd.Series
    end: pd.Timestamp
    freq: pd.Timedelta
    calendar: ForecastCalendar
    origins: int
    fit_days: int
    reuse: dict | None
    models: tuple[str, ...]


@dataclass
class ForecastSummary:
    """What one ``forecast_site`` run stored: per series the run id, model, backtest MASE (vs the
    daily seasonal-naive scale; None where no accuracy can be measured) and the day's energy; the
    series skipped and why; the site's net load forecast (kW per slot)."""

    day: dt.date
    issued_ms: int
    series: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    net_load_kw: pd.Series | None = None

    def to_dict(self) -> dict:
        return {"day": self.day.isoformat(), "issued_ms": self.issued_ms, "series": self.series, "skipped": self.skipped}


def tomorrow(config: SiteConfig, now: pd.Timestamp | None = None) -> dt.date:
    """The day after today in the site's time zone."""
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    return (now.tz_convert(config.site.timezone) + pd.Timedelta(days=1)).date()


def load_history_kw(engine: Engine, kind: str, series_id: str, start: pd.Timestamp, end: pd.Timestamp, freq: pd.Timedelta) -> pd.Series:
    """Stored power (kW) of a series in [start, end), trailing gaps dropped (empty if none)."""
    frame = load_intervals(engine, kind, series_id, start, end)
    if frame.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    power = power_kw_from_intervals(frame, freq)
    known = power.notna().to_numpy()
    return power.iloc[: int(np.flatnonzero(known)[-1]) + 1] if known.any() else power.iloc[:0]


def run_load_task(task: LoadTask) -> SeriesForecast | str:
    """A worker's job: the series' forecast up to ``task.end``, or why there is none."""
    if task.history_kw.empty:
        return "no stored history"
    horizon = int((task.end - task.history_kw.index[-1]) / task.freq) - 1
    if horizon > (MAX_LEAD_DAYS + 1) * int(pd.Timedelta(days=1) / task.freq):
        return f"history ends {task.history_kw.index[-1].isoformat()}, more than {MAX_LEAD_DAYS} days before the day"
    reuse = task.reuse if task.reuse and task.reuse.get("horizon") == horizon else None
    try:
        return forecast_series(
            task.history_kw, horizon, task.freq, task.calendar,
            origins=task.origins, fit_days=task.fit_days, reuse=reuse, candidates={name: CANDIDATES[name] for name in task.models},
        )
    except NotEnoughHistory as exc:
        return f"not enough history: {exc}"


def candidate_names(config: SiteConfig) -> tuple[str, ...]:
    """The configured candidate models (``forecasts.models``, default all), naives always in."""
    chosen = config.forecasts.models
    if chosen is None:
        return tuple(CANDIDATES)
    for i, name in enumerate(chosen):
        if name not in CANDIDATES:
            raise InputError(f"forecasts.models[{i}]: unknown model {name!r} (known: {', '.join(CANDIDATES)})")
    return tuple(name for name in CANDIDATES if name in NAIVE or name in chosen)


def fresh_selection(run: dict | None, history_end: pd.Timestamp, reselect_days: int, series_key: str) -> dict | None:
    """A stored run's backtest to reuse, or None when the series is due for a new selection.

    Due when there is none, when it is ``reselect_days`` or more older than ``history_end``, or on
    the series' own night of the cycle (a day at least one day after the last selection whose
    number, plus a stable hash of ``series_key``, divides by ``reselect_days``): so a site's
    series re-select on different nights, about 1/``reselect_days`` of them each night, instead
    of all on the same one.
    """
    if run is None or "selected_through" not in run["backtest"]:
        return None
    age = history_end - pd.Timestamp(run["backtest"]["selected_through"])
    if age >= pd.Timedelta(days=reselect_days):
        return None
    day_number = int(history_end.timestamp() // 86_400)
    if reselect_days > 1 and age >= pd.Timedelta(days=1) and (day_number + zlib.crc32(series_key.encode())) % reselect_days == 0:
        return None
    return run["backtest"]


def pv_forecast(
    engine: Engine,
    array: PVArray,
    config: SiteConfig,
    slots: pd.DatetimeIndex,
    weather: pd.DataFrame | None,
    calendar: ForecastCalendar,
) -> tuple[pd.DataFrame, str, float | None, dict]:
    """One array's forecast for ``slots``: (frame of power and bounds in kW, model, MASE, backtest)."""
    location = pv.site_location(config)
    freq = slots[1] - slots[0]
    modelled, source = pv.array_power_kw(array, location, slots, weather, config.forecasts.clear_sky_index)
    model = f"pvlib_pvwatts:{source}"
    backtest: dict = {"model": model, "kwp": array.kwp, "weather": source}
    frame = pd.DataFrame({"power_kw": modelled})
    if array.meter is None:
        backtest["accuracy"] = "not measurable: the array has no meter"
        return frame, model, None, backtest
    start = slots[0] - pd.Timedelta(days=pv.BIAS_DAYS)
    measured = load_history_kw(engine, "meter", array.meter, start, slots[0], freq)
    if measured.notna().sum() < int(pd.Timedelta(days=PV_BACKTEST_DAYS + 2) / freq) // 2:
        backtest["accuracy"] = f"not measurable: meter {array.meter!r} has too little history"
        return frame, model, None, backtest
    past = pd.date_range(start, slots[0], freq=freq, inclusive="left")
    past_modelled, past_source = pv.array_power_kw(array, location, past, weather, config.forecasts.clear_sky_index)
    measured = measured.reindex(past)
    if source != "clear_sky_typical" and past_source != "weather_file":
        # Weather drives the day but not the past: no like-for-like backtest is possible.
        clear_past, _ = pv.array_power_kw(array, location, past)
        factor = pv.clear_sky_bias_factor(measured, clear_past, array.kwp) or 1.0
        backtest.update(
            bias_factor=factor,
            accuracy="not measurable: the weather file does not cover the meter's past days (keep past weather in it to measure)",
        )
        return pd.DataFrame({"power_kw": modelled * factor}), model, None, backtest
    split = slots[0] - pd.Timedelta(days=PV_BACKTEST_DAYS)
    train, test = past < split, past >= split
    factor_train = pv.bias_factor(measured[train], past_modelled[train], array.kwp) or 1.0
    scale = naive_scale(measured[train], calendar)
    candidates = {
        "pvlib": past_modelled[test] * factor_train,
        "naive_day": seasonal_naive(measured, past[test], calendar, 1),
        "naive_week": seasonal_naive(measured, past[test], calendar, 7),
    }
    rows = [{"model": name, **forecast_errors(measured[test], forecast, scale)} for name, forecast in candidates.items()]
    summary = summarize(pd.DataFrame(rows))
    chosen = select_model(summary)
    errors = (measured[test] - candidates[chosen]).dropna().to_numpy()
    factor = pv.bias_factor(measured, past_modelled, array.kwp) or 1.0
    point = modelled * factor if chosen == "pvlib" else seasonal_naive(measured, slots, calendar, 1 if chosen == "naive_day" else 7).fillna(0.0)
    frame = pd.DataFrame({"power_kw": point})
    for column, quantile in INTERVALS.items():
        frame[column] = (point + (float(np.quantile(errors, quantile)) if len(errors) else 0.0)).clip(lower=0.0)
    backtest.update(
        bias_factor=factor,
        models=summary,
        chosen=chosen,
        backtest_days=PV_BACKTEST_DAYS,
        scale="in-sample MAE of the daily seasonal naive of the meter",
    )
    return frame, (model if chosen == "pvlib" else chosen), summary[chosen]["mase"], backtest


def forecast_site(
    engine: Engine,
    config: SiteConfig,
    day: dt.date | None = None,
    *,
    weather_file=None,
    issued_ms: int | None = None,
    workers: int | None = None,
) -> ForecastSummary:
    """Forecast and store the site's net load, each machine's load and each PV array for local
    ``day`` (default: tomorrow) — see the module docstring. ``weather_file`` overrides
    ``forecasts.weather_file``; ``issued_ms`` defaults to now."""
    settings = config.forecasts
    models = candidate_names(config)  # checked before anything is stored
    day = day or tomorrow(config)
    freq = pd.Timedelta(minutes=config.site.interval_minutes)
    slots = local_day_slots(day, config.site.timezone, freq)
    end = slots[-1] + freq
    calendar = calendar_from_config(config)
    summary = ForecastSummary(day, issued_ms if issued_ms is not None else now_ms())
    history_start = slots[0] - pd.Timedelta(days=settings.history_days + MAX_LEAD_DAYS)

    weather_path = weather_file or config.resolve(settings.weather_file)
    weather = pv.read_weather_csv(weather_path) if weather_path else None
    pv_runs = {array.id: pv_forecast(engine, array, config, slots, weather, calendar) for array in config.pv}

    series = [("site", SITE_ID)] + [("machine", machine.id) for machine in config.machines]
    histories = {key: load_history_kw(engine, *key, history_start, slots[0], freq) for key in series}
    site = histories[("site", SITE_ID)]
    produced = [load_history_kw(engine, "meter", a.meter, history_start, slots[0], freq) for a in config.pv if a.meter]
    metered_pv = bool(config.pv) and len(produced) == len(config.pv) and all(len(p) for p in produced) and len(site) > 0
    if metered_pv:  # gross load = grid + generation, where both are known
        histories[("site", SITE_ID)] = (site + sum(p.reindex(site.index) for p in produced)).loc[: site.index[-1]]

    tasks = []
    for kind, series_id in series:
        history = histories[(kind, series_id)]
        previous = store.latest_run(engine, kind, series_id)
        reuse = fresh_selection(previous, history.index[-1], settings.reselect_days, f"{kind}:{series_id}") if len(history) else None
        tasks.append(LoadTask(kind, series_id, history, end, freq, calendar, settings.backtest_origins, settings.history_days, reuse, models))
    results = map_in_processes(run_load_task, tasks, workers or settings.workers)
    if isinstance(results[0], str):  # nothing is stored unless the site can be forecast
        raise InputError(f"site load for {day}: cannot be forecast: {results[0]} (import or collect its history first)")

    for array_id, (frame, model, mase, backtest) in pv_runs.items():
        _store(engine, summary, "pv", array_id, frame, model, mase, backtest, freq)
    for task, result in zip(tasks, results):
        if isinstance(result, str):
            summary.skipped.append({"kind": task.kind, "series_id": task.series_id, "reason": result})
            continue
        frame = result.forecast.reindex(slots)
        backtest = dict(result.backtest)
        if task.kind == "site" and metered_pv:
            generation = sum(run[0]["power_kw"] for run in pv_runs.values())
            frame = frame.sub(generation, axis=0)
            backtest["net_of_pv"] = "gross site load (grid + PV meters) forecast, PV forecasts subtracted"
            summary.net_load_kw = frame["power_kw"]
        elif task.kind == "site":
            summary.net_load_kw = frame["power_kw"]
        _store(engine, summary, task.kind, task.series_id, frame, result.model, result.mase, backtest, freq)
    return summary


def _store(engine: Engine, summary: ForecastSummary, kind: str, series_id: str, frame: pd.DataFrame, model: str, mase: float | None, backtest: dict, freq: pd.Timedelta) -> None:
    run_id = store.store_forecast(engine, kind, series_id, frame, model, mase, backtest, summary.issued_ms)
    hours = freq / pd.Timedelta(hours=1)
    summary.series.append(
        {
            "kind": kind,
            "series_id": series_id,
            "run_id": run_id,
            "model": model,
            "mase": None if mase is None or not np.isfinite(mase) else round(float(mase), 4),
            "energy_kwh": round(float(frame["power_kw"].sum() * hours), 3),
            "peak_kw": round(float(frame["power_kw"].max()), 3),
        }
    )
