"""Executing a day's plan on the twin's machines, minute by minute, under the day's disturbances.

Each machine is, in every minute, in one of four states: **off**, **idle** (standby: on, not
producing), **warming** (start-up before the first use after a switch-on) or **producing** (a job
runs). The shop floor follows the plan as real shop floors do:

- a job starts at its planned minute plus its drawn delay, but never before its machine is free
  or before the jobs it follows have ended; a cancelled job does not run;
- while a job runs the machine draws its idle power plus the job's power (the contract's meaning
  of a job's ``power_kw``), in the recipe shape of the machine's kind;
- a breakdown aborts the job running on the machine when it begins (one of the day before too),
  and postpones the jobs that would start during it, on any later day; a job that can no longer
  start before its day ends is dropped; the machine is off while it is down;
- machines are switched on and off as the plan says (an on-period without any job that really ran
  is not switched on; one is stretched to cover the jobs that overrun it; an unplanned run gets its
  own); after a switch-off time, operators leave it idling for the machine's ``idle_after_min``;
  a machine that was off warms up for ``warmup_min`` before its on-period (not before the day
  starts: a day's execution never changes an earlier day, whose readings may be stored already);
- a machine left idling over a non-working stretch stays idle until the next working day.

Every level carries the machine's minute-to-minute noise, seeded by the job (or machine) and the
day, so the same job draws the same noise in the plan the site ran and in the counterfactual.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from energy.twin.disturbances import DayDisturbances
from energy.twin.params import TwinMachine
from energy.twin.plans import DayPlan, PlannedRun
from energy.twin.recipes import recipe_shape

OFF, IDLE, WARMING, PRODUCING = 0, 1, 2, 3
STATE_NAMES = ("off", "idle", "warming", "producing")
MINUTE = pd.Timedelta(minutes=1)


@dataclass
class MachineTrack:
    """One machine's power (kW) and state in every minute of the timeline."""

    power_kw: np.ndarray
    state: np.ndarray
    busy_until: int = 0  # first minute in which no job of the machine runs any more
    down: list[tuple[int, int]] = field(default_factory=list)  # breakdowns [from, to) in minutes


