"""Interval CSV import: the steel-plant file with its quirks, options, and rejected rows."""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pandas as pd
import pytest

from energy import storage
from energy.config import load_config
from energy.errors import InputError
from energy.histories.api import meter_history, site_history
from energy.histories.imports import STEEL_FILE_OPTIONS, import_intervals, read_interval_csv, read_steel_csv
from tests.helpers import run_cli, shared_data
from tests.histories.sites import write_site

MAIN_ONLY = """
[[meters]]
id = "main"
model = "janitza_umg96rme"
role = "main"
connection = { host = "127.0.0.1", port = 5020 }
"""

STEEL_OPTIONS = [
    "--time-column", "date", "--time-format", "%d/%m/%Y %H:%M", "--stamps", "end",
    "--value-column", "Usage_kWh", "--tz", "Asia/Seoul",
]


@pytest.fixture(scope="module")
def steel_path():
    return shared_data("load", "steel_industry_2018_15min.csv")


@pytest.fixture(scope="module")
def steel(steel_path):
    return read_steel_csv(steel_path)


def test_steel_file_reads_as_one_year_of_intervals(steel, steel_path):
    rows = pd.read_csv(steel_path, encoding="utf-8-sig")
    assert len(steel) == 35_040 == len(rows)
    assert steel["energy_kwh"].sum() == pytest.approx(rows["Usage_kWh"].sum(), abs=1e-6)
    local = steel.index.tz_convert("Asia/Seoul")
    assert local[0] == pd.Timestamp("2018-01-01 00:00", tz="Asia/Seoul")
    assert local[-1] == pd.Timestamp("2018-12-31 23:45", tz="Asia/Seoul")
    assert (steel.index[1:] - steel.index[:-1] == pd.Timedelta(minutes=15)).all()
    # The quirk: '1/1/2018 0:00' (row 97, after '1/1/2018 23:45') is the interval ending at 2 January's midnight.
    assert steel["energy_kwh"][pd.Timestamp("2018-01-01 23:45", tz="Asia/Seoul")] == rows["Usage_kWh"][95]
    assert (steel["quality"] == "measured").all()


def test_steel_history_round_trips_exactly(engine, steel, steel_path):
    stored = import_intervals(engine, steel_path, "meter", "main", **STEEL_FILE_OPTIONS)
    assert len(stored) == 35_040
    pd.testing.assert_frame_equal(meter_history(engine, "main", tz="UTC"), steel, check_freq=False)
    # Through the command line too: import with the options, export with the contract's columns.
    url = engine.url.render_as_string(hide_password=False)
    code, _, err = run_cli("import", "intervals", steel_path, "--meter", "copy", *STEEL_OPTIONS, "--db", url)
    assert code == 0, err
    code, out, err = run_cli("export", "intervals", "--series", "meter:copy", "--db", url)
    assert code == 0, err
    exported = pd.read_csv(io.StringIO(out), dtype={"energy_kwh": str})
    rows = pd.read_csv(steel_path, encoding="utf-8-sig", dtype=str)
    assert exported["interval_start"].iloc[0] == "2017-12-31T15:00:00Z"
    assert [float(v) for v in exported["energy_kwh"]] == [float(v) for v in rows["Usage_kWh"]]
    # The annual total: the sum of the file's rows, to the kWh and beyond.
    code, out, err = run_cli("export", "intervals", "--series", "meter:copy", "--freq", "1MS", "--tz", "Asia/Seoul", "--db", url)
    monthly = pd.read_csv(io.StringIO(out))
    assert len(monthly) == 12 and (monthly["quality"] == "measured").all()
    assert monthly["energy_kwh"].sum() == pytest.approx(pd.to_numeric(rows["Usage_kWh"]).sum(), abs=1e-6)


def test_meter_import_with_config_builds_the_site_and_checks_the_interval(engine, tmp_path):
    config = load_config(write_site(tmp_path, MAIN_ONLY))
    path = write(tmp_path, "timestamp,energy_kwh\n2024-01-01T00:00Z,10\n2024-01-01T00:15Z,12.5\n")
    import_intervals(engine, path, "meter", "main", config)
    site = site_history(engine, tz="UTC")
    np.testing.assert_array_equal(site["energy_kwh"], [10.0, 12.5])
    hourly = write(tmp_path, "timestamp,energy_kwh\n2024-01-01T00:00Z,10\n2024-01-01T01:00Z,12.5\n")
    with pytest.raises(InputError, match="intervals of 60 minutes, but the site's histories use 15 minutes"):
        import_intervals(engine, hourly, "meter", "main", config)


