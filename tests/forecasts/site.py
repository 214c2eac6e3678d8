"""A small metered site with stored interval history, for forecast storage and CLI tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from energy.config import SiteConfig, parse_config
from energy.forecasts import pv
from energy.histories.store import store_intervals
from tests.forecasts.synthetic import TZ, plant_kw

HOURS = 0.25  # 15-minute intervals


def site_config(**forecasts) -> SiteConfig:
    """Two machines (and one without history), a main meter, a 100 kWp roof array with its own
    meter; short fits of the quick models only unless ``forecasts`` says otherwise."""
    return parse_config(
        {
            "site": {"name": "Test Works", "timezone": TZ, "latitude": 51.5, "longitude": 7.5, "country": "DE", "subdivision": "NW"},
            "machines": [{"id": "press", "name": "Press"}, {"id": "oven", "name": "Oven"}, {"id": "new_line", "name": "Not metered yet"}],
            "meters": [
                {"id": "main", "model": "janitza_umg96rme", "role": "main", "connection": {"host": "127.0.0.1", "port": 5020}},
                {"id": "pvm", "model": "schneider_pm5100", "role": "pv", "connection": {"host": "127.0.0.1", "port": 5022}},
            ],
            "pv": [{"id": "roof", "kwp": 100.0, "tilt_deg": 20.0, "meter": "pvm"}],
            "calendar": {"shifts": ["06:00-14:00", "14:00-22:00"]},
            "forecasts": {"history_days": 28, "backtest_origins": 3, "models": ["profile", "regression"], **forecasts},
        }
    )


def _frame(power_kw: pd.Series) -> pd.DataFrame:
    quality = np.where(power_kw.isna(), "missing", "measured")
    return pd.DataFrame({"energy_kwh": power_kw.to_numpy() * HOURS, "quality": quality}, index=power_kw.index)


def store_history(engine, config: SiteConfig, first_day: str, days: int, missing_share: float = 0.02) -> dict[str, pd.Series]:
    """Store ``days`` local days of machine, PV-meter and site (= grid: load − PV) intervals;
    some intervals flagged missing. Returns the stored power series (kW)."""
    press = plant_kw(first_day, days, seed=61)
    oven = 0.5 * plant_kw(first_day, days, seed=62)
    location = pv.site_location(config)
    produced, _ = pv.array_power_kw(config.pv[0], location, press.index, clear_sky_index=0.8)
    grid = press + oven - produced
    rng = np.random.default_rng(63)
    series = {"press": press, "oven": oven, "pvm": produced, "site": grid}
    for name, values in series.items():
        values = values.copy()
        values.iloc[rng.choice(len(values), int(missing_share * len(values)), replace=False)] = np.nan
        series[name] = values
    store_intervals(engine, "machine", "press", _frame(series["press"]))
    store_intervals(engine, "machine", "oven", _frame(series["oven"]))
    store_intervals(engine, "meter", "pvm", _frame(series["pvm"]))
    store_intervals(engine, "site", "site", _frame(series["site"]))
    return series


def next_day(series: pd.Series) -> dt.date:
    return (series.index[-1].tz_convert(TZ) + pd.Timedelta(hours=1)).date()
