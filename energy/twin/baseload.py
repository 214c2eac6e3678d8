"""The plant's non-flexible base load: a real plant's load, put on the site's own clock.

The shipped steel-plant year (UCI data set 851, ``data/demo/ATTRIBUTION.md``) was measured on
Korean local time. A plant's working pattern follows its local clock, so the twin reads the
file's **wall-clock** times and uses them as the site's wall-clock times: 08:00 in Gwangyang
becomes 08:00 in the site's zone, weekdays kept (the year is repeated by whole 52-week blocks).
Daylight-saving changes are the site's: on the spring-forward day the skipped local hour's load
never happens, on the fall-back day the repeated local hour's load happens twice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from energy.histories.imports import STEEL_FILE_OPTIONS, read_steel_csv

BLOCK = pd.Timedelta(weeks=52)
STEP = pd.Timedelta(minutes=15)


def steel_wall_clock_kw(path: str | Path) -> tuple[np.ndarray, pd.Timestamp]:
    """The file's mean power per 15 minutes (kW) over its first 52 weeks and the wall-clock
    start (naive) of its first interval."""
    steel = read_steel_csv(path)
    wall = steel.index.tz_convert(STEEL_FILE_OPTIONS["tz"]).tz_localize(None)
    kw = steel["energy_kwh"].to_numpy(dtype=float) / (STEP / pd.Timedelta(hours=1))
    count = int(BLOCK / STEP)
    if len(kw) < count or (wall[count - 1] - wall[0]) != BLOCK - STEP:
        raise ValueError(f"{path}: expected 52 weeks of regular 15-minute intervals")
    return kw[:count], wall[0]


def on_site_clock_kw(levels_kw: np.ndarray, first_wall: pd.Timestamp, instants: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """The load at ``instants`` (tz-aware) when the series' wall-clock times are the site's.

    ``levels_kw``: one value per 15 minutes of 52 weeks from the naive wall-clock ``first_wall``.
    """
    wall = instants.tz_convert(timezone).tz_localize(None)
    into_block = (wall - first_wall) % BLOCK
    return levels_kw[(into_block // STEP).to_numpy().astype(np.int64)]
