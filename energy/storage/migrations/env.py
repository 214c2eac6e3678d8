"""Alembic environment: runs on the Engine handed in by ``energy.storage.db.upgrade``."""

from alembic import context

from energy.storage.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    from energy.storage.db import connect

    engine = connect(config.get_main_option("sqlalchemy.url") or None)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
