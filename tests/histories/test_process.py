"""Processing stored readings: machines, virtual meters, the site; incremental and idempotent runs.

Every test here runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from energy import storage
from energy.config import load_config
from energy.histories.api import history, machine_history, meter_history, site_history
from energy.histories.intervals import meter_intervals
from energy.histories.process import process_site, processing_state
from energy.histories.store import list_series, load_intervals
from energy.readings import load_readings, store_readings, write_readings_csv
from energy.storage import schema
from energy.storage.site import store_site
from tests.helpers import run_cli
from tests.histories.sites import write_site

START = pd.Timestamp("2024-03-31T00:00:00Z")  # the night Europe/Berlin springs forward

SITE_BODY = """
[[machines]]
id = "press"
name = "Press"
rated_kw = 100.0

[[machines]]
id = "oven"
name = "Oven"
rated_kw = 100.0

[[machines]]
id = "saw"
name = "Saw"

[[meters]]
id = "main"
model = "janitza_umg96rme"
role = "main"
rated_kw = 500.0
connection = {{ host = "127.0.0.1", port = 5020 }}

[[meters]]
id = "m_press"
model = "eastron_sdm630"
machine = "press"
connection = {{ host = "127.0.0.1", port = 5021, unit_id = 1 }}

[[meters]]
id = "m_oven"
model = "eastron_sdm630"
connection = {{ host = "127.0.0.1", port = 5021, unit_id = 2 }}
{oven_assignments}

[[virtual_meters]]
id = "unmetered"
add = ["main"]
subtract = ["m_press", "m_oven"]
"""

ALWAYS_OVEN = 'machine = "oven"'
MOVED_TO_SAW = """
[[meters.assignments]]
machine = "oven"
valid_from = 2024-03-31T00:00:00
valid_to = 2024-03-31T04:00:00

