"""Machine states from measurements (``energy.histories.states``): levels learned from a
machine's own power, intervals split by state, standby by the site calendar, and the plant
twin's truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from energy.config import load_config
from energy.errors import InputError
from energy.histories import quality
from energy.histories.api import machine_history
from energy.histories.process import process_site
from energy.histories.states import classify_intervals, learn_levels, machine_states, standby_split
from energy.setup import initialise
from energy.twin.params import load_twin_params
from energy.twin.plant import PlantTwin
from energy.twin.run import MeterHistory, day_jobs
from tests.helpers import REPO
from tests.histories.sites import write_site

START = pd.Timestamp("2024-03-04 00:00", tz="UTC")  # a Monday
DEMO = REPO / "data" / "demo"


def series(kw: np.ndarray, step_min: int = 15, start: pd.Timestamp = START) -> pd.DataFrame:
    """A complete measured series of mean powers ``kw`` (kW) per ``step_min`` minutes."""
    index = pd.date_range(start, periods=len(kw), freq=f"{step_min}min")
    return quality.frame(index, np.asarray(kw, dtype=float) * step_min / 60, np.zeros(len(kw)))


def noisy(level_kw: float, count: int, seed: int, pct: float = 2.0) -> np.ndarray:
    return level_kw * (1 + pct / 100 * np.random.default_rng(seed).standard_normal(count))


def day_of_a_machine(seed: int = 1) -> np.ndarray:
    """One day per 15 minutes: off, 2 h standby at 10 kW, 6 h production at 80–120 kW, 2 h standby, off."""
    production = np.random.default_rng(seed).uniform(80, 120, 24)
    return np.concatenate([np.zeros(24), noisy(10, 8, seed), production, noisy(10, 8, seed + 1), np.zeros(32)])


# -- levels --------------------------------------------------------------------------------------


def test_levels_come_from_the_machine_own_power_and_the_configuration_only_checks_them():
    power = np.concatenate([day_of_a_machine(seed) for seed in range(5)])
    levels = learn_levels(power, idle_kw=10.0, rated_kw=150.0)
    assert levels.idle_kw == pytest.approx(10.0, rel=0.02) and levels.source == "measured" and levels.note == ""
    assert 10.0 * 1.2 < levels.producing_kw < 80.0 and levels.off_kw <= 1.5
    assert 80.0 < levels.typical_producing_kw < 120.0
    # A configured idle_kw far from the data: the data win, and the levels say so.
    far = learn_levels(power, idle_kw=40.0, rated_kw=150.0)
    assert far.idle_kw == pytest.approx(10.0, rel=0.02) and "far from the configured idle_kw 40 kW" in far.note
    # Without any configuration the same standby level is found.
    assert learn_levels(power).idle_kw == pytest.approx(levels.idle_kw)
    # Too few data: the configured level, said so.
    few = learn_levels(power[:30], idle_kw=10.0)
    assert few.source == "configured" and few.idle_kw == 10.0
    with pytest.raises(InputError, match="idle_kw"):
        learn_levels(power, idle_kw=-1.0)


def test_a_machine_that_never_idles_has_no_standby():
    production = np.random.default_rng(3).uniform(60, 120, 200)
    power = np.concatenate([np.zeros(100), production, np.zeros(100), production[:50]])
    levels = learn_levels(power, idle_kw=5.0, rated_kw=150.0)
    assert np.isnan(levels.idle_kw) and "never idle" in levels.note
    # A job ending a third into an interval, then off: producing, then off; no standby anywhere.
    power[300] = power[299] / 3
    states = classify_intervals(series(power), levels)
    assert set(states["state"]) == {"off", "producing"} and states["idle_kwh"].sum() == 0
    assert states["idle_min"].sum() == 0 and states.loc[states.index[300], "producing_min"] == pytest.approx(5.0, abs=0.1)


def test_a_machine_always_off_is_off():
    levels = learn_levels(np.zeros(500), idle_kw=4.0, rated_kw=50.0)
    assert levels.source == "configured" and levels.idle_kw == 4.0
    states = classify_intervals(series(np.zeros(500)), levels)
    assert (states["state"] == "off").all() and states["idle_kwh"].sum() == 0 and states["producing_min"].sum() == 0
    assert learn_levels(np.zeros(500)).source == "none"


def test_a_job_starting_mid_interval_splits_the_interval_by_state():
    # Standby at 10 kW, a 100 kW job from 6 minutes into the fifth interval to 9 minutes into the
    # ninth, standby again, off in the last interval.
    minute_kw = np.concatenate([np.full(66, 10.0), np.full(63, 100.0), np.full(36, 10.0), np.zeros(15)])
    minutes = series(minute_kw, step_min=1)
    intervals = series(minute_kw.reshape(-1, 15).mean(axis=1))
    levels = learn_levels(intervals["energy_kwh"].to_numpy() * 4, idle_kw=10.0, rated_kw=150.0)
    for label, fine in (("1-minute readings", minutes), ("15-minute means", None)):
        states = classify_intervals(intervals, levels, fine)
        mixed = states.iloc[4]
        assert mixed["state"] == "producing", label
        assert mixed["idle_min"] == pytest.approx(6, abs=0.2) and mixed["producing_min"] == pytest.approx(9, abs=0.2), label
        assert mixed["idle_kwh"] == pytest.approx(6 * 10 / 60, rel=0.05) and mixed["producing_kwh"] == pytest.approx(9 * 100 / 60, rel=0.01), label
        # The job ends 9 minutes into the ninth interval: 9 minutes producing, 6 idle.
        assert states.iloc[8]["producing_min"] == pytest.approx(9, abs=0.2), label
        total = states[["off_kwh", "idle_kwh", "producing_kwh"]].sum(axis=1)
        np.testing.assert_allclose(total, states["energy_kwh"])
        assert states["idle_kwh"].sum() == pytest.approx((66 + 36) * 10 / 60, rel=0.01), label


def test_a_missing_interval_has_no_state_and_no_energy():
    frame = series(day_of_a_machine())
    frame.iloc[30, frame.columns.get_loc("quality")] = "missing"
    states = classify_intervals(frame, learn_levels(frame["energy_kwh"].to_numpy() * 4, 10.0))
    row = states.iloc[30]
    assert pd.isna(row["state"]) and np.isnan(row["idle_kwh"]) and np.isnan(row["energy_kwh"]) and row["quality"] == "missing"
    with pytest.raises(InputError, match="intervals: missing column energy_kwh"):
        classify_intervals(frame.drop(columns="energy_kwh"), learn_levels([]))


# -- standby by the site calendar ----------------------------------------------------------------

HOLIDAY_SITE = """
country = "DE"

