"""Storing and loading interval energy series.

A series is named by ``kind`` (``meter``, ``machine``, ``virtual`` or ``site``) and ``series_id``
(the site series is ``kind="site", series_id="site"``). Each row is one interval, labelled by its
start, with ``energy_kwh`` (NULL when missing) and ``quality`` (``measured``, ``estimated`` or
``missing``).
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from energy.histories import quality
from energy.storage import bulk, schema
from energy.timeutil import from_epoch_ms, timestamp_to_ms, to_epoch_ms

KINDS = ("meter", "machine", "virtual", "site")


def _rows(kind: str, series_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    bad = ~frame["quality"].isin(quality.QUALITIES)
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
    return store_series(target, {(kind, series_id): frame})


def store_series(target: Engine | Connection, series: Mapping[tuple[str, str], pd.DataFrame]) -> int:
    """Upsert several series ``{(kind, series_id): frame}`` in one statement (see :func:`store_intervals`)."""
    if not series:
        return 0
    rows = pd.concat([_rows(kind, series_id, frame) for (kind, series_id), frame in series.items()], ignore_index=True)
    if isinstance(target, Connection):
        return bulk.upsert(target, schema.intervals, rows)
    with target.begin() as conn:
        return bulk.upsert(conn, schema.intervals, rows)


@dataclass(frozen=True)
class IntervalArrays:
    """One stored series as plain arrays, in time order: interval starts (epoch ms), ``energy_kwh``
    (NaN where NULL) and quality codes (:mod:`energy.histories.quality`: 0 measured, 1 estimated,
    2 missing)."""

    start_ms: np.ndarray
    energy_kwh: np.ndarray
    code: np.ndarray


# Quality names become their codes in SQL: small integers are shared Python objects, strings are
# not (a year of 50 machines, 1.8M rows, reads about 8 % faster).
_QUALITY_CODE_SQL = "CASE quality " + " ".join(f"WHEN '{name}' THEN {code}" for code, name in enumerate(quality.QUALITIES)) + " END"


def load_interval_arrays(
    engine: Engine | Connection,
    kind: str,
    series_id: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> IntervalArrays:
    """One stored series, ``start`` inclusive, ``end`` exclusive, as arrays (the fast path of
    :func:`load_intervals`, for readers that place many series on a grid themselves)."""
    # Start and quality code travel packed in one integer (start × 4 + code): one Python object
    # less per row, about a tenth less time for a year of 50 machines.
    columns = f"start_ms * 4 + {_QUALITY_CODE_SQL}, energy_kwh"

    def read(conn: Connection) -> tuple:
        placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conditions, params = [f"kind = {placeholder}", f"series_id = {placeholder}"], [kind, series_id]
        for bound, operator in ((start, ">="), (end, "<")):
            if bound is not None:
                conditions.append(f"start_ms {operator} {placeholder}")
                params.append(timestamp_to_ms(bound))
        sql = f"SELECT {columns} FROM {schema.intervals.name} WHERE {' AND '.join(conditions)} ORDER BY start_ms"
        # The driver's cursor directly, without per-row SQLAlchemy objects or garbage collection
        # passes over the row tuples: a meter-year (35,040 rows) loads in ~50 ms, not ~140 ms.
        collecting = gc.isenabled()
        gc.disable()
        try:
            rows = conn.exec_driver_sql(sql, tuple(params)).cursor.fetchall()
            return tuple(zip(*rows)) if rows else ((), ())
        finally:
            if collecting:
                gc.enable()

    if isinstance(engine, Connection):
        packed, energy = read(engine)
    else:
        with engine.connect() as conn:
            packed, energy = read(conn)
    packed = np.asarray(packed, dtype="int64")
    return IntervalArrays(packed >> 2, np.asarray(energy, dtype=float), (packed & 3).astype("int8"))  # NULL energy → NaN


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
    arrays = load_interval_arrays(engine, kind, series_id, start, end)
    index = from_epoch_ms(arrays.start_ms)
    index.name = "interval_start"
    return pd.DataFrame(
        {"energy_kwh": arrays.energy_kwh, "quality": pd.array(quality.names(arrays.code), dtype=object)},
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