[[meters.assignments]]
machine = "saw"
valid_from = 2024-03-31T04:00:00
"""


def write_config(tmp_path, assignments: str = ALWAYS_OVEN):
    return write_site(tmp_path, SITE_BODY.format(oven_assignments=assignments))


def plant_readings(minutes: int, first_minute: int = 0) -> pd.DataFrame:
    """A reading a minute per meter; the press and the oven switch on and off, the rest draws 7 kW."""
    rng = np.random.default_rng(7)
    every = np.arange(minutes + first_minute)
    press_kw = np.where((every // 37) % 2 == 0, 60.0, 5.0) + rng.uniform(0, 1, len(every))
    oven_kw = np.where((every // 53) % 3 == 0, 10.0, 80.0)
    counters = {
        "m_press": np.cumsum(press_kw / 60),
        "m_oven": np.cumsum(oven_kw / 60),
        "main": np.cumsum((press_kw + oven_kw + 7.0) / 60),
    }
    stamps = START + pd.to_timedelta(every, unit="min")
    frames = [
        pd.DataFrame({"timestamp": stamps, "meter": meter, "energy_kwh": counter, "power_kw": np.nan})
        for meter, counter in counters.items()
    ]
    return pd.concat(frames).loc[lambda f: f["timestamp"] >= START + pd.Timedelta(minutes=first_minute)]


def setup(engine, tmp_path, assignments: str = ALWAYS_OVEN):
    config = load_config(write_config(tmp_path, assignments))
    store_site(engine, config)
    return config


def test_site_equals_machines_plus_unmetered_to_the_kwh(engine, tmp_path):
    config = setup(engine, tmp_path)
    store_readings(engine, plant_readings(6 * 60))
    summary = process_site(engine, config)
    assert summary.meters == {"main": 23, "m_press": 23, "m_oven": 23}  # 06:00 held back for confirmation
    site = site_history(engine)
    machines = machine_history(engine, "press")["energy_kwh"] + machine_history(engine, "oven")["energy_kwh"]
    unmetered = history(engine, "virtual", "unmetered")
    assert (site["quality"] == "measured").all() and len(site) == 23
    np.testing.assert_allclose(site["energy_kwh"], machines + unmetered["energy_kwh"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(unmetered["energy_kwh"], 7.0 / 4, atol=1e-6)  # the 7 kW nobody meters
    np.testing.assert_allclose(site["energy_kwh"].sum(), meter_history(engine, "main")["energy_kwh"].sum())
    # Daily total in local time on the 23-hour day: the same energy, labelled at local midnight.
    daily = site_history(engine, freq="1D")
    assert str(daily.index[0]) == "2024-03-31 00:00:00+01:00"
    assert list(daily["quality"]) == ["missing"]  # the rest of that local day is not processed yet


def test_moved_meter_counts_for_each_machine_in_its_own_period(engine, tmp_path):
    config = setup(engine, tmp_path, MOVED_TO_SAW)
    store_readings(engine, plant_readings(6 * 60))
    process_site(engine, config)
    oven, saw = machine_history(engine, "oven", tz="UTC"), machine_history(engine, "saw", tz="UTC")
    meter = meter_history(engine, "m_oven", tz="UTC")
    moved = pd.Timestamp("2024-03-31T04:00", tz="Europe/Berlin")  # 02:00 UTC: summer time already
    before = meter.index < moved
    np.testing.assert_allclose(oven["energy_kwh"][before], meter["energy_kwh"][before])
    assert (oven["quality"][~before] == "missing").all() and (saw["quality"][before] == "missing").all()
    np.testing.assert_allclose(saw["energy_kwh"][~before], meter["energy_kwh"][~before])


def test_incremental_processing_equals_one_full_run_and_reruns_change_nothing(engine, tmp_path):
    config = setup(engine, tmp_path)
    everything = plant_readings(4 * 60)
    # A garbled read among the newest of the first run: held back, then dropped as a full run would.
    everything.loc[(everything["meter"] == "m_press") & (everything["timestamp"] == START + pd.Timedelta("95min")), "energy_kwh"] = 1e6
    store_readings(engine, everything[everything["timestamp"] < START + pd.Timedelta("97min")])
    first = process_site(engine, config)
    assert first.meters["main"] == 6
    store_readings(engine, everything)
    second = process_site(engine, config)
    assert second.meters["main"] == 9
    again = process_site(engine, config)
    assert sum(again.meters.values()) == 0
    state = processing_state(engine).set_index("meter_id")["processed_to"]
    assert state["main"] == START + pd.Timedelta("225min")

    stored = load_intervals(engine, "meter", "m_press")
    readings = load_readings(engine, "m_press")
    full = meter_intervals(readings, 15, rated_kw=100.0, end=START + pd.Timedelta("225min"))
    pd.testing.assert_frame_equal(stored, full, check_names=False, check_freq=False, atol=1e-9)
    assert list(stored["quality"]).count("estimated") == 1  # the interval of the garbled read

    with engine.connect() as conn:
        before = conn.execute(sa.select(schema.intervals).order_by("kind", "series_id", "start_ms")).fetchall()
    # Re-process everything, from before the first reading: the same rows, none added.
    process_site(engine, config, start=START - pd.Timedelta("1h"), end=START + pd.Timedelta("4h"))
    with engine.connect() as conn:
        after = conn.execute(sa.select(schema.intervals).order_by("kind", "series_id", "start_ms")).fetchall()
    assert after == before
    assert set(list_series(engine)["kind"]) == {"meter", "machine", "virtual", "site"}


def test_readings_imported_late_are_processed_on_the_next_run(db_url, tmp_path):
    config_path = write_config(tmp_path)
    assert run_cli("init", "--config", config_path, "--db", db_url)[0] == 0
    engine = storage.connect(db_url)
    everything = plant_readings(3 * 60)
    late = (everything["meter"] == "m_press") & everything["timestamp"].between(START + pd.Timedelta("20min"), START + pd.Timedelta("70min"))
    store_readings(engine, everything[~late])
    assert run_cli("process", "--config", config_path, "--db", db_url)[0] == 0
    assert list(meter_history(engine, "m_press")["quality"][:6]) == ["measured"] + ["estimated"] * 4 + ["measured"]
    with open(tmp_path / "late.csv", "w", encoding="utf-8") as out:
        write_readings_csv(everything[late], out)
    code, _, err = run_cli("import", "readings", tmp_path / "late.csv", "--db", db_url)
    assert code == 0 and "re-process the period they reach for m_press" in err
    assert run_cli("process", "--config", config_path, "--db", db_url)[0] == 0
    stored = load_intervals(engine, "meter", "m_press")
    full = meter_intervals(load_readings(engine, "m_press"), 15, rated_kw=100.0, end=stored.index[-1] + pd.Timedelta("15min"))
    pd.testing.assert_frame_equal(stored, full, check_names=False, check_freq=False, atol=1e-9)
    assert (stored["quality"] == "measured").all()
    press = machine_history(engine, "press")
    np.testing.assert_allclose(press["energy_kwh"], stored["energy_kwh"])
    engine.dispose()


def test_newest_readings_wait_for_confirmation_unless_it_is_the_final_pass(engine, tmp_path):
    config = setup(engine, tmp_path)
    store_readings(engine, plant_readings(92))  # 00:00 … 01:31
    assert process_site(engine, config).meters["main"] == 5  # 01:15 waits: 01:28 is the 4th newest
    final = process_site(engine, config, hold_back=False)
    assert final.meters == {"main": 1, "m_press": 1, "m_oven": 1}
    assert site_history(engine, tz="UTC").index[-1] == START + pd.Timedelta("75min")


def test_process_and_export_from_the_command_line(db_url, tmp_path):
    config_path = write_config(tmp_path)
    assert run_cli("init", "--config", config_path, "--db", db_url)[0] == 0
    engine = storage.connect(db_url)
    store_readings(engine, plant_readings(3 * 60))
    code, _, err = run_cli("process", "--config", config_path, "--db", db_url)
    assert code == 0, err
    assert "meter intervals written" in err
    code, _, err = run_cli("process", "--config", config_path, "--final", "--db", db_url)
    assert code == 0 and "no new intervals" in err  # 02:45 lacks its end reading even so
    code, out, err = run_cli("export", "intervals", "--machine", "press", "--db", db_url, "--from", "2024-03-31T01:00:00Z", "--to", "2024-03-31T03:00:00Z")
    assert code == 0, err
    exported = pd.read_csv(io.StringIO(out))
    assert list(exported.columns) == ["interval_start", "energy_kwh", "quality"]
    assert exported["interval_start"].iloc[0] == "2024-03-31T01:00:00Z" and len(exported) == 8
    assert list(exported["quality"]) == ["measured"] * 7 + ["missing"]  # 02:45 is held back
    code, out, _ = run_cli("export", "intervals", "--site", "--freq", "1h", "--db", db_url)
    hourly = pd.read_csv(io.StringIO(out))
    stored = site_history(engine)
    assert hourly["energy_kwh"].iloc[0] == pytest.approx(stored["energy_kwh"].iloc[:4].sum())
    assert run_cli("export", "intervals", "--machine", "nothing", "--db", db_url)[0] == 1
    assert run_cli("export", "intervals", "--db", db_url)[0] == 1
    assert run_cli("export", "intervals", "--site", "--freq", "fortnightly", "--db", db_url)[0] == 1
    engine.dispose()
