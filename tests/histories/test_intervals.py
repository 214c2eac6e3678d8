"""Readings → intervals on hand-made series whose intervals are known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy.histories.intervals import meter_intervals
from energy.histories.series import resample

START = pd.Timestamp("2024-01-15T06:00:00Z")


def counter_readings(minutes: int = 61, kw: float = 6.0, first_kwh: float = 1000.0, start=START) -> pd.DataFrame:
    """A reading a minute of a meter drawing ``kw`` steadily (0.1 kWh a minute at 6 kW)."""
    stamps = pd.date_range(start, periods=minutes, freq="1min")
    return pd.DataFrame({"timestamp": stamps, "energy_kwh": first_kwh + kw / 60 * np.arange(minutes), "power_kw": np.nan})


def expect(frame: pd.DataFrame, energy: list[float], quality: list[str]) -> None:
    assert list(frame["quality"]) == quality
    np.testing.assert_allclose(frame["energy_kwh"].to_numpy(), energy, rtol=0, atol=1e-6)


def test_steady_counter_gives_measured_intervals_labelled_by_start():
    frame = meter_intervals(counter_readings())
    assert list(frame.index) == list(pd.date_range(START, periods=4, freq="15min"))
    assert str(frame.index.tz) == "UTC"
    expect(frame, [1.5] * 4, ["measured"] * 4)


def test_counter_reset_counts_the_new_reading_and_is_estimated():
    readings = counter_readings()
    # The counter restarts between 06:20 and 06:21: at 06:21 it shows 0.05 kWh used since.
    readings.loc[21:, "energy_kwh"] = 0.05 + 0.1 * np.arange(61 - 21)
    expect(meter_intervals(readings), [1.5, 1.45, 1.5, 1.5], ["measured", "estimated", "measured", "measured"])


def test_32_bit_wh_counter_rollover_is_measured_through():
    wrap_kwh = 2**32 / 1000
    readings = counter_readings(first_kwh=wrap_kwh - 2.0)  # wraps at 06:20
    readings["energy_kwh"] = readings["energy_kwh"] % wrap_kwh
    assert (readings["energy_kwh"].diff() < 0).sum() == 1
    expect(meter_intervals(readings, rated_kw=50.0), [1.5] * 4, ["measured"] * 4)
    expect(meter_intervals(readings), [1.5] * 4, ["measured"] * 4)  # without a rating too


def test_gap_bridged_by_counter_is_spread_over_its_intervals_and_estimated():
    readings = counter_readings(minutes=76)
    readings.loc[24:52, "energy_kwh"] = np.nan  # no counter from 06:24 to 06:52
    readings = readings.dropna(subset=["energy_kwh"])
    # 06:23 → 06:53 rose 3.0 kWh over 30 min: 0.7 + 1.5 + 0.8 spread linearly → each interval 1.5.
    expect(meter_intervals(readings), [1.5] * 5, ["measured", "estimated", "estimated", "estimated", "measured"])


def test_long_step_inside_one_interval_does_not_spoil_it():
    readings = counter_readings().drop(index=range(17, 29))  # 06:16 → 06:29, no boundary crossed
    expect(meter_intervals(readings), [1.5] * 4, ["measured"] * 4)


def test_utility_readings_on_the_boundaries_are_measured():
    stamps = pd.date_range(START, periods=5, freq="15min")
    readings = pd.DataFrame({"timestamp": stamps, "energy_kwh": [10.0, 11.0, 13.5, 13.5, 20.0]})
    expect(meter_intervals(readings), [1.0, 2.5, 0.0, 6.5], ["measured"] * 4)


def test_gap_without_data_is_missing_never_zero():
    # A meter with power only: 06:00–06:20 and 06:50–07:30 at 4 kW, nothing in between.
    stamps = pd.date_range(START, periods=91, freq="1min")
    readings = pd.DataFrame({"timestamp": stamps, "energy_kwh": np.nan, "power_kw": 4.0})
    readings = readings[(stamps < START + pd.Timedelta("20min")) | (stamps >= START + pd.Timedelta("50min"))]
    frame = meter_intervals(readings)
    expect(frame, [1.0, np.nan, np.nan, np.nan, 1.0, 1.0], ["estimated", "missing", "missing", "missing", "estimated", "estimated"])
    # A counter whose readings stop: the intervals after the last reading are missing too.
    tail = meter_intervals(counter_readings(minutes=31), end=START + pd.Timedelta("60min"))
    expect(tail, [1.5, 1.5, np.nan, np.nan], ["measured", "measured", "missing", "missing"])


def test_power_only_meter_is_integrated_and_estimated():
    stamps = pd.date_range(START, periods=31, freq="1min")
    readings = pd.DataFrame({"timestamp": stamps, "power_kw": np.linspace(0.0, 30.0, 31)})
    # Power rises 1 kW a minute: 0→15 kW averages 7.5 kW over 15 min, 15→30 kW averages 22.5 kW.
    expect(meter_intervals(readings), [1.875, 5.625], ["estimated", "estimated"])


def test_counter_spike_is_dropped_and_flagged():
    readings = counter_readings()
    readings.loc[20, "energy_kwh"] = 1e9  # a garbled register read at 06:20
    expect(meter_intervals(readings), [1.5] * 4, ["measured", "estimated", "measured", "measured"])
    readings.loc[20, "energy_kwh"] = 0.0  # and one read as zero
    expect(meter_intervals(readings), [1.5] * 4, ["measured", "estimated", "measured", "measured"])
    readings.loc[20:21, "energy_kwh"] = 1e9  # two garbled reads in a row, no rating to judge them by
    expect(meter_intervals(readings), [1.5] * 4, ["measured", "estimated", "measured", "measured"])
    readings.loc[20:22, "energy_kwh"] = [0.0, 1e9, 0.0]  # three
    expect(meter_intervals(readings), [1.5] * 4, ["measured", "estimated", "measured", "measured"])


def test_implausible_jump_beyond_rating_is_left_out_as_missing():
    readings = counter_readings()
    readings.loc[35:, "energy_kwh"] += 500.0  # +500 kWh in one minute at 06:35: 30 MW
    expect(meter_intervals(readings, rated_kw=50.0), [1.5, 1.5, np.nan, 1.5], ["measured", "measured", "missing", "measured"])


def test_power_spike_beyond_rating_is_dropped_and_power_fills_a_missing_counter():
    stamps = pd.date_range(START, periods=31, freq="1min")
    power = np.full(31, 8.0)
    power[7] = 9000.0
    readings = pd.DataFrame({"timestamp": stamps, "energy_kwh": np.nan, "power_kw": power})
    expect(meter_intervals(readings, rated_kw=100.0), [2.0, 2.0], ["estimated", "estimated"])


@pytest.mark.parametrize(
    ("day", "hours"), [("2024-03-31", 23), ("2024-10-27", 25)], ids=["spring-forward", "fall-back"]
)
def test_daylight_saving_days_in_berlin(day, hours):
    berlin = "Europe/Berlin"
    start = (pd.Timestamp(day) - pd.Timedelta(days=1)).tz_localize(berlin)  # local midnights
    end = (pd.Timestamp(day) + pd.Timedelta(days=2)).tz_localize(berlin)
    stamps = pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq="5min")
    minutes = np.arange(len(stamps)) * 5
    readings = pd.DataFrame({"timestamp": stamps, "energy_kwh": 4.0 / 60 * minutes})  # 4 kW steadily
    frame = meter_intervals(readings)
    assert (frame["quality"] == "measured").all()
    np.testing.assert_allclose(frame["energy_kwh"], 1.0)
    # Intervals are uniform in UTC; the local day of the change has 23 or 25 hours.
    local = frame.index.tz_convert(berlin)
    assert (local.normalize() == pd.Timestamp(day, tz=berlin)).sum() == hours * 4
    daily = resample(frame, "1D", berlin)
    assert [str(d.date()) for d in daily.index] == [str((pd.Timestamp(day) + pd.Timedelta(days=k)).date()) for k in (-1, 0, 1)]
    np.testing.assert_allclose(daily["energy_kwh"], [96.0, 4.0 * hours, 96.0])
    assert list(daily["quality"]) == ["measured"] * 3
    hourly = resample(frame, "1h", berlin)
    assert (hourly.index.normalize() == pd.Timestamp(day, tz=berlin)).sum() == hours
