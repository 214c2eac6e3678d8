"""Tomorrow's flexible jobs, as the MES/ERP hands them over: a CSV or a JSON file.

Fields (CSV header or JSON keys; ``docs/nightly.md`` has examples):

- ``job``: identifier, unique in the file;
- ``machines``: the eligible machines (CSV: separated by ``;`` or ``|``; JSON: a list);
- ``duration_min``: run length in minutes (> 0), rounded up to whole planning slots;
- ``power_kw``: the machine's extra power while the job runs (kW ≥ 0; JSON may give a list, one
  value per slot), **or** ``recipe``: a name whose power profile is learned from the machine's
  history (``energy.planning.recipes``);
- ``earliest_start``, ``deadline`` (optional): ``HH:MM`` on the planned day in the site's time
  zone (``24:00`` is the end of that day), or an ISO 8601 date-time (site time when it has no
  offset);
- ``after`` (optional): jobs that must have ended before this one starts (like ``machines``);
- ``planned_start``, ``planned_machine`` (optional): what the site would do without optimisation
  (the baseline); give both or neither.

Errors raise :class:`energy.errors.InputError` naming the file, the line (CSV, header = line 1)
or the item (JSON, ``jobs[3]``), the field and what is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from energy.errors import InputError
from energy.timeutil import parse_instant

FIELDS = (
    "job",
    "machines",
    "duration_min",
    "power_kw",
    "recipe",
    "earliest_start",
    "deadline",
    "after",
    "planned_start",
    "planned_machine",
)
REQUIRED = ("job", "machines", "duration_min")
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_SEPARATORS = re.compile(r"[;|]")


@dataclass(frozen=True)
class Job:
    """One flexible job; times are tz-aware UTC, ``where`` locates it in its file for messages."""

    id: str
    machines: tuple[str, ...]
    duration_min: float
    where: str
    power_kw: float | tuple[float, ...] | None = None
    recipe: str | None = None
    earliest_start: pd.Timestamp | None = None
    deadline: pd.Timestamp | None = None
    after: tuple[str, ...] = ()
    planned_start: pd.Timestamp | None = None
    planned_machine: str | None = None

    def to_json(self, tz: str) -> dict:
        """The job as the run's input snapshot stores it (times in site time with offset)."""

        def local(ts: pd.Timestamp | None) -> str | None:
            return None if ts is None else ts.tz_convert(tz).isoformat()

        return {
            "job": self.id,
            "machines": list(self.machines),
            "duration_min": self.duration_min,
            "power_kw": list(self.power_kw) if isinstance(self.power_kw, tuple) else self.power_kw,
            "recipe": self.recipe,
            "earliest_start": local(self.earliest_start),
            "deadline": local(self.deadline),
            "after": list(self.after),
            "planned_start": local(self.planned_start),
            "planned_machine": self.planned_machine,
        }


