"""``energy forecast backtest`` on CSV files and ``energy forecast`` on a stored site."""

from __future__ import annotations

import json

import numpy as np
import pytest

from energy import storage
from energy.config import load_config
from tests.forecasts.site import next_day, store_history
from tests.forecasts.synthetic import plant_kw
from tests.helpers import REPO, run_cli, shared_data

SITE_TOML = """
[site]
name = "Test Works"
timezone = "Europe/Berlin"
latitude = 51.5
longitude = 7.5
country = "DE"

[[machines]]
id = "press"
name = "Press"

[[machines]]
id = "oven"
name = "Oven"

[[meters]]
id = "main"
model = "janitza_umg96rme"
role = "main"
connection = { host = "127.0.0.1", port = 5020 }

[[meters]]
id = "pvm"
model = "schneider_pm5100"
role = "pv"
connection = { host = "127.0.0.1", port = 5022 }

[[pv]]
id = "roof"
kwp = 100.0
tilt_deg = 20.0
meter = "pvm"

[forecasts]
history_days = 28
backtest_origins = 2
models = ["profile"]
"""


def test_backtest_prints_metrics_per_model_and_the_choice(tmp_path):
    series = plant_kw("2024-01-08", 30, seed=71)
    csv = tmp_path / "load.csv"
    values = [f"{v:.3f}" for v in series.to_numpy()]
    values[500] = ""  # a gap
    csv.write_text("when,kw\n" + "".join(f"{t.isoformat()},{v}\n" for t, v in zip(series.index, values)))
    code, out, err = run_cli("forecast", "backtest", "--csv", csv, "--time-col", "when", "--value-col", "kw", "--freq", "15min", "--horizon", "96", "--origins", "3", "--tz", "Europe/Berlin")
    assert code == 0, err
    result = json.loads(out)
    assert result["series"]["missing"] == 1 and len(result["origins"]) == 3
    assert set(result["models"]) == {"naive_day", "naive_week", "profile", "holt_winters", "mstl", "regression"}
    for metrics in result["models"].values():
        assert set(metrics) == {"mase", "mae", "mape_pct", "bias", "origins"}
    chosen = result["models"][result["chosen"]]["mase"]
    assert chosen <= min(result["models"][n]["mase"] for n in ("naive_day", "naive_week"))
    assert result["mase_ratio_to_best_naive"] <= 1.0


@pytest.mark.parametrize("where", ["shared", "demo"])
def test_backtest_reads_the_steel_plant_file_as_it_is(where):
    path = shared_data("load", "steel_industry_2018_15min.csv") if where == "shared" else REPO / "data" / "demo" / "steel_industry_2018_15min.csv"
    code, out, err = run_cli("forecast", "backtest", "--csv", path, "--time-col", "date", "--value-col", "Usage_kWh", "--freq", "15min", "--horizon", "96", "--origins", "1")
    assert code == 0, err
    result = json.loads(out)
    assert result["series"]["intervals"] == 35040 and result["series"]["missing"] == 0
    assert result["chosen"] in result["models"]
    assert all(np.isfinite(m["mase"]) for m in result["models"].values())


def test_backtest_bad_input_names_file_and_problem(tmp_path):
    csv = tmp_path / "load.csv"
    csv.write_text("when,kw\n2024-01-01T00:00Z,1\n2024-01-01T00:15Z,oops\n")
    code, _, err = run_cli("forecast", "backtest", "--csv", csv, "--time-col", "when", "--value-col", "kw", "--horizon", "4")
    assert code == 1 and "load.csv: line 3: kw 'oops' is not a number" in err
    code, _, err = run_cli("forecast", "backtest", "--csv", csv, "--time-col", "time", "--value-col", "kw", "--horizon", "4")
    assert code == 1 and "load.csv: no column 'time'" in err
    csv.write_text("when,kw\n2024-01-01T00:00Z,1\n2024-01-01T00:15Z,2\n")
    code, _, err = run_cli("forecast", "backtest", "--csv", csv, "--time-col", "when", "--value-col", "kw", "--freq", "5min", "--horizon", "4")
    assert code == 1 and "rows are mostly 15 minutes apart, but --freq is 5min" in err
    code, _, err = run_cli("forecast", "backtest", "--csv", csv, "--time-col", "when", "--value-col", "kw", "--horizon", "4")
    assert code == 1 and "needs at least 100 intervals" in err


def test_forecast_stores_the_day_for_a_configured_site(tmp_path):
    config_path = tmp_path / "site.toml"
    config_path.write_text(SITE_TOML)
    url = f"sqlite:///{tmp_path / 'energy.db'}"
    engine = storage.connect(url)
    storage.upgrade(engine)
    history = store_history(engine, load_config(config_path), "2024-04-08", 30)
    day = next_day(history["site"])
    code, out, err = run_cli("forecast", "--config", config_path, "--db", url, "--date", day.isoformat(), "--workers", "1")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["day"] == day.isoformat()
    assert {(s["kind"], s["series_id"]) for s in summary["series"]} == {("site", "site"), ("machine", "press"), ("machine", "oven"), ("pv", "roof")}
    assert all(s["mase"] is not None for s in summary["series"])
    code, _, err = run_cli("forecast", "--db", url)
    assert code == 1 and "--config" in err
    code, _, err = run_cli("forecast", "--config", config_path, "--db", url, "--date", "tomorrow")
    assert code == 1 and "'--date'" in err and "'tomorrow' does not match the formats '%Y-%m-%d'" in err
