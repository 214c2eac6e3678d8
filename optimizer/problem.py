"""The schedule problem: parsing and validating the contract JSON into plain dataclasses.

Contract: ``shared/contracts/schedule-problem.md``. Every field the contract names is read here and
nowhere else; unknown fields are an :class:`~energy.errors.InputError` naming the field, and bad
values name the job or machine they belong to. Per-slot series become numpy arrays of length T.

Project additions to the contract (all optional):

- job ``previous_start_slot`` / ``previous_machine``: the plan already published, and problem
  ``move_penalty_eur`` (≥ 0, default 0): the cost of moving a job away from its previous plan, so
  that re-planning does not shuffle jobs for pennies.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from energy.errors import InputError

PROBLEM_FIELDS = {
    "name", "start", "resolution_minutes", "horizon_slots", "price_eur_per_kwh", "export_price_eur_per_kwh",
    "co2_g_per_kwh", "co2_price_eur_per_t", "base_load_kw", "pv_kw", "grid_limit_kw", "demand_charge",
    "machines", "jobs", "move_penalty_eur",
}
MACHINE_FIELDS = {"id", "idle_kw", "startup_eur", "shutdown_eur", "initially_on", "unavailable", "capacity"}
JOB_FIELDS = {
    "id", "machines", "duration_slots", "power_kw", "earliest_start_slot", "deadline_slot", "after", "uses",
    "planned_start_slot", "planned_machine", "previous_start_slot", "previous_machine",
}
DEMAND_CHARGE_FIELDS = {"eur_per_kw", "peak_so_far_kw"}


@dataclass(frozen=True)
class Machine:
    id: str
    idle_kw: float = 0.0
    startup_eur: float = 0.0
    shutdown_eur: float = 0.0
    initially_on: bool = False
    unavailable: tuple[tuple[int, int], ...] = ()
    capacity: dict[str, float] = field(default_factory=lambda: {"units": 1.0})

    @property
    def has_on_cost(self) -> bool:
        """Whether being on costs anything (idle power or switching): only then is 'on' modelled."""
        return self.idle_kw != 0 or self.startup_eur != 0 or self.shutdown_eur != 0 or self.initially_on


@dataclass(frozen=True, eq=False)
class Job:
    id: str
    machines: tuple[str, ...]
    duration_slots: int
    power_kw: np.ndarray  # one value per slot of the run, kW
    earliest_start_slot: int
    deadline_slot: int
    after: tuple[str, ...] = ()
    uses: dict[str, float] = field(default_factory=lambda: {"units": 1.0})
    planned_start_slot: int | None = None
    planned_machine: str | None = None
    previous_start_slot: int | None = None
    previous_machine: str | None = None


@dataclass(frozen=True)
class DemandCharge:
    eur_per_kw: float
    peak_so_far_kw: float = 0.0


def _read_only(values: np.ndarray) -> np.ndarray:
    values.setflags(write=False)
    return values


@dataclass(frozen=True, eq=False)
class Problem:
    """A validated problem; arrays have one value per slot (length ``horizon_slots``)."""

    name: str
    start: pd.Timestamp
    resolution_minutes: int
    horizon_slots: int
    price_eur_per_kwh: np.ndarray
    export_price_eur_per_kwh: np.ndarray
    co2_g_per_kwh: np.ndarray
    co2_price_eur_per_t: float
    base_load_kw: np.ndarray
    pv_kw: np.ndarray
    grid_limit_kw: float | None
    demand_charge: DemandCharge | None
    machines: tuple[Machine, ...]
    jobs: tuple[Job, ...]
    move_penalty_eur: float = 0.0

    @property
    def slot_hours(self) -> float:
        """h: the slot length in hours."""
        return self.resolution_minutes / 60.0

    # Computed once (read-only): the heuristic reads them in its innermost loop.
    @cached_property
    def net_base_kw(self) -> np.ndarray:
        """Base load minus PV per slot, kW: the grid power before any scheduled machine or job."""
        return _read_only(self.base_load_kw - self.pv_kw)

    @cached_property
    def import_cost_eur_per_kwh(self) -> np.ndarray:
        """Energy price plus the carbon price of imported energy, per slot."""
        return _read_only(self.price_eur_per_kwh + self.co2_price_eur_per_t * self.co2_g_per_kwh / 1e6)

    def machine(self, machine_id: str) -> Machine:
        return self._machines_by_id[machine_id]

    def job(self, job_id: str) -> Job:
        return self._jobs_by_id[job_id]

    @cached_property
    def _machines_by_id(self) -> dict[str, Machine]:
        return {m.id: m for m in self.machines}

    @cached_property
    def _jobs_by_id(self) -> dict[str, Job]:
        return {j.id: j for j in self.jobs}

    @property
    def has_plan(self) -> bool:
        """Every job has a planned start and machine (so a baseline can be costed)."""
        return bool(self.jobs) and all(
            j.planned_start_slot is not None and j.planned_machine is not None for j in self.jobs
        )

    def planned_placements(self) -> dict[str, tuple[str, int]]:
        """Job id → (planned machine, planned start slot): the site's own plan (when :attr:`has_plan`)."""
        return {j.id: (j.planned_machine, j.planned_start_slot) for j in self.jobs}


