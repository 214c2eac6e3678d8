"""Plan runs as records: what went in, what came out, and which plan is current.

A run stores its inputs snapshot, the problem, the schedule, the baseline, the expected savings
by component, the solver figures and the software versions (``plan_runs``), and one row per job
with its machine and UTC start/end (``plan_jobs``). Each (site, local date) has at most one
*current* run: storing a successful run marks the date's previous current run as history in the
same transaction, so a re-run replaces the plan and never duplicates it. Failed runs
(infeasible, error) are stored as history only, so the last good plan stays current.

Two nightly jobs must not run at once: :func:`run_lock` holds, for the site, a PostgreSQL
session-level advisory lock, or on SQLite an exclusive ``flock`` on a file beside the database
(``energy.db.plan-<site>.lock``). Both are released by the operating system or the server when the
process dies, so a crashed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Iterator

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from energy.errors import InputError
from energy.storage import bulk, schema
from energy.timeutil import now_ms, timestamp_to_ms

SUCCESS = ("optimal", "feasible")
COMPONENTS = ("energy_eur", "co2_eur", "demand_eur", "switching_eur")


class RunLockedError(Exception):
    """Another nightly job holds the site's planning lock (the CLI exits with status 4)."""


@contextlib.contextmanager
def run_lock(engine: Engine, site_id: str) -> Iterator[None]:
    """Hold the site's planning lock for the block, or raise :class:`RunLockedError` at once."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        with _advisory_lock(engine, site_id):
            yield
    elif dialect == "sqlite":
        with _file_lock(engine, site_id):
            yield
    else:
        raise InputError(f"--db: planning runs need SQLite or PostgreSQL, not {dialect}")


@contextlib.contextmanager
def _advisory_lock(engine: Engine, site_id: str) -> Iterator[None]:
    digest = hashlib.sha256(f"energy plan {site_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    # A session-level lock on a connection of its own, outside any transaction.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            raise RunLockedError(f"another 'energy plan' is running for site {site_id!r} (PostgreSQL advisory lock {key})")
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def lock_path(engine: Engine, site_id: str) -> Path:
    """The site's lock file beside a SQLite database: ``<database file>.plan-<site>.lock``."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise InputError("--db: planning runs need a SQLite file or a PostgreSQL server, not an in-memory database")
    return Path(database).with_name(f"{Path(database).name}.plan-{site_id}.lock")


