"""Fast idempotent bulk writes of DataFrames.

SQLite: one prepared ``INSERT … ON CONFLICT`` run with ``executemany`` inside one transaction.
PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT … SELECT … ON CONFLICT``.
Both avoid per-row ORM objects; the natural primary key decides what counts as the same row.
"""

from __future__ import annotations

import io
from typing import Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

OnConflict = Literal["ignore", "update"]


def _conflict_clause(table: sa.Table, columns: list[str], on_conflict: OnConflict) -> str:
    keys = [c.name for c in table.primary_key.columns]
    updates = [c for c in columns if c not in keys]
    if on_conflict == "ignore" or not updates:
        return f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    assignments = ", ".join(f"{c} = excluded.{c}" for c in updates)
    return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}"


def _python_rows(frame: pd.DataFrame) -> list[tuple]:
    # NaN/NA → None (NULL); numpy scalars → the Python scalars every driver accepts.
    columns = [frame[name].to_numpy(dtype=object, na_value=None).tolist() for name in frame.columns]
    return list(zip(*columns))


def upsert(conn: Connection, table: sa.Table, frame: pd.DataFrame, on_conflict: OnConflict = "update") -> int:
    """Insert ``frame`` (columns named like the table's) into ``table``; returns rows offered.

    With ``on_conflict="ignore"`` an existing row with the same key is kept as it is; with
    ``"update"`` its non-key columns take the new values. Runs inside the caller's transaction.
    """
    if frame.empty:
        return 0
    columns = list(frame.columns)
    keys = [c.name for c in table.primary_key.columns]
    # One row per key, as a row-by-row insert would leave it (PostgreSQL's ON CONFLICT DO UPDATE
    # refuses to touch the same row twice in one statement).
    frame = frame.drop_duplicates(subset=keys, keep="first" if on_conflict == "ignore" else "last")
    unknown = set(columns) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"columns not in {table.name}: {sorted(unknown)}")
    conflict = _conflict_clause(table, columns, on_conflict)
    if conn.dialect.name == "postgresql":
        _copy_upsert(conn, table, frame, columns, conflict)
    else:
        _executemany(conn, table, columns, _python_rows(frame), conflict)
    return len(frame)


def upsert_rows(conn: Connection, table: sa.Table, columns: list[str], rows: list[tuple]) -> int:
    """Insert or replace ``rows`` (tuples in the order of ``columns``, at most one per key) with
    one prepared statement on either database; for binary columns, which ``COPY … csv`` cannot
    carry, and for few rows. Runs inside the caller's transaction; returns the rows offered."""
    if rows:
        _executemany(conn, table, columns, rows, _conflict_clause(table, columns, "update"))
    return len(rows)


def _executemany(conn: Connection, table: sa.Table, columns: list[str], rows: list[tuple], conflict: str) -> None:
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    placeholders = ", ".join(placeholder for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders}) {conflict}", rows)


def _copy_upsert(conn: Connection, table: sa.Table, frame: pd.DataFrame, columns: list[str], conflict: str) -> None:
    staging = f"_staging_{table.name}"
    raw = conn.connection.driver_connection
    buffer = io.StringIO()
    # Booleans as t/f and integers without a decimal point, so COPY's csv reader accepts them.
    out = frame.copy()
    for name in columns:
        if out[name].dtype.kind == "b":
            out[name] = out[name].map({True: "t", False: "f"})
    out.to_csv(buffer, index=False, header=False, na_rep="", float_format="%.17g")
    with raw.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {staging}")
        with cursor.copy(f"COPY {staging} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        cursor.execute(
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {staging} {conflict}"
        )
        cursor.execute(f"TRUNCATE {staging}")