def read_jobs(path: str | Path, day: dt.date, tz: str) -> list[Job]:
    """Read and validate a jobs file (``.json`` → JSON, anything else → CSV) for local ``day``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: jobs file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read jobs file: {exc}") from exc
    if path.suffix.lower() == ".json":
        records = _json_records(path, text)
    else:
        records = _csv_records(path, text)
    if not records:
        raise InputError(f"{path}: no jobs in the file")
    jobs = [_parse_record(where, record, day, tz) for where, record in records]
    check_job_list(jobs, path)
    return jobs


def _csv_records(path: Path, text: str) -> list[tuple[str, dict]]:
    reader = csv.DictReader(text.splitlines(), skipinitialspace=True)
    if reader.fieldnames is None:
        raise InputError(f"{path}: file is empty (expected a header with {', '.join(REQUIRED)}, …)")
    header = [name.strip() for name in reader.fieldnames]
    unknown = [name for name in header if name not in FIELDS]
    if unknown:
        raise InputError(f"{path}: line 1: unknown column(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}")
    records = []
    for row in reader:
        number = reader.line_num  # blank lines are skipped but still counted
        if None in row:
            raise InputError(f"{path}: line {number}: more values than columns in the header")
        values = {key.strip(): (value or "").strip() for key, value in row.items()}
        if not any(values.values()):
            continue
        records.append((f"{path}: line {number}", {k: v for k, v in values.items() if v != ""}))
    return records


def _json_records(path: Path, text: str) -> list[tuple[str, dict]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("jobs")
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a list of jobs or an object with a 'jobs' list")
    records = []
    for i, item in enumerate(data):
        where = f"{path}: jobs[{i}]"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected an object")
        unknown = [key for key in item if key not in FIELDS]
        if unknown:
            raise InputError(f"{where}: unknown field(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})")
        records.append((where, {k: v for k, v in item.items() if v is not None and v != ""}))
    return records


def _parse_record(where: str, record: dict, day: dt.date, tz: str) -> Job:
    for name in REQUIRED:
        if name not in record:
            raise InputError(f"{where}: field {name}: required")
    job_id = _identifier(where, "job", record["job"])
    where = f"{where} (job {job_id})"
    machines = _id_list(where, "machines", record["machines"])
    if not machines:
        raise InputError(f"{where}: field machines: at least one eligible machine is required")
    duration = _number(where, "duration_min", record["duration_min"])
    if duration <= 0:
        raise InputError(f"{where}: field duration_min: must be > 0, not {duration:g}")
    power = _power(where, record.get("power_kw"))
    recipe = _identifier(where, "recipe", record["recipe"]) if "recipe" in record else None
    if (power is None) == (recipe is None):
        raise InputError(f"{where}: fields power_kw, recipe: give exactly one of them")
    earliest = _instant(where, "earliest_start", record.get("earliest_start"), day, tz)
    deadline = _instant(where, "deadline", record.get("deadline"), day, tz)
    if earliest is not None and deadline is not None and deadline - earliest < pd.Timedelta(minutes=duration):
        raise InputError(
            f"{where}: fields earliest_start, deadline: the window {record['earliest_start']}–{record['deadline']} "
            f"is shorter than duration_min {duration:g}"
        )
    planned_start = _instant(where, "planned_start", record.get("planned_start"), day, tz)
    planned_machine = (
        _identifier(where, "planned_machine", record["planned_machine"]) if "planned_machine" in record else None
    )
    if (planned_start is None) != (planned_machine is None):
        raise InputError(f"{where}: fields planned_start, planned_machine: give both or neither")
    if planned_machine is not None and planned_machine not in machines:
        raise InputError(f"{where}: field planned_machine: {planned_machine!r} is not one of its machines ({', '.join(machines)})")
    return Job(
        id=job_id,
        machines=machines,
        duration_min=duration,
        where=where,
        power_kw=power,
        recipe=recipe,
        earliest_start=earliest,
        deadline=deadline,
        after=_id_list(where, "after", record.get("after", [])),
        planned_start=planned_start,
        planned_machine=planned_machine,
    )


def _identifier(where: str, name: str, value) -> str:
    text = str(value).strip()
    if not _ID.match(text):
        raise InputError(f"{where}: field {name}: {text!r} is not a valid id (1–64 letters, digits, _ . -)")
    return text


def _id_list(where: str, name: str, value) -> tuple[str, ...]:
    items = value if isinstance(value, list) else _SEPARATORS.split(str(value))
    ids = tuple(_identifier(where, name, item) for item in items if str(item).strip())
    if len(set(ids)) != len(ids):
        raise InputError(f"{where}: field {name}: an id is repeated")
    return ids


def _number(where: str, name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: field {name}: {value!r} is not a number") from exc
    if isinstance(value, bool) or not math.isfinite(number):
        raise InputError(f"{where}: field {name}: {value!r} is not a finite number")
    return number


def _power(where: str, value) -> float | tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, list):
        profile = tuple(_number(where, "power_kw", v) for v in value)
        if not profile:
            raise InputError(f"{where}: field power_kw: the profile is empty")
    else:
        profile = (_number(where, "power_kw", value),)
    if min(profile) < 0:
        raise InputError(f"{where}: field power_kw: must be ≥ 0")
    return profile if isinstance(value, list) else profile[0]


def _instant(where: str, name: str, value, day: dt.date, tz: str) -> pd.Timestamp | None:
    if value is None:
        return None
    text = str(value).strip()
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes = int(clock.group(1)), int(clock.group(2))
        if minutes > 59 or hours > 24 or (hours == 24 and minutes):
            raise InputError(f"{where}: field {name}: {text!r} is not a time of day (00:00–24:00)")
        # Wall-clock time on the day, then the instant: 06:00 is 06:00 on DST days too.
        wall = pd.Timestamp(day) + pd.Timedelta(hours=hours, minutes=minutes)
        try:
            return wall.tz_localize(tz, ambiguous="raise", nonexistent="raise").tz_convert("UTC")
        except Exception as exc:  # zoneinfo raises several types for DST gaps and folds
            raise InputError(f"{where}: field {name}: {text!r} does not exist or is ambiguous on {day} in {tz}") from exc
    return parse_instant(text, what=f"{where}: field {name}", tz=tz)


def check_job_list(jobs: list[Job], path: str | Path) -> None:
    """Ids are unique; every predecessor exists; precedence has no cycle."""
    seen: dict[str, Job] = {}
    for job in jobs:
        if job.id in seen:
            raise InputError(f"{job.where}: field job: duplicate id (first at {seen[job.id].where})")
        seen[job.id] = job
    for job in jobs:
        for before in job.after:
            if before not in seen:
                raise InputError(f"{job.where}: field after: unknown job {before!r}")
            if before == job.id:
                raise InputError(f"{job.where}: field after: a job cannot follow itself")
    cycle = _find_cycle({job.id: job.after for job in jobs})
    if cycle:
        raise InputError(f"{path}: field after: precedence cycle {' → '.join(cycle)}")


def _find_cycle(after: dict[str, tuple[str, ...]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for before in after[node]:
            if state.get(before) == 1:
                return path[path.index(before):] + [before]
            if before not in state:
                found = visit(before, path + [before])
                if found:
                    return found
        state[node] = 2
        return None

    for start in after:
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None
