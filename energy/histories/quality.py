"""Quality flags of interval energy and how they combine.

Every interval carries one flag:

- ``measured``: both boundaries were read from an energy counter close in time and nothing odd
  happened on the wire in between;
- ``estimated``: the energy is known but not measured as such: integrated from power readings,
  interpolated across a gap that a counter bridges, taken across a counter reset, or a reading
  inside it was rejected as implausible;
- ``missing``: the energy is unknown (``energy_kwh`` is NaN), never zero.

A sum or difference of series, and an aggregate over time, is as good as its worst part: any
missing part makes it missing, else any estimated part makes it estimated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURED, ESTIMATED, MISSING = "measured", "estimated", "missing"
QUALITIES = (MEASURED, ESTIMATED, MISSING)  # ordered best to worst: the code is the position
_CODE = {name: code for code, name in enumerate(QUALITIES)}


def codes(quality: pd.Series | np.ndarray) -> np.ndarray:
    """Quality names → int8 codes (0 measured, 1 estimated, 2 missing; unknown names → missing)."""
    flags = np.asarray(quality, dtype=object)
    code = np.full(len(flags), _CODE[MISSING], dtype="int8")
    code[flags == MEASURED] = _CODE[MEASURED]
    code[flags == ESTIMATED] = _CODE[ESTIMATED]
    return code


def names(code: np.ndarray) -> np.ndarray:
    """int8 codes → quality names (object array)."""
    return np.asarray(QUALITIES, dtype=object)[np.asarray(code, dtype="int8")]


def frame(index: pd.DatetimeIndex, energy_kwh: np.ndarray, code: np.ndarray) -> pd.DataFrame:
    """An interval frame; energy is forced to NaN wherever the code says missing."""
    code = np.asarray(code, dtype="int8")
    energy = np.where(code == 2, np.nan, np.asarray(energy_kwh, dtype=float))
    index = pd.DatetimeIndex(index, name="interval_start")
    return pd.DataFrame({"energy_kwh": energy, "quality": names(code)}, index=index)
