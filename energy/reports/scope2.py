"""Scope 2 of the site and its consumers, dual reporting (GHG Protocol Scope 2 Guidance, 2015).

The factors, instruments and both methods are :mod:`energy.emissions`' (location-based: grid
import × grid-average factor; market-based: contractual instruments first, in time order from
their ``valid_from``, then supplier, residual mix, else the grid average, disclosed as
``grid_average``). This module adds what a report needs around them:

- **Grid flows** per interval: with a main meter the site series is the net grid flow, so
  import = max(site, 0), export = max(−site, 0) and consumption = site + PV generation; without
  one the site series is Σ machines (consumption) and the grid flow is consumption − PV.
- **Attribution to consumers**: each interval's grid import and its emissions are shared among
  the consumers in proportion to their energy (PV-supplied energy carries no scope 2
  emissions); "other" is the site's consumption minus the known machine energy, so the
  consumers add up to the site exactly, for both methods.
- **Contributions**: which source or instrument valued how much grid import in each interval,
  the reconciliation of both methods with their inputs.
- **Quality**: the checks of :mod:`energy.emissions.quality` on those contributions (vintage,
  market boundary, evidence, gases, instrument coverage per month).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy.emissions import allocate_instruments, location_based, market_based, quality
from energy.emissions.sources import FactorSource, Instrument


@dataclass(frozen=True)
class GridFlows:
    """Per-interval energy flows of the site (kWh; NaN where unknown)."""

    consumption_kwh: np.ndarray
    import_kwh: np.ndarray
    export_kwh: np.ndarray
    pv_kwh: np.ndarray
    known: np.ndarray  # the flows of the interval are known (no missing part)


def grid_flows(site_kwh: np.ndarray, site_known: np.ndarray, pv_kwh: np.ndarray, pv_known: np.ndarray, has_main_meter: bool) -> GridFlows:
    """Consumption, grid import and export from the site series and PV generation (module doc)."""
    known = site_known & pv_known
    pv = np.where(known, np.clip(np.nan_to_num(pv_kwh), 0, None), np.nan)
    site = np.where(known, site_kwh, np.nan)
    consumption, net = (site + pv, site) if has_main_meter else (site, site - pv)
    return GridFlows(consumption, np.clip(net, 0, None), np.clip(-net, 0, None), pv, known)


@dataclass(frozen=True)
class Scope2Intervals:
    """Per-interval scope 2 of the site (kg CO2e) and the sources behind it."""

    location_kg: np.ndarray
    market_kg: np.ndarray
    contributions: pd.DataFrame  # interval_start, method, basis, source_id, grid_kwh, emissions_kg
    location_missing: np.ndarray  # grid import without a location-based factor (left out of location_kg)
    market_missing: np.ndarray  # grid import without a market-based factor (left out of market_kg)


def site_scope2(
    import_kwh: pd.Series,
    index: pd.DatetimeIndex,
    sources: Sequence[FactorSource],
    instruments: Sequence[Instrument],
    interval: pd.Timedelta,
    on_missing: str = "raise",
) -> Scope2Intervals:
    """Both methods for the site's grid import on ``index``.

    ``import_kwh`` may start earlier than ``index`` (from ``energy.emissions.allocation_start``)
    so instruments valid before the period are used up in time order; only ``index`` is reported.
    A missing location- or market-based factor raises :class:`~energy.errors.InputError`, or with
    ``on_missing="report"`` is left out of the emissions and flagged per interval.
    """
    allocations = allocate_instruments(import_kwh, instruments)
    allocations = allocations[allocations["start"] >= index[0]]
    energy = import_kwh.reindex(index)
    location = location_based(energy, sources, interval=interval, on_missing=on_missing)
    market = market_based(energy, sources, instruments, interval=interval, on_missing=on_missing, allocations=allocations)
    remaining_kg = market["market_emissions_kg"] - market["market_instrument_emissions_kg"]
    # One time unit for every part: mixed units would make the concatenated column objects.
    stamps, allocated_at = index.as_unit("ns"), pd.DatetimeIndex(allocations["start"]).as_unit("ns")
    parts = [
        pd.DataFrame({"interval_start": stamps, "method": "location", "basis": "grid average",
                      "source_id": location["location_source_id"].to_numpy(), "grid_kwh": energy.to_numpy(),
                      "emissions_kg": location["location_emissions_kg"].to_numpy()}),
        pd.DataFrame({"interval_start": allocated_at, "method": "market", "basis": "contractual instrument",
                      "source_id": allocations["instrument_id"].to_numpy(), "grid_kwh": allocations["kwh"].to_numpy(),
                      "emissions_kg": allocations["emissions_kg"].to_numpy()}),
        pd.DataFrame({"interval_start": stamps, "method": "market",
                      "basis": market["market_remaining_basis"].map(lambda b: "location fallback (grid_average)" if b == "grid_average" else b).to_numpy(),
                      "source_id": market["market_remaining_source_id"].to_numpy(), "grid_kwh": market["market_remaining_kwh"].to_numpy(),
                      "emissions_kg": remaining_kg.to_numpy()}),
    ]
    contributions = pd.concat(parts, ignore_index=True)
    contributions = contributions[contributions["grid_kwh"].fillna(0) > 0].reset_index(drop=True)
    return Scope2Intervals(
        np.nan_to_num(location["location_emissions_kg"].to_numpy(float)),
        np.nan_to_num(market["market_emissions_kg"].to_numpy(float)),
        contributions,
        location["location_missing"].to_numpy(bool),
        market["market_missing"].to_numpy(bool),
    )


def consumer_shares(consumption_kwh: np.ndarray, machines_kwh: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each consumer's share of the interval's consumption; "other" takes the rest (module doc).

    Unknown machine energy counts as zero for its machine (so it lands in "other"); shares are 0
    where consumption is unknown or not positive.
    """
    consumption = np.nan_to_num(consumption_kwh)
    positive = consumption > 0
    shares, attributed = {}, np.zeros(len(consumption))
    for machine, kwh in machines_kwh.items():
        kwh = np.nan_to_num(kwh)
        attributed += kwh
        shares[machine] = np.divide(kwh, consumption, out=np.zeros(len(consumption)), where=positive)
    shares["other"] = np.divide(consumption - attributed, consumption, out=np.zeros(len(consumption)), where=positive)
    return shares


