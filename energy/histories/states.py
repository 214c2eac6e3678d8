"""Machine states from measurements: off, idle (standby) or producing, learned per machine.

A machine's meter says how much it drew, not what it was doing. This module reads the machine's
state off its **own power distribution** (docs/histories.md, "Machine states and standby"):

**Levels** (:func:`learn_levels`), learned on the interval mean power of the trailing
:data:`LEARNING_WINDOW` before the period plus the period itself, so they follow the machine as
data grow:

- *off*: at most :data:`OFF_SHARE` of the machine's rating (else of its 99.5th power percentile),
  and at most half the configured ``idle_kw``: a switched-off machine's meter sees its control
  supply only;
- *idle*: standby is a steady draw, so it is a narrow, well-populated peak low on the histogram of
  log power. The samples above the off level are split in two by Otsu's threshold on log power
  (N. Otsu, "A threshold selection method from gray-level histograms", IEEE Trans. SMC 9(1), 1979:
  the split that maximises the between-class variance; deterministic, no initial guess, no
  dependency, and in log space a small standby peak is not swamped by production's wide range,
  which is why it is preferred here to k-means or a Gaussian mixture fitted by EM, both of which
  need a number of components and starting values and fit production's non-Gaussian spread
  badly). The standby level is the mode of the lower class. It is accepted when it is compact
  (at least :data:`IDLE_MIN_SHARE` of the lower class, and :data:`MIN_SAMPLES` samples, or
  :data:`MIN_CORROBORATED` where the configured ``idle_kw`` lies in it, within ±:data:`MIN_BAND`),
  the upper class lies clearly above it and it is at most :data:`IDLE_MAX_SHARE` of the rating. Otherwise the
  machine had one level when on: idle if it is the configured ``idle_kw`` (within the band),
  else production, and the machine never idled in the window;
- *producing*: above the top of the standby band, ``idle_kw × (1 + band)`` with ``band`` the
  larger of :data:`MIN_BAND` and :data:`BAND_SIGMAS` robust standard deviations of the standby
  samples (so a noisy standby widens it).

The configured ``idle_kw`` is a sanity check, not the answer: the data win when they show a
standby level, and a level more than :data:`CONFIG_FACTOR` times off the configured one is said
in :attr:`StateLevels.note`. With fewer than :data:`MIN_SAMPLES` intervals above the off level
the configured ``idle_kw`` is used as it is.

**States per interval** (:func:`classify_intervals`):

- where every minute of an interval holds a reading of the machine's meter(s) (1-minute or
  finer readings), each minute's power (its counter difference) is classified against the levels
  and the interval gets the minutes and energy of each state;
- otherwise from the interval's mean power ``P`` and its neighbours': at or below off, off; in
  the standby band, idle; below the band, part off and part idle (``idle_min = n × P /
  idle_kw``; an off interval next to standby holds its last minutes alike), except between an off
  interval and production, where it is a start-up (part off, part producing); above the band,
  producing. An interval more than :data:`PRODUCTION_DIP` below ``L``, the higher of its
  producing neighbours' powers (else the typical producing power), had a job start or end in
  it: ``producing_min = n × (P − R) / (L − R)``, the rest idle (``R`` the standby level) when the
  state on its quiet side is standby or it lies between two runs, else off (``R = 0``). A smaller
  dip is production's own variation (ramps, holds, load cycles), and the steady level right after
  an off interval is a start-up (a warm-up), both all producing. Energy follows the minutes; the
  states' energies always add up to the interval's ``energy_kwh``.

Start-up energy counts as producing: the meter cannot tell it from light production, and it is
not standby.

The dominant state of an interval is the one with the most minutes (ties: producing, then idle).
A missing interval has no state and no energies (NaN), never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.histories import quality
from energy.histories.api import _complete_period, history, site_settings
from energy.histories.intervals import meter_intervals
from energy.histories.series import CALENDAR_FREQS, check_zone, resample
from energy.histories.site import assignments, machine_series, meter_rated_kw
from energy.readings import load_readings

STATES = ("off", "idle", "producing")
#: Levels are learned on this much history before the period (plus the period).
LEARNING_WINDOW = pd.Timedelta(weeks=8)
#: The off level: at most this share of the rating (else of the 99.5th power percentile).
OFF_SHARE = 0.01
#: Narrowest standby band, ± this share of the standby level.
MIN_BAND = 0.25
#: The standby band is at least this many robust standard deviations of the standby samples.
BAND_SIGMAS = 4.0
#: A standby peak holds at least this share of the lower Otsu class.
IDLE_MIN_SHARE = 0.3
#: Standby above this share of the rating is not standby (it is a production level).
IDLE_MAX_SHARE = 0.3
#: A learned standby level this many times off the configured one is noted.
CONFIG_FACTOR = 2.0
#: Production power varies within a run (ramps, holds, cycles): an interval up to this much below
#: the higher of its producing neighbours is still all producing; further below, a partial one.
PRODUCTION_DIP = 0.25
#: Fewer samples above the off level than this: the configured levels are used. A standby peak
#: needs as many samples, or :data:`MIN_CORROBORATED` where the configured idle_kw lies in it.
MIN_SAMPLES = 8
MIN_CORROBORATED = 2
COLUMNS = ["state", "energy_kwh", "off_kwh", "idle_kwh", "producing_kwh", "idle_min", "producing_min", "quality"]
STANDBY_SPLITS = ("idle_in_shifts_kwh", "idle_outside_shifts_kwh", "idle_non_working_kwh")
_OFF, _BELOW, _IDLE, _ABOVE, _UNKNOWN = 0, 1, 2, 3, -1


@dataclass(frozen=True)
class StateLevels:
    """A machine's power levels (kW): at or below ``off_kw`` off, up to ``producing_kw`` idle,
    above it producing. ``idle_kw`` is the standby level (NaN: the machine did not idle),
    ``band`` its relative half-width, ``typical_producing_kw`` the median producing power (NaN:
    it did not produce). ``source``: ``measured`` (learned), ``configured`` (too few data: the
    site file's ``idle_kw``) or ``none``; ``note`` says where data and configuration disagree."""

    off_kw: float
    idle_kw: float
    producing_kw: float
    typical_producing_kw: float
    band: float = MIN_BAND
    source: str = "measured"
    note: str = ""

    @property
    def idle_low_kw(self) -> float:
        """The bottom of the standby band (kW); below it (and above off) an interval is part off."""
        return max(self.off_kw, self.idle_kw * (1.0 - self.band)) if np.isfinite(self.idle_kw) else self.off_kw


def _otsu(x: np.ndarray) -> float:
    """Otsu's threshold of ``x`` (Otsu 1979): the cut maximising the between-class variance."""
    hist, edges = np.histogram(x, bins=256)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)[:-1].astype(float)
    w1 = len(x) - w0
    m0 = np.cumsum(hist * centres)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        between = w0 * w1 * (m0 / w0 - (m0[-1] + hist[-1] * centres[-1] - m0) / w1) ** 2
    return float(edges[int(np.nanargmax(between)) + 1])