def write(tmp_path, text: str):
    path = tmp_path / "intervals.csv"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("timestamp,energy_kwh\n2024-03-31T01:45,1\n2024-03-31T02:00,1\n2024-03-31T02:15,1\n", {"tz": "Europe/Berlin"}, "line 3: local time '2024-03-31T02:00' does not exist or is ambiguous"),
        ("timestamp,energy_kwh\n2024-10-27T01:45,1\n2024-10-27T02:00,1\n", {"tz": "Europe/Berlin"}, "line 3: local time '2024-10-27T02:00' does not exist or is ambiguous"),
        ("timestamp,energy_kwh\n2024-01-01T00:00Z,1\n2024-01-01T00:15Z,x\n", {}, "line 3: energy_kwh 'x' is not a number"),
        ("timestamp,energy_kwh\n2024-01-01T00:00Z,1\n2024-01-01T00:15Z,inf\n", {}, "line 3: energy_kwh 'inf' is not finite"),
        ("timestamp,energy_kwh\n2024-01-01T00:00Z,1\n2024-01-01T00:15Z,2\n2024-01-01T00:00Z,3\n", {}, "line 4: timestamp '2024-01-01T00:00Z': a second row for the interval of line 2"),
        ("timestamp,energy_kwh\n2024-01-01T00:00Z,1\n2024-01-01T00:07Z,2\n", {"interval_minutes": 15}, "line 3: timestamp '2024-01-01T00:07Z' is not on the 15-minute grid"),
        ("timestamp,energy_kwh\n2024-01-01T00:00Z,1\nyesterday,2\n", {}, "line 3: timestamp 'yesterday' does not match ISO 8601"),
        ("timestamp,energy_kwh\n2024-01-01T00:00Z,1\n2024-01-01T00:15,2\n", {}, "line 3: timestamp '2024-01-01T00:15': some stamps have a UTC offset"),
        ("time,kwh\n2024-01-01T00:00Z,1\n", {}, "no column 'timestamp', 'energy_kwh' (columns: time, kwh)"),
        (
            "t,v\n01/01/2024 23:45,1\n01/01/2024 00:00,1\n02/01/2024 00:15,1\n03/01/2024 00:00,1\n",
            {"time_column": "t", "value_column": "v", "time_format": "%d/%m/%Y %H:%M", "stamps": "end", "interval_minutes": 15},
            "line 5: midnight stamps are ambiguous",
        ),
    ],
    ids=["nonexistent", "ambiguous", "not-a-number", "infinite", "duplicate", "off-grid", "bad-stamp", "mixed-offsets", "no-column", "mixed-midnights"],
)
def test_malformed_rows_are_rejected_with_their_line(tmp_path, text, options, message):
    with pytest.raises(InputError, match=None) as caught:
        read_interval_csv(write(tmp_path, text), **options)
    assert message in str(caught.value)
    assert str(tmp_path / "intervals.csv") in str(caught.value)


def test_options_kw_end_stamps_with_offsets_and_empty_values(tmp_path):
    path = write(tmp_path, """
        when;power
        2024-10-27T02:30:00+02:00;40
        2024-10-27T02:00:00+01:00;
        2024-10-27T02:00:00+02:00;20
        """.replace(";", ","))
    frame = read_interval_csv(path, time_column="when", value_column="power", unit="kW", stamps="end", interval_minutes=30)
    assert list(frame.index) == list(pd.date_range("2024-10-26T23:30Z", periods=3, freq="30min"))
    np.testing.assert_array_equal(frame["energy_kwh"], [10.0, 20.0, np.nan])
    assert list(frame["quality"]) == ["measured", "measured", "missing"]


def test_stamps_with_an_hour_only_offset_are_read_as_offsets(tmp_path):
    path = write(tmp_path, "timestamp,energy_kwh\n2024-01-01T00:00+09,1\n2024-01-01T00:15+09,2\n")
    frame = read_interval_csv(path, tz="Europe/Berlin")
    assert list(frame.index) == list(pd.date_range("2023-12-31T15:00Z", periods=2, freq="15min"))
    np.testing.assert_array_equal(frame["energy_kwh"], [1.0, 2.0])


def test_import_command_rejects_bad_input_with_one_line(tmp_path, sqlite_url):
    engine = storage.connect(sqlite_url)
    storage.upgrade(engine)
    path = write(tmp_path, "timestamp,energy_kwh\n2024-01-01T00:00Z,1\n2024-01-01T00:15Z,oops\n")
    code, _, err = run_cli("import", "intervals", path, "--meter", "main", "--db", sqlite_url)
    assert code == 1 and "line 3" in err and err.count("\n") == 1
    assert run_cli("import", "intervals", path, "--db", sqlite_url)[0] == 1  # no series named
    assert run_cli("import", "intervals", path, "--series", "bogus:x", "--db", sqlite_url)[0] == 1
    assert run_cli("import", "intervals", path, "--meter", "m", "--tz", "Mars/Olympus", "--db", sqlite_url)[0] == 1
    engine.dispose()
