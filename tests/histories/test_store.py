"""Reading stored intervals back as arrays: energy, NULLs, quality codes and absent intervals."""

import threading

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from energy import storage
from energy.histories import quality
from energy.histories.store import load_interval_arrays, load_intervals, store_intervals, store_series
from energy.storage import bulk, schema
from energy.timeutil import to_epoch_ms


def seed_series(engine) -> pd.DatetimeIndex:
    index = pd.date_range("2024-03-30 22:00", periods=12, freq="15min", tz="UTC")
    frame = pd.DataFrame({
        "energy_kwh": [1.5, 2.0, np.nan, 0.25, 3.0, 1e-9, 7.0, np.nan, 2.5, 1.0, 0.0, 4.0],
        "quality": ["measured", "estimated", "missing", "measured", "estimated", "measured",
                    "measured", "missing", "measured", "measured", "measured", "estimated"],
    }, index=index)
    store_intervals(engine, "machine", "press", frame.drop(index[5]))  # one interval never stored
    return index


def test_arrays_carry_every_value_flag_and_gap_of_the_period(engine):
    index = seed_series(engine)
    arrays = load_interval_arrays(engine, "machine", "press", index[1], index[-1])
    assert arrays.start_ms.dtype == np.int64 and arrays.energy_kwh.dtype == float and arrays.code.dtype == np.int8
    assert list(arrays.code) == [1, 2, 0, 1, 0, 2, 0, 0, 0]  # index[5] absent, the end exclusive
    assert np.isnan(arrays.energy_kwh[[1, 5]]).all() and arrays.energy_kwh[0] == 2.0
    frame = load_intervals(engine, "machine", "press", index[1], index[-1])
    np.testing.assert_array_equal(frame.index.as_unit("ms").asi8, arrays.start_ms)
    assert list(frame["quality"]) == ["estimated", "missing", "measured", "estimated", "measured", "missing",
                                      "measured", "measured", "measured"]
    # Re-storing a period replaces it, and the next read sees it.
    store_intervals(engine, "machine", "press", pd.DataFrame({"energy_kwh": [9.0], "quality": ["estimated"]}, index=index[2:3]))
    assert load_interval_arrays(engine, "machine", "press", index[2], index[3]).code.tolist() == [1]


def test_an_empty_period_reads_as_empty_arrays(engine):
    index = seed_series(engine)
    empty = load_interval_arrays(engine, "machine", "press", index[-1] + pd.Timedelta(days=1))
    assert empty.start_ms.size == empty.energy_kwh.size == empty.code.size == 0
    assert load_interval_arrays(engine, "machine", "nothing").start_ms.size == 0


def _row_table(engine, kind: str, series_id: str) -> tuple[list, list, list]:
    """The series as stored row by row in ``intervals`` (what the day layout must reproduce)."""
    table = schema.intervals
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.start_ms, table.c.energy_kwh, table.c.quality)
            .where(table.c.kind == kind, table.c.series_id == series_id).order_by(table.c.start_ms)
        ).fetchall()
    return [r[0] for r in rows], [np.nan if r[1] is None else r[1] for r in rows], [quality.QUALITIES.index(r[2]) for r in rows]


def _random_frame(rng, start: str, periods: int) -> pd.DataFrame:
    index = pd.date_range(start, periods=periods, freq="15min", tz="UTC")
    keep = rng.random(periods) > 0.1  # some intervals never stored
    energy = np.where(rng.random(periods) < 0.1, np.nan, rng.uniform(0, 40, periods))
    names = rng.choice(quality.QUALITIES, periods)
    return pd.DataFrame({"energy_kwh": energy, "quality": names}, index=index)[keep]


def test_day_layout_reads_exactly_the_stored_rows_after_overlapping_rewrites(engine):
    rng = np.random.default_rng(3)
    # Several series in one call, then re-writes that overlap day boundaries, and a day far away.
    store_series(engine, {("machine", "a"): _random_frame(rng, "2024-10-26 20:00", 300),
                          ("machine", "b"): _random_frame(rng, "2024-10-27 00:00", 96)})
    store_intervals(engine, "machine", "a", _random_frame(rng, "2024-10-27 23:00", 30))
    store_intervals(engine, "machine", "a", _random_frame(rng, "2025-02-01 12:00", 10))
    store_intervals(engine, "machine", "b", _random_frame(rng, "2024-10-26 23:45", 3))
    for series_id in ("a", "b"):
        starts, energy, codes = _row_table(engine, "machine", series_id)
        arrays = load_interval_arrays(engine, "machine", series_id)
        assert arrays.start_ms.tolist() == starts and arrays.code.tolist() == codes
        np.testing.assert_array_equal(arrays.energy_kwh, energy)  # NaN where NULL, bit for bit otherwise
        for first, end in (("2024-10-27 13:07", "2024-10-28 00:00"), ("2024-10-26 23:45", "2025-02-01 12:30")):
            part = load_interval_arrays(engine, "machine", series_id, pd.Timestamp(first, tz="UTC"), pd.Timestamp(end, tz="UTC"))
            inside = [i for i, s in enumerate(starts) if to_epoch_ms(pd.DatetimeIndex([first], tz="UTC"))[0] <= s
                      < to_epoch_ms(pd.DatetimeIndex([end], tz="UTC"))[0]]
            assert part.start_ms.tolist() == [starts[i] for i in inside]
            np.testing.assert_array_equal(part.energy_kwh, [energy[i] for i in inside])
    arrays.energy_kwh[0] = 1.0  # the caller's arrays are its own


def test_upgrading_a_database_fills_the_day_layout_from_its_intervals(db_url):
    from alembic import command

    engine = storage.connect(db_url)
    command.upgrade(storage.db._alembic_config(engine), "0001")  # before the day layout existed
    frame = _random_frame(np.random.default_rng(5), "2024-03-30 22:00", 200)
    with engine.begin() as conn:
        bulk.upsert(conn, schema.intervals, pd.DataFrame({
            "kind": "site", "series_id": "site", "start_ms": to_epoch_ms(frame.index),
            "energy_kwh": frame["energy_kwh"], "quality": frame["quality"]}))
    storage.upgrade(engine)
    starts, energy, codes = _row_table(engine, "site", "site")
    arrays = load_interval_arrays(engine, "site", "site")
    assert len(starts) == len(frame) and arrays.start_ms.tolist() == starts and arrays.code.tolist() == codes
    np.testing.assert_array_equal(arrays.energy_kwh, energy)
    engine.dispose()


@pytest.mark.postgres
def test_concurrent_writers_of_one_day_both_reach_its_day_row(pg_url):
    engine = storage.connect(pg_url)
    storage.upgrade(engine)
    index = pd.date_range("2024-05-01", periods=8, freq="15min", tz="UTC")
    first = pd.DataFrame({"energy_kwh": 1.0, "quality": "measured"}, index=index[:4])
    second = pd.DataFrame({"energy_kwh": 2.0, "quality": "measured"}, index=index[4:])
    with engine.connect() as conn:
        transaction = conn.begin()
        store_intervals(conn, "machine", "press", first)  # not committed yet
        writer = threading.Thread(target=store_intervals, args=(engine, "machine", "press", second))
        writer.start()
        writer.join(1.0)  # it waits for the first writer's series lock
        transaction.commit()
    writer.join(10.0)
    assert load_interval_arrays(engine, "machine", "press").energy_kwh.tolist() == [1.0] * 4 + [2.0] * 4
    engine.dispose()
