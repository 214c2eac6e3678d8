"""Storage at the edge: SQLAlchemy Core on SQLite (embedded default) or PostgreSQL.

Modules: ``db`` (engines, migrations), ``schema`` (tables), ``bulk`` (fast idempotent writes),
``readings`` (raw meter readings), ``site`` (the configured site, meters and machines).
"""

from energy.storage.db import DatabaseUnreachableError, connect, database_url, require_schema, upgrade

__all__ = ["DatabaseUnreachableError", "connect", "database_url", "require_schema", "upgrade"]
