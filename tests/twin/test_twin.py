"""The plant twin (``energy.twin``): a simulated factory whose ground truth is known.

Every twin here covers a few local days of 2026 (Europe/Berlin, the demo site) so the folder stays
fast. Twins are built from the demo's ``site.toml``, ``jobs.csv`` and ``twin.toml`` (or a variant
of the twin file given as a dict), and their days are run in order.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from energy.config import load_config
from energy.errors import InputError
from energy.planning.jobs import read_jobs
from energy.planning.savings import baseline_plan, plan_power_kw
from energy.twin.execute import IDLE, OFF, PRODUCING, run_power_kw
from energy.twin.params import TwinMachine, load_twin_params, parse_twin_params
from energy.twin.plans import PlannedRun, schedule_day_plan
from energy.twin.plant import PlantTwin
from energy.twin.recipes import recipe_shape
from energy.twin.truth import read_truth, write_truth
from tests.helpers import REPO

DEMO = REPO / "data" / "demo"
DEMO_TWIN = DEMO / "twin.toml"
JOBS = DEMO / "jobs.csv"
STEEL = DEMO / "steel_industry_2018_15min.csv"
SLOT = pd.Timedelta(minutes=15)
MINUTE = pd.Timedelta(minutes=1)
MONDAY = dt.date(2026, 3, 2)  # a plain working week (no holiday, no clock change)
TUESDAY = dt.date(2026, 3, 3)
FRIDAY = dt.date(2026, 3, 6)
KINDS = ("generic", "induction_furnace", "oven", "shot_blaster", "compressor")


# -- building twins ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config():
    return load_config(DEMO / "site.toml")


def demo_data() -> dict:
    """The demo's twin file as a dict (a fresh copy to vary)."""
    return tomllib.loads(DEMO_TWIN.read_text(encoding="utf-8"))


def params_of(data: dict, config):
    """Twin params from ``data``, read as if it were the demo's twin file (its base-load file resolves)."""
    return parse_twin_params(data, config, DEMO_TWIN)


def without_disturbances(data: dict) -> dict:
    data = copy.deepcopy(data)
    data["disturbances"] = {}
    return data


def quiet_data(config) -> dict:
    """A plant that does exactly what it is told: flat generic machines, no noise, warm-up,
    idling, spread, disturbances, base load or losses; every job ordered on working days."""
    return {
        "seed": 7,
        "losses_pct": 0.0,
        "base_load": {"floor_kw": 0.0},
        "machines": [
            {"id": m.id, "kind": "generic", "noise_pct": 0.0, "warmup_min": 0, "idle_after_min": 0} for m in config.machines
        ],
        "orders": {"weekday_job_probability": 1.0, "saturday_job_probability": 0.0, "energy_spread_pct": 0.0},
        "disturbances": {},
    }


def make_twin(config, params, first: dt.date, days: int) -> PlantTwin:
    return PlantTwin(config, params, first, first + dt.timedelta(days=days - 1), JOBS)


def day_jobs(twin: PlantTwin, day: dt.date, folder: Path) -> list:
    path = twin.write_jobs_file(day, folder / f"jobs-{day.isoformat()}.csv")
    return read_jobs(path, day, twin.config.site.timezone) if path else []


def run_days(twin: PlantTwin, folder: Path, plans=None) -> dict[dt.date, list]:
    """Run every day of ``twin`` in order; ``plans``: day → callable(jobs) → DayPlan. Returns each day's jobs."""
    jobs_of = {}
    day = twin.first_day
    while day <= twin.last_day:
        jobs = day_jobs(twin, day, folder)
        plan = plans[day](jobs) if plans and day in plans and jobs else None
        twin.run_day(day, jobs, plan)
        jobs_of[day] = jobs
        day += dt.timedelta(days=1)
    return jobs_of


