"""Store the configured site, its machines and meters (``energy init``)."""

from __future__ import annotations

import json
import re

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.storage import bulk, schema
from energy.timeutil import now_ms, timestamp_to_ms


def site_id(config: SiteConfig) -> str:
    """A stable identifier derived from the site's name."""
    return re.sub(r"[^a-z0-9]+", "-", config.site.name.lower()).strip("-")[:64] or "site"


def store_site(engine: Engine, config: SiteConfig) -> str:
    """Insert or update the site, machines, meters and meter assignments; returns the site id.

    Meters and machines no longer in the config are left in place (their history stays
    meaningful); everything in the config is brought up to date.
    """
    sid = site_id(config)
    tz = config.site.timezone
    site_row = pd.DataFrame(
        [
            {
                "id": sid,
                "name": config.site.name,
                "timezone": tz,
                "latitude": config.site.latitude,
                "longitude": config.site.longitude,
                "currency": config.site.currency,
                "interval_minutes": config.site.interval_minutes,
                "config_json": config.model_dump_json(),
                "updated_ms": now_ms(),
            }
        ]
    )
    machine_rows = pd.DataFrame(
        [
            {"id": m.id, "site_id": sid, "name": m.name, "idle_kw": m.idle_kw, "rated_kw": m.rated_kw, "flexible": m.flexible}
            for m in config.machines
        ],
        columns=["id", "site_id", "name", "idle_kw", "rated_kw", "flexible"],
    )
    meter_rows = pd.DataFrame(
        [
            {
                "id": m.id,
                "site_id": sid,
                "model": m.model,
                "role": m.role,
                "machine_id": m.machine,
                "connection_json": m.connection.model_dump_json(),
                "poll_seconds": m.poll_seconds,
                "rated_kw": m.rated_kw,
            }
            for m in config.meters
        ],
        columns=["id", "site_id", "model", "role", "machine_id", "connection_json", "poll_seconds", "rated_kw"],
    )

    def local_ms(value) -> int | None:
        if value is None:
            return None
        ts = pd.Timestamp(value)
        return timestamp_to_ms(ts if ts.tzinfo else ts.tz_localize(tz))

    assignment_rows = pd.DataFrame(
        [
            {"meter_id": m.id, "valid_from_ms": local_ms(a.valid_from), "valid_to_ms": local_ms(a.valid_to), "machine_id": a.machine}
            for m in config.meters
            for a in m.assignments
        ],
        columns=["meter_id", "valid_from_ms", "valid_to_ms", "machine_id"],
    ).astype({"valid_from_ms": "Int64", "valid_to_ms": "Int64"})
    with engine.begin() as conn:
        bulk.upsert(conn, schema.sites, site_row)
        bulk.upsert(conn, schema.machines, machine_rows)
        bulk.upsert(conn, schema.meters, meter_rows)
        configured = [m.id for m in config.meters]
        if configured:
            conn.execute(sa.delete(schema.meter_assignments).where(schema.meter_assignments.c.meter_id.in_(configured)))
        bulk.upsert(conn, schema.meter_assignments, assignment_rows)
    return sid


def load_site_config_json(engine: Engine, sid: str | None = None) -> dict | None:
    """The config stored by the last ``energy init`` (of site ``sid``, or the only site)."""
    query = sa.select(schema.sites.c.config_json)
    if sid:
        query = query.where(schema.sites.c.id == sid)
    with engine.connect() as conn:
        row = conn.execute(query.order_by(schema.sites.c.updated_ms.desc())).first()
    return json.loads(row[0]) if row else None
