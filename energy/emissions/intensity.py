"""Factors per interval: the step functions of factor sources laid onto load intervals.

An interval inside one factor row takes that row's value exactly (an hourly factor applies to
each of its four 15-minute intervals). An interval spanning several rows (hourly load with
15-minute factors) takes their time-weighted mean. An interval not fully covered by the
sources gets NaN: missing factors are reported, never taken as zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from energy.emissions.sources import FactorSource
from energy.errors import InputError


def interval_length(index: pd.DatetimeIndex, interval: pd.Timedelta | None = None) -> pd.Timedelta:
    """The intervals' length: given, or the smallest step between the (sorted) starts."""
    if interval is not None:
        return pd.Timedelta(interval)
    if len(index) < 2:
        raise InputError("cannot tell the interval length of fewer than two intervals; pass interval=")
    return pd.Timedelta(int(np.diff(index.as_unit("ns").asi8).min()), "ns")


def check_load(energy_kwh: pd.Series, what: str = "energy_kwh") -> pd.DatetimeIndex:
    """The load's index, checked: tz-aware, sorted, unique starts; no negative energy."""
    index = energy_kwh.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InputError(f"{what}: the index must be tz-aware interval starts (UTC)")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise InputError(f"{what}: interval starts must be sorted and unique")
    negative = energy_kwh < 0
    if negative.any():
        first = index[negative.to_numpy()][0]
        raise InputError(
            f"{what}: {first.isoformat()}: {energy_kwh[first]} kWh < 0; scope 2 counts grid import only "
            "(pass the import, e.g. net.clip(lower=0))"
        )
    return index.tz_convert("UTC")


def factor_per_interval(
    sources: Sequence[FactorSource], starts: pd.DatetimeIndex, interval: pd.Timedelta
) -> pd.DataFrame:
    """``g_per_kwh`` and ``source_id`` (the source valid at the interval's start) per interval.

    ``sources`` must not overlap in time (one method's sources; see ``check_no_overlap``).
    Where the sources do not cover a whole interval both are missing (NaN / None).
    """
    starts = pd.DatetimeIndex(starts).tz_convert("UTC")
    out = pd.DataFrame({"g_per_kwh": np.nan, "source_id": None}, index=starts)
    if len(starts) == 0 or not sources:
        return out
    first, last = starts[0], starts[-1] + interval
    parts = []
    for source in sources:
        rows = source.rows_between(first, last)
        if len(rows):
            parts.append(rows.assign(source_id=source.id))
    if not parts:
        return out
    rows = pd.concat(parts, ignore_index=True).sort_values("start", kind="stable")
    row_start = rows["start"].to_numpy("datetime64[ns]").astype("int64")
    row_end = rows["end"].to_numpy("datetime64[ns]").astype("int64")
    values = rows["g_per_kwh"].to_numpy(float)
    ids = rows["source_id"].to_numpy(object)
    s = starts.as_unit("ns").asi8
    e = s + interval.value

    at = np.searchsorted(row_start, s, side="right") - 1
    found = at >= 0
    at_safe = np.where(found, at, 0)
    starts_in_row = found & (s < row_end[at_safe])
    inside = starts_in_row & (e <= row_end[at_safe])
    g = np.where(inside, values[at_safe], np.nan)

    spanning = ~inside
    if spanning.any():
        g[spanning] = _time_weighted_mean(row_start, row_end, values, s[spanning], e[spanning])
    out["g_per_kwh"] = g
    out["source_id"] = np.where(starts_in_row & ~np.isnan(g), ids[at_safe], None)
    return out


def _time_weighted_mean(row_start, row_end, values, s, e) -> np.ndarray:
    """Mean of the step function over each [s, e), NaN where it is not defined throughout."""
    # Cumulative integrals of the factor and of coverage at every row boundary; both are
    # piecewise linear in time, so np.interp evaluates them exactly at any instant.
    points = np.column_stack([row_start, row_end]).ravel().astype(float)
    lengths = (row_end - row_start).astype(float)
    # Nothing accrues from a row's end to the next row's start: gaps stay flat.
    integral = np.cumsum(np.column_stack([np.zeros_like(lengths), lengths * values]).ravel())
    covered = np.cumsum(np.column_stack([np.zeros_like(lengths), lengths]).ravel())
    sf, ef = s.astype(float), e.astype(float)
    cover = np.interp(ef, points, covered) - np.interp(sf, points, covered)
    total = np.interp(ef, points, integral) - np.interp(sf, points, integral)
    full = cover >= (ef - sf) - 0.5
    return np.where(full, total / np.where(cover > 0, cover, 1.0), np.nan)


def missing_factor_error(what: str, starts: pd.DatetimeIndex, method: str, sources: Sequence[FactorSource]) -> InputError:
    """One error naming the first uncovered interval, how many there are, and what was searched."""
    known = ", ".join(s.id for s in sources) or "none configured"
    return InputError(
        f"{what}: no {method} emission factor for {starts[0].isoformat()} ({len(starts)} interval(s) without one; "
        f"{method} sources: {known})"
    )
