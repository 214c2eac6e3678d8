"""One meter's raw readings → interval energy with quality flags (pure functions).

Intervals are aligned to multiples of the interval length since the Unix epoch (so 15-minute
intervals start at :00, :15, :30, :45 in UTC and in every zone whose offset is a whole number of
quarter hours) and labelled by their start.

**Counters** (``energy_kwh``, a cumulative import register). The meter's counter, corrected for
resets and rollovers, is a piecewise-linear function of time through its readings; an interval's
energy is that function's rise from its start to its end (linear interpolation at boundaries
that fall between readings). Step by step, between consecutive readings:

- *spike*: a reading, or a run of up to three, that breaks the counter's monotony while the
  readings around it agree with each other (``prev ≤ next`` but every reading of the run is
  above ``next`` or below ``prev``) is dropped; the interval it fell in becomes ``estimated``
  (the counter still gives its energy);
- *rollover*: a fall where a fixed register width ``W`` (2¹⁶, 2³², 2⁴⁸ or 2⁶⁴ counts of 1, 10,
  100 Wh or 1 kWh, or 10⁴…10⁹ kWh for decimal registers) makes the wrapped increment
  ``W − prev + next`` plausible (within the rating limit, or under 1 % of ``W`` without a
  rating): the increment is the wrapped one and the step counts as measured;
- *reset*: any other fall: the counter restarted from zero, the step's energy is the new reading
  and the intervals it touches are ``estimated``;
- *implausible*: a rise above the rating limit ``rated_kw × max(step, 1 min)`` (the minute
  allows for the counter's resolution on short steps): its energy is left out and every interval
  it touches is ``missing``;
- *gap*: a step longer than ``bracket_s`` (default 60 s) whose span includes an interval
  boundary: the counter bridges it, the energy is spread linearly over its intervals, which are
  ``estimated``. A long step inside one interval does not matter (both boundaries are still read
  exactly) and utility-style readings exactly on the boundaries are ``measured``.

**Power** (``power_kw``) is integrated with the trapezoidal rule where the meter has no counter
readings (or where its counter leaves an interval ``missing``): always ``estimated``. Readings
above ``rated_kw`` are dropped; a step longer than ``max_power_step_s`` (default: one interval)
is a gap without data and the intervals it touches are ``missing``.

An interval outside the span of the readings is ``missing``. The default grid runs from the
interval holding the first reading to the last boundary reached by the readings, so only
complete intervals are produced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy.histories import quality
from energy.timeutil import from_epoch_ms, to_epoch_ms, timestamp_to_ms

MS_PER_HOUR = 3_600_000
BRACKET_S = 60.0
PLAUSIBILITY_FLOOR_MS = 60_000
SPIKE_READINGS = 3  # longest run of garbled counter readings recognised as a spike
ROLLOVER_WIDTHS_KWH = np.array(
    sorted(
        {float(2**bits) * scale for bits in (16, 32, 48, 64) for scale in (0.001, 0.01, 0.1, 1.0)}
        | {10.0**digits for digits in range(4, 10)}
    )
)

# Step states: 0 exact, 1 estimated, 2 unknown energy (matching the quality codes).
_EXACT, _ESTIMATED, _UNKNOWN = 0, 1, 2


def _step_limit_kwh(dt_ms: np.ndarray, rated_kw: float | None) -> np.ndarray:
    if rated_kw is None:
        return np.full(dt_ms.shape, np.inf)
    return rated_kw * np.maximum(dt_ms, PLAUSIBILITY_FLOOR_MS) / MS_PER_HOUR


def _spikes(energy: np.ndarray, longest: int = SPIKE_READINGS) -> np.ndarray:
    """Runs of up to ``longest`` readings whose removal restores the counter's monotony (see module doc)."""
    count = len(energy)
    spike = np.zeros(count, dtype=bool)
    for run in range(1, longest + 1):
        starts = count - run - 1  # candidate runs: readings i+1 … i+run between i and i+run+1
        if starts <= 0:
            break
        prev, nxt = energy[:starts], energy[run + 1:]
        hit = nxt >= prev
        for j in range(1, run + 1):
            this = energy[j:starts + j]
            hit &= (this > nxt) | (this < prev)
        for j in range(1, run + 1):
            spike[j:starts + j] |= hit
    return spike


