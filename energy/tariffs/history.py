"""Bills and billing-period peaks from the stored interval history (storage at the edge).

The site series (``kind="site", series_id="site"``) is the net grid energy per interval that
``energy.histories`` stores; any other stored series can be billed the same way.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine

from energy.errors import InputError
from energy.histories.store import load_intervals
from energy.tariffs.bill import Bills, bill
from energy.tariffs.calendar import locate, period_bounds
from energy.tariffs.model import Tariff
from energy.tariffs.prices import interval_length, measured_peaks, peaks_so_far_kw, planning_prices

SITE_KIND, SITE_SERIES = "site", "site"


def history_start(tariff: Tariff, before: pd.Timestamp) -> pd.Timestamp:
    """How far back the peaks so far need history: the billing period's start, or the start of
    the longest lookback ratchet's first month."""
    code = int(locate(tariff, pd.DatetimeIndex([before]).tz_convert("UTC")).period_code[0])
    reach = max([c.ratchet.months for c in tariff.demand_charges if c.ratchet] + [0])
    return period_bounds(tariff, code - reach)[0]


def stored_peaks_so_far_kw(engine: Engine, tariff: Tariff, before: pd.Timestamp) -> dict[str, float]:
    """:func:`peaks_so_far_kw` from the stored site series (``kind="site", series_id="site"``:
    net grid energy per interval)."""
    frame = load_intervals(engine, SITE_KIND, SITE_SERIES, history_start(tariff, before), before)
    return peaks_so_far_kw(tariff, frame["energy_kwh"], before)


def planning_inputs(engine: Engine, tariff: Tariff, slots: pd.DatetimeIndex) -> pd.DataFrame:
    """:func:`planning_prices` with the peaks so far read from the stored site history."""
    slots = pd.DatetimeIndex(slots).tz_convert("UTC")
    return planning_prices(tariff, slots, stored_peaks_so_far_kw(engine, tariff, slots[0]))


def stored_bill(
    engine: Engine,
    tariff: Tariff,
    start: pd.Timestamp,
    end: pd.Timestamp,
    kind: str = SITE_KIND,
    series_id: str = SITE_SERIES,
) -> Bills:
    """The bills of a stored series from ``start`` to ``end`` (tz-aware; whole billing periods
    are what a utility bills, partial ones are marked incomplete). Lookback ratchets see the
    stored peaks before ``start``. A missing interval is an error naming it."""
    frame = load_intervals(engine, kind, series_id, start, end)
    if frame.empty:
        raise InputError(f"no stored intervals for {kind} {series_id!r} from {start.isoformat()} to {end.isoformat()}")
    energy = frame["energy_kwh"].rename(series_id)
    prior = None
    if any(c.ratchet for c in tariff.demand_charges):
        before = load_intervals(engine, kind, series_id, history_start(tariff, start), start)["energy_kwh"].dropna()
        if len(before):
            prior = measured_peaks(tariff, before.rename(series_id))
    return bill(tariff, energy, interval_length(energy.index, tariff), prior)
