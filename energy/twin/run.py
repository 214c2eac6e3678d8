"""The plant twin run against the product: the site's own plans, then the product's nightly plans.

:func:`run_plant` is what ``energy demo`` and ``energy twin`` (:func:`what_if`) do with a
:class:`PlantTwin`:

1. every day before the go-live the plant runs the site's own plan of that day's orders;
2. from the go-live on, the night before each day with orders the product forecasts and plans it
   exactly as ``energy plan`` does (forecasts issued two hours before the day), and the plant
   executes the stored schedule, disturbances and all;
3. the meters' readings go into the product's database as the days pass and are processed
   before the next night's forecast: 15-minute readings (a data logger's) for the older history,
   1-minute readings for the last ``minute_readings_days`` before ``now``;
4. each planned day that is over gets the product's realised savings, computed from the meter
   data alone (``energy.planning.savings``); only then is the twin's truth consulted, for
   :meth:`PlantRun.compare` — the product never reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.histories.process import process_site
from energy.planning.jobs import Job, read_jobs
from energy.readings import store_readings
from energy.twin.params import TwinParams
from energy.twin.plans import schedule_day_plan
from energy.twin.plant import PlantTwin
from energy.twin.truth import GroundTruth, true_grid_savings, write_truth

#: The forecasts of a planned day are issued this long before the day starts.
FORECAST_LEAD = pd.Timedelta(hours=2)
#: The grid-cost components a meter can show (switching costs are not metered).
GRID_COMPONENTS = ("energy_eur", "co2_eur", "demand_eur")
#: Where the what-if run's meters start counting (kWh).
WHAT_IF_START_COUNTER_KWH = 10_000.0


def day_jobs(twin: PlantTwin, folder: Path, day: dt.date) -> tuple[Path | None, list[Job]]:
    """The day's orders as the MES hands them over (a jobs file in ``folder``) and as parsed jobs."""
    path = twin.write_jobs_file(day, folder / f"jobs_{day}.csv")
    return path, (read_jobs(path, day, twin.config.site.timezone) if path else [])