@dataclass(frozen=True)
class Scope2Quality:
    """The scope 2 quality checks of a report period (:mod:`energy.emissions.quality`)."""

    findings: pd.DataFrame  # quality.FINDING_COLUMNS, warnings first
    coverage: pd.DataFrame  # per month and total: grid import covered by instruments
    gases: dict[str, str]  # method → what its period total counts (quality.gases_of)
    month_gases: dict[str, pd.Series]  # method → month (and total) → what its figure counts


def scope2_quality(
    contributions: pd.DataFrame,
    month_of: pd.Series,
    months: Sequence[str],
    sources: Sequence[FactorSource],
    instruments: Sequence[Instrument],
    *,
    tz: str,
    site_country: str | None,
    period: str,
    total: str = "total",
) -> Scope2Quality:
    """Quality findings, instrument coverage per month and the gases each method counts, from the
    period's ``contributions`` (:func:`site_scope2`); ``month_of`` maps interval start → month,
    ``months`` lists the months in order, ``period`` labels the report period."""
    findings = quality.check_scope2(contributions, sources, instruments, tz=tz, site_country=site_country, period=period)
    coverage = quality.instrument_coverage(contributions, instruments, month_of, months, total).rename_axis("month").reset_index()
    month = contributions["interval_start"].map(month_of)
    month_gases = {}
    for method in ("location", "market"):
        per_month = {label: quality.gases_of(rows, method, sources, instruments) for label, rows in contributions.groupby(month)}
        month_gases[method] = pd.Series({label: per_month.get(label, "none") for label in months} | {total: quality.gases_of(contributions, method, sources, instruments)})
    return Scope2Quality(quality.findings_table(findings), coverage, {m: g[total] for m, g in month_gases.items()}, month_gases)


def with_gases(by_consumer: pd.DataFrame, month_gases: dict[str, pd.Series]) -> pd.DataFrame:
    """``by_consumer`` with ``location_gases`` and ``market_gases`` (what each month's tonnes
    count: co2e, co2, mixed, unknown or none) after each method's sources."""
    table = by_consumer.copy()
    for method, gases in month_gases.items():
        table.insert(table.columns.get_loc(f"{method}_sources") + 1, f"{method}_gases", table["month"].map(gases))
    return table
