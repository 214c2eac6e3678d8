"""What the benchmark scripts share: scratch databases and the shared steel-plant series.

Scripts run as ``python bench/<name>.py`` import this module from beside them.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from energy import storage

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The shared steel-plant year (Asia/Seoul, 15-minute kWh), see /work/shared/data/SOURCES.md.
STEEL_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "load" / "steel_industry_2018_15min.csv"


@contextlib.contextmanager
def scratch_sqlite() -> Iterator[str]:
    """The URL of a SQLite file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextlib.contextmanager
def scratch_postgresql(pg_url: str = LOCAL_PG) -> Iterator[str]:
    """The URL of a new database on the server at ``pg_url``, dropped afterwards."""
    name = f"energy_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield pg_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()


@contextlib.contextmanager
def scratch_site(db_url: str | None) -> Iterator[tuple[Path, sa.Engine]]:
    """(a temporary folder, an upgraded engine): on ``db_url`` (an empty database) or, when it is
    None, on SQLite in the folder. The folder is removed afterwards."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        engine = storage.connect(db_url or f"sqlite:///{folder / 'energy.db'}")
        storage.upgrade(engine)
        try:
            yield folder, engine
        finally:
            engine.dispose()