def _rollover_width(prev: float, this: float, limit: float) -> float | None:
    for width in ROLLOVER_WIDTHS_KWH[ROLLOVER_WIDTHS_KWH > prev]:
        wrapped = width - prev + this
        tolerance = limit if np.isfinite(limit) else 0.01 * width
        if 0 <= wrapped <= tolerance:
            return float(width)
    return None


def counter_steps(t_ms: np.ndarray, energy_kwh: np.ndarray, rated_kw: float | None = None, bracket_s: float = BRACKET_S):
    """Corrected counter: ``(t_ms, cumulative_kwh, step_state, step_spans)`` of the kept readings.

    ``step_state[k]`` is the state of the step from reading k to k+1: 0 exact, 1 estimated,
    2 unknown. ``step_spans[k]`` says whether the step must be interpolated across a boundary
    to count (only gaps have this set: their state applies only when they span a boundary).
    """
    spike = _spikes(energy_kwh)
    dropped_before = np.cumsum(spike)[~spike]
    t, e = t_ms[~spike], energy_kwh[~spike]
    dt = np.diff(t)
    rise = np.diff(e)
    limit = _step_limit_kwh(dt, rated_kw)
    correction = np.zeros(rise.shape)
    state = np.full(rise.shape, _EXACT, dtype="int8")
    for k in np.flatnonzero(rise < 0):
        width = _rollover_width(e[k], e[k + 1], limit[k])
        if width is not None:
            correction[k] = width
        elif 0 <= e[k + 1] <= limit[k]:
            correction[k] = e[k]  # reset: the step's energy is the new reading
            state[k] = _ESTIMATED
        else:
            correction[k] = -rise[k]
            state[k] = _UNKNOWN
    implausible = rise > limit
    correction[implausible] = -rise[implausible]
    state[implausible] = _UNKNOWN
    # A rejected spike inside a step: the energy still comes from the counter, but not as read.
    state[(np.diff(dropped_before) > 0) & (state == _EXACT)] = _ESTIMATED
    gap = (dt > bracket_s * 1000) & (state == _EXACT)
    cumulative = e + np.concatenate([[0.0], np.cumsum(correction)])
    return t, cumulative, np.where(gap, _ESTIMATED, state).astype("int8"), gap


def power_steps(t_ms: np.ndarray, power_kw: np.ndarray, rated_kw: float | None = None, max_step_ms: float = 900_000):
    """Integrated power: ``(t_ms, cumulative_kwh, step_state, step_spans)`` like :func:`counter_steps`."""
    keep = np.ones(power_kw.shape, dtype=bool) if rated_kw is None else power_kw <= rated_kw
    t, p = t_ms[keep], power_kw[keep]
    dt = np.diff(t)
    rise = (p[:-1] + p[1:]) / 2 * dt / MS_PER_HOUR
    state = np.where(dt > max_step_ms, _UNKNOWN, _ESTIMATED).astype("int8")
    rise = np.where(state == _UNKNOWN, 0.0, rise)
    cumulative = np.concatenate([[0.0], np.cumsum(rise)])
    return t, cumulative, state, np.zeros(dt.shape, dtype=bool)


