"""Engines and migrations: the embedded SQLite default or a PostgreSQL server.

``connect(url)`` gives an Engine; ``upgrade(engine)`` brings its schema to the newest migration
(alembic). The URL comes from ``--db``, else ``ENERGY_DB_URL``, else ``sqlite:///energy.db``.
``postgresql://`` URLs use the psycopg 3 driver.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError

from energy.errors import InputError

DEFAULT_URL = "sqlite:///energy.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(url: str | None = None) -> str:
    """The URL to use: the one given, else ``ENERGY_DB_URL``, else the SQLite default."""
    url = url or os.environ.get("ENERGY_DB_URL") or DEFAULT_URL
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain):]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the dashboard read while the collector writes; NORMAL sync is durable in WAL mode
    # against application crashes, which is what the collector's spool relies on.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def connect(url: str | None = None) -> Engine:
    """An Engine for ``url`` (see :func:`database_url`)."""
    url = database_url(url)
    try:
        engine = sa.create_engine(url, future=True)
    except ArgumentError as exc:
        raise InputError(f"--db: {url!r} is not a database URL (e.g. sqlite:///energy.db or postgresql://user@host/db)") from exc
    except ModuleNotFoundError as exc:
        raise InputError(f"--db: no driver for {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), "head")
    except sa.exc.OperationalError as exc:
        raise InputError(f"database {engine.url.render_as_string(hide_password=True)}: cannot reach it: {exc.orig}") from exc


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class DatabaseUnreachableError(InputError):
    """The database does not answer (down, wrong host, refused): the operator can act on it."""


def require_schema(engine: Engine) -> None:
    """Fail clearly when the database is unreachable or has not been initialised."""
    try:
        revision = schema_revision(engine)
    except sa.exc.OperationalError as exc:
        raise DatabaseUnreachableError(f"database {engine.url.render_as_string(hide_password=True)}: cannot reach it: {exc.orig}") from exc
    if revision is None:
        raise InputError(
            f"database {engine.url.render_as_string(hide_password=True)} has no schema: run 'energy init --config SITE.toml' first"
        )