@contextlib.contextmanager
def _file_lock(engine: Engine, site_id: str) -> Iterator[None]:
    path = lock_path(engine, site_id)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise RunLockedError(f"another 'energy plan' is running ({holder}; lock file {path})") from exc
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {platform.node()}, site {site_id}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape a plan."""
    versions = {"python": platform.python_version()}
    for package in ("energy-optimiser", "pyomo", "highspy", "numpy", "pandas", "sqlalchemy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def expected_savings(schedule: dict) -> dict | None:
    """Baseline cost minus schedule cost, per component and in total (None without a baseline)."""
    baseline = schedule.get("baseline")
    if not baseline or schedule.get("status") not in SUCCESS:
        return None
    planned, optimised = baseline["cost_breakdown"], schedule["cost_breakdown"]
    savings = {name: planned[name] - optimised[name] for name in COMPONENTS}
    savings["total_eur"] = baseline["objective_eur"] - schedule["objective_eur"]
    return savings


def slot_times(problem: dict) -> tuple[pd.Timestamp, pd.Timedelta]:
    """(UTC start of slot 0, slot length) of a contract problem."""
    return pd.Timestamp(problem["start"]).tz_convert("UTC"), pd.Timedelta(minutes=problem["resolution_minutes"])


def plan_job_rows(run_id: int, problem: dict, schedule: dict) -> pd.DataFrame:
    """One ``plan_jobs`` row per scheduled job: machine, UTC start/end, and the baseline plan."""
    start, step = slot_times(problem)
    jobs = {job["id"]: job for job in problem["jobs"]}
    rows = []
    for placed in schedule.get("jobs", []):
        job = jobs[placed["id"]]
        begin = start + placed["start_slot"] * step
        planned = job.get("planned_start_slot")
        rows.append(
            {
                "run_id": run_id,
                "job_id": placed["id"],
                "machine_id": placed["machine"],
                "start_ms": timestamp_to_ms(begin),
                "end_ms": timestamp_to_ms(begin + job["duration_slots"] * step),
                "planned_machine_id": job.get("planned_machine"),
                "planned_start_ms": None if planned is None else timestamp_to_ms(start + planned * step),
            }
        )
    columns = ["run_id", "job_id", "machine_id", "start_ms", "end_ms", "planned_machine_id", "planned_start_ms"]
    return pd.DataFrame(rows, columns=columns).astype({"planned_start_ms": "Int64"})


def _dump(document) -> str | None:
    # Sorted keys: the same document always gives the same bytes on both databases.
    return None if document is None else json.dumps(document, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class RunRecord:
    """What one nightly run produced, ready to be stored."""

    site_id: str
    plan_date: str  # local date, YYYY-MM-DD
    inputs: dict
    problem: dict
    schedule: dict
    solver: dict
    versions: dict

    @property
    def status(self) -> str:
        return self.schedule.get("status", "error")


def store_run(conn: Connection, record: RunRecord) -> int:
    """Store a run inside the caller's transaction; returns its id.

    A successful run becomes the date's current plan (the previous one is kept as history);
    a failed one is stored as history only.
    """
    runs = schema.plan_runs
    success = record.status in SUCCESS
    if success:
        conn.execute(
            runs.update()
            .where(runs.c.site_id == record.site_id, runs.c.plan_date == record.plan_date, runs.c.is_current.is_(True))
            .values(is_current=False)
        )
    result = conn.execute(
        runs.insert().values(
            site_id=record.site_id,
            plan_date=record.plan_date,
            created_ms=now_ms(),
            is_current=success,
            status=record.status,
            inputs_json=_dump(record.inputs),
            problem_json=_dump(record.problem),
            schedule_json=_dump(record.schedule),
            baseline_json=_dump(record.schedule.get("baseline")),
            savings_json=_dump(expected_savings(record.schedule)),
            solver_json=_dump(record.solver),
            versions_json=_dump(record.versions),
        )
    )
    run_id = int(result.inserted_primary_key[0])
    if success:
        bulk.upsert(conn, schema.plan_jobs, plan_job_rows(run_id, record.problem, record.schedule), on_conflict="ignore")
    return run_id


@dataclass(frozen=True)
class StoredRun:
    id: int
    site_id: str
    plan_date: str
    created_ms: int
    is_current: bool
    status: str
    inputs: dict
    problem: dict
    schedule: dict
    baseline: dict | None
    savings: dict | None
    solver: dict | None
    versions: dict | None


def load_run(engine: Engine | Connection, run_id: int) -> StoredRun:
    """A stored run by id (``InputError`` naming the id when there is none)."""
    runs = schema.plan_runs
    query = sa.select(runs).where(runs.c.id == run_id)
    if isinstance(engine, Connection):
        row = engine.execute(query).mappings().first()
    else:
        with engine.connect() as conn:
            row = conn.execute(query).mappings().first()
    if row is None:
        raise InputError(f"--replay: no stored plan run {run_id}")

    def parse(text):
        return None if text is None else json.loads(text)

    return StoredRun(
        id=row["id"],
        site_id=row["site_id"],
        plan_date=row["plan_date"],
        created_ms=row["created_ms"],
        is_current=bool(row["is_current"]),
        status=row["status"],
        inputs=parse(row["inputs_json"]),
        problem=parse(row["problem_json"]),
        schedule=parse(row["schedule_json"]),
        baseline=parse(row["baseline_json"]),
        savings=parse(row["savings_json"]),
        solver=parse(row["solver_json"]),
        versions=parse(row["versions_json"]),
    )


def current_run_id(engine: Engine, site_id: str, plan_date: str) -> int | None:
    """The id of the date's current plan, or None."""
    runs = schema.plan_runs
    with engine.connect() as conn:
        return conn.execute(
            sa.select(runs.c.id).where(runs.c.site_id == site_id, runs.c.plan_date == plan_date, runs.c.is_current.is_(True))
        ).scalar()


def list_runs(engine: Engine, site_id: str, plan_date: str | None = None) -> pd.DataFrame:
    """The site's runs (newest first): id, plan_date, created_ms, is_current, status."""
    runs = schema.plan_runs
    query = sa.select(runs.c.id, runs.c.plan_date, runs.c.created_ms, runs.c.is_current, runs.c.status).where(
        runs.c.site_id == site_id
    )
    if plan_date is not None:
        query = query.where(runs.c.plan_date == plan_date)
    with engine.connect() as conn:
        data = conn.execute(query.order_by(runs.c.id.desc())).fetchall()
    return pd.DataFrame(data, columns=["id", "plan_date", "created_ms", "is_current", "status"])


def load_plan_jobs(engine: Engine, run_id: int) -> pd.DataFrame:
    """The ``plan_jobs`` rows of a run, by job id."""
    table = schema.plan_jobs
    with engine.connect() as conn:
        data = conn.execute(sa.select(table).where(table.c.run_id == run_id).order_by(table.c.job_id)).mappings().all()
    return pd.DataFrame([dict(row) for row in data], columns=[c.name for c in table.columns])
