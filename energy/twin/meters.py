"""What the plant's meters record: counters that integrate the twin's power exactly.

A meter's import counter at any minute boundary is its start value plus the integral of the
power it sees (kWh), so the energy between two readings is exactly the energy drawn in between;
its power reading is the mean power of the minute before the reading. Exported energy (net
power below zero, e.g. PV surplus at the grid connection) does not advance the import counter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy.readings import COLUMNS


def import_counter_kwh(power_kw: np.ndarray, start_kwh: float) -> np.ndarray:
    """The import counter at every minute boundary (one more value than ``power_kw`` has minutes)."""
    return start_kwh + np.concatenate([[0.0], np.cumsum(np.clip(power_kw, 0.0, None)) / 60.0])


def counter_readings(meter: str, power_kw: np.ndarray, counter_kwh: np.ndarray, start: pd.Timestamp, minutes: np.ndarray) -> pd.DataFrame:
    """Readings (the exchange columns ``timestamp, meter, energy_kwh, power_kw``) at the minute
    boundaries ``minutes`` after ``start`` (UTC)."""
    before = np.clip(minutes - 1, 0, len(power_kw) - 1)
    return pd.DataFrame(
        {
            COLUMNS[0]: start + pd.to_timedelta(minutes, unit="min"),
            COLUMNS[1]: meter,
            COLUMNS[2]: counter_kwh[minutes],
            COLUMNS[3]: power_kw[before],
        }
    )
