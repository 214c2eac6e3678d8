"""Stored forecast runs on SQLite and PostgreSQL, and the day-ahead run that writes them."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from energy.errors import InputError
from energy.forecasts import store
from energy.forecasts.dayahead import forecast_site, fresh_selection
from energy.timeutil import local_day_slots as day_slots
from energy.forecasts.parallel import map_in_processes
from energy.planning.inputs import latest_forecast_kw
from energy.storage import schema
from tests.forecasts.site import next_day, site_config, store_history
from tests.forecasts.synthetic import TZ


def _frame(start: str, periods: int, kw: float) -> pd.DataFrame:
    index = pd.date_range(start, periods=periods, freq="15min", tz="UTC")
    return pd.DataFrame({"power_kw": kw, "lo80_kw": kw - 1, "hi80_kw": kw + 1, "lo95_kw": kw - 2, "hi95_kw": kw + 2}, index=index)


def test_runs_are_stored_whole_and_the_newest_wins(engine):
    frame = _frame("2024-05-01 22:00", 96, 10.0)
    first = store.store_forecast(engine, "machine", "press", frame, "profile", 0.5, {"chosen": "profile"}, issued_ms=1000)
    second = store.store_forecast(engine, "machine", "press", frame + 5, "regression", 0.4, {"chosen": "regression"}, issued_ms=2000)
    latest = store.latest_run(engine, "machine", "press")
    assert latest["id"] == second and latest["model"] == "regression" and latest["mase"] == pytest.approx(0.4)
    assert latest["backtest"] == {"chosen": "regression"}
    pd.testing.assert_frame_equal(store.load_forecast(engine, first), frame, check_freq=False, check_names=False)
    # Issuing again at the same instant replaces that run instead of adding a second one.
    again = store.store_forecast(engine, "machine", "press", frame + 7, "profile", 0.45, {}, issued_ms=2000)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.forecast_runs)).scalar() == 2
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.forecasts)).scalar() == 192
    assert store.load_forecast(engine, again)["power_kw"].iloc[0] == 17.0
    with pytest.raises(ValueError, match="power_kw value in every interval"):
        store.store_forecast(engine, "site", "site", frame.assign(power_kw=np.nan), "x", None, {}, issued_ms=3000)


def test_forecast_site_stores_every_series_with_its_accuracy(engine):
    config = site_config()
    history = store_history(engine, config, "2024-04-08", 35)
    day = next_day(history["site"])
    summary = forecast_site(engine, config, day, issued_ms=10_000, workers=1)
    slots = day_slots(day, TZ, pd.Timedelta("15min"))
    stored = {(row["kind"], row["series_id"]): row for row in summary.series}
    assert set(stored) == {("site", "site"), ("machine", "press"), ("machine", "oven"), ("pv", "roof")}
    assert summary.skipped == [{"kind": "machine", "series_id": "new_line", "reason": "no stored history"}]
    for (kind, series_id), row in stored.items():
        found = latest_forecast_kw(engine, kind, series_id, slots)  # the planner's reader
        assert found is not None and found[1] == row["run_id"]
        assert row["mase"] is not None and 0 < row["mase"] < 1.5, row
        run = store.latest_run(engine, kind, series_id)
        backtest = run["backtest"]
        if kind != "pv":
            assert backtest["chosen"] == run["model"]
            naive = min(backtest["models"][n]["mase"] for n in ("naive_day", "naive_week"))
            assert run["mase"] <= naive
    # Net load: the site's grid forecast is the gross load forecast less the PV forecast.
    site_run = store.latest_run(engine, "site", "site")
    assert "net_of_pv" in site_run["backtest"]
    site = store.load_forecast(engine, site_run["id"])["power_kw"]
    roof = store.load_forecast(engine, stored[("pv", "roof")]["run_id"])["power_kw"]
    machines = sum(store.load_forecast(engine, stored[("machine", m)]["run_id"])["power_kw"] for m in ("press", "oven"))
    assert roof.max() > 30
    assert np.abs((site + roof) - machines).mean() < 15  # gross ≈ Σ machines
    assert summary.net_load_kw.to_numpy() == pytest.approx(site.to_numpy())
    pv_backtest = store.latest_run(engine, "pv", "roof")["backtest"]
    assert pv_backtest["bias_factor"] == pytest.approx(0.8 / 0.7, rel=0.05)  # meter at 0.8 of clear sky; default index 0.7


def test_a_rerun_reuses_the_selection_and_supersedes(engine):
    config = site_config()
    history = store_history(engine, config, "2024-04-08", 35)
    day = next_day(history["site"])
    first = forecast_site(engine, config, day, issued_ms=10_000, workers=1)
    second = forecast_site(engine, config, day, issued_ms=20_000, workers=1)
    slots = day_slots(day, TZ, pd.Timedelta("15min"))
    first_runs = {row["series_id"]: row["run_id"] for row in first.series}
    for row in second.series:
        assert row["run_id"] != first_runs[row["series_id"]]
        assert latest_forecast_kw(engine, row["kind"], row["series_id"], slots)[1] == row["run_id"]
    press = [store.latest_run(engine, "machine", "press")["backtest"], json.loads(_backtest_json(engine, first_runs["press"]))]
    assert press[0]["selected_through"] == press[1]["selected_through"]  # the same selection


def _backtest_json(engine, run_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(schema.forecast_runs.c.backtest_json).where(schema.forecast_runs.c.id == run_id)).scalar()


def test_a_daylight_saving_day_is_stored_with_its_92_slots(engine):
    config = site_config(backtest_origins=2)
    store_history(engine, config, "2024-02-26", 34)  # up to the night before 2024-03-31
    summary = forecast_site(engine, config, dt.date(2024, 3, 31), issued_ms=10_000, workers=1)
    run = store.latest_run(engine, "site", "site")
    assert len(store.load_forecast(engine, run["id"])) == 92
    assert len(summary.net_load_kw) == 92


def test_an_unknown_model_name_is_refused_before_anything_is_stored(engine):
    with pytest.raises(InputError, match=r"forecasts.models\[1\]: unknown model 'prophet'"):
        forecast_site(engine, site_config(models=["profile", "prophet"]), dt.date(2024, 5, 2), workers=1)
    assert store.latest_run(engine, "pv", "roof") is None


def test_no_site_history_is_a_clear_error(engine):
    with pytest.raises(InputError, match="site load for 2024-05-02: cannot be forecast: no stored history"):
        forecast_site(engine, site_config(), dt.date(2024, 5, 2), workers=1)
    assert store.latest_run(engine, "pv", "roof") is None  # nothing half-done is stored


def _square(value: int) -> int:
    return value * value


def test_worker_processes_return_results_in_order():
    assert map_in_processes(_square, range(7), workers=2) == [v * v for v in range(7)]


def test_reselection_is_spread_over_the_nights_and_never_older_than_the_limit():
    keys = [f"machine:m{i}" for i in range(70)]
    first_night = pd.Timestamp("2024-05-01 21:45", tz="UTC")
    selected = dict.fromkeys(keys, first_night)
    due_per_night = []
    for night in range(1, 22):
        end = first_night + pd.Timedelta(days=night)
        due = [k for k in keys if fresh_selection({"backtest": {"selected_through": selected[k].isoformat()}}, end, 7, k) is None]
        for key in due:
            selected[key] = end
        due_per_night.append(len(due))
        assert max(end - t for t in selected.values()) < pd.Timedelta(days=7)
    # After the first week every night re-selects about a seventh of the series, never all.
    assert all(2 <= count <= 25 for count in due_per_night[7:]), due_per_night
    assert fresh_selection(None, first_night, 7, "site:site") is None
    same_night = {"backtest": {"selected_through": first_night.isoformat()}}
    assert fresh_selection(same_night, first_night, 7, "site:site") == same_night["backtest"]


def test_pv_from_a_weather_file_without_past_weather_says_its_accuracy_is_unmeasured(engine, tmp_path):
    config = site_config()
    history = store_history(engine, config, "2024-04-08", 35)
    day = next_day(history["site"])
    times = pd.date_range(pd.Timestamp(day).tz_localize(TZ).tz_convert("UTC") - pd.Timedelta(hours=1), periods=27, freq="h")
    weather = tmp_path / "weather.csv"
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%MZ"), "cloud_cover_pct": 50.0}).to_csv(weather, index=False)
    summary = forecast_site(engine, config, day, weather_file=weather, issued_ms=10_000, workers=1)
    roof = next(row for row in summary.series if row["kind"] == "pv")
    assert roof["model"] == "pvlib_pvwatts:weather_file" and roof["mase"] is None
    backtest = store.latest_run(engine, "pv", "roof")["backtest"]
    assert backtest["accuracy"].startswith("not measurable: the weather file does not cover")
    assert backtest["bias_factor"] == pytest.approx(0.8, rel=0.03)  # the meter's clear-sky envelope
