"""Meters → machines, virtual meters and the site total (pure functions on interval series).

- **Machines**: a machine's energy is the sum of the meters assigned to it in each interval.
  ``Meter.machine`` assigns a meter for all time; ``Meter.assignments`` assign it from
  ``valid_from`` (inclusive) to ``valid_to`` (exclusive), local times in the site's zone unless
  they carry an offset. An interval belongs to an assignment when its *start* does. An interval in
  which no meter is assigned to the machine is missing.
- **Virtual meters**: Σ ``add`` − Σ ``subtract`` of meter or machine series, e.g. ``unmetered =
  main − Σ sub-meters``.
- **Site total**: Σ of the ``role="main"`` meters; Σ of the machines when the site has none.

Every combination propagates quality: any missing part makes the interval missing, any estimated
part makes it estimated. So ``site = Σ machines + unmetered`` holds to rounding wherever all
three are known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy.config import Meter, SiteConfig
from energy.histories import quality
from energy.histories.series import combine, complete

SITE_ID = "site"


def _empty(index: pd.DatetimeIndex) -> pd.DataFrame:
    return quality.frame(index[:0], [], [])


def _instant(value, tz: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return (ts if ts.tzinfo else ts.tz_localize(tz, ambiguous="raise", nonexistent="raise")).tz_convert("UTC")


def assignments(config: SiteConfig) -> pd.DataFrame:
    """Meter → machine periods: columns ``meter``, ``machine``, ``valid_from``, ``valid_to`` (UTC, NaT = open)."""
    tz = config.site.timezone
    rows = []
    for meter in config.meters:
        if meter.machine:
            rows.append((meter.id, meter.machine, pd.NaT, pd.NaT))
        for item in meter.assignments:
            until = _instant(item.valid_to, tz) if item.valid_to else pd.NaT
            rows.append((meter.id, item.machine, _instant(item.valid_from, tz), until))
    frame = pd.DataFrame(rows, columns=["meter", "machine", "valid_from", "valid_to"])
    for name in ("valid_from", "valid_to"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def meter_rated_kw(config: SiteConfig, meter: Meter) -> float | None:
    """The plausibility limit of a meter: its own rating, else its machines' (largest) rating."""
    if meter.rated_kw is not None:
        return meter.rated_kw
    ratings = [config.machine(m).rated_kw for m in {meter.machine, *(a.machine for a in meter.assignments)} - {None}]
    return max(ratings) if ratings and None not in ratings else None


def machine_series(machine_id: str, meters: dict[str, pd.DataFrame], periods: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """One machine's intervals on ``index`` from its meters' series (see the module doc)."""
    energy = np.zeros(len(index))
    code = np.zeros(len(index), dtype="int8")
    covered = np.zeros(len(index), dtype=bool)
    for row in periods[periods["machine"] == machine_id].itertuples():
        during = np.ones(len(index), dtype=bool)
        if pd.notna(row.valid_from):
            during &= index >= row.valid_from
        if pd.notna(row.valid_to):
            during &= index < row.valid_to
        part = complete(meters.get(row.meter, _empty(index)), index)
        energy += np.where(during, part["energy_kwh"].to_numpy(), 0.0)
        code = np.maximum(code, np.where(during, quality.codes(part["quality"]), 0)).astype("int8")
        covered |= during
    code[~covered] = 2
    return quality.frame(index, energy, code)


def derived_series(config: SiteConfig, meters: dict[str, pd.DataFrame], index: pd.DatetimeIndex) -> dict[tuple[str, str], pd.DataFrame]:
    """Machine, virtual-meter and site series on ``index`` from the meters' series.

    Returns ``{(kind, series_id): frame}`` for every machine with a meter, every virtual meter and
    the site (``("site", "site")``).
    """
    periods = assignments(config)
    machines = {
        machine.id: machine_series(machine.id, meters, periods, index)
        for machine in config.machines
        if machine.id in set(periods["machine"])
    }
    out: dict[tuple[str, str], pd.DataFrame] = {("machine", k): v for k, v in machines.items()}

    def part(name: str) -> pd.DataFrame:
        # A virtual meter names meters or machines (config validation guarantees one of them).
        return machines.get(name, meters.get(name, _empty(index)))

    for virtual in config.virtual_meters:
        out[("virtual", virtual.id)] = combine(index, [part(n) for n in virtual.add], [part(n) for n in virtual.subtract])
    main = [meters.get(m.id, _empty(index)) for m in config.meters if m.role == "main"]
    out[("site", SITE_ID)] = combine(index, main or list(machines.values()))
    return out
