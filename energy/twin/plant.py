"""The plant twin: a simulated factory whose machines really run the jobs it is given.

:class:`PlantTwin` simulates a site (its ``site.toml``) with the behaviour of its twin file
(:mod:`energy.twin.params`) minute by minute over a span of local days:

1. each day the plant has orders: the jobs file's jobs, kept with the order book's probability
   (working days and Saturdays; none on Sundays, public holidays and shutdown days), a job whose
   predecessors were all left out is left out too (:meth:`PlantTwin.jobs_rows`);
2. the day's plan (the site's own, or the optimiser's) is executed under the day's disturbances
   (:mod:`energy.twin.execute`), and so is the site's own plan under the same disturbances (the
   counterfactual); non-flexible machines work their shifts on every day with orders;
3. the site's power is the machines' plus the base load (a real plant's load on the site's
   clock, :mod:`energy.twin.baseload`) plus losses, less on-site PV (pvlib's clear sky for the
   configured arrays per quarter hour, scaled by a seeded clearness per day);
4. meters record it (:mod:`energy.twin.meters`): each machine meter its machine, the main meter
   the grid connection, each PV meter its array.

What the twin knows and the product must estimate is :meth:`PlantTwin.ground_truth`.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from energy.config import Machine, PVArray, SiteConfig
from energy.errors import InputError
from energy.forecasts import pv
from energy.forecasts.calendar import calendar_from_config, off_days, parse_shift
from energy.planning.jobs import Job
from energy.twin.baseload import on_site_clock_kw, steel_wall_clock_kw
from energy.twin.disturbances import DayDisturbances, day_rng, draw_disturbances
from energy.twin.execute import MINUTE, STATE_NAMES, Timeline, TrueRun, execute_day
from energy.twin.meters import counter_readings, import_counter_kwh
from energy.twin.params import TwinMachine, TwinParams
from energy.twin.plans import DayPlan, PlannedRun, baseline_day_plan
from energy.twin.truth import GroundTruth

#: Random streams per day (``day_rng``): one per purpose, so adding draws to one never shifts another.
ORDERS_STREAM, DISTURBANCE_STREAM = 1, 2
DEFAULT_SHIFTS = ((6 * 60, 22 * 60),)
PV_STEP_MIN = 15
SATURDAY = 5


def pv_output_kw(index: pd.DatetimeIndex, config: SiteConfig, array: PVArray, seed: int) -> np.ndarray:
    """Mean AC power (kW) of ``array`` per interval starting at ``index`` (the twin's weather).

    The project's PV chain (:func:`energy.forecasts.pv.array_power_kw`: clear sky, PVWatts,
    losses, inverter) scaled by a seeded clearness per UTC day drawn uniformly from [0.25, 1].
    """
    clear_kw, _ = pv.array_power_kw(array, pv.site_location(config), index)
    days = (index.normalize().asi8 // (86_400 * 10**9)).astype(np.int64)
    clearness = np.random.default_rng(seed).uniform(0.25, 1.0, size=days.max() - days.min() + 1)[days - days.min()]
    return clear_kw.to_numpy() * clearness


@dataclass(frozen=True)
class DayRecord:
    day: dt.date
    given: str  # the plan the site was given: baseline | optimised | none
    executed: str  # the plan that really ran
    jobs: int
    disturbances: DayDisturbances


class PlantTwin:
    """The simulated plant from local ``first_day`` to ``last_day`` (inclusive)."""

    def __init__(self, config: SiteConfig, params: TwinParams, first_day: dt.date, last_day: dt.date, jobs_template: Path):
        self.config, self.params = config, params
        self.first_day, self.last_day = first_day, last_day
        self.start, self.end = self.day_bounds(first_day)[0], self.day_bounds(last_day)[1]
        self.machines = {m.id: self._behaviour(m) for m in config.machines}
        self.fixed = [m.id for m in config.machines if not m.flexible]
        self.actual = Timeline(self.start, self.end, list(self.machines))
        self.counterfactual = Timeline(self.start, self.end, list(self.machines))
        self.calendar = calendar_from_config(config)
        self.shifts = tuple(parse_shift(s, f"calendar.shifts[{i}]") for i, s in enumerate(config.calendar.shifts)) or DEFAULT_SHIFTS
        self.template_header, self.template = _read_template(jobs_template)
        self.days: list[DayRecord] = []
        minutes = pd.date_range(self.start, self.end, freq=MINUTE, inclusive="left")
        self.base_kw = self._base_load_kw(minutes)
        # PV per quarter hour (each quarter's mean power, held for its minutes): pvlib's solar
        # position for every minute of a year would take ~8 s for no visible difference.
        quarters = minutes[::PV_STEP_MIN]
        self.pv_kw = {a.id: np.repeat(pv_output_kw(quarters, config, a, params.seed), PV_STEP_MIN)[: len(minutes)] for a in config.pv}

    # -- set-up --------------------------------------------------------------------------------

    def _behaviour(self, machine: Machine) -> TwinMachine:
        """The twin file's description of ``machine``, its gaps filled from the site file."""
        described = self.params.machine(machine.id) or TwinMachine(id=machine.id)
        return described.model_copy(
            update={
                "idle_kw": machine.idle_kw if described.idle_kw is None else described.idle_kw,
                "rated_kw": machine.rated_kw if described.rated_kw is None else described.rated_kw,
            }
        )

    def _base_load_kw(self, minutes: pd.DatetimeIndex) -> np.ndarray:
        settings = self.params.base_load
        base = np.full(len(minutes), settings.floor_kw)
        if settings.file is not None:
            path = self.params.resolve(settings.file)
            try:
                levels, first_wall = steel_wall_clock_kw(path)
            except (ValueError, InputError) as exc:
                raise InputError(f"{self.params.path or 'twin'}: base_load.file: {exc}") from exc
            base += settings.scale * on_site_clock_kw(levels, first_wall, minutes, self.config.site.timezone)
        return base

    # -- calendar and orders -------------------------------------------------------------------

    def day_bounds(self, day: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The UTC start and end of local ``day``."""
        tz = self.config.site.timezone
        return (
            pd.Timestamp(day).tz_localize(tz).tz_convert("UTC"),
            pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(tz).tz_convert("UTC"),
        )

    def is_off(self, day: dt.date) -> bool:
        """Sunday, a public holiday or a shutdown day: no orders."""
        return day.weekday() == 6 or bool(off_days(self.calendar, pd.Index([day]))[0])

    def job_probability(self, day: dt.date) -> float:
        if self.is_off(day):
            return 0.0
        orders = self.params.orders
        return orders.saturday_job_probability if day.weekday() == SATURDAY else orders.weekday_job_probability

    def jobs_rows(self, day: dt.date) -> list[dict]:
        """The jobs file's rows the plant has orders for on ``day`` (see the module docstring)."""
        rng = day_rng(self.params.seed, day, ORDERS_STREAM)
        probability = self.job_probability(day)
        drawn = {row["job"] for row in self.template if rng.random() < probability}
        kept: list[dict] = []
        names: set[str] = set()
        for row in self.template:  # a jobs file lists a job's predecessors before it
            before = [b for b in _ids(row.get("after", "")) if b]
            present = [b for b in before if b in names]
            if row["job"] in drawn and (present or not before):
                kept.append({**row, "after": ";".join(present)})
                names.add(row["job"])
        return kept

    def write_jobs_file(self, day: dt.date, path: Path) -> Path | None:
        """The day's orders as a jobs file (the template's columns); None when there are none."""
        rows = self.jobs_rows(day)
        if not rows:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.template_header)
            writer.writeheader()
            writer.writerows(rows)
        return path

    def _local(self, day: dt.date, minutes: int) -> pd.Timestamp:
        """The instant (UTC) ``minutes`` of wall-clock time after ``day``'s local midnight (a
        time in a spring-forward gap moves to its end; a repeated one is its second occurrence)."""
        wall = pd.Timestamp(day) + pd.Timedelta(minutes=minutes)
        return wall.tz_localize(self.config.site.timezone, nonexistent="shift_forward", ambiguous=False).tz_convert("UTC")

    def _shift_window(self, day: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
        first = min(start for start, _ in self.shifts)
        last = max(end if end > start else end + 1440 for start, end in self.shifts)
        return self._local(day, first), self._local(day, last)

    def _next_working_start(self, day: dt.date) -> pd.Timestamp | None:
        """When a non-working stretch follows ``day``: the next day with orders' first shift start."""
        following = day + dt.timedelta(days=1)
        if self.job_probability(following) > 0:
            return None
        while self.job_probability(following) == 0 and following <= self.last_day + dt.timedelta(days=7):
            following += dt.timedelta(days=1)
        return self._shift_window(following)[0]

    def _shift_plan(self, day: dt.date, working: bool) -> DayPlan:
        """The non-flexible machines' day: producing in each shift at their duty level."""
        if not working or not self.fixed:
            return DayPlan(day, "shifts", ())
        runs, on = [], {}
        for machine_id in self.fixed:
            periods = []
            for i, (begin, end) in enumerate(self.shifts):
                length = (end - begin) % 1440 or 1440
                start = self._local(day, begin)
                runs.append(PlannedRun(f"shift{i + 1}-{machine_id}", machine_id, start, length, self.machines[machine_id].duty_kw, kind="shift"))
                periods.append((start, start + pd.Timedelta(minutes=length)))
            on[machine_id] = tuple(periods)
        return DayPlan(day, "shifts", tuple(runs), on)

    # -- execution -----------------------------------------------------------------------------

    def run_day(self, day: dt.date, jobs: list[Job], plan: DayPlan | None = None) -> DayRecord:
        """Execute ``day``: ``plan`` (default: the site's own plan of ``jobs``) on the plant and
        the site's own plan on the counterfactual, under the same disturbances."""
        day_start, day_end = self.day_bounds(day)
        baseline = baseline_day_plan(day, jobs, self.config.site.interval_minutes)
        plan = plan or baseline
        working = bool(jobs)
        disturbances = draw_disturbances(
            self.params.disturbances,
            self.params.orders,
            day_rng(self.params.seed, day, DISTURBANCE_STREAM),
            jobs,
            list(self.machines),
            day_start,
            day_end,
            self._shift_window(day) if working else None,
            self._next_working_start(day),
        )
        if disturbances.plan_ignored and plan.source == "baseline":
            disturbances = replace(disturbances, plan_ignored=False)  # nothing else to ignore
        executed = baseline if disturbances.plan_ignored else plan
        shifts = self._shift_plan(day, working)
        seed = self.params.seed
        for timeline, day_plan in ((self.actual, executed), (self.counterfactual, baseline)):
            combined = DayPlan(day, day_plan.source, day_plan.runs + shifts.runs, {**day_plan.machines_on, **shifts.machines_on})
            execute_day(timeline, combined, self.machines, disturbances, seed, day_start, day_end)
        record = DayRecord(day, plan.source if jobs else "none", executed.source if jobs else "none", len(jobs), disturbances)
        self.days.append(record)
        return record

    # -- what the plant's meters and the truth see ---------------------------------------------

    def machines_kw(self, timeline: Timeline) -> np.ndarray:
        return sum((track.power_kw for track in timeline.tracks.values()), np.zeros(timeline.minutes))

    def site_kw(self, timeline: Timeline) -> dict[str, np.ndarray]:
        """The grid connection's parts (kW per minute): machines, base, losses, PV and net."""
        machines = self.machines_kw(timeline)
        losses = (machines + self.base_kw) * self.params.losses_pct / 100.0
        generation = sum(self.pv_kw.values(), np.zeros(timeline.minutes))
        return {"machines": machines, "base": self.base_kw, "losses": losses, "pv": generation, "net": machines + self.base_kw + losses - generation}

    def meter_power_kw(self) -> dict[str, np.ndarray]:
        """Each enabled meter's power (kW per minute) as it sees it."""
        site = self.site_kw(self.actual)
        arrays = {a.meter: self.pv_kw[a.id] for a in self.config.pv if a.meter}
        seen = {}
        for meter in self.config.meters:
            if not meter.enabled:
                continue
            machine = meter.machine or (meter.assignments[0].machine if meter.assignments else None)
            if meter.role == "main":
                seen[meter.id] = site["net"]
            elif meter.role == "pv" and meter.id in arrays:
                seen[meter.id] = arrays[meter.id]
            elif machine is not None:
                seen[meter.id] = self.actual.tracks[machine].power_kw
            else:
                raise InputError(f"{self.config.path or 'config'}: meter {meter.id!r} (role {meter.role}): the twin does not know what it measures")
        return seen

    def readings(self, minutes: np.ndarray, start_counter_kwh: float) -> pd.DataFrame:
        """Every meter's readings at the minute boundaries ``minutes`` (after :attr:`start`);
        counters start at ``start_counter_kwh`` at :attr:`start`."""
        frames = []
        for meter, power in self.meter_power_kw().items():
            counter = import_counter_kwh(power, start_counter_kwh)
            frames.append(counter_readings(meter, power, counter, self.start, minutes))
        return pd.concat(frames, ignore_index=True)

    def ground_truth(self, interval_minutes: int | None = None) -> GroundTruth:
        """What really happened, per interval of the site's length (see :mod:`energy.twin.truth`)."""
        step = interval_minutes or self.config.site.interval_minutes
        count = self.actual.minutes // step
        starts = pd.date_range(self.start, periods=count, freq=pd.Timedelta(minutes=step))

        def per_interval(values: np.ndarray) -> np.ndarray:
            return values[: count * step].reshape(count, step).sum(axis=1) / 60.0

        frames = []
        for machine_id, track in self.actual.tracks.items():
            state = track.state[: count * step].reshape(count, step)
            power = track.power_kw[: count * step].reshape(count, step)
            frame = {"interval_start": starts, "machine": machine_id}
            minutes = np.stack([(state == code).sum(axis=1) for code in range(len(STATE_NAMES))], axis=1)
            for code, name in enumerate(STATE_NAMES):
                frame[f"{name}_min"] = minutes[:, code]
                frame[f"{name}_kwh"] = np.where(state == code, power, 0.0).sum(axis=1) / 60.0
            frame["energy_kwh"] = power.sum(axis=1) / 60.0
            frame["state"] = np.asarray(STATE_NAMES)[minutes.argmax(axis=1)]
            frames.append(pd.DataFrame(frame))
        actual, counterfactual = self.site_kw(self.actual), self.site_kw(self.counterfactual)
        site = pd.DataFrame(
            {
                "interval_start": starts,
                "import_kwh": per_interval(np.clip(actual["net"], 0, None)),
                "export_kwh": per_interval(np.clip(-actual["net"], 0, None)),
                "machines_kwh": per_interval(actual["machines"]),
                "base_kwh": per_interval(actual["base"]),
                "losses_kwh": per_interval(actual["losses"]),
                "pv_kwh": per_interval(actual["pv"]),
                "counterfactual_import_kwh": per_interval(np.clip(counterfactual["net"], 0, None)),
                "counterfactual_export_kwh": per_interval(np.clip(-counterfactual["net"], 0, None)),
                "counterfactual_machines_kwh": per_interval(counterfactual["machines"]),
            }
        )
        days = pd.DataFrame(
            [
                {
                    "day": r.day.isoformat(),
                    "given": r.given,
                    "executed": r.executed,
                    "jobs": r.jobs,
                    "delayed": len(r.disturbances.delays_min),
                    "cancelled": len(r.disturbances.cancelled),
                    "breakdowns": len(r.disturbances.breakdowns),
                    "extra_runs": len(r.disturbances.extra_runs),
                    "left_idle": len(r.disturbances.left_idle_until),
                }
                for r in self.days
            ]
        )
        events = pd.DataFrame(
            [{"day": r.day.isoformat(), **event} for r in self.days for event in r.disturbances.events()],
            columns=["day", "kind", "job", "machine", "detail"],
        )
        return GroundTruth(_runs_frame(self.actual.runs), _runs_frame(self.counterfactual.runs), pd.concat(frames, ignore_index=True), site, days, events)


def _runs_frame(runs: list[TrueRun]) -> pd.DataFrame:
    columns = ["day", "job", "kind", "machine", "planned_start", "start", "end", "status", "energy_kwh", "metered_kwh"]
    return pd.DataFrame([{name: getattr(run, name) for name in columns} for run in runs], columns=columns)


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.replace("|", ";").split(";")]


def _read_template(path: Path) -> tuple[list[str], list[dict]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader]
            header = [name.strip() for name in reader.fieldnames or []]
    except OSError as exc:
        raise InputError(f"{path}: cannot read the jobs file: {exc}") from exc
    if "job" not in header:
        raise InputError(f"{path}: line 1: missing column job")
    return header, rows
