"""Carbon intensity per planning slot: the ``co2_g_per_kwh`` of the schedule problem.

The optimiser weighs each slot's import by a carbon intensity (schedule-problem.md). For moving
load, the marginal rate is the right signal where a marginal source covers the day; otherwise the
grid-average (location-based) factor is used. The method and sources used are returned so the
plan can state them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from energy.emissions.intensity import factor_per_interval, interval_length
from energy.emissions.sources import FactorSource, of_methods
from energy.errors import InputError


@dataclass(frozen=True)
class SlotIntensity:
    """``g_per_kwh`` per slot (indexed by UTC slot start), the method and the source ids used."""

    g_per_kwh: pd.Series
    method: str
    source_ids: list[str]


def slot_intensity(
    sources: Sequence[FactorSource],
    slots: pd.DatetimeIndex,
    *,
    resolution: pd.Timedelta | None = None,
    methods: Sequence[str] = ("marginal", "location"),
) -> SlotIntensity:
    """The first of ``methods`` whose sources give a factor for every slot.

    Raises :class:`InputError` naming the first slot without a factor when none does.
    """
    slots = pd.DatetimeIndex(slots).tz_convert("UTC")
    step = interval_length(slots, resolution)
    gaps = []
    for method in methods:
        chosen = of_methods(sources, method)
        if not chosen:
            continue
        factors = factor_per_interval(chosen, slots, step)
        absent = factors["g_per_kwh"].isna()
        if not absent.any():
            series = factors["g_per_kwh"].rename("co2_g_per_kwh")
            series.index.name = "slot_start"
            return SlotIntensity(series, method, sorted(set(factors["source_id"])))
        gaps.append(f"{method}: none for {slots[absent.to_numpy()][0].isoformat()} ({int(absent.sum())} slot(s))")
    detail = "; ".join(gaps) if gaps else f"no {' or '.join(methods)} factor sources configured"
    raise InputError(f"carbon intensity for {slots[0].isoformat()}…: {detail}")
