"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

Storage tests take the ``engine`` fixture and run once per database. PostgreSQL is reached
through ``ENERGY_TEST_PG_URL`` (``.ci/run`` exports it, e.g. postgresql://postgres@127.0.0.1:5432/postgres);
each test gets its own freshly created database there. Outside CI, a missing or unreachable
server skips those tests with the reason; under CI (``CI=true``) it fails them instead.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from energy import storage

PG_URL = os.environ.get("ENERGY_TEST_PG_URL")


def _pg_admin_engine():
    if not PG_URL:
        reason = "ENERGY_TEST_PG_URL is not set (.ci/run sets it)"
    else:
        engine = storage.connect(PG_URL)
        try:
            with engine.connect():
                return engine
        except sa.exc.OperationalError as exc:
            reason = f"PostgreSQL at {PG_URL} unreachable: {exc.orig}"
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_url():
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    admin = _pg_admin_engine()
    name = f"energy_test_{uuid.uuid4().hex[:12]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    admin.dispose()
    with storage.connect(PG_URL).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'energy.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """An empty database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'energy.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url):
    """A migrated (empty) database, once for SQLite and once for PostgreSQL."""
    engine = storage.connect(db_url)
    storage.upgrade(engine)
    yield engine
    engine.dispose()

