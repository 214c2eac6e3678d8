"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 08:17:46.798738
"""

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('emission_sources',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('valid_from_ms', sa.BigInteger(), nullable=True),
    sa.Column('valid_to_ms', sa.BigInteger(), nullable=True),
    sa.Column('constant_g_per_kwh', sa.Float(), nullable=True),
    sa.Column('file', sa.Text(), nullable=True),
    sa.Column('column_name', sa.Text(), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('loaded_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emission_sources'))
    )
    op.create_table('emission_instruments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mwh', sa.Float(), nullable=False),
    sa.Column('valid_from_ms', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_ms', sa.BigInteger(), nullable=False),
    sa.Column('g_per_kwh', sa.Float(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emission_instruments'))
    )
    op.create_table('forecast_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('series_id', sa.String(length=64), nullable=False),
    sa.Column('target_start_ms', sa.BigInteger(), nullable=False),
    sa.Column('target_end_ms', sa.BigInteger(), nullable=False),
    sa.Column('issued_ms', sa.BigInteger(), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.Column('mase', sa.Float(), nullable=True),
    sa.Column('backtest_json', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_runs')),
    sa.UniqueConstraint('kind', 'series_id', 'target_start_ms', 'issued_ms', name=op.f('uq_forecast_runs_kind'))
    )
    op.create_table('intervals',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('series_id', sa.String(length=64), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('energy_kwh', sa.Float(), nullable=True),
    sa.Column('quality', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'series_id', 'start_ms', name=op.f('pk_intervals'))
    )
    op.create_table('meter_assignments',
    sa.Column('meter_id', sa.String(length=64), nullable=False),
    sa.Column('valid_from_ms', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_ms', sa.BigInteger(), nullable=True),
    sa.Column('machine_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'valid_from_ms', name=op.f('pk_meter_assignments'))
    )
    op.create_table('meter_health',
    sa.Column('meter_id', sa.String(length=64), nullable=False),
    sa.Column('last_attempt_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_good_ms', sa.BigInteger(), nullable=True),
    sa.Column('ok_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('error_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('consecutive_errors', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_meter_health'))
    )
    op.create_table('plan_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('plan_date', sa.String(length=10), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('inputs_json', sa.Text(), nullable=False),
    sa.Column('problem_json', sa.Text(), nullable=False),
    sa.Column('schedule_json', sa.Text(), nullable=False),
    sa.Column('baseline_json', sa.Text(), nullable=True),
    sa.Column('savings_json', sa.Text(), nullable=True),
    sa.Column('solver_json', sa.Text(), nullable=True),
    sa.Column('versions_json', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_runs'))
    )
    with op.batch_alter_table('plan_runs', schema=None) as batch_op:
        batch_op.create_index('ix_plan_runs_site_date', ['site_id', 'plan_date'], unique=False)

    op.create_table('prices',
    sa.Column('tariff_id', sa.String(length=64), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('import_per_kwh', sa.Float(), nullable=False),
    sa.Column('export_per_kwh', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('tariff_id', 'start_ms', name=op.f('pk_prices'))
    )
    op.create_table('processing_state',
    sa.Column('meter_id', sa.String(length=64), nullable=False),
    sa.Column('processed_to_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_processing_state'))
    )
    op.create_table('readings',
    sa.Column('meter_id', sa.String(length=64), nullable=False),
    sa.Column('epoch_ms', sa.BigInteger(), nullable=False),
    sa.Column('energy_kwh', sa.Float(), nullable=True),
    sa.Column('power_kw', sa.Float(), nullable=True),
    sa.Column('quality', sa.String(length=16), server_default='ok', nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'epoch_ms', name=op.f('pk_readings'))
    )
    op.create_table('sites',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('config_json', sa.Text(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites'))
    )
    op.create_table('tariffs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('source_format', sa.String(length=16), nullable=False),
    sa.Column('body_json', sa.Text(), nullable=False),
    sa.Column('loaded_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariffs'))
    )
    op.create_table('emission_factors',
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('g_per_kwh', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['emission_sources.id'], name=op.f('fk_emission_factors_source_id_emission_sources')),
    sa.PrimaryKeyConstraint('source_id', 'start_ms', name=op.f('pk_emission_factors'))
    )
    op.create_table('forecasts',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('power_kw', sa.Float(), nullable=False),
    sa.Column('lo80_kw', sa.Float(), nullable=True),
    sa.Column('hi80_kw', sa.Float(), nullable=True),
    sa.Column('lo95_kw', sa.Float(), nullable=True),
    sa.Column('hi95_kw', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['forecast_runs.id'], name=op.f('fk_forecasts_run_id_forecast_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'start_ms', name=op.f('pk_forecasts'))
    )
    op.create_table('machines',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('idle_kw', sa.Float(), nullable=False),
    sa.Column('rated_kw', sa.Float(), nullable=True),
    sa.Column('flexible', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_machines_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machines'))
    )
    op.create_table('meters',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('machine_id', sa.String(length=64), nullable=True),
    sa.Column('connection_json', sa.Text(), nullable=False),
    sa.Column('poll_seconds', sa.Float(), nullable=False),
    sa.Column('rated_kw', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_meters_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters'))
    )
    op.create_table('plan_jobs',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('machine_id', sa.String(length=64), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('planned_machine_id', sa.String(length=64), nullable=True),
    sa.Column('planned_start_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['plan_runs.id'], name=op.f('fk_plan_jobs_run_id_plan_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'job_id', name=op.f('pk_plan_jobs'))
    )
    op.create_table('realised_savings',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('computed_ms', sa.BigInteger(), nullable=False),
    sa.Column('actual_cost', sa.Float(), nullable=False),
    sa.Column('baseline_cost', sa.Float(), nullable=False),
    sa.Column('savings_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['plan_runs.id'], name=op.f('fk_realised_savings_run_id_plan_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_realised_savings'))
    )


def downgrade() -> None:
    op.drop_table('realised_savings')
    op.drop_table('plan_jobs')
    op.drop_table('meters')
    op.drop_table('machines')
    op.drop_table('forecasts')
    op.drop_table('emission_factors')
    op.drop_table('tariffs')
    op.drop_table('sites')
    op.drop_table('readings')
    op.drop_table('processing_state')
    op.drop_table('prices')
    with op.batch_alter_table('plan_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_runs_site_date')

    op.drop_table('plan_runs')
    op.drop_table('meter_health')
    op.drop_table('meter_assignments')
    op.drop_table('intervals')
    op.drop_table('forecast_runs')
    op.drop_table('emission_instruments')
    op.drop_table('emission_sources')
