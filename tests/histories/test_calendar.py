"""Local calendar totals (weeks and months across DST changes), standby energy by the calendar, rating limits."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from energy.config import load_config
from energy.histories import quality
from energy.histories.api import machine_history
from energy.histories.states import idle_history
from energy.histories.series import resample
from energy.histories.site import meter_rated_kw
from energy.histories.store import store_intervals
from energy.storage.site import store_site
from tests.helpers import run_cli
from tests.histories.sites import write_site

BERLIN = "Europe/Berlin"

PRESS_WITH_SHIFTS = """
[[machines]]
id = "press"
name = "Press"
rated_kw = 80.0

[[meters]]
id = "m_press"
model = "eastron_sdm630"
machine = "press"
connection = { host = "127.0.0.1", port = 5021 }

[calendar]
shifts = ["06:00-14:00", "14:00-22:00"]
shutdown_days = [2024-10-28]
"""


def steady(start: str, end: str, kw: float) -> pd.DataFrame:
    """A complete measured 15-minute series at ``kw`` between two local Berlin midnights."""
    index = pd.date_range(pd.Timestamp(start, tz=BERLIN).tz_convert("UTC"), pd.Timestamp(end, tz=BERLIN).tz_convert("UTC"), freq="15min", inclusive="left")
    return quality.frame(index, np.full(len(index), kw / 4), np.zeros(len(index)))


def test_weekly_and_monthly_totals_follow_the_local_calendar_across_dst():
    series = steady("2024-03-01", "2024-05-01", 4.0)
    monthly = resample(series, "1MS", BERLIN)
    assert [str(t) for t in monthly.index] == ["2024-03-01 00:00:00+01:00", "2024-04-01 00:00:00+02:00"]
    np.testing.assert_allclose(monthly["energy_kwh"], [4.0 * (31 * 24 - 1), 4.0 * 30 * 24])  # March has 743 hours
    weekly = resample(series, "1W", BERLIN)
    assert all(t.weekday() == 0 and t.hour == 0 for t in weekly.index[1:])  # Mondays, local midnight
    week_of_change = weekly.loc[pd.Timestamp("2024-03-25", tz=BERLIN)]
    assert week_of_change["energy_kwh"] == pytest.approx(4.0 * 167) and week_of_change["quality"] == "measured"
    # A hole inside a month makes that month missing, never smaller.
    holed = series.copy()
    holed.iloc[100, holed.columns.get_loc("quality")] = "missing"
    holed.iloc[100, holed.columns.get_loc("energy_kwh")] = np.nan
    assert list(resample(holed, "1MS", BERLIN)["quality"]) == ["missing", "measured"]


def test_history_widens_a_calendar_period_to_whole_months(engine, tmp_path):
    config = load_config(write_site(tmp_path, PRESS_WITH_SHIFTS))
    store_site(engine, config)
    store_intervals(engine, "machine", "press", steady("2024-03-10", "2024-04-01", 4.0))
    monthly = machine_history(engine, "press", pd.Timestamp("2024-03-15", tz=BERLIN), pd.Timestamp("2024-03-20", tz=BERLIN), freq="1MS")
    assert list(monthly.index) == [pd.Timestamp("2024-03-01", tz=BERLIN)]
    assert list(monthly["quality"]) == ["missing"]  # 1–9 March are not stored: no partial month
    daily = machine_history(engine, "press", pd.Timestamp("2024-03-30", tz=BERLIN), pd.Timestamp("2024-04-01", tz=BERLIN), freq="1D")
    np.testing.assert_allclose(daily["energy_kwh"], [96.0, 92.0])


def test_standby_is_the_idle_state_split_by_shifts_and_working_days(engine, tmp_path):
    config = load_config(write_site(tmp_path, PRESS_WITH_SHIFTS))
    store_site(engine, config)
    # 60 kW in the shifts (06:00–22:00 local), 5 kW standby outside: 26–29 October 2024 in Berlin
    # (a Saturday, the 25-hour Sunday, the shutdown day of the 28th, a Tuesday), except a night
    # job (60 kW, 22:00–23:00 on the 26th: production outside the shifts) and a stop in the shift
    # (standby 10:00–12:00 on the 29th). The old calendar rule called the night job standby
    # (95 kWh on the 26th) and missed the stop (40 kWh on the 29th).
    series = steady("2024-10-26", "2024-10-30", 5.0)
    local = series.index.tz_convert(BERLIN)
    working = (local.hour >= 6) & (local.hour < 22) & (local.date != pd.Timestamp("2024-10-28").date())
    working |= (local.date == pd.Timestamp("2024-10-26").date()) & (local.hour == 22)
    working &= ~((local.date == pd.Timestamp("2024-10-29").date()) & (local.hour >= 10) & (local.hour < 12))
    series.loc[working, "energy_kwh"] = 60.0 / 4
    store_intervals(engine, "machine", "press", series)
    idle = idle_history(engine, config, "press")
    assert [str(t.date()) for t in idle.index] == ["2024-10-26", "2024-10-27", "2024-10-28", "2024-10-29"]
    np.testing.assert_allclose(idle["idle_hours"], [7.0, 9.0, 24.0, 10.0])
    np.testing.assert_allclose(idle["idle_kwh"], [35.0, 45.0, 120.0, 50.0])
    np.testing.assert_allclose(idle["idle_in_shifts_kwh"], [0.0, 0.0, 0.0, 10.0])
    np.testing.assert_allclose(idle["idle_outside_shifts_kwh"], [35.0, 0.0, 0.0, 40.0])
    np.testing.assert_allclose(idle["idle_non_working_kwh"], [0.0, 45.0, 120.0, 0.0])  # Sunday, shutdown day
    np.testing.assert_allclose(idle["idle_power_kw"], 5.0)
    assert list(idle["quality"]) == ["measured"] * 4
    # An unknown interval makes its day's standby missing, not smaller.
    series.iloc[2, series.columns.get_loc("quality")] = "missing"
    store_intervals(engine, "machine", "press", series)
    assert list(idle_history(engine, config, "press")["quality"]) == ["missing", "measured", "measured", "measured"]

    code, out, err = run_cli("export", "idle", "--machine", "press", "--config", write_site(tmp_path, PRESS_WITH_SHIFTS), "--db", engine.url.render_as_string(hide_password=False))
    assert code == 0, err
    exported = pd.read_csv(io.StringIO(out))
    assert list(exported.columns) == [
        "period_start", "idle_kwh", "idle_in_shifts_kwh", "idle_outside_shifts_kwh", "idle_non_working_kwh", "idle_hours", "idle_power_kw", "quality",
    ]
    assert list(exported["period_start"]) == ["2024-10-26T00:00:00+02:00", "2024-10-27T00:00:00+02:00", "2024-10-28T00:00:00+01:00", "2024-10-29T00:00:00+01:00"]
    assert exported["idle_kwh"].iloc[3] == 50.0 and exported["idle_in_shifts_kwh"].iloc[3] == 10.0
    code, _, err = run_cli("export", "idle", "--machine", "lathe", "--config", write_site(tmp_path, PRESS_WITH_SHIFTS), "--db", engine.url.render_as_string(hide_password=False))
    assert code == 1 and "unknown machine 'lathe'" in err


def test_a_meter_without_its_own_rating_is_checked_against_its_machine(tmp_path):
    config = load_config(write_site(tmp_path, PRESS_WITH_SHIFTS))
    assert meter_rated_kw(config, config.meters[0]) == 80.0