def _spread(samples_kw: np.ndarray, level_kw: float) -> float:
    """The band around ``level_kw`` its samples call for: ``BAND_SIGMAS`` robust (MAD) standard
    deviations of their log ratio to the level, at least ``MIN_BAND``."""
    near = samples_kw[np.abs(np.log(samples_kw / level_kw)) <= np.log(2.0)]
    if len(near) < MIN_SAMPLES:
        return MIN_BAND
    sigma = 1.4826 * float(np.median(np.abs(np.log(near / level_kw))))
    return max(MIN_BAND, BAND_SIGMAS * sigma)


def _configured(off_kw: float, idle_kw: float, on: np.ndarray, source: str, note: str) -> StateLevels:
    idle = idle_kw if idle_kw > 0 else np.nan
    threshold = idle * (1 + MIN_BAND) if idle_kw > 0 else off_kw
    typical = float(np.median(on[on > threshold])) if (on > threshold).any() else np.nan
    return StateLevels(off_kw, idle, threshold, typical, MIN_BAND, source, note)


def learn_levels(power_kw, idle_kw: float = 0.0, rated_kw: float | None = None) -> StateLevels:
    """A machine's off, standby and producing levels from samples of its power (kW; interval or
    minute means, NaN ignored), checked against its configured ``idle_kw`` and ``rated_kw`` (see
    the module doc for the method and what happens when data and configuration disagree)."""
    if idle_kw is None or not np.isfinite(idle_kw) or idle_kw < 0:
        raise InputError(f"idle_kw: {idle_kw!r} must be a power ≥ 0 kW")
    if rated_kw is not None and not rated_kw > 0:
        raise InputError(f"rated_kw: {rated_kw!r} must be a power > 0 kW")
    power = np.asarray(power_kw, dtype=float)
    power = np.clip(power[np.isfinite(power)], 0.0, None)
    scale = rated_kw or (float(np.quantile(power, 0.995)) if len(power) else 0.0)
    off_kw = OFF_SHARE * scale
    if idle_kw > 0:
        off_kw = min(off_kw, idle_kw / 2)
    on = power[power > off_kw]
    if len(on) < MIN_SAMPLES:
        return _configured(off_kw, idle_kw, on, "configured" if idle_kw > 0 else "none", f"{len(on)} samples above the off level: configured levels")
    x = np.log(on)
    if x.max() - x.min() > np.log(1 + MIN_BAND):
        cut = _otsu(x)
        lower, upper = on[x <= cut], on[x > cut]
        hist, edges = np.histogram(np.log(lower), bins=max(1, int(np.ceil((np.ptp(np.log(lower)) + 1e-9) / 0.02))))
        peak = np.exp((edges[int(hist.argmax())] + edges[int(hist.argmax()) + 1]) / 2)
        near = lower[np.abs(np.log(lower / peak)) <= np.log(1 + MIN_BAND)]
        level = float(np.median(near))
        band = _spread(on, level)
        corroborated = idle_kw > 0 and abs(np.log(level / idle_kw)) <= np.log(1 + MIN_BAND)
        idle_found = (
            len(near) >= (MIN_CORROBORATED if corroborated else MIN_SAMPLES)
            and len(near) >= IDLE_MIN_SHARE * len(lower)
            and np.median(upper) > level * (1 + band)
            and level <= IDLE_MAX_SHARE * scale
        )
    else:  # one level when on
        idle_found = False
    if not idle_found:
        single = float(np.median(on))
        if idle_kw > 0 and abs(np.log(single / idle_kw)) <= np.log(1 + MIN_BAND):
            return StateLevels(off_kw, single, np.inf, np.nan, _spread(on, single), "measured", "one level when on, the configured idle_kw: never producing")
        return StateLevels(off_kw, np.nan, off_kw, single, MIN_BAND, "measured", "one level when on, production: never idle")
    note = ""
    if idle_kw > 0 and abs(np.log(level / idle_kw)) > np.log(CONFIG_FACTOR):
        note = f"the measured standby level {level:.3g} kW is far from the configured idle_kw {idle_kw:g} kW: the measured one is used"
    threshold = level * (1 + band)
    above = on[on > threshold]
    return StateLevels(min(off_kw, level / 2), level, threshold, float(np.median(above)) if len(above) else np.nan, band, "measured", note)


