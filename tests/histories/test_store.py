"""Reading stored intervals back as arrays: energy, NULLs, quality codes and absent intervals."""

import numpy as np
import pandas as pd

from energy.histories.store import load_interval_arrays, load_intervals, store_intervals


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
