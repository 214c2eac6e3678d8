"""emission quality: vintage and gases of factor sources; vintage, gases, country, registry id,
device and cancellation of instruments (the scope 2 quality checks)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('emission_sources') as batch:
        batch.add_column(sa.Column('vintage', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('gases', sa.String(length=8), nullable=True))
    with op.batch_alter_table('emission_instruments') as batch:
        batch.add_column(sa.Column('vintage', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('gases', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch.add_column(sa.Column('registry_id', sa.Text(), nullable=True))
        batch.add_column(sa.Column('device', sa.Text(), nullable=True))
        batch.add_column(sa.Column('cancelled_ms', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('emission_instruments') as batch:
        for column in ('cancelled_ms', 'device', 'registry_id', 'country', 'gases', 'vintage'):
            batch.drop_column(column)
    with op.batch_alter_table('emission_sources') as batch:
        for column in ('gases', 'vintage'):
            batch.drop_column(column)
