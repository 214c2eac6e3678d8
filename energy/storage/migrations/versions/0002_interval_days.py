"""interval days: each series' intervals per UTC day as packed arrays, for fast reads

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interval_days',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('series_id', sa.String(length=64), nullable=False),
    sa.Column('day_ms', sa.BigInteger(), nullable=False),
    sa.Column('offsets_ms', sa.LargeBinary(), nullable=False),
    sa.Column('energy_kwh', sa.LargeBinary(), nullable=False),
    sa.Column('quality_codes', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'series_id', 'day_ms', name=op.f('pk_interval_days'))
    )
    # Fill it from the intervals already stored, with the function that keeps it up to date.
    from energy.histories.store import rebuild_interval_days

    conn = op.get_bind()
    for kind, series_id in conn.execute(sa.text("SELECT DISTINCT kind, series_id FROM intervals")).fetchall():
        rebuild_interval_days(conn, kind, series_id)


def downgrade() -> None:
    op.drop_table('interval_days')