def _level_class(power_kw: np.ndarray, levels: StateLevels) -> np.ndarray:
    """Per sample: off, below the standby band, idle, above it (producing) or unknown (NaN)."""
    cls = np.full(len(power_kw), _UNKNOWN, dtype="int8")
    known = np.isfinite(power_kw)
    cls[known & (power_kw <= levels.off_kw)] = _OFF
    cls[known & (power_kw > levels.off_kw) & (power_kw < levels.idle_low_kw)] = _BELOW
    cls[known & (power_kw >= levels.idle_low_kw) & (power_kw > levels.off_kw) & (power_kw <= levels.producing_kw)] = _IDLE
    cls[known & (power_kw > levels.producing_kw)] = _ABOVE
    return cls


def _neighbours(values: np.ndarray, fill) -> tuple[np.ndarray, np.ndarray]:
    before = np.concatenate([[fill], values[:-1]]) if len(values) else values
    after = np.concatenate([values[1:], [fill]]) if len(values) else values
    return before, after


def _split_by_power(power_kw: np.ndarray, levels: StateLevels, minutes: int) -> dict[str, np.ndarray]:
    """Minutes and kWh per state of intervals from their mean power and their neighbours' (the
    rules of the module doc)."""
    cls = _level_class(power_kw, levels)
    energy = power_kw * minutes / 60.0
    prev_cls, next_cls = _neighbours(cls, _UNKNOWN)
    prev_kw, next_kw = _neighbours(power_kw, np.nan)
    idle_kw = levels.idle_kw if np.isfinite(levels.idle_kw) else np.nan
    out = {f"{s}_{unit}": np.zeros(len(cls)) for s in STATES for unit in ("min", "kwh")}
    for code, state in ((_OFF, "off"), (_IDLE, "idle")):
        out[f"{state}_min"] += np.where(cls == code, minutes, 0.0)
        out[f"{state}_kwh"] += np.where(cls == code, energy, 0.0)
    # Below the standby band: part off, part idle; a start-up (off → this → production): part
    # producing. An off interval next to standby holds the standby's last (or first) minutes.
    startup = (cls == _BELOW) & (prev_cls == _OFF) & (next_cls == _ABOVE)
    with np.errstate(invalid="ignore", divide="ignore"):
        idle_share = np.clip(np.nan_to_num(power_kw / idle_kw), 0.0, 1.0)
        startup_share = np.clip(np.nan_to_num(power_kw / next_kw), 0.0, 1.0)
    by_standby = np.isin(prev_cls, (_IDLE, _BELOW)) | np.isin(next_cls, (_IDLE, _BELOW))
    sliver = (cls == _OFF) & by_standby & (idle_share * minutes >= 1.0)
    part_idle = ((cls == _BELOW) & ~startup) | sliver
    out["off_min"] -= np.where(sliver, minutes, 0.0)
    out["off_kwh"] -= np.where(sliver, energy, 0.0)
    out["idle_min"] += np.where(part_idle, minutes * idle_share, 0.0)
    out["idle_kwh"] += np.where(part_idle, energy, 0.0)
    out["producing_min"] += np.where(startup, minutes * startup_share, 0.0)
    out["producing_kwh"] += np.where(startup, energy, 0.0)
    out["off_min"] += np.where(part_idle, minutes * (1 - idle_share), np.where(startup, minutes * (1 - startup_share), 0.0))
    # Above the band: producing. Well below its producing neighbours (else the typical producing
    # power) it is also part idle or off: the state next to it on the quiet side. Not so a
    # start-up: the steady level that follows an off interval (a warm-up).
    above = cls == _ABOVE
    with np.errstate(invalid="ignore", divide="ignore"):
        steady = above & (prev_cls == _ABOVE) & (np.abs(np.log(power_kw / prev_kw)) <= -np.log(1 - PRODUCTION_DIP))
    chain_start = np.maximum.accumulate(np.where(steady, 0, np.arange(len(cls))))
    started = above & (prev_cls == _OFF)[chain_start]
    reference = np.fmax(np.where(prev_cls == _ABOVE, prev_kw, np.nan), np.where(next_cls == _ABOVE, next_kw, np.nan))
    reference = np.where(np.isfinite(reference), reference, levels.typical_producing_kw)
    split = above & ~started & (power_kw < (1 - PRODUCTION_DIP) * reference)
    holds_idle = (cls == _IDLE) | part_idle
    prev_idle, next_idle = _neighbours(holds_idle, False)
    prev_above, next_above = prev_cls == _ABOVE, next_cls == _ABOVE
    rest_idle = np.where(
        prev_above & next_above, True,  # a pause between runs
        np.where(next_above, prev_idle, np.where(prev_above, next_idle, prev_idle | next_idle)),
    ) & np.isfinite(levels.idle_kw)
    rest_kw = np.where(rest_idle, idle_kw, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        produced = np.clip(np.nan_to_num((power_kw - rest_kw) / (reference - rest_kw), nan=1.0), 0.0, 1.0)
    produced = np.where(split, produced, 1.0)
    rest_min = np.where(above, minutes * (1 - produced), 0.0)
    rest_kwh = rest_min / 60.0 * rest_kw
    out["producing_min"] += np.where(above, minutes * produced, 0.0)
    out["producing_kwh"] += np.where(above, energy - rest_kwh, 0.0)
    out["idle_min"] += np.where(above & rest_idle, rest_min, 0.0)
    out["idle_kwh"] += np.where(above & rest_idle, rest_kwh, 0.0)
    out["off_min"] += np.where(above & ~rest_idle, rest_min, 0.0)
    return out


def _split_by_minutes(minute_kwh: np.ndarray, levels: StateLevels, minutes: int) -> dict[str, np.ndarray]:
    """Minutes and kWh per state of intervals of ``minutes`` whole minutes (rows) from their
    minutes' energy (kWh, shape intervals × minutes)."""
    power = minute_kwh * 60.0
    cls = _level_class(power.ravel(), levels).reshape(power.shape)
    state = np.where(cls == _ABOVE, 2, np.where(cls == _OFF, 0, 1))  # below the band: idle
    out = {}
    for code, name in enumerate(STATES):
        out[f"{name}_min"] = (state == code).sum(axis=1).astype(float)
        out[f"{name}_kwh"] = np.where(state == code, minute_kwh, 0.0).sum(axis=1)
    return out


def classify_intervals(
    intervals: pd.DataFrame, levels: StateLevels, minutes: pd.DataFrame | None = None, interval_minutes: int | None = None
) -> pd.DataFrame:
    """Each interval's state, and its minutes and energy per state (module doc).

    ``intervals``: a complete interval series (``energy_kwh`` kWh, ``quality``), indexed by
    interval start; ``minutes``: optional 1-minute energy (``energy_kwh``, ``quality``; a minute
    without a reading of its own is ``missing``), used for every interval whose minutes are all
    known. Returns :data:`COLUMNS` (``state``, ``energy_kwh``, ``off_kwh``, ``idle_kwh``,
    ``producing_kwh`` in kWh, ``idle_min``, ``producing_min`` in minutes, ``quality``) on the
    same index; the state energies add up to ``energy_kwh``.
    """
    for name in ("energy_kwh", "quality"):
        if name not in intervals:
            raise InputError(f"intervals: missing column {name}")
    index = pd.DatetimeIndex(intervals.index)
    if interval_minutes is None:
        if len(index) < 2:
            raise InputError("interval_minutes: needed for a series of fewer than two intervals")
        interval_minutes = int((index[1] - index[0]) / pd.Timedelta(minutes=1))
    energy = intervals["energy_kwh"].to_numpy(dtype=float)
    code = quality.codes(intervals["quality"])
    known = (code < 2) & np.isfinite(energy)
    parts = _split_by_power(np.where(known, energy, np.nan) / (interval_minutes / 60.0), levels, interval_minutes)
    if minutes is not None and len(minutes) and len(index):
        per_minute = minutes["energy_kwh"].reindex(_minute_grid(index, interval_minutes))
        minute_code = pd.Series(quality.codes(minutes["quality"]), index=minutes.index).reindex(per_minute.index, fill_value=2)
        grid = per_minute.to_numpy(dtype=float).reshape(len(index), interval_minutes)
        dense = ((minute_code.to_numpy() < 2) & np.isfinite(per_minute.to_numpy())).reshape(grid.shape).all(axis=1) & known
        if dense.any():
            fine = _split_by_minutes(np.where(dense[:, None], grid, 0.0), levels, interval_minutes)
            total = sum(fine[f"{s}_kwh"] for s in STATES)
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = np.where(total > 0, energy / total, 1.0)  # the interval's energy is the record
            for name in parts:
                parts[name] = np.where(dense, fine[name] * (scale if name.endswith("_kwh") else 1.0), parts[name])
    order = ("producing", "idle", "off")  # ties go to the first
    dominant = np.asarray(order, dtype=object)[np.argmax(np.stack([parts[f"{s}_min"] for s in order]), axis=0)]
    frame = pd.DataFrame(
        {
            "state": np.where(known, dominant, None),
            "energy_kwh": np.where(known, energy, np.nan),
            **{f"{s}_kwh": np.where(known, parts[f"{s}_kwh"], np.nan) for s in STATES},
            **{f"{s}_min": np.where(known, parts[f"{s}_min"], np.nan) for s in ("idle", "producing")},
            "quality": quality.names(code),
        },
        index=index,
    )
    return frame[COLUMNS]


def _minute_grid(index: pd.DatetimeIndex, interval_minutes: int) -> pd.DatetimeIndex:
    offsets = pd.to_timedelta(np.tile(np.arange(interval_minutes), len(index)), unit="min")
    return pd.DatetimeIndex(index.tz_convert("UTC").repeat(interval_minutes) + offsets)


def _instant(value, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what}: {value!r} is not an instant") from exc
    if ts.tzinfo is None:
        raise InputError(f"{what}: {value!r} has no time zone (give an aware timestamp)")
    return ts.tz_convert("UTC")


def machine_minutes(engine: Engine, config: SiteConfig, machine_id: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The machine's 1-minute energy over ``[start, end)`` (UTC) from its meters' stored readings
    (counter differences, :func:`energy.histories.intervals.meter_intervals`; the meters assigned
    to it, :func:`energy.histories.site.machine_series`). A minute in which a meter has no reading
    of its own (e.g. 15-minute readings interpolated) is ``missing``."""
    index = pd.date_range(start, end, freq="1min", inclusive="left", name="interval_start")
    periods = assignments(config)
    meters = {}
    for meter in config.meters:
        if meter.id not in set(periods.loc[periods["machine"] == machine_id, "meter"]):
            continue
        readings = load_readings(engine, meter.id, start - pd.Timedelta(minutes=5), end + pd.Timedelta(minutes=5))
        if len(readings) < 2:
            continue
        series = meter_intervals(readings, 1, meter_rated_kw(config, meter), start, end)
        own = index.isin(pd.DatetimeIndex(readings["timestamp"]).floor("min"))
        meters[meter.id] = quality.frame(index, series["energy_kwh"].to_numpy(), np.where(own, quality.codes(series["quality"]), 2))
    return machine_series(machine_id, meters, periods, index)


def machine_states(engine: Engine, config: SiteConfig, machine_id: str, start, end) -> pd.DataFrame:
    """A machine's state per interval over ``[start, end)`` (aware instants, widened to whole
    intervals), from its stored intervals and, where they are dense enough, its meters' 1-minute
    readings (module doc). Indexed by UTC interval start; columns :data:`COLUMNS`. The levels used
    (:class:`StateLevels`, learned on the :data:`LEARNING_WINDOW` before ``start`` and the period)
    are in ``frame.attrs["levels"]``."""
    machine = config.machine(machine_id)
    start, end = _instant(start, "start"), _instant(end, "end")
    if end <= start:
        raise InputError(f"end: {end.isoformat()} is not after start {start.isoformat()}")
    interval_minutes = site_settings(engine)[1]
    step = pd.Timedelta(minutes=interval_minutes)
    start, end = start.floor(step), end.ceil(step)
    series = history(engine, "machine", machine_id, start - LEARNING_WINDOW, end, tz="UTC")
    hours = interval_minutes / 60.0
    known = series["quality"].to_numpy() != quality.MISSING
    levels = learn_levels(series["energy_kwh"].to_numpy()[known] / hours, machine.idle_kw, machine.rated_kw)
    minutes = machine_minutes(engine, config, machine_id, start, end)
    if np.isfinite(levels.idle_kw):  # a standby as noisy minute by minute as its band allows
        on = minutes["energy_kwh"].to_numpy() * 60.0
        on = on[np.isfinite(on) & (on > levels.off_kw)]
        band = max(levels.band, _spread(on, levels.idle_kw)) if len(on) else levels.band
        if band > levels.band and np.isfinite(levels.producing_kw):
            levels = replace(levels, band=band, producing_kw=levels.idle_kw * (1 + band))
    states = classify_intervals(series, levels, minutes, interval_minutes).loc[start:]
    states.attrs["levels"] = levels
    return states


def standby_split(states: pd.DataFrame, config: SiteConfig) -> pd.DataFrame:
    """Each interval's idle energy (kWh) by the site calendar: ``idle_in_shifts_kwh`` (in a
    ``[calendar] shifts`` window of a working day), ``idle_outside_shifts_kwh`` (the rest of a
    working day) and ``idle_non_working_kwh`` (Sundays, public holidays of the site's country
    and subdivision, shutdown days: :func:`energy.forecasts.calendar.calendar_features`).
    Saturdays are working days. Without configured shifts a working day is all shift time.
    An interval belongs to the day and shift of its start (local time)."""
    # The site calendar's one definition of days and shifts (imported here: energy.forecasts
    # loads statsmodels, which readers of histories alone should not wait for).
    from energy.forecasts.calendar import SUNDAY, calendar_features, calendar_from_config

    features = calendar_features(pd.DatetimeIndex(states.index), calendar_from_config(config))
    non_working = (features["day_type"] == SUNDAY).to_numpy()
    shifts = [c for c in features if c.startswith("shift_")]
    inside = features[shifts].to_numpy().any(axis=1) if shifts else np.ones(len(features), dtype=bool)
    inside &= ~non_working
    idle = states["idle_kwh"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "idle_in_shifts_kwh": np.where(inside, idle, 0.0),
            "idle_outside_shifts_kwh": np.where(~inside & ~non_working, idle, 0.0),
            "idle_non_working_kwh": np.where(non_working, idle, 0.0),
        },
        index=states.index,
    )


def idle_history(
    engine: Engine,
    config: SiteConfig,
    machine_id: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    freq: str = "1D",
    tz: str | None = None,
) -> pd.DataFrame:
    """A machine's standby energy per ``freq`` bucket: the energy of its idle state
    (:func:`machine_states`), at any time. Columns ``idle_kwh`` and its split
    :data:`STANDBY_SPLITS` (:func:`standby_split`), kWh; ``idle_hours`` (h in the idle state);
    ``idle_power_kw`` (kW, the mean standby level; NaN without idle hours); ``quality`` (a bucket
    with a missing interval is missing). Indexed by bucket start in ``tz`` (default the site's
    zone); the period (default: the stored span) is widened to whole calendar buckets."""
    config.machine(machine_id)  # an unknown machine is an InputError naming the known ones
    tz = check_zone(tz or config.site.timezone, "tz")
    interval_minutes = site_settings(engine)[1]
    calendar_freq = freq if freq in CALENDAR_FREQS else None
    grid = _complete_period(engine, "machine", machine_id, start, end, interval_minutes, calendar_freq, tz)
    columns = ["idle_kwh", *STANDBY_SPLITS, "idle_hours", "idle_power_kw", "quality"]
    if grid.empty:
        return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], tz=tz))
    states = machine_states(engine, config, machine_id, grid.index[0], grid.index[-1] + pd.Timedelta(minutes=interval_minutes))
    code = quality.codes(states["quality"])
    parts = standby_split(states, config).assign(idle_kwh=states["idle_kwh"], idle_hours=states["idle_min"] / 60.0)
    totals = {name: resample(quality.frame(states.index, parts[name].to_numpy(), code), freq, tz) for name in columns[:-2]}
    out = pd.DataFrame({name: frame["energy_kwh"] for name, frame in totals.items()})
    with np.errstate(invalid="ignore", divide="ignore"):
        out["idle_power_kw"] = np.where(out["idle_hours"] > 0, out["idle_kwh"] / out["idle_hours"], np.nan)
    out["quality"] = totals["idle_kwh"]["quality"]
    return out[columns]