class _Reader:
    """Typed field access that names the source and the owner (job/machine) in every error."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, name: str, what: str) -> InputError:
        return InputError(f"{self.source}: {where}field {name}: {what}")

    def check_fields(self, obj: object, allowed: set[str], where: str, what: str) -> dict:
        if not isinstance(obj, dict):
            raise InputError(f"{self.source}: {where.rstrip(': ') or 'problem'}: must be a JSON object ({what})")
        for name in obj:
            if name not in allowed:
                raise InputError(f"{self.source}: {where}field {name}: unknown field (allowed: {', '.join(sorted(allowed))})")
        return obj

    def given(self, obj: dict, name: str, where: str, required: bool) -> bool:
        """Whether ``obj`` states ``name`` (null counts as absent); absent and ``required`` is an error."""
        if name in obj and obj[name] is not None:
            return True
        if required:
            raise self.fail(where, name, "is required")
        return False

    def number(self, obj: dict, name: str, where: str, default=None, minimum=None, strict=False, required=False):
        if not self.given(obj, name, where, required):
            return default
        value = obj[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(where, name, f"must be a finite number, got {value!r}")
        if minimum is not None and (value <= minimum if strict else value < minimum):
            raise self.fail(where, name, f"must be {'>' if strict else '≥'} {minimum}, got {value!r}")
        return float(value)

    def integer(self, obj: dict, name: str, where: str, default=None, minimum=None, maximum=None, required=False):
        if not self.given(obj, name, where, required):
            return default
        value = obj[name]
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise self.fail(where, name, f"must be an integer, got {value!r}")
        value = int(value)
        if minimum is not None and value < minimum:
            raise self.fail(where, name, f"must be ≥ {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(where, name, f"must be ≤ {maximum}, got {value}")
        return value

    def string(self, obj: dict, name: str, where: str, default=None, required=False) -> str | None:
        if not self.given(obj, name, where, required):
            return default
        if not isinstance(obj[name], str) or (required and not obj[name]):
            raise self.fail(where, name, f"must be a non-empty string, got {obj[name]!r}")
        return obj[name]

    def series(self, obj: dict, name: str, where: str, length: int, default: float | None, scalar_ok=False,
               minimum=None) -> np.ndarray:
        if not self.given(obj, name, where, required=default is None):
            return np.full(length, float(default))
        value = obj[name]
        if scalar_ok and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value] * length
        if not isinstance(value, list) or len(value) != length:
            size = len(value) if isinstance(value, list) else type(value).__name__
            raise self.fail(where, name, f"must be a list of {length} numbers (one per slot), got {size}")
        for t, v in enumerate(value):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise self.fail(where, name, f"slot {t}: must be a finite number, got {v!r}")
            if minimum is not None and v < minimum:
                raise self.fail(where, name, f"slot {t}: must be ≥ {minimum}, got {v!r}")
        return np.asarray(value, dtype=float)

    def resources(self, obj: dict, name: str, where: str) -> dict[str, float]:
        if name not in obj or obj[name] is None:
            return {"units": 1.0}
        value = obj[name]
        if not isinstance(value, dict) or not value:
            raise self.fail(where, name, f"must be a non-empty object resource → amount, got {value!r}")
        out = {}
        for resource, amount in value.items():
            if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) or amount < 0:
                raise self.fail(where, name, f"resource {resource!r}: must be a number ≥ 0, got {amount!r}")
            out[str(resource)] = float(amount)
        return out


def _parse_machine(reader: _Reader, raw: object, index: int, horizon: int) -> Machine:
    where = f"machines[{index}]: "
    reader.check_fields(raw, MACHINE_FIELDS, where, "a machine")
    machine_id = reader.string(raw, "id", where, required=True)
    where = f"machine {machine_id!r}: "
    unavailable = []
    for k, pair in enumerate(raw.get("unavailable") or []):
        ok = isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
        if not ok or not 0 <= pair[0] < pair[1] <= horizon:
            raise reader.fail(where, "unavailable", f"entry {k}: must be [from_slot, to_slot) with 0 ≤ from < to ≤ {horizon}, got {pair!r}")
        unavailable.append((pair[0], pair[1]))
    initially_on = raw.get("initially_on", False)
    if not isinstance(initially_on, bool):
        raise reader.fail(where, "initially_on", f"must be true or false, got {initially_on!r}")
    return Machine(
        id=machine_id,
        idle_kw=reader.number(raw, "idle_kw", where, 0.0, minimum=0),
        startup_eur=reader.number(raw, "startup_eur", where, 0.0, minimum=0),
        shutdown_eur=reader.number(raw, "shutdown_eur", where, 0.0, minimum=0),
        initially_on=initially_on,
        unavailable=tuple(unavailable),
        capacity=reader.resources(raw, "capacity", where),
    )


def _parse_job(reader: _Reader, raw: object, index: int, horizon: int, machines: dict[str, Machine]) -> Job:
    where = f"jobs[{index}]: "
    reader.check_fields(raw, JOB_FIELDS, where, "a job")
    job_id = reader.string(raw, "id", where, required=True)
    where = f"job {job_id!r}: "
    eligible = raw.get("machines")
    if not isinstance(eligible, list) or not eligible or not all(isinstance(m, str) for m in eligible):
        raise reader.fail(where, "machines", f"must be a non-empty list of machine ids, got {eligible!r}")
    for m in eligible:
        if m not in machines:
            raise reader.fail(where, "machines", f"unknown machine {m!r} (machines: {', '.join(machines)})")
    if len(set(eligible)) != len(eligible):
        raise reader.fail(where, "machines", "lists a machine twice")
    duration = reader.integer(raw, "duration_slots", where, required=True, minimum=1)
    power = raw.get("power_kw")
    if isinstance(power, list):
        if len(power) != duration:
            raise reader.fail(where, "power_kw", f"the profile has {len(power)} values but duration_slots is {duration}")
        profile = reader.series(raw, "power_kw", where, duration, None)
    else:
        profile = np.full(duration, reader.number(raw, "power_kw", where, required=True))
    uses = reader.resources(raw, "uses", where)
    for m in eligible:
        missing = sorted(set(uses) - set(machines[m].capacity))
        if missing:
            raise reader.fail(where, "uses", f"resource {missing[0]!r} is not in the capacity of eligible machine {m!r}")
    after = raw.get("after") or []
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise reader.fail(where, "after", f"must be a list of job ids, got {after!r}")
    job = Job(
        id=job_id,
        machines=tuple(eligible),
        duration_slots=duration,
        power_kw=profile,
        earliest_start_slot=reader.integer(raw, "earliest_start_slot", where, 0, minimum=0, maximum=horizon),
        deadline_slot=reader.integer(raw, "deadline_slot", where, horizon, minimum=0, maximum=horizon),
        after=tuple(after),
        uses=uses,
        planned_start_slot=reader.integer(raw, "planned_start_slot", where, None, minimum=0, maximum=horizon - 1),
        planned_machine=reader.string(raw, "planned_machine", where),
        previous_start_slot=reader.integer(raw, "previous_start_slot", where, None, minimum=0, maximum=horizon - 1),
        previous_machine=reader.string(raw, "previous_machine", where),
    )
    for name in ("planned_machine", "previous_machine"):
        value = getattr(job, name)
        if value is not None and value not in machines:
            raise reader.fail(where, name, f"unknown machine {value!r}")
    return job


def parse_problem(raw: object, source: str = "problem") -> Problem:
    """A validated :class:`Problem` from the contract's JSON object (``source`` names it in errors)."""
    reader = _Reader(source)
    reader.check_fields(raw, PROBLEM_FIELDS, "", "the problem")
    start_text = reader.string(raw, "start", "", required=True)
    try:
        start = pd.Timestamp(start_text)
    except ValueError as exc:
        raise reader.fail("", "start", f"not an ISO 8601 timestamp: {start_text!r} ({exc})") from exc
    if start.tzinfo is None:
        raise reader.fail("", "start", f"needs a UTC offset, got {start_text!r}")
    resolution = reader.integer(raw, "resolution_minutes", "", required=True, minimum=1)
    horizon = reader.integer(raw, "horizon_slots", "", required=True, minimum=1)
    demand = raw.get("demand_charge")
    demand_charge = None
    if demand is not None:
        reader.check_fields(demand, DEMAND_CHARGE_FIELDS, "demand_charge: ", "the demand charge")
        demand_charge = DemandCharge(
            eur_per_kw=reader.number(demand, "eur_per_kw", "demand_charge: ", required=True, minimum=0),
            peak_so_far_kw=reader.number(demand, "peak_so_far_kw", "demand_charge: ", 0.0, minimum=0),
        )
    for name in ("machines", "jobs"):
        if not isinstance(raw.get(name), list):
            raise reader.fail("", name, "is required and must be a list")
    machines: dict[str, Machine] = {}
    for index, entry in enumerate(raw["machines"]):
        machine = _parse_machine(reader, entry, index, horizon)
        if machine.id in machines:
            raise reader.fail(f"machine {machine.id!r}: ", "id", "is not unique")
        machines[machine.id] = machine
    jobs: dict[str, Job] = {}
    for index, entry in enumerate(raw["jobs"]):
        job = _parse_job(reader, entry, index, horizon, machines)
        if job.id in jobs:
            raise reader.fail(f"job {job.id!r}: ", "id", "is not unique")
        jobs[job.id] = job
    for job in jobs.values():
        for before in job.after:
            if before not in jobs:
                raise reader.fail(f"job {job.id!r}: ", "after", f"unknown job {before!r}")
            if before == job.id:
                raise reader.fail(f"job {job.id!r}: ", "after", "a job cannot follow itself")
    return Problem(
        name=reader.string(raw, "name", "", "") or "",
        start=start.tz_convert("UTC"),
        resolution_minutes=resolution,
        horizon_slots=horizon,
        price_eur_per_kwh=reader.series(raw, "price_eur_per_kwh", "", horizon, None),
        export_price_eur_per_kwh=reader.series(raw, "export_price_eur_per_kwh", "", horizon, 0.0, scalar_ok=True),
        co2_g_per_kwh=reader.series(raw, "co2_g_per_kwh", "", horizon, 0.0),
        co2_price_eur_per_t=reader.number(raw, "co2_price_eur_per_t", "", 0.0, minimum=0),
        base_load_kw=reader.series(raw, "base_load_kw", "", horizon, 0.0, minimum=0),
        pv_kw=reader.series(raw, "pv_kw", "", horizon, 0.0, minimum=0),
        grid_limit_kw=reader.number(raw, "grid_limit_kw", "", None, minimum=0, strict=True),
        demand_charge=demand_charge,
        machines=tuple(machines.values()),
        jobs=tuple(jobs.values()),
        move_penalty_eur=reader.number(raw, "move_penalty_eur", "", 0.0, minimum=0),
    )


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem JSON file; any defect is an InputError naming the file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from exc
    return parse_problem(raw, str(path))