def integrate(t_ms, cumulative_kwh, step_state, step_spans, grid_start_ms: int, count: int, interval_ms: int):
    """Energy (kWh) and quality code of ``count`` intervals from ``grid_start_ms``.

    The inputs are what :func:`counter_steps` or :func:`power_steps` return.
    """
    if len(t_ms) < 2:
        return np.full(count, np.nan), np.full(count, _UNKNOWN, dtype="int8")
    bounds = grid_start_ms + interval_ms * np.arange(count + 1, dtype="int64")
    energy = np.diff(np.interp(bounds, t_ms, cumulative_kwh))
    code = np.where((bounds[:-1] < t_ms[0]) | (bounds[1:] > t_ms[-1]), _UNKNOWN, _EXACT).astype("int8")
    flagged = np.flatnonzero(step_state > _EXACT)
    first = (t_ms[flagged] - grid_start_ms) // interval_ms
    last = -((grid_start_ms - t_ms[flagged + 1]) // interval_ms)  # ceil: exclusive end
    matters = ~step_spans[flagged] | (last - first >= 2)
    for level in (_ESTIMATED, _UNKNOWN):
        pick = matters & (step_state[flagged] == level)
        marks = np.zeros(count + 1, dtype="int64")
        np.add.at(marks, np.clip(first[pick], 0, count), 1)
        np.add.at(marks, np.clip(last[pick], 0, count), -1)
        touched = np.cumsum(marks[:-1]) > 0
        code[touched] = np.maximum(code[touched], level)
    return energy, code


def meter_intervals(
    readings: pd.DataFrame,
    interval_minutes: int = 15,
    rated_kw: float | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    bracket_s: float = BRACKET_S,
    max_power_step_s: float | None = None,
) -> pd.DataFrame:
    """Interval energy of one meter from its readings.

    ``readings``: columns ``timestamp`` (tz-aware), ``energy_kwh`` (cumulative import counter,
    kWh) and/or ``power_kw`` (kW); NaN where a reading lacks the value. ``rated_kw``: above it a
    reading is implausible. ``start``/``end`` (inclusive/exclusive, aligned to the grid) fix the
    intervals produced; by default the complete intervals the readings cover.

    Returns a frame indexed by interval start (UTC) with ``energy_kwh`` (kWh, NaN when missing)
    and ``quality``. See the module doc for the rules.
    """
    interval_ms = interval_minutes * 60_000
    t_read = to_epoch_ms(readings["timestamp"])
    order = np.argsort(t_read, kind="stable")
    t_all = t_read[order]
    unique = np.concatenate([[True], np.diff(t_all) > 0]) if len(t_all) else np.zeros(0, dtype=bool)
    t_all = t_all[unique]

    def column(name: str) -> np.ndarray:
        if name not in readings:
            return np.full(t_all.shape, np.nan)
        return readings[name].to_numpy(dtype=float)[order][unique]

    counter, power = column("energy_kwh"), column("power_kw")
    if start is not None:
        grid_start = timestamp_to_ms(start) // interval_ms * interval_ms
    else:
        grid_start = int(t_all[0]) // interval_ms * interval_ms if len(t_all) else 0
    if end is not None:
        grid_end = -(-timestamp_to_ms(end) // interval_ms) * interval_ms
    else:
        grid_end = int(t_all[-1]) // interval_ms * interval_ms if len(t_all) else 0
    count = max(0, (grid_end - grid_start) // interval_ms)

    has_counter = np.isfinite(counter)
    energy, code = np.full(count, np.nan), np.full(count, _UNKNOWN, dtype="int8")
    if has_counter.sum() >= 2:
        steps = counter_steps(t_all[has_counter], counter[has_counter], rated_kw, bracket_s)
        energy, code = integrate(*steps, grid_start, count, interval_ms)
    has_power = np.isfinite(power)
    if (code == _UNKNOWN).any() and has_power.sum() >= 2:
        max_step = interval_ms if max_power_step_s is None else max_power_step_s * 1000
        from_power, power_code = integrate(
            *power_steps(t_all[has_power], power[has_power], rated_kw, max_step), grid_start, count, interval_ms
        )
        fill = (code == _UNKNOWN) & (power_code < _UNKNOWN)
        energy = np.where(fill, from_power, energy)
        code = np.where(fill, _ESTIMATED, code).astype("int8")
    index = from_epoch_ms(grid_start + interval_ms * np.arange(count, dtype="int64"))
    return quality.frame(index, energy, code)