class Timeline:
    """Minute-resolution tracks of every machine from ``start`` (UTC) for ``minutes`` minutes."""

    def __init__(self, start: pd.Timestamp, end: pd.Timestamp, machines: list[str]):
        self.start = start
        self.minutes = int((end - start) / MINUTE)
        self.tracks = {m: MachineTrack(np.zeros(self.minutes), np.zeros(self.minutes, dtype=np.int8)) for m in machines}
        self.runs: list[TrueRun] = []  # what really ran, in the order the days were executed

    def minute(self, instant: pd.Timestamp) -> int:
        """The minute index of ``instant``, clipped to the timeline."""
        return int(min(max((instant - self.start) // MINUTE, 0), self.minutes))

    def instant(self, minute: int) -> pd.Timestamp:
        return self.start + minute * MINUTE


@dataclass(frozen=True)
class TrueRun:
    """What really ran (or was dropped): the ground truth of one run.

    ``energy_kwh`` is the job's own energy (what the machine drew above its idle power while the
    job ran; a shift run's whole draw); ``metered_kwh`` all the machine drew meanwhile.
    """

    day: dt.date
    job: str
    kind: str  # planned | extra | shift
    machine: str
    planned_start: pd.Timestamp
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    status: str  # ran | aborted (breakdown) | dropped (could not start before the day ended)
    energy_kwh: float
    metered_kwh: float


def noisy(level_kw: np.ndarray, noise_pct: float, rng: np.random.Generator) -> np.ndarray:
    """``level_kw`` with multiplicative Gaussian noise of ``noise_pct`` % (1 sigma), never negative."""
    if noise_pct <= 0 or not len(level_kw):
        return level_kw
    return np.clip(level_kw * (1.0 + noise_pct / 100.0 * rng.standard_normal(len(level_kw))), 0.0, None)


def _rng(seed: int, day: dt.date, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, day.toordinal(), zlib.crc32(key.encode())])


def run_power_kw(run: PlannedRun, machine: TwinMachine, scale: float, rng: np.random.Generator) -> np.ndarray:
    """The machine's power in each minute of the run: its idle power plus the job's (the
    contract's meaning of a job's ``power_kw``) in the recipe shape of the machine's kind (a
    per-slot profile keeps its slots), × the run's energy scale, with noise; never above the
    machine's rating (its drive or converter limits it). A shift run draws ``duty_kw`` in all."""
    minutes = run.duration_min
    if isinstance(run.power_kw, tuple):
        per_slot = np.asarray(run.power_kw, dtype=float)
        job = np.repeat(per_slot, run.slot_min)[:minutes]
        job = np.concatenate([job, np.full(minutes - len(job), per_slot[-1])])
    else:
        kind = "compressor" if run.kind == "shift" and machine.kind == "generic" else machine.kind
        job = float(run.power_kw) * recipe_shape(kind, minutes)
    level = job * scale + (0.0 if run.kind == "shift" else machine.idle_kw or 0.0)
    power = noisy(level, machine.noise_pct, rng)
    return power if machine.rated_kw is None else np.minimum(power, machine.rated_kw)


def _run_energy_kwh(track: MachineTrack, machine: TwinMachine, kind: str, start: int, end: int) -> tuple[float, float]:
    """(the job's own energy, all the machine drew) over minutes ``[start, end)`` of a run."""
    metered = float(track.power_kw[start:end].sum() / 60.0)
    idle = 0.0 if kind == "shift" else (machine.idle_kw or 0.0) * (end - start) / 60.0
    return metered - idle, metered


def _clear_of_breakdowns(start: int, duration: int, down: list[tuple[int, int]]) -> tuple[int, int, bool]:
    """(start, end, aborted) of a run meant to start at ``start``: postponed past any breakdown
    it would start in, cut where a breakdown begins while it runs."""
    end = start + duration
    for down_from, down_to in sorted(down):
        if down_from <= start < down_to:
            start, end = down_to, down_to + duration
        elif start < down_from < end:
            return start, down_from, True
    return start, end, False


def _in_precedence_order(runs: list[PlannedRun], delays: dict[str, int]) -> list[PlannedRun]:
    """Runs by intended start, each after the runs it follows."""
    pending = sorted(runs, key=lambda r: (r.start + delays.get(r.job, 0) * MINUTE, r.job))
    names = {r.job for r in runs}
    done: set[str] = set()
    ordered = []
    while pending:
        ready = next((r for r in pending if all(p in done or p not in names for p in r.after)), pending[0])
        pending.remove(ready)
        done.add(ready.job)
        ordered.append(ready)
    return ordered


def execute_day(
    timeline: Timeline,
    plan: DayPlan,
    machines: dict[str, TwinMachine],
    disturbances: DayDisturbances,
    seed: int,
    day_start: pd.Timestamp,
    day_end: pd.Timestamp,
) -> list[TrueRun]:
    """Execute ``plan`` on ``timeline`` under ``disturbances`` (see the module docstring).

    Writes the machines' minutes from the day's first activity on (runs that overrun the day
    continue into the next one), adds what really ran to ``timeline.runs`` and returns it.
    """
    day = plan.day
    first_minute, last_minute = timeline.minute(day_start), timeline.minute(day_end)
    for machine_id, (down_from, down_to) in disturbances.breakdowns.items():
        _break_down(timeline, machines[machine_id], machine_id, timeline.minute(down_from), timeline.minute(down_to))
    runs = [r for r in plan.runs if r.job not in disturbances.cancelled] + list(disturbances.extra_runs)
    ends: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    truth = []
    for run in _in_precedence_order(runs, disturbances.delays_min):
        track = timeline.tracks[run.machine]
        start = timeline.minute(run.start) + disturbances.delays_min.get(run.job, 0)
        start = max([start, track.busy_until] + [ends[p] for p in run.after if p in ends])
        start, end, aborted = _clear_of_breakdowns(start, run.duration_min, track.down)
        if start >= last_minute:
            truth.append(TrueRun(day, run.job, run.kind, run.machine, run.start, None, None, "dropped", 0.0, 0.0))
            continue
        end = min(end, timeline.minutes)
        machine = machines[run.machine]
        power = run_power_kw(run, machine, disturbances.energy_scale.get(run.job, 1.0), _rng(seed, day, run.job))
        track.power_kw[start:end] = power[: end - start]
        track.state[start:end] = PRODUCING
        track.busy_until = ends[run.job] = end
        spans.setdefault(run.machine, []).append((start, end))
        status = "aborted" if aborted else "ran"
        own, metered = _run_energy_kwh(track, machine, run.kind, start, end)
        truth.append(TrueRun(day, run.job, run.kind, run.machine, run.start, timeline.instant(start), timeline.instant(end), status, own, metered))
    for machine_id, track in timeline.tracks.items():
        periods = _on_periods(timeline, plan.machines_on.get(machine_id, ()), spans.get(machine_id, []))
        rng = _rng(seed, day, f"machine:{machine_id}")
        _switch(track, periods, machines[machine_id], rng, timeline, first_minute, disturbances.left_idle_until.get(machine_id))
        for down_from, down_to in track.down:  # a broken-down machine is off, whatever was planned
            track.power_kw[down_from:down_to] = 0.0
            track.state[down_from:down_to] = OFF
    timeline.runs.extend(truth)
    return truth


def _break_down(timeline: Timeline, machine: TwinMachine, machine_id: str, down_from: int, down_to: int) -> None:
    """A breakdown of ``machine_id`` over minutes ``[down_from, down_to)``: remembered for later
    runs, and a run of an earlier day still going when it begins is cut there."""
    track = timeline.tracks[machine_id]
    track.down.append((down_from, down_to))
    for i, run in enumerate(timeline.runs):
        if run.machine != machine_id or run.start is None:
            continue
        start, end = timeline.minute(run.start), timeline.minute(run.end)
        if start < down_from < end:
            own, metered = _run_energy_kwh(track, machine, run.kind, start, down_from)
            timeline.runs[i] = replace(run, end=timeline.instant(down_from), status="aborted", energy_kwh=own, metered_kwh=metered)
            track.busy_until = min(track.busy_until, down_from)


def _on_periods(timeline: Timeline, planned: tuple, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The periods a machine is really on: planned periods with a run in them, stretched to
    cover those runs, plus one for each run outside every planned period; merged."""
    periods = []
    placed = set()
    for begin, end in planned:
        a, b = timeline.minute(begin), timeline.minute(end)
        inside = [(s, e) for s, e in runs if s < b and e > a]
        if inside:
            periods.append((min([a] + [s for s, _ in inside]), max([b] + [e for _, e in inside])))
            placed.update(inside)
    periods += [span for span in runs if span not in placed]
    merged: list[tuple[int, int]] = []
    for a, b in sorted(periods):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _switch(
    track: MachineTrack,
    periods: list[tuple[int, int]],
    machine: TwinMachine,
    rng: np.random.Generator,
    timeline: Timeline,
    first_minute: int,
    idle_until: pd.Timestamp | None,
) -> None:
    """Fill a machine's on-periods (and its operators' idling after them) with idle power and
    warm it up before each switch-on from off (from ``first_minute`` on)."""
    idle_kw = machine.idle_kw or 0.0
    for a, b in periods:
        if machine.warmup_min and (a == 0 or track.state[a - 1] == OFF):
            _fill_off(track, max(first_minute, a - machine.warmup_min), a, WARMING, machine.warmup_kw, machine.noise_pct, rng)
        _fill_off(track, a, min(b + machine.idle_after_min, timeline.minutes), IDLE, idle_kw, machine.noise_pct, rng)
    if idle_until is not None and periods:
        _fill_off(track, periods[-1][1], timeline.minute(idle_until), IDLE, idle_kw, machine.noise_pct, rng)


def _fill_off(track: MachineTrack, a: int, b: int, state: int, level_kw: float, noise_pct: float, rng) -> None:
    """The minutes ``[a, b)`` in which the machine is off go to ``state`` at ``level_kw`` (with noise)."""
    off = track.state[a:b] == OFF
    track.power_kw[a:b][off] = noisy(np.full(int(off.sum()), level_kw), noise_pct, rng)
    track.state[a:b][off] = state
