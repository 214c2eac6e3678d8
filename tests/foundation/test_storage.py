"""Storage on SQLite and PostgreSQL: migrations, idempotent bulk writes, read-back."""

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from energy import readings, storage
from energy.config import load_config
from energy.histories.store import load_intervals, store_intervals
from energy.storage import bulk, schema
from energy.storage.site import store_site

from tests.foundation.test_config import EXAMPLE


def test_migrations_produce_exactly_the_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema.metadata)
    assert diff == []
    assert storage.db.schema_revision(engine) is not None


def test_upgrade_twice_is_harmless(engine):
    storage.upgrade(engine)
    assert set(schema.metadata.tables) <= set(sa.inspect(engine).get_table_names())


def _readings(n: int, meter: str = "m1") -> pd.DataFrame:
    times = pd.date_range("2024-03-31T00:00:00Z", periods=n, freq="1s")
    return pd.DataFrame(
        {"timestamp": times, "meter": meter, "energy_kwh": np.linspace(100, 101, n), "power_kw": np.full(n, 3.6)}
    )


def test_storing_the_same_readings_twice_keeps_one_row(engine):
    frame = _readings(500)
    readings.store_readings(engine, frame)
    changed = frame.assign(power_kw=99.0)  # a re-sent reading never overwrites the stored one
    readings.store_readings(engine, changed)
    back = readings.load_readings(engine, "m1")
    assert len(back) == 500
    assert (back["power_kw"] == 3.6).all()
    pd.testing.assert_series_equal(back["timestamp"], frame["timestamp"].astype(back["timestamp"].dtype), check_names=False)


def test_missing_values_are_null_not_zero(engine):
    frame = _readings(3)
    frame.loc[1, "energy_kwh"] = np.nan
    frame.loc[2, "power_kw"] = np.nan
    readings.store_readings(engine, frame)
    back = readings.load_readings(engine, "m1")
    assert np.isnan(back.loc[1, "energy_kwh"]) and np.isnan(back.loc[2, "power_kw"])
    with engine.connect() as conn:
        nulls = conn.execute(sa.select(sa.func.count()).where(schema.readings.c.energy_kwh.is_(None))).scalar()
    assert nulls == 1


def test_load_readings_filters_by_meter_and_half_open_period(engine):
    readings.store_readings(engine, pd.concat([_readings(10, "a"), _readings(10, "b")]))
    start = pd.Timestamp("2024-03-31T00:00:02Z")
    back = readings.load_readings(engine, "b", start, start + pd.Timedelta(seconds=5))
    assert list(back["meter"].unique()) == ["b"]
    assert back["timestamp"].iloc[0] == start and len(back) == 5


def test_upsert_update_replaces_non_key_columns_and_dedups_within_a_batch(engine):
    rows = pd.DataFrame({"tariff_id": ["t", "t", "t"], "start_ms": [0, 0, 900_000], "import_per_kwh": [0.1, 0.2, 0.3]})
    with engine.begin() as conn:
        bulk.upsert(conn, schema.prices, rows)  # the later duplicate wins, as row-by-row would
        bulk.upsert(conn, schema.prices, rows.iloc[[2]].assign(import_per_kwh=0.35))
    with engine.connect() as conn:
        stored = conn.execute(sa.select(schema.prices.c.start_ms, schema.prices.c.import_per_kwh).order_by("start_ms")).fetchall()
    assert [tuple(r) for r in stored] == [(0, 0.2), (900_000, 0.35)]


def test_intervals_round_trip_with_missing(engine):
    index = pd.date_range("2024-10-27T00:00:00Z", periods=8, freq="15min")
    frame = pd.DataFrame(
        {"energy_kwh": [1.5, 2.0, np.nan, 0.0, 4.25, 5.0, 6.0, 7.0], "quality": ["measured", "measured", "missing", "measured", "estimated", "measured", "measured", "measured"]},
        index=index,
    )
    store_intervals(engine, "machine", "press", frame)
    store_intervals(engine, "machine", "press", frame)
    back = load_intervals(engine, "machine", "press")
    assert len(back) == 8
    pd.testing.assert_frame_equal(back, frame, check_names=False, check_freq=False, check_index_type=False)
    assert back.index.tz is not None


def test_store_site_is_idempotent(engine):
    config = load_config(EXAMPLE)
    store_site(engine, config)
    store_site(engine, config)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.sites)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.meters)).scalar() == len(config.meters)
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.machines)).scalar() == len(config.machines)
