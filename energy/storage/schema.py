"""The database schema (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Conventions:
- every instant is a BIGINT of UTC epoch milliseconds named ``*_ms`` (see ``energy.timeutil``);
- intervals are labelled by their start;
- natural primary keys (meter + instant, series + interval start, …) make every write idempotent;
- JSON documents (problems, schedules, tariffs) are stored as text, so both databases agree
  byte for byte.

The migrations in ``energy/storage/migrations`` must produce exactly this schema; a test
compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 64  # length of identifiers (meters, machines, jobs…)

sites = Table(
    "sites",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("interval_minutes", Integer, nullable=False),
    Column("config_json", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

machines = Table(
    "machines",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("site_id", String(ID), ForeignKey("sites.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("idle_kw", Float, nullable=False),
    Column("rated_kw", Float),
    Column("flexible", Boolean, nullable=False),
)

meters = Table(
    "meters",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("site_id", String(ID), ForeignKey("sites.id"), nullable=False),
    Column("model", String(ID), nullable=False),
    Column("role", String(16), nullable=False),
    Column("machine_id", String(ID)),
    Column("connection_json", Text, nullable=False),
    Column("poll_seconds", Float, nullable=False),
    Column("rated_kw", Float),
)

meter_assignments = Table(
    "meter_assignments",
    metadata,
    Column("meter_id", String(ID), primary_key=True),
    Column("valid_from_ms", BigInteger, primary_key=True),
    Column("valid_to_ms", BigInteger),
    Column("machine_id", String(ID), nullable=False),
)

readings = Table(
    "readings",
    metadata,
    Column("meter_id", String(ID), primary_key=True),
    Column("epoch_ms", BigInteger, primary_key=True),
    Column("energy_kwh", Float),
    Column("power_kw", Float),
    Column("quality", String(16), nullable=False, server_default="ok"),
)

meter_health = Table(
    "meter_health",
    metadata,
    Column("meter_id", String(ID), primary_key=True),
    Column("last_attempt_ms", BigInteger),
    Column("last_good_ms", BigInteger),
    Column("ok_count", BigInteger, nullable=False, server_default="0"),
    Column("error_count", BigInteger, nullable=False, server_default="0"),
    Column("consecutive_errors", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("last_error_ms", BigInteger),
)

# Interval energy of every series: kind is meter, machine, virtual or site.
intervals = Table(
    "intervals",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("series_id", String(ID), primary_key=True),
    Column("start_ms", BigInteger, primary_key=True),
    Column("energy_kwh", Float),
    Column("quality", String(16), nullable=False),
)

# The same intervals again, one row per series and UTC day, as packed arrays: the layout readers
# load (a year of 50 machines in ~0.15 s, where one Python object per row and column costs ~1.5 s).
# Derived only: energy.histories.store rebuilds a day's row from ``intervals`` in the transaction
# that writes any of the day's intervals.
interval_days = Table(
    "interval_days",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("series_id", String(ID), primary_key=True),
    Column("day_ms", BigInteger, primary_key=True),  # start of the UTC day, epoch ms
    Column("offsets_ms", LargeBinary, nullable=False),  # int32 little-endian: interval start − day_ms
    Column("energy_kwh", LargeBinary, nullable=False),  # float64 little-endian, NaN where NULL
    Column("quality_codes", LargeBinary, nullable=False),  # int8: energy.histories.quality codes
)

# How far each meter's readings have been turned into intervals (for incremental processing).
processing_state = Table(
    "processing_state",
    metadata,
    Column("meter_id", String(ID), primary_key=True),
    Column("processed_to_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

forecast_runs = Table(
    "forecast_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("series_id", String(ID), nullable=False),
    Column("target_start_ms", BigInteger, nullable=False),
    Column("target_end_ms", BigInteger, nullable=False),
    Column("issued_ms", BigInteger, nullable=False),
    Column("model", String(64), nullable=False),
    Column("mase", Float),
    Column("backtest_json", Text, nullable=False),
    UniqueConstraint("kind", "series_id", "target_start_ms", "issued_ms"),
)

forecasts = Table(
    "forecasts",
    metadata,
    Column("run_id", Integer, ForeignKey("forecast_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("start_ms", BigInteger, primary_key=True),
    Column("power_kw", Float, nullable=False),
    Column("lo80_kw", Float),
    Column("hi80_kw", Float),
    Column("lo95_kw", Float),
    Column("hi95_kw", Float),
)

tariffs = Table(
    "tariffs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("source_format", String(16), nullable=False),
    Column("body_json", Text, nullable=False),
    Column("loaded_ms", BigInteger, nullable=False),
)

# Dynamic prices (e.g. day-ahead market) per tariff and slot.
prices = Table(
    "prices",
    metadata,
    Column("tariff_id", String(ID), primary_key=True),
    Column("start_ms", BigInteger, primary_key=True),
    Column("import_per_kwh", Float, nullable=False),
    Column("export_per_kwh", Float),
)

emission_sources = Table(
    "emission_sources",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("method", String(16), nullable=False),
    Column("source", Text, nullable=False),
    Column("valid_from_ms", BigInteger),
    Column("valid_to_ms", BigInteger),
    Column("constant_g_per_kwh", Float),
    Column("file", Text),  # as configured, with the column read and the file's SHA-256 (its version)
    Column("column_name", Text),
    Column("file_sha256", String(64)),
    Column("loaded_ms", BigInteger),
    Column("vintage", Integer),  # the calendar year the data describe (quality checks)
    Column("gases", String(8)),  # co2 | co2e, NULL when not stated
)

emission_factors = Table(
    "emission_factors",
    metadata,
    Column("source_id", String(ID), ForeignKey("emission_sources.id"), primary_key=True),
    Column("start_ms", BigInteger, primary_key=True),
    Column("end_ms", BigInteger, nullable=False),
    Column("g_per_kwh", Float, nullable=False),
)

# Contractual instruments for market-based scope 2 (guarantees of origin, RECs, PPAs…).
emission_instruments = Table(
    "emission_instruments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("mwh", Float, nullable=False),
    Column("valid_from_ms", BigInteger, nullable=False),
    Column("valid_to_ms", BigInteger, nullable=False),
    Column("g_per_kwh", Float, nullable=False),
    Column("source", Text, nullable=False),
    # What the scope 2 quality checks read (energy.emissions.quality); NULL when not stated.
    Column("vintage", Integer),
    Column("gases", String(8)),
    Column("country", String(2)),
    Column("registry_id", Text),
    Column("device", Text),
    Column("cancelled_ms", BigInteger),  # local midnight of the cancellation date
)

plan_runs = Table(
    "plan_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(ID), nullable=False),
    Column("plan_date", String(10), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("inputs_json", Text, nullable=False),
    Column("problem_json", Text, nullable=False),
    Column("schedule_json", Text, nullable=False),
    Column("baseline_json", Text),
    Column("savings_json", Text),
    Column("solver_json", Text),
    Column("versions_json", Text),
    Index("ix_plan_runs_site_date", "site_id", "plan_date"),
)

plan_jobs = Table(
    "plan_jobs",
    metadata,
    Column("run_id", Integer, ForeignKey("plan_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("job_id", String(ID), primary_key=True),
    Column("machine_id", String(ID), nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),
    Column("planned_machine_id", String(ID)),
    Column("planned_start_ms", BigInteger),
)

realised_savings = Table(
    "realised_savings",
    metadata,
    Column("run_id", Integer, ForeignKey("plan_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("computed_ms", BigInteger, nullable=False),
    Column("actual_cost", Float, nullable=False),
    Column("baseline_cost", Float, nullable=False),
    Column("savings_json", Text, nullable=False),
)
