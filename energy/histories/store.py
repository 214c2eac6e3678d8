"""Storing and loading interval energy series.

A series is named by ``kind`` (``meter``, ``machine``, ``virtual`` or ``site``) and ``series_id``
(the site series is ``kind="site", series_id="site"``). Each row is one interval, labelled by its
start, with ``energy_kwh`` (NULL when missing) and ``quality`` (``measured``, ``estimated`` or
``missing``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from energy.storage import bulk, schema
from energy.timeutil import from_epoch_ms, timestamp_to_ms, to_epoch_ms

QUALITIES = ("measured", "estimated", "missing")
KINDS = ("meter", "machine", "virtual", "site")


def _rows(kind: str, series_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    bad = ~frame["quality"].isin(QUALITIES)
    if bad.any():
        raise ValueError(f"unknown quality {frame['quality'][bad].iloc[0]!r}")
    return pd.DataFrame(
        {
            "kind": kind,
            "series_id": series_id,
            "start_ms": to_epoch_ms(frame.index),
            "energy_kwh": frame["energy_kwh"].astype(float).to_numpy(),
            "quality": frame["quality"].astype(str).to_numpy(),
        }
    )


def store_intervals(target: Engine | Connection, kind: str, series_id: str, frame: pd.DataFrame) -> int:
    """Upsert one series (index: tz-aware interval starts; columns ``energy_kwh``, ``quality``).

    Re-storing a period replaces its rows, so re-processing never duplicates.
    """
    rows = _rows(kind, series_id, frame)
    if isinstance(target, Connection):
        return bulk.upsert(target, schema.intervals, rows)
    with target.begin() as conn:
        return bulk.upsert(conn, schema.intervals, rows)


def load_intervals(
    engine: Engine | Connection,
    kind: str,
    series_id: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One stored series, ``start`` inclusive, ``end`` exclusive, in time order.

    Returns a DataFrame indexed by ``interval_start`` (tz-aware UTC) with ``energy_kwh`` (float,
    NaN where missing) and ``quality``.
    """
    table = schema.intervals
    query = sa.select(table.c.start_ms, table.c.energy_kwh, table.c.quality).where(
        table.c.kind == kind, table.c.series_id == series_id
    )
    if start is not None:
        query = query.where(table.c.start_ms >= timestamp_to_ms(start))
    if end is not None:
        query = query.where(table.c.start_ms < timestamp_to_ms(end))
    query = query.order_by(table.c.start_ms)

    def run(conn: Connection) -> list:
        return conn.execute(query).fetchall()

    if isinstance(engine, Connection):
        data = run(engine)
    else:
        with engine.connect() as conn:
            data = run(conn)
    if data:
        start_ms, energy, quality = zip(*data)
    else:
        start_ms, energy, quality = (), (), ()
    index = from_epoch_ms(np.asarray(start_ms, dtype="int64"))
    index.name = "interval_start"
    return pd.DataFrame(
        {
            "energy_kwh": np.asarray([np.nan if e is None else e for e in energy], dtype=float),
            "quality": pd.array(quality, dtype=object),
        },
        index=index,
    )


def list_series(engine: Engine, kind: str | None = None) -> pd.DataFrame:
    """The stored series (``kind``, ``series_id``, first and last interval start, row count)."""
    table = schema.intervals
    query = sa.select(
        table.c.kind,
        table.c.series_id,
        sa.func.min(table.c.start_ms),
        sa.func.max(table.c.start_ms),
        sa.func.count(),
    ).group_by(table.c.kind, table.c.series_id)
    if kind:
        query = query.where(table.c.kind == kind)
    with engine.connect() as conn:
        data = conn.execute(query.order_by(table.c.kind, table.c.series_id)).fetchall()
    frame = pd.DataFrame(data, columns=["kind", "series_id", "first_ms", "last_ms", "intervals"])
    frame["first"] = from_epoch_ms(frame.pop("first_ms").astype("int64"))
    frame["last"] = from_epoch_ms(frame.pop("last_ms").astype("int64"))
    return frame