def forecast_and_plan(engine: Engine, twin: PlantTwin, day: dt.date, jobs_path: Path, time_limit_s: float):
    """What ``energy plan`` does for ``day`` the night before: the forecasts, then the plan."""
    from energy.forecasts import forecast_site
    from energy.planning import run_nightly

    config = twin.config
    issued = twin.day_bounds(day)[0] - FORECAST_LEAD
    forecasts = forecast_site(engine, config, day, issued_ms=int(issued.value // 10**6))
    return forecasts, run_nightly(engine, config, plan_date=day, jobs_path=jobs_path, time_limit_s=time_limit_s)


class MeterHistory:
    """Stores the twin's meter readings in time order, each minute boundary once, and processes them."""

    def __init__(self, engine: Engine, twin: PlantTwin, minute_from: int, start_counter_kwh: float):
        self.engine, self.twin = engine, twin
        self.minute_from = minute_from  # 1-minute readings from here, 15-minute ones before
        self.start_counter_kwh = start_counter_kwh
        self.stored_to = -1  # the last minute boundary stored
        self.count = 0

    def store_until(self, instant: pd.Timestamp) -> None:
        """Readings up to ``instant`` (a minute boundary), then the histories brought up to date."""
        last = self.twin.actual.minute(instant)
        minutes = np.arange(self.stored_to + 1, last + 1)
        minutes = minutes[(minutes >= self.minute_from) | (minutes % 15 == 0)]
        if not len(minutes):
            return
        self.count += store_readings(self.engine, self.twin.readings(minutes, self.start_counter_kwh))
        self.stored_to = last
        process_site(self.engine, self.twin.config)


@dataclass
class PlannedDay:
    """One day the product planned: its stored run, what the plant did with it, and its savings."""

    day: dt.date
    run_id: int
    executed: str = ""  # the plan the plant really ran: optimised, or baseline when ignored
    over: bool = False  # the day has ended (before the run's "now")
    expected: dict | None = None  # the plan's expected savings (on forecasts)
    realised: dict | None = None  # the product's realised savings (on meter data), when computed
    realised_error: str | None = None  # why they were not
    true: dict | None = None  # what the plant really saved (the twin's truth)


@dataclass
class PlantRun:
    """What :func:`run_plant` did."""

    go_live: dt.date
    days_before: int
    readings: int
    planned: list[PlannedDay] = field(default_factory=list)

    def compare(self, engine: Engine, truth: GroundTruth) -> None:
        """Set the true savings of each planned day that is over, from the twin's ``truth`` (after
        the product's own figures are computed: nothing of the product reads the truth)."""
        from energy.planning.runs import load_run

        for item in self.planned:
            if item.over:
                item.true = true_grid_savings(truth.site_intervals, load_run(engine, item.run_id).problem)

    def table(self) -> pd.DataFrame:
        """Per planned day that is over: which plan ran, and the grid-cost savings (EUR) expected,
        realised by the product (NaN where it could not compute them) and true."""

        def grid(savings: dict | None) -> float:
            return float("nan") if savings is None else sum(savings[key] for key in GRID_COMPONENTS)

        return pd.DataFrame(
            [
                {
                    "day": item.day.isoformat(),
                    "executed": item.executed,
                    "expected_eur": grid(item.expected),
                    "realised_eur": grid(item.realised["savings"] if item.realised else None),
                    "true_eur": grid(item.true),
                }
                for item in self.planned
                if item.over
            ],
            columns=["day", "executed", "expected_eur", "realised_eur", "true_eur"],
        )


def run_plant(
    engine: Engine,
    twin: PlantTwin,
    jobs_folder: Path,
    now: pd.Timestamp,
    go_live: dt.date,
    plan_limit_s: float,
    minute_readings_days: int,
    start_counter_kwh: float,
    say: Callable[[str], None] = lambda _: None,
) -> PlantRun:
    """Run ``twin`` from its first day to its last against the product (module docstring);
    readings are stored up to ``now`` (at most the twin's end)."""
    from energy.planning.runs import load_run
    from energy.planning.savings import compute_realised_savings, store_realised_savings

    now = min(now, twin.end)
    history = MeterHistory(engine, twin, twin.actual.minute(now - pd.Timedelta(days=minute_readings_days)), start_counter_kwh)
    day = twin.first_day
    while day < go_live:
        twin.run_day(day, day_jobs(twin, jobs_folder, day)[1])
        day += dt.timedelta(days=1)
    history.store_until(min(twin.day_bounds(go_live)[0], now))
    result = PlantRun(go_live, (go_live - twin.first_day).days, history.count)
    say(f"{result.days_before} days before the go-live on {go_live} ran the site's own plans; {history.count:,} readings stored")
    while day <= twin.last_day:
        path, jobs = day_jobs(twin, jobs_folder, day)
        plan = None
        if jobs:
            _, summary = forecast_and_plan(engine, twin, day, path, plan_limit_s)
            say(summary.describe())
            if summary.succeeded:
                run = load_run(engine, summary.run_id)
                plan = schedule_day_plan(day, jobs, run.problem, run.schedule)
                result.planned.append(PlannedDay(day, summary.run_id, expected=summary.expected_savings))
        record = twin.run_day(day, jobs, plan)
        if plan is not None:
            result.planned[-1].executed = record.executed
        history.store_until(min(twin.day_bounds(day)[1], now))
        day += dt.timedelta(days=1)
    result.readings = history.count
    say(f"{len(result.planned)} days planned by the product since the go-live; {history.count:,} readings stored in all")
    for item in result.planned:
        item.over = twin.day_bounds(item.day)[1] <= now
        if not item.over:
            continue
        try:
            item.realised = compute_realised_savings(engine, twin.config, item.run_id)
        except InputError as exc:
            item.realised_error = str(exc)
            say(f"  realised savings of {item.day}: not computed: {exc}")
            continue
        store_realised_savings(engine, item.realised)
    return result



def fresh_sqlite_url(workdir: Path) -> str:
    """The URL of a new, empty SQLite database ``workdir/energy.db`` (an older one and its
    journal files are removed): the scratch database of ``energy demo`` and ``energy twin``."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("energy.db*"):
        stale.unlink()
    return f"sqlite:///{workdir / 'energy.db'}"


def what_if(
    config: SiteConfig,
    params: TwinParams,
    days: int,
    go_live_days: int,
    workdir: Path,
    plan_limit_s: float,
    say: Callable[[str], None] = lambda _: None,
) -> tuple[PlantRun, Path]:
    """``energy twin``: the site's twin over the ``days`` days up to yesterday, planned by the
    product over the last ``go_live_days`` of them, on a scratch database in ``workdir`` (today is
    planned and run too, but its figures are not in, as the day is not over).

    Nothing of the real site is touched: the database is ``workdir/energy.db`` (made afresh),
    the day's jobs files and the plans' exports go to ``workdir`` too. Returns the run, compared
    with the truth, and the folder of the truth.
    """
    from energy import storage
    from energy.setup import initialise

    if go_live_days >= days:
        raise InputError(f"go_live_days ({go_live_days}) must be fewer than days ({days}): the site's own plans run first")
    workdir = workdir.resolve()
    db_url = fresh_sqlite_url(workdir)
    planning = config.planning.model_copy(update={"export_dir": workdir / "plans"})
    config = config.model_copy(update={"planning": planning})
    today = pd.Timestamp.now(tz=config.site.timezone).date()
    first_day = today - dt.timedelta(days=days)
    jobs_template = config.resolve(config.planning.jobs_file)
    if jobs_template is None:
        raise InputError(f"{config.path or 'config'}: planning.jobs_file: the twin needs the site's jobs file as its order book")
    engine = storage.connect(db_url)
    try:
        storage.upgrade(engine)
        say(initialise(engine, config))
        # The twin runs into today, and its meters are read until a quarter past midnight, so
        # that yesterday's last interval is closed by a later reading, as on a real site.
        twin = PlantTwin(config, params, first_day, today, jobs_template)
        go_live = today - dt.timedelta(days=go_live_days)
        now = twin.day_bounds(today)[0] + pd.Timedelta(minutes=15)
        result = run_plant(engine, twin, workdir / "jobs", now, go_live, plan_limit_s, go_live_days + 7, WHAT_IF_START_COUNTER_KWH, say)
        truth = twin.ground_truth()
        folder = write_truth(truth, workdir / "twin-truth")
        result.compare(engine, truth)
    finally:
        engine.dispose()
    return result, folder