[[machines]]
id = "press"
name = "Press"

[calendar]
shifts = ["06:00-14:00", "14:00-22:00"]
shutdown_days = [2024-10-04]
"""


def test_standby_is_split_into_shifts_outside_shifts_and_non_working_days(tmp_path):
    config = load_config(write_site(tmp_path, HOLIDAY_SITE))  # the Berlin site header, then country
    # Wednesday 2 October to Sunday 6 October 2024 (Berlin): the 3rd is German Unity Day, the 4th
    # a shutdown day, the 5th a Saturday (a working day), the 6th a Sunday. 1 kWh of standby
    # in every quarter hour.
    index = pd.date_range(pd.Timestamp("2024-10-02", tz="Europe/Berlin"), pd.Timestamp("2024-10-07", tz="Europe/Berlin"), freq="15min", inclusive="left").tz_convert("UTC")
    states = pd.DataFrame({"idle_kwh": np.ones(len(index))}, index=index)
    split = standby_split(states, config)
    daily = split.groupby(split.index.tz_convert("Europe/Berlin").date).sum()
    in_shifts, outside, non_working = daily["idle_in_shifts_kwh"], daily["idle_outside_shifts_kwh"], daily["idle_non_working_kwh"]
    assert list(in_shifts) == [64, 0, 0, 64, 0] and list(outside) == [32, 0, 0, 32, 0] and list(non_working) == [0, 96, 96, 0, 96]
    np.testing.assert_allclose(split.sum(axis=1), states["idle_kwh"])
    # The shift boundary: 05:45 is outside, 06:00 inside, 21:45 inside, 22:00 outside (local).
    local = split.tz_convert("Europe/Berlin").loc["2024-10-02"]
    assert list(local.loc[local.index.strftime("%H:%M").isin(["05:45", "06:00", "21:45", "22:00"]), "idle_in_shifts_kwh"]) == [0, 1, 1, 0]


# -- from the database ---------------------------------------------------------------------------


def test_machine_states_names_bad_input(engine, tmp_path):
    config = load_config(write_site(tmp_path, HOLIDAY_SITE))  # the Berlin site header, then country
    with pytest.raises(InputError, match="start: .* has no time zone"):
        machine_states(engine, config, "press", pd.Timestamp("2024-10-02"), pd.Timestamp("2024-10-03", tz="UTC"))
    with pytest.raises(InputError, match="end: .* is not after start"):
        machine_states(engine, config, "press", pd.Timestamp("2024-10-03", tz="UTC"), pd.Timestamp("2024-10-02", tz="UTC"))
    with pytest.raises(InputError, match="unknown machine 'lathe'"):
        machine_states(engine, config, "lathe", pd.Timestamp("2024-10-02", tz="UTC"), pd.Timestamp("2024-10-03", tz="UTC"))


@pytest.fixture(scope="module")
def twin_days(tmp_path_factory):
    """The demo site's twin (its disturbances, its own plans) from Thursday 5 to Monday 9 March
    2026, and its truth; a weekend in the middle."""
    folder = tmp_path_factory.mktemp("states_twin")
    config = load_config(DEMO / "site.toml")
    twin = PlantTwin(config, load_twin_params(DEMO / "twin.toml", config), dt.date(2026, 3, 5), dt.date(2026, 3, 9), DEMO / "jobs.csv")
    day = twin.first_day
    while day <= twin.last_day:
        twin.run_day(day, day_jobs(twin, folder, day)[1])
        day += dt.timedelta(days=1)
    return twin, twin.ground_truth().machine_intervals


def stored(twin: PlantTwin, engine, minute_readings: bool):
    initialise(engine, twin.config)
    MeterHistory(engine, twin, 0 if minute_readings else twin.actual.minutes + 1, 1000.0).store_until(twin.end)
    process_site(engine, twin.config, hold_back=False)
    return engine


def old_calendar_rule_kwh(engine, config, machine: str, start, end) -> float:
    """The rule this module replaced: all energy outside the shifts or on a non-working day."""
    energy = machine_history(engine, machine, start, end, tz="UTC").rename(columns={"energy_kwh": "idle_kwh"})
    return float(standby_split(energy, config)[["idle_outside_shifts_kwh", "idle_non_working_kwh"]].to_numpy().sum())


@pytest.mark.parametrize("minute_readings", [True, False], ids=["1-minute readings", "15-minute readings"])
def test_states_and_standby_match_the_twin_truth(twin_days, engine, minute_readings):
    twin, truth = twin_days
    engine = stored(twin, engine, minute_readings)
    config = twin.config
    start, end = twin.start, twin.end - pd.Timedelta(minutes=15)  # the last interval is closed by no reading
    true_idle = est_idle = old_idle = 0.0
    for machine in [m.id for m in config.machines]:
        states = machine_states(engine, config, machine, start, end)
        true = truth[truth["machine"] == machine].set_index("interval_start").reindex(states.index)
        # The twin's warm-up (start-up energy) is neither standby nor production's absence: producing.
        accuracy = (states["state"] == true["state"].replace("warming", "producing")).mean()
        assert accuracy >= 0.95, (machine, accuracy)
        np.testing.assert_allclose(states[["off_kwh", "idle_kwh", "producing_kwh"]].sum(axis=1), states["energy_kwh"], atol=1e-9)
        true_idle += true["idle_kwh"].sum()
        est_idle += states["idle_kwh"].sum()
        old_idle += old_calendar_rule_kwh(engine, config, machine, start, end)
        if minute_readings:  # minute by minute, each machine's standby is the truth's
            assert states["idle_kwh"].sum() == pytest.approx(true["idle_kwh"].sum(), rel=0.05, abs=0.5), machine
    assert true_idle > 100 and est_idle == pytest.approx(true_idle, rel=0.05)
    # The calendar rule this replaced is nowhere near: it fails the same threshold.
    assert abs(old_idle - true_idle) > 0.05 * true_idle
