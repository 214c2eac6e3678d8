"""Reading factor sources: real files, resolutions, validity, and clear errors for bad rows."""

from __future__ import annotations

import pandas as pd
import pytest

from energy.config import parse_config
from energy.emissions import factor_table, read_factor_file, sources_from_config
from energy.errors import InputError
from tests.helpers import shared_data

EM_COLUMN = "Carbon Intensity gCO₂eq/kWh (direct)"


def site(tmp_path, factors: list[dict], instruments: list[dict] = ()):
    data = {
        "site": {"name": "T", "timezone": "Europe/Berlin", "latitude": 50.0, "longitude": 8.0},
        "emissions": {"factors": factors, "instruments": list(instruments)},
    }
    return parse_config(data, tmp_path / "site.toml")


def write(tmp_path, text: str, name: str = "f.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_electricity_maps_file_reads_as_hourly_rows_with_the_published_annual_mean():
    rows = read_factor_file(shared_data("emissions", "electricitymaps_DE_2022_hourly.csv"), EM_COLUMN)
    assert len(rows) == 8760
    assert rows["start"].iloc[0] == pd.Timestamp("2022-01-01 00:00", tz="UTC")
    assert ((rows["end"] - rows["start"]) == pd.Timedelta(hours=1)).all()
    assert rows["g_per_kwh"].iloc[0] == 162.59
    # SOURCES.md: DE 2022 direct annual mean 406.4 g/kWh.
    assert rows["g_per_kwh"].mean() == pytest.approx(406.4, abs=0.05)


def test_avert_hours_of_the_year_in_lb_per_kwh_become_dated_g_per_kwh():
    rows = read_factor_file(
        shared_data("emissions", "AVERT_2023_CO2_lb_per_kwh.csv"), "CA",
        time_column="Timestamp", unit="lb_per_kwh", timezone="Etc/GMT+8", year=2023,
    )
    assert len(rows) == 8760
    # Hour 0 is 1 January 00:00 Pacific standard time; 1.11 lb/kWh × 453.59237 g/lb.
    assert rows["start"].iloc[0] == pd.Timestamp("2023-01-01 08:00", tz="UTC")
    assert rows["g_per_kwh"].iloc[0] == pytest.approx(1.11 * 453.59237)
    with pytest.raises(InputError, match="'Timestamp' holds hours of the year; give valid_from so the year is known"):
        read_factor_file(shared_data("emissions", "AVERT_2023_CO2_lb_per_kwh.csv"), "CA", time_column="Timestamp")


def test_monthly_rows_cover_their_local_calendar_month(tmp_path):
    path = write(tmp_path, "month,g\n2022-01,400\n2022-02,380\n2022-03,350\n")
    rows = read_factor_file(path, timezone="Europe/Berlin")
    assert list(rows["start"]) == [pd.Timestamp(f"2022-0{m}-01", tz="Europe/Berlin") for m in (1, 2, 3)]
    assert rows["end"].iloc[-1] == pd.Timestamp("2022-04-01", tz="Europe/Berlin")  # after the DST change: 22:00 UTC
    assert rows["end"].iloc[-1].tz_convert("UTC").hour == 22


def test_one_annual_row_covers_the_year(tmp_path):
    rows = read_factor_file(write(tmp_path, "year,g\n2022-01-01T00:00:00+00:00,420\n"))
    assert rows["end"].iloc[0] == pd.Timestamp("2023-01-01", tz="UTC")
    rows = read_factor_file(write(tmp_path, "year,g\n2021,450\n2022,420\n"), timezone="Europe/Berlin")
    assert list(rows["start"]) == [pd.Timestamp("2021-01-01", tz="Europe/Berlin"), pd.Timestamp("2022-01-01", tz="Europe/Berlin")]
    assert rows["end"].iloc[-1] == pd.Timestamp("2023-01-01", tz="Europe/Berlin")


def test_hourly_gaps_stay_gaps(tmp_path):
    rows = read_factor_file(write(tmp_path, "t,g\n2022-01-01 00:00,1\n2022-01-01 01:00,2\n2022-01-01 03:00,4\n"))
    assert list(rows["end"] - rows["start"]) == [pd.Timedelta(hours=1)] * 3


@pytest.mark.parametrize(
    "text, message",
    [
        ("t,g\n2022-01-01 00:00,1\n2022-01-01 01:00,abc\n", "line 3: 'g' is 'abc', not a number"),
        ("t,g\n2022-01-01 00:00,1\n2022-01-01 01:00,\n", "line 3: no value in column 'g'"),
        ("t,g\n2022-01-01 00:00,1\n2022-01-01 01:00,-5\n", "line 3: 'g' is '-5'; a factor must be a finite number ≥ 0"),
        ("t,g\n2022-01-01 00:00,1\nyesterday,2\n", "line 3: 't' is 'yesterday', not an ISO 8601 time"),
        ("t,g\n2022-01-01 00:00,1\n2022-01-01 01:00,2,3\n", "line 3: 3 fields, the header has 2"),
        ("t,g\n2022-01-01 00:00,1\n2022-01-01 01:00,2\n2022-01-01 00:00,3\n", "lines 2 and 4: the same time 2022-01-01T00:00:00+00:00 twice"),
        ("t,g\n", "no data rows"),
        ("", "empty file"),
    ],
)
def test_malformed_rows_name_the_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_factor_file(path, "g")
    assert str(path) in str(err.value) and message in str(err.value)


def test_unknown_column_lists_the_header(tmp_path):
    path = write(tmp_path, "t,a,b\n2022-01-01 00:00,1,2\n")
    with pytest.raises(InputError, match=r"no column 'c' \(the header has: t, a, b\)"):
        read_factor_file(path, "c")
    with pytest.raises(InputError, match="name the factor column"):
        read_factor_file(path)


def test_local_time_that_does_not_exist_is_named(tmp_path):
    path = write(tmp_path, "t,g\n2022-03-27 01:00,1\n2022-03-27 02:00,2\n")
    with pytest.raises(InputError, match="line 3: 2022-03-27 02:00:00 does not exist or is ambiguous in Europe/Berlin"):
        read_factor_file(path, "g", timezone="Europe/Berlin")


def test_config_errors_name_the_source(tmp_path):
    with pytest.raises(InputError, match=r"emissions.factors\[0\] 'grid': .*f.csv: emission factor file not found"):
        sources_from_config(site(tmp_path, [{"id": "grid", "method": "location", "file": "f.csv", "column": "g", "source": "x"}]))
    with pytest.raises(InputError, match=r"emissions: factors\[1\].id: duplicate id 'a'"):
        site(tmp_path, [{"id": "a", "method": "location", "g_per_kwh": 1, "source": "x"}] * 2)
    with pytest.raises(InputError, match="valid_to must be after valid_from"):
        site(tmp_path, [{"id": "a", "method": "location", "g_per_kwh": 1, "source": "x", "valid_from": "2022-02-01", "valid_to": "2022-01-01"}])
    with pytest.raises(InputError, match=r"emissions.factors\[0\].source: required field is missing"):
        site(tmp_path, [{"id": "a", "method": "location", "g_per_kwh": 1}])
    with pytest.raises(InputError, match=r"emissions.factors\[0\].timezone: unknown time zone 'Mars/Base'"):
        site(tmp_path, [{"id": "a", "method": "location", "file": "f.csv", "timezone": "Mars/Base", "source": "x"}])


def test_validity_dates_are_local_midnights_and_clip_the_rows(tmp_path):
    write(tmp_path, "t,g\n" + "".join(f"2022-01-0{d} {h:02d}:00,{d * 100 + h}\n" for d in (1, 2, 3) for h in range(24)))
    config = site(tmp_path, [{"id": "g", "method": "location", "file": "f.csv", "source": "x", "valid_from": "2022-01-02", "valid_to": "2022-01-03"}])
    (source,) = sources_from_config(config)
    assert source.valid_from == pd.Timestamp("2022-01-01 23:00", tz="UTC")
    assert source.valid_to == pd.Timestamp("2022-01-02 23:00", tz="UTC")
    assert source.rows["start"].iloc[0] == source.valid_from and source.rows["end"].iloc[-1] == source.valid_to
    assert len(source.rows) == 24 and source.rows["g_per_kwh"].iloc[0] == 123


def test_overlapping_sources_of_one_level_are_refused(tmp_path):
    one_year = {"valid_from": "2022-01-01", "valid_to": "2023-01-01", "source": "x"}
    config = site(tmp_path, [
        {"id": "a", "method": "supplier", "g_per_kwh": 300, **one_year},
        {"id": "b", "method": "market", "g_per_kwh": 200, "valid_from": "2022-12-01", "source": "x"},
    ])
    with pytest.raises(InputError, match="'a' and 'b' are both supplier factors valid at"):
        sources_from_config(config)
    # Back to back is fine, and so are different methods at the same time.
    config = site(tmp_path, [
        {"id": "a", "method": "supplier", "g_per_kwh": 300, **one_year},
        {"id": "b", "method": "market", "g_per_kwh": 200, "valid_from": "2023-01-01", "source": "x"},
        {"id": "c", "method": "residual_mix", "g_per_kwh": 600, **one_year},
    ])
    assert [s.id for s in sources_from_config(config)] == ["a", "b", "c"]


def test_factor_table_lists_every_source_and_instrument_with_its_citation(tmp_path):
    write(tmp_path, "t,g\n2022-01-01 00:00,100\n2022-01-01 01:00,300\n")
    config = site(
        tmp_path,
        [{"id": "grid", "method": "location", "file": "f.csv", "column": "g", "source": "Electricity Maps"},
         {"id": "rm", "method": "residual_mix", "g_per_kwh": 600, "source": "AIB"}],
        [{"id": "go", "kind": "go", "mwh": 5, "valid_from": "2022-01-01", "valid_to": "2023-01-01", "source": "registry"}],
    )
    from energy.emissions import instruments_from_config

    table = factor_table(sources_from_config(config), instruments_from_config(config)).set_index("id")
    assert table.loc["grid", "g_per_kwh"] == 200 and table.loc["grid", "source"] == "Electricity Maps"
    assert table.loc["grid", "file"] == "f.csv" and len(table.loc["grid", "file_sha256"]) == 64
    assert table.loc["rm", "method"] == "residual_mix" and table.loc["go", "method"] == "instrument:go"
    assert table.loc["go", "mwh"] == 5 and table.loc["go", "source"] == "registry"
