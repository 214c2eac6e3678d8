"""Fixtures of the dashboard tests: one seeded SQLite site shared by the page and browser tests."""

from __future__ import annotations

import uuid

import pytest

from energy import storage
from tests.ui import seed


@pytest.fixture(scope="session")
def seeded_url(tmp_path_factory):
    """URL of a SQLite database holding the seeded site (three days up to now, two plans)."""
    folder = tmp_path_factory.mktemp("seeded_site")
    url, engine = seed.sqlite_database(folder)
    seed.seed_site(engine, folder)
    engine.dispose()
    return url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded(request, tmp_path_factory):
    """(engine, site) of the seeded site on SQLite (the shared one) and on PostgreSQL.

    Tests using it must leave it as they found it (the page and browser tests share the SQLite one).
    """
    from energy import dashboard
    from tests.conftest import _pg_admin_engine

    admin = name = None
    if request.param == "sqlite":
        engine = storage.connect(request.getfixturevalue("seeded_url"))
    else:
        admin = _pg_admin_engine()
        name = f"energy_test_{uuid.uuid4().hex[:12]}"
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        engine = storage.connect(admin.url.set(database=name).render_as_string(hide_password=False))
        storage.upgrade(engine)
        seed.seed_site(engine, tmp_path_factory.mktemp("seeded_postgresql"))
    yield engine, dashboard.load_site(engine)
    engine.dispose()
    if admin is not None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
