"""Per-meter health: last good reading, counts of good and failed polls, the last error.

The collector keeps a :class:`MeterHealth` per meter and, with every batch it writes, adds the
counts gathered since the last successful write to the ``meter_health`` row (so several runs,
and runs that could not reach the database for a while, add up).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from energy.config import SiteConfig
from energy.metering.link import describe
from energy.readings import format_utc
from energy.storage import schema

HEALTH_COLUMNS = ["meter", "model", "endpoint", "status", "last_good", "age_s", "ok", "errors", "consecutive_errors", "last_error"]


@dataclass
class MeterHealth:
    meter_id: str
    last_attempt_ms: int | None = None
    last_good_ms: int | None = None
    consecutive_errors: int = 0
    last_error: str | None = None
    last_error_ms: int | None = None
    ok_count: int = 0  # since the last write to the database
    error_count: int = 0  # since the last write to the database

    def good(self, at_ms: int) -> None:
        self.last_attempt_ms = self.last_good_ms = at_ms
        self.ok_count += 1
        self.consecutive_errors = 0

    def failed(self, at_ms: int, message: str) -> None:
        self.last_attempt_ms = self.last_error_ms = at_ms
        self.error_count += 1
        self.consecutive_errors += 1
        self.last_error = message

    def row(self) -> dict:
        return {
            "meter_id": self.meter_id,
            "last_attempt_ms": self.last_attempt_ms,
            "last_good_ms": self.last_good_ms,
            "ok_count": self.ok_count,
            "error_count": self.error_count,
            "consecutive_errors": self.consecutive_errors,
            "last_error": self.last_error,
            "last_error_ms": self.last_error_ms,
        }

    def written(self, row: dict) -> None:
        """The counts in ``row`` reached the database: keep only what came after."""
        self.ok_count -= row["ok_count"]
        self.error_count -= row["error_count"]


def store_health(conn: Connection, rows: list[dict]) -> None:
    """Add each row's counts to the stored ones; the latest times and error win."""
    if not rows:
        return
    table = schema.meter_health
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table)
    excluded = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.meter_id],
        set_={
            "ok_count": table.c.ok_count + excluded.ok_count,
            "error_count": table.c.error_count + excluded.error_count,
            "consecutive_errors": excluded.consecutive_errors,
            "last_attempt_ms": sa.func.coalesce(excluded.last_attempt_ms, table.c.last_attempt_ms),
            "last_good_ms": sa.func.coalesce(excluded.last_good_ms, table.c.last_good_ms),
            "last_error": sa.func.coalesce(excluded.last_error, table.c.last_error),
            "last_error_ms": sa.func.coalesce(excluded.last_error_ms, table.c.last_error_ms),
        },
    )
    conn.execute(statement, rows)


def load_health(engine: Engine) -> pd.DataFrame:
    """Every stored ``meter_health`` row, by meter id."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.meter_health).order_by(schema.meter_health.c.meter_id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in schema.meter_health.columns])


def health_table(engine: Engine, config: SiteConfig | None = None, now_ms: int | None = None) -> pd.DataFrame:
    """One row per meter for ``energy meters``: the config's meters (if given) and every stored one.

    ``status`` is ``ok`` (last poll good), ``failing`` (the last ``consecutive_errors`` polls
    failed), ``never read`` (no poll stored yet) or ``disabled``; ``age_s`` is the time since the
    last good reading.
    """
    stored = load_health(engine).set_index("meter_id")
    configured = {m.id: m for m in config.meters} if config else {}
    rows = []
    for meter_id in [*configured, *(m for m in stored.index if m not in configured)]:
        meter = configured.get(meter_id)
        health = stored.loc[meter_id] if meter_id in stored.index else None
        last_good = None if health is None or pd.isna(health["last_good_ms"]) else int(health["last_good_ms"])
        if meter is not None and not meter.enabled:
            status = "disabled"
        elif health is None:
            status = "never read"
        else:
            status = "failing" if health["consecutive_errors"] else "ok"
        rows.append(
            {
                "meter": meter_id,
                "model": meter.model if meter else "",
                "endpoint": describe(meter.connection) if meter else "",
                "status": status,
                "last_good": format_utc([pd.Timestamp(last_good, unit="ms", tz="UTC")])[0] if last_good else "",
                "age_s": round((now_ms - last_good) / 1000.0, 1) if last_good and now_ms else None,
                "ok": int(health["ok_count"]) if health is not None else 0,
                "errors": int(health["error_count"]) if health is not None else 0,
                "consecutive_errors": int(health["consecutive_errors"]) if health is not None else 0,
                "last_error": health["last_error"] if health is not None and isinstance(health["last_error"], str) else "",
            }
        )
    return pd.DataFrame(rows, columns=HEALTH_COLUMNS)