def problem_of(twin: PlantTwin, day: dt.date, jobs: list) -> dict:
    """The planning problem of ``day``'s jobs (the fields plan_power_kw, baseline_plan and schedule_day_plan read)."""
    start, end = twin.day_bounds(day)
    flexible = {m.id: m for m in twin.config.machines if m.flexible}
    return {
        "start": start.isoformat(),
        "resolution_minutes": 15,
        "horizon_slots": int((end - start) / SLOT),
        "jobs": [
            {
                "id": job.id,
                "duration_slots": int(-(-job.duration_min // 15)),
                "power_kw": job.power_kw,
                "planned_start_slot": int((job.planned_start - start) / SLOT),
                "planned_machine": job.planned_machine,
            }
            for job in jobs
        ],
        "machines": [{"id": m.id, "idle_kw": m.idle_kw} for m in flexible.values()],
    }


#: A hand-made optimised schedule of the demo's Tuesday (every job ordered): the C melts and what
#: follows them move two hours later, the morning blast two hours later; furnace2 is switched off
#: between its B and C melts. Consistent with every precedence and machine.
OPTIMISED_SLOTS = {
    "melt-A1": ("furnace1", 24),
    "melt-A2": ("furnace2", 24),
    "melt-B1": ("furnace1", 33),
    "melt-B2": ("furnace2", 33),
    "melt-C1": ("furnace1", 48),  # 12:00 instead of 10:00
    "melt-C2": ("furnace2", 48),
    "heat-A": ("oven", 34),
    "heat-B": ("oven", 47),
    "heat-C": ("oven", 58),  # after the C melts end at 14:30
    "blast-R": ("blaster", 32),  # 08:00 instead of 06:00
    "blast-A": ("blaster", 48),
    "blast-B": ("blaster", 56),
    "blast-C": ("blaster", 70),  # after heat-C ends at 17:30
}
OPTIMISED_ON = {"furnace1": [[24, 58]], "furnace2": [[24, 39], [48, 58]], "oven": [[34, 70]], "blaster": [[32, 76]]}


def optimised_schedule(jobs: list) -> dict:
    names = {job.id for job in jobs}
    assert names == set(OPTIMISED_SLOTS), "the hand-made schedule needs every demo job"
    return {
        "jobs": [{"id": job, "machine": machine, "start_slot": slot} for job, (machine, slot) in OPTIMISED_SLOTS.items()],
        "machines_on": OPTIMISED_ON,
    }


def optimised_plan(twin: PlantTwin, day: dt.date):
    return lambda jobs: schedule_day_plan(day, jobs, problem_of(twin, day, jobs), optimised_schedule(jobs))


def counter_deltas(readings: pd.DataFrame, step: int = 15) -> dict[str, np.ndarray]:
    """Each meter's counter difference over consecutive ``step``-minute intervals (readings every minute)."""
    out = {}
    for meter, group in readings.groupby("meter"):
        counter = group.sort_values("timestamp")["energy_kwh"].to_numpy()
        out[meter] = np.diff(counter[::step])
    return out


def minute_of(twin: PlantTwin, instant: pd.Timestamp) -> int:
    return int((instant - twin.start) / MINUTE)


# -- 1. energy balance --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_twin(config, tmp_path_factory):
    """The demo twin (its twin.toml, disturbances on) over Monday to Wednesday."""
    twin = make_twin(config, load_twin_params(DEMO_TWIN, config), MONDAY, 3)
    run_days(twin, tmp_path_factory.mktemp("demo-jobs"))
    return twin


def test_main_meter_energy_is_machines_plus_base_plus_losses_less_pv(config, demo_twin):
    twin = demo_twin
    minutes = np.arange(0, twin.actual.minutes + 1)
    readings = twin.readings(minutes, 12_345.0)
    truth = twin.ground_truth()
    site, intervals = truth.site_intervals, truth.machine_intervals
    assert len(site) == twin.actual.minutes // 15 == 3 * 96
    assert site["machines_kwh"].sum() > 5_000  # the machines really worked
    deltas = counter_deltas(readings)
    main = readings[readings["meter"] == "main"].sort_values("timestamp")
    assert (pd.DatetimeIndex(main["timestamp"].iloc[:-1:15]) == pd.DatetimeIndex(site["interval_start"])).all()
    assert main["energy_kwh"].iloc[0] == 12_345.0

    # from the truth table, wherever the site does not export
    parts = site["machines_kwh"] + site["base_kwh"] + site["losses_kwh"] - site["pv_kwh"]
    importing = site["export_kwh"] == 0
    assert importing.mean() > 0.9
    np.testing.assert_allclose(site["import_kwh"][importing], parts[importing], rtol=0, atol=1e-3)
    np.testing.assert_allclose(site["losses_kwh"], (site["machines_kwh"] + site["base_kwh"]) * 0.015, rtol=0, atol=1e-6)

    # from the meters' counters
    machine_meters = {m.id: m.machine for m in config.meters if m.machine}
    assert set(machine_meters.values()) == {m.id for m in config.machines}
    sub_metered = sum(deltas[meter] for meter in machine_meters)
    np.testing.assert_allclose(deltas["main"], site["import_kwh"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(deltas["pv"], site["pv_kwh"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(sub_metered, site["machines_kwh"], rtol=0, atol=1e-3)
    expected = sub_metered + site["base_kwh"] + site["losses_kwh"] - deltas["pv"]
    np.testing.assert_allclose(deltas["main"][importing], expected[importing], rtol=0, atol=1e-3)

    # each machine meter's counter against its machine's intervals
    for meter, machine in machine_meters.items():
        truth_kwh = intervals[intervals["machine"] == machine].sort_values("interval_start")["energy_kwh"].to_numpy()
        np.testing.assert_allclose(deltas[meter], truth_kwh, rtol=0, atol=1e-3, err_msg=meter)
        states = intervals[intervals["machine"] == machine]
        by_state = states[["off_kwh", "idle_kwh", "warming_kwh", "producing_kwh"]].sum(axis=1)
        np.testing.assert_allclose(by_state, states["energy_kwh"], rtol=0, atol=1e-9)
        assert (states[["off_min", "idle_min", "warming_min", "producing_min"]].sum(axis=1) == 15).all()


# -- 2. a plant without disturbances reproduces the plan -------------------------------------------


def expected_states(twin: PlantTwin, day: dt.date, placed: list[dict], machines_on: dict, durations: dict) -> dict[str, np.ndarray]:
    """Per machine and minute of the twin: producing where a placed job runs, idle where the machine
    is on without a job, off elsewhere (computed from slots, independently of the twin)."""
    start, _ = twin.day_bounds(day)
    offset = minute_of(twin, start)
    states = {m: np.full(twin.actual.minutes, OFF, dtype=np.int8) for m in twin.machines}
    for machine, intervals in machines_on.items():
        for a, b in intervals:
            states[machine][offset + 15 * a : offset + 15 * b] = IDLE
    for item in placed:
        begin = offset + 15 * item["start_slot"]
        states[item["machine"]][begin : begin + durations[item["id"]]] = PRODUCING
    return states


def run_quiet_day(config, tmp_path, optimised: bool):
    twin = make_twin(config, params_of(quiet_data(config), config), TUESDAY, 1)
    jobs = day_jobs(twin, TUESDAY, tmp_path)
    assert len(jobs) == 13  # every job ordered
    problem = problem_of(twin, TUESDAY, jobs)
    if optimised:
        schedule = optimised_schedule(jobs)
        twin.run_day(TUESDAY, jobs, schedule_day_plan(TUESDAY, jobs, problem, schedule))
        placed, machines_on = schedule["jobs"], schedule["machines_on"]
    else:
        twin.run_day(TUESDAY, jobs)
        placed, machines_on = baseline_plan(problem)
    return twin, jobs, problem, placed, machines_on


@pytest.mark.parametrize("optimised", [False, True], ids=["site_plan", "optimised_plan"])
def test_quiet_plant_runs_the_plan_exactly(config, tmp_path, optimised):
    """Runs start and end where the plan says; machines are on exactly when the plan says."""
    twin, jobs, problem, placed, machines_on = run_quiet_day(config, tmp_path, optimised)
    start, _ = twin.day_bounds(TUESDAY)
    truth = twin.ground_truth()
    runs = truth.runs[truth.runs["kind"] == "planned"].set_index("job")
    assert set(runs.index) == {job.id for job in jobs}
    assert (runs["status"] == "ran").all()
    durations = {job.id: int(job.duration_min) for job in jobs}
    for item in placed:
        run = runs.loc[item["id"]]
        planned = start + item["start_slot"] * SLOT
        assert run["machine"] == item["machine"], item["id"]
        assert run["planned_start"] == planned and run["start"] == planned, item["id"]
        assert run["end"] == planned + durations[item["id"]] * MINUTE, item["id"]
    states = expected_states(twin, TUESDAY, placed, machines_on, durations)
    for machine in problem["machines"]:
        track = twin.actual.tracks[machine["id"]]
        np.testing.assert_array_equal(track.state, states[machine["id"]], err_msg=machine["id"])
        idle = track.state == IDLE
        np.testing.assert_array_equal(track.power_kw[idle], machine["idle_kw"])
        np.testing.assert_array_equal(track.power_kw[track.state == OFF], 0.0)


@pytest.mark.parametrize("optimised", [False, True], ids=["site_plan", "optimised_plan"])
def test_quiet_plant_machine_energy_is_the_plans_power(config, tmp_path, optimised):
    """Per slot, the scheduled machines' metered energy is what the product's plan model
    (energy.planning.savings.plan_power_kw: idle while on, plus the jobs' power on top) says."""
    twin, jobs, problem, placed, machines_on = run_quiet_day(config, tmp_path, optimised)
    expected_kwh = plan_power_kw(problem, placed, machines_on) * 0.25
    readings = twin.readings(np.arange(0, twin.actual.minutes + 1), 0.0)
    deltas = counter_deltas(readings)
    meters = {m.machine: m.id for m in config.meters if m.machine}
    metered_kwh = sum(deltas[meters[m["id"]]] for m in problem["machines"])
    assert len(metered_kwh) == problem["horizon_slots"]
    np.testing.assert_allclose(metered_kwh, expected_kwh, rtol=0, atol=1e-6)


def test_shaped_recipes_keep_each_runs_energy(config, tmp_path):
    """The demo's machine kinds without noise, spread or disturbances: each run's energy is the
    job's power × its duration (recipe shapes have mean 1), although the power is not flat."""
    data = without_disturbances(demo_data())
    data["orders"] = {"weekday_job_probability": 1.0, "energy_spread_pct": 0.0}
    for machine in data["machines"]:
        machine["noise_pct"] = 0.0
    twin = make_twin(config, params_of(data, config), TUESDAY, 1)
    jobs = run_days(twin, tmp_path)[TUESDAY]
    runs = twin.ground_truth().runs.set_index("job")
    for job in jobs:
        run = runs.loc[job.id]
        assert run["status"] == "ran"
        assert run["energy_kwh"] == pytest.approx(job.power_kw * job.duration_min / 60, rel=1e-9), job.id
        minutes = twin.actual.tracks[run["machine"]].power_kw[minute_of(twin, run["start"]) : minute_of(twin, run["end"])]
        assert len(minutes) == job.duration_min and minutes.max() - minutes.min() > 0.05 * job.power_kw, job.id
    duty = {m["id"]: m.get("duty_kw", 0.0) for m in data["machines"]}
    shifts = runs[runs["kind"] == "shift"]
    assert len(shifts) == 2
    for _, run in shifts.iterrows():
        hours = (run["end"] - run["start"]) / pd.Timedelta(hours=1)
        assert run["energy_kwh"] == pytest.approx(duty[run["machine"]] * hours, rel=1e-9)


def test_a_per_slot_profile_keeps_its_slots():
    """A job given one power per planning slot (JSON jobs, learned recipes) draws each value in its
    own slot: a 20-minute job of two 15-minute slots draws the first value for 15 minutes and the
    second for the last 5 (as the optimiser and plan_power_kw place them)."""
    run = PlannedRun("j", "m", pd.Timestamp("2026-03-03 08:00", tz="UTC"), 20, (100.0, 50.0))
    machine = TwinMachine(id="m", noise_pct=0.0, idle_kw=0.0)
    power = run_power_kw(run, machine, 1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(power, [100.0] * 15 + [50.0] * 5)


# -- 3. reproducibility -------------------------------------------------------------------------


def build_demo(config, folder: Path, seed: int, days: int = 2) -> PlantTwin:
    data = demo_data()
    data["seed"] = seed
    data["disturbances"].update(delay_probability=0.5, cancel_probability=0.2, breakdowns_per_machine_year=100, extra_run_probability=0.3)
    twin = make_twin(config, params_of(data, config), MONDAY, days)
    run_days(twin, folder)
    return twin


def test_the_same_seed_gives_the_same_plant(config, tmp_path):
    one = build_demo(config, tmp_path / "one", 11)
    two = build_demo(config, tmp_path / "two", 11)
    other = build_demo(config, tmp_path / "other", 12)
    minutes = np.arange(0, one.actual.minutes + 1, 5)
    pd.testing.assert_frame_equal(one.readings(minutes, 100.0), two.readings(minutes, 100.0))
    truth_one, truth_two, truth_other = one.ground_truth(), two.ground_truth(), other.ground_truth()
    for name in ("runs", "counterfactual_runs", "machine_intervals", "site_intervals", "days", "disturbances"):
        pd.testing.assert_frame_equal(getattr(truth_one, name), getattr(truth_two, name), obj=name)
    assert len(truth_one.disturbances) > 3
    assert not truth_one.disturbances.equals(truth_other.disturbances)
    assert not one.readings(minutes, 100.0).equals(other.readings(minutes, 100.0))


# -- 4. disturbances ----------------------------------------------------------------------------


def disturbed(config, **disturbances):
    """The demo's twin with only the given disturbances."""
    data = without_disturbances(demo_data())
    data["orders"]["weekday_job_probability"] = 1.0
    data["disturbances"] = disturbances
    return params_of(data, config)


def test_cancelled_jobs_run_in_neither_plan(config, tmp_path):
    twin = make_twin(config, disturbed(config, cancel_probability=1.0), TUESDAY, 1)
    jobs = run_days(twin, tmp_path, {TUESDAY: optimised_plan(twin, TUESDAY)})[TUESDAY]
    truth = twin.ground_truth()
    assert set(twin.days[0].disturbances.cancelled) == {job.id for job in jobs}
    assert truth.days["given"].tolist() == ["optimised"]
    assert set(truth.runs["kind"]) == {"shift"}  # the compressors still work their shifts
    pd.testing.assert_frame_equal(truth.runs, truth.counterfactual_runs)
    for machine in twin.machines:
        actual, counterfactual = twin.actual.tracks[machine], twin.counterfactual.tracks[machine]
        np.testing.assert_array_equal(actual.power_kw, counterfactual.power_kw, err_msg=machine)
        np.testing.assert_array_equal(actual.state, counterfactual.state, err_msg=machine)
        if machine != "compressors":  # an on-period without a job that ran is not switched on
            assert (actual.state == OFF).all(), machine


def check_runs_respect_plan_and_order(runs: pd.DataFrame, jobs_of: dict, delays_of: dict) -> int:
    """Started runs never start before their planned start (+ their delay), never before their
    predecessors end, never overlap on a machine. Returns how many were held back further."""
    started = runs[runs["start"].notna()]
    held_back = 0
    for day, jobs in jobs_of.items():
        today = started[started["day"] == day].set_index("job")
        for job in jobs:
            if job.id not in today.index:
                continue
            run = today.loc[job.id]
            delay = delays_of[day].get(job.id, 0)
            assert delay >= 1, job.id
            assert run["start"] >= run["planned_start"] + delay * MINUTE, (day, job.id)
            held_back += run["start"] > run["planned_start"] + delay * MINUTE
            for before in job.after:
                if before in today.index:
                    assert run["start"] >= today.loc[before, "end"], (day, job.id, before)
    for machine, group in started.sort_values("start").groupby("machine"):
        assert (group["start"].iloc[1:].to_numpy() >= group["end"].iloc[:-1].to_numpy()).all(), machine
    return held_back


def test_delayed_jobs_start_late_after_their_predecessors(config, tmp_path):
    twin = make_twin(config, disturbed(config, delay_probability=1.0, delay_mean_min=45), MONDAY, 3)
    jobs_of = run_days(twin, tmp_path)
    delays_of = {record.day: record.disturbances.delays_min for record in twin.days}
    truth = twin.ground_truth()
    planned = truth.runs[truth.runs["kind"] == "planned"]
    assert len(planned) == sum(len(jobs) for jobs in jobs_of.values()) and (planned["status"] == "ran").all()
    assert (planned["start"] >= planned["planned_start"] + MINUTE).all()
    held_back = check_runs_respect_plan_and_order(planned, jobs_of, delays_of)
    assert held_back > 0  # some job waited for its machine or a predecessor: the checks above bite
    counterfactual = truth.counterfactual_runs
    check_runs_respect_plan_and_order(counterfactual[counterfactual["kind"] == "planned"], jobs_of, delays_of)
    events = truth.disturbances[truth.disturbances["kind"] == "delay"]
    assert len(events) == len(planned)


def breakdown_windows(twin: PlantTwin) -> list[tuple[dt.date, str, pd.Timestamp, pd.Timestamp]]:
    """Every breakdown, from the truth's disturbances table, checked against the day records."""
    truth = twin.ground_truth()
    events = truth.disturbances[truth.disturbances["kind"] == "breakdown"]
    windows = []
    for _, event in events.iterrows():
        begin, end = (pd.Timestamp(part) for part in event["detail"].split(" to "))
        windows.append((dt.date.fromisoformat(event["day"]), event["machine"], begin, end))
    recorded = [(r.day, m, a, b) for r in twin.days for m, (a, b) in r.disturbances.breakdowns.items()]
    assert sorted(windows) == sorted(recorded)
    return windows


def check_machines_down(twin: PlantTwin, windows) -> None:
    truth = twin.ground_truth()
    for runs, timeline in ((truth.runs, twin.actual), (truth.counterfactual_runs, twin.counterfactual)):
        for day, machine, begin, end in windows:
            a, b = timeline.minute(begin), timeline.minute(end)
            track = timeline.tracks[machine]
            where = f"{machine} down {begin} to {end} (drawn on {day})"
            assert (track.state[a:b] == OFF).all(), f"{where}: states {np.bincount(track.state[a:b], minlength=4)} (off, idle, warming, producing)"
            assert (track.power_kw[a:b] == 0).all(), where
            mine = runs[(runs["machine"] == machine) & runs["start"].notna()]
            overlapping = mine[(mine["start"] < end) & (mine["end"] > begin)]
            assert overlapping.empty, f"{where}: {overlapping[['day', 'job', 'start', 'end']].to_dict('records')}"
        # An aborted run (of any day: a run overrunning midnight may meet the next day's
        # breakdown) ends where one of its machine's breakdowns begins.
        begins = {(machine, begin) for _, machine, begin, _ in windows}
        aborted = runs[runs["status"] == "aborted"]
        assert all((run.machine, run.end) in begins for run in aborted.itertuples()), aborted


def test_a_broken_down_machine_is_off_during_its_breakdown(config, tmp_path):
    twin = make_twin(config, disturbed(config, breakdowns_per_machine_year=365.0, breakdown_hours=[2, 6]), TUESDAY, 1)
    run_days(twin, tmp_path)
    windows = breakdown_windows(twin)
    assert {machine for _, machine, _, _ in windows} == set(twin.machines)  # one per machine
    check_machines_down(twin, windows)


def test_a_breakdown_over_midnight_keeps_the_machine_down_the_next_day(config, tmp_path):
    """A breakdown that lasts past the local midnight holds the machine down on the next day too,
    and one that begins while yesterday's run still overruns aborts that run."""
    twin = make_twin(config, disturbed(config, breakdowns_per_machine_year=365.0, breakdown_hours=[6, 12]), MONDAY, 4)
    run_days(twin, tmp_path)
    windows = breakdown_windows(twin)
    assert any(end > twin.day_bounds(day)[1] for day, _, _, end in windows)  # some last past midnight
    check_machines_down(twin, windows)


def test_an_ignored_plan_runs_the_sites_own_plan(config, tmp_path):
    twin = make_twin(config, disturbed(config, ignored_day_probability=1.0, delay_probability=0.3), TUESDAY, 1)
    run_days(twin, tmp_path, {TUESDAY: optimised_plan(twin, TUESDAY)})
    truth = twin.ground_truth()
    assert truth.days[["given", "executed"]].to_dict("records") == [{"given": "optimised", "executed": "baseline"}]
    assert "plan_ignored" in set(truth.disturbances["kind"])
    pd.testing.assert_frame_equal(truth.runs, truth.counterfactual_runs)
    for machine in twin.machines:
        np.testing.assert_array_equal(twin.actual.tracks[machine].power_kw, twin.counterfactual.tracks[machine].power_kw)


def test_an_optimised_plan_that_is_followed_differs_from_the_sites(config, tmp_path):
    """The control of the test above: followed, the optimised plan's runs are where it put them."""
    twin = make_twin(config, disturbed(config), TUESDAY, 1)
    run_days(twin, tmp_path, {TUESDAY: optimised_plan(twin, TUESDAY)})
    truth = twin.ground_truth()
    assert truth.days[["given", "executed"]].to_dict("records") == [{"given": "optimised", "executed": "optimised"}]
    runs = truth.runs.set_index("job")
    start, _ = twin.day_bounds(TUESDAY)
    assert runs.loc["melt-C1", "start"] == start + 48 * SLOT
    assert truth.counterfactual_runs.set_index("job").loc["melt-C1", "start"] == start + 40 * SLOT


def weekend_twin(config, tmp_path, probability: float) -> PlantTwin:
    data = without_disturbances(demo_data())
    data["orders"].update(weekday_job_probability=1.0, saturday_job_probability=0.0)
    data["disturbances"] = {"weekend_idle_probability": probability}
    twin = make_twin(config, params_of(data, config), FRIDAY, 4)  # Friday to Monday
    run_days(twin, tmp_path)
    return twin


def test_machines_left_idling_over_the_weekend(config, tmp_path):
    twin = weekend_twin(config, tmp_path, 1.0)
    saturday = twin.day_bounds(FRIDAY + dt.timedelta(days=1))[0]
    monday = twin.day_bounds(FRIDAY + dt.timedelta(days=3))[0]
    first_shift = monday + pd.Timedelta(hours=6)  # 06:00 local
    friday_record = twin.days[0]
    assert [r.jobs for r in twin.days] == [13, 0, 0, 13]
    assert set(friday_record.disturbances.left_idle_until) == set(twin.machines)
    assert set(friday_record.disturbances.left_idle_until.values()) == {first_shift}
    a, b = minute_of(twin, saturday), minute_of(twin, first_shift)
    for machine_id, track in twin.actual.tracks.items():
        assert (track.state[a:b] == IDLE).all(), machine_id
        idle_kw = twin.machines[machine_id].idle_kw
        assert track.power_kw[a:b].mean() == pytest.approx(idle_kw, rel=0.02), machine_id
    # it stops at Monday's first shift: the oven's day starts with its warm-up before heat-A (08:30)
    oven = twin.actual.tracks["oven"]
    warmup = twin.machines["oven"].warmup_min
    assert (oven.state[b : minute_of(twin, monday + pd.Timedelta(hours=8, minutes=30)) - warmup] == OFF).all()
    # the counterfactual is disturbed alike
    assert (twin.counterfactual.tracks["furnace1"].state[a:b] == IDLE).all()


def test_machines_are_off_over_the_weekend_when_not_left_idling(config, tmp_path):
    twin = weekend_twin(config, tmp_path, 0.0)
    saturday = twin.day_bounds(FRIDAY + dt.timedelta(days=1))[0]
    monday = twin.day_bounds(FRIDAY + dt.timedelta(days=3))[0]
    assert not twin.days[0].disturbances.left_idle_until
    a, b = minute_of(twin, saturday), minute_of(twin, monday)
    for machine_id, track in twin.actual.tracks.items():
        assert (track.state[a:b] == OFF).all(), machine_id


# -- 5. recipes ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(KINDS), minutes=st.integers(min_value=1, max_value=1440))
def test_recipe_shapes_have_mean_one(kind, minutes):
    shape = recipe_shape(kind, minutes)
    assert shape.shape == (minutes,)
    assert (shape >= 0).all()
    assert shape.mean() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_recipe_shapes_peak_within_a_quarter_of_the_mean(kind):
    lengths = list(range(1, 200)) + [240, 480, 600, 1440]
    peaks = {n: float(recipe_shape(kind, n).max()) for n in lengths}
    worst = max(peaks, key=peaks.get)
    assert peaks[worst] <= 1.25 + 1e-9, f"{kind}: a {worst}-minute run peaks at {peaks[worst]:.3f} × its mean"


def test_recipe_shape_of_nothing_is_empty():
    assert recipe_shape("oven", 0).shape == (0,)


# -- 6. base load on the site's clock -------------------------------------------------------------


@pytest.fixture(scope="module")
def steel_wall_clock() -> pd.Series:
    """The steel file's kWh per quarter hour by the wall-clock start of the quarter hour (Korean
    local time), read straight from the CSV: its stamps end their interval, and ``D 00:00`` is
    the midnight that ends day D."""
    raw = pd.read_csv(STEEL, usecols=["date", "Usage_kWh"], encoding="utf-8-sig")
    ends = pd.to_datetime(raw["date"], format="%d/%m/%Y %H:%M")
    ends = ends + pd.to_timedelta(((ends.dt.hour == 0) & (ends.dt.minute == 0)).astype(int), unit="D")
    starts = pd.DatetimeIndex(ends - SLOT)
    assert ((starts[1:] - starts[:-1]) == SLOT).all()
    return pd.Series(raw["Usage_kWh"].to_numpy(), index=starts)


def steel_day(day: dt.date) -> dt.date:
    """The day of the steel file (2018, starting on Monday 1 January) whose weekday and place in
    the 52-week year ``day`` takes."""
    first = dt.date(2018, 1, 1)
    return first + dt.timedelta(days=(day - first).days % 364)


def base_only(config, day: dt.date, days: int = 1) -> pd.DataFrame:
    data = {"base_load": {"file": STEEL.name, "scale": 1.0, "floor_kw": 0.0}}
    twin = make_twin(config, params_of(data, config), day, days)
    site = twin.ground_truth().site_intervals
    site["local"] = site["interval_start"].dt.tz_convert(config.site.timezone)
    return site


def test_base_load_on_the_spring_forward_day(config, steel_wall_clock):
    day = dt.date(2026, 3, 29)  # Europe/Berlin: 02:00 → 03:00
    site = base_only(config, day)
    assert len(site) == 92
    assert steel_day(day).weekday() == day.weekday() == 6
    at_three = site[site["local"] == pd.Timestamp("2026-03-29 03:00", tz=config.site.timezone)]
    assert at_three["interval_start"].iloc[0] == pd.Timestamp("2026-03-29 01:00", tz="UTC")
    expected = steel_wall_clock[pd.Timestamp(steel_day(day)) + pd.Timedelta(hours=3)]
    assert at_three["base_kwh"].iloc[0] == pytest.approx(expected, rel=1e-9)
    # every quarter hour of the day is the file's at the same wall-clock time; 02:00–03:00 never happens
    wall = site["local"].dt.tz_localize(None)
    file_wall = pd.Timestamp(steel_day(day)) + (wall - pd.Timestamp(day))
    np.testing.assert_allclose(site["base_kwh"], steel_wall_clock.loc[file_wall].to_numpy(), rtol=1e-9)
    assert not (wall.dt.hour == 2).any()


def test_base_load_on_the_fall_back_day(config, steel_wall_clock):
    day = dt.date(2026, 10, 25)  # Europe/Berlin: 03:00 → 02:00
    site = base_only(config, day)
    assert len(site) == 100
    two = site[site["local"].dt.hour == 2]
    assert len(two) == 8
    first, second = two.iloc[:4], two.iloc[4:]
    assert (first["local"].dt.tz_localize(None).to_numpy() == second["local"].dt.tz_localize(None).to_numpy()).all()
    assert first["interval_start"].iloc[0] == pd.Timestamp("2026-10-25 00:00", tz="UTC")
    assert second["interval_start"].iloc[0] == pd.Timestamp("2026-10-25 01:00", tz="UTC")
    np.testing.assert_array_equal(first["base_kwh"].to_numpy(), second["base_kwh"].to_numpy())
    expected = [steel_wall_clock[pd.Timestamp(steel_day(day)) + pd.Timedelta(hours=2, minutes=15 * q)] for q in range(4)]
    np.testing.assert_allclose(first["base_kwh"], expected, rtol=1e-9)
    assert len(set(expected)) > 1  # the hour is not flat: the comparison means something


def test_base_load_works_the_plants_local_hours(config):
    site = base_only(config, dt.date(2026, 6, 8), days=5)  # Monday to Friday, summer time
    hour = site["local"].dt.hour
    working = site.loc[(hour >= 9) & (hour < 11), "base_kwh"].mean()
    night = site.loc[(hour >= 2) & (hour < 4), "base_kwh"].mean()
    assert working > 5 * night, (working, night)


# -- 7. errors in the twin file ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[[machines]]\nid = "furnace9"\n', "machines[0].id"),
        ('[[machines]]\nid = "oven"\nnoise_pct = -1.0\n', "machines[0].noise_pct"),
        ('[[machines]]\nid = "oven"\n[[machines]]\nid = "furnace1"\nkind = "laser"\n', "machines[1].kind"),
        ("[disturbances]\nbreakdown_hours = [5, 2]\n", "breakdown_hours"),
        ('[[machines]]\nid = "oven"\n[[machines]]\nid = "oven"\n', "machines[1].id"),
        ("[orders]\nweekday_job_probability = 1.5\n", "orders.weekday_job_probability"),
    ],
    ids=["unknown_machine", "negative_noise", "unknown_kind", "breakdown_hours", "duplicate", "probability"],
)
def test_twin_file_errors_name_the_file_and_field(config, tmp_path, text, field):
    path = tmp_path / "twin.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_twin_params(path, config)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert field in message, message
    if field == "breakdown_hours":
        assert "disturbances" in message, message


def test_a_valid_twin_file_loads(config):
    params = load_twin_params(DEMO_TWIN, config)
    assert params.path == DEMO_TWIN.resolve()
    assert params.machine("oven").kind == "oven"
    assert params.resolve(params.base_load.file) == STEEL.resolve()


# -- 9. the truth store ----------------------------------------------------------------------------


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its instants in one resolution (the unit is the frame's business, not the
    store's) and ``day`` as ISO text (the runs tables hold dates)."""
    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.as_unit("ns")
    if "day" in frame:
        frame["day"] = frame["day"].map(lambda d: d.isoformat() if isinstance(d, dt.date) else d).astype("str")
    return frame


def test_truth_store_round_trip(config, tmp_path):
    data = demo_data()
    data["disturbances"].update(cancel_probability=0.2, breakdowns_per_machine_year=150, extra_run_probability=0.5, delay_probability=0.3, delay_mean_min=3000)
    twin = make_twin(config, params_of(data, config), MONDAY, 2)
    run_days(twin, tmp_path / "jobs")
    truth = twin.ground_truth()
    kinds = set(truth.disturbances["kind"])
    assert {"delay", "cancelled", "breakdown", "extra_run"} <= kinds
    assert (truth.runs["status"] == "dropped").any()  # with empty start and end
    folder = write_truth(truth, tmp_path / "truth")
    assert (folder / "README.txt").exists()
    back = read_truth(folder)
    for name in ("runs", "counterfactual_runs", "machine_intervals", "site_intervals", "days", "disturbances"):
        written, read = getattr(truth, name), getattr(back, name)
        for column in ("interval_start", "planned_start", "start", "end"):
            if column in read:
                assert str(read[column].dt.tz) == "UTC", (name, column)
        pd.testing.assert_frame_equal(comparable(read), comparable(written), obj=name, check_exact=False, rtol=1e-12)
