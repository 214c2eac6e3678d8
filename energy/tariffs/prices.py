"""Prices for planning: what each slot's kWh costs and earns, and what a new peak would cost.

For the optimiser's problem (``shared/contracts/schedule-problem.md``): per slot the import price
(TOU energy rate of the first tier + dynamic price + levies), the export price (TOU export rate +
dynamic export price) and per demand charge the rate that applies in the slot, all with
percentage taxes; and per demand charge the billing period's peak so far: the measured peak of
the period before the horizon, raised to the lookback ratchet's floor (demand below either costs
nothing more). Values are in the tariff's currency (the problem's ``*_eur_*`` names are kept
for the contract).

Tiered energy rates are priced at their first tier (the marginal rate of a tier reached during the
horizon is not known in advance); tiered demand charges at their first tier likewise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy.tariffs.bill import billed_demand, charge_peaks, demand_kw, dynamic_at
from energy.tariffs.calendar import locate
from energy.tariffs.model import Tariff, first_tier_rate
from energy.tariffs.series import most_common_step


def interval_length(index: pd.DatetimeIndex, tariff: Tariff) -> pd.Timedelta:
    """A stored series' interval: its most common spacing (the demand interval for one row)."""
    return most_common_step(index) or pd.Timedelta(minutes=tariff.demand_interval_minutes)


def slot_prices(tariff: Tariff, slots: pd.DatetimeIndex) -> pd.DataFrame:
    """Import and export price per kWh for each slot start: ``import_eur_per_kwh``, ``export_eur_per_kwh``."""
    cal = locate(tariff, slots)
    price_in = np.full(len(slots), sum(levy.rate for levy in tariff.levies), dtype=float)
    price_out = np.zeros(len(slots))
    if tariff.energy_periods:
        tou = tariff.energy_schedule[cal.month, cal.day_type, cal.quarter_hour].astype(np.int64)
        first = np.array([first_tier_rate(p.tiers) for p in tariff.energy_periods] + [0.0])
        export = np.array([p.export_rate for p in tariff.energy_periods] + [0.0])
        price_in += first[tou]  # -1 (no TOU period) picks the appended 0
        price_out += export[tou]
    if tariff.dynamic is not None:
        dynamic_in, dynamic_out = dynamic_at(tariff, slots)
        price_in += dynamic_in
        price_out += dynamic_out
    taxed = tax_factor(tariff)
    return pd.DataFrame({"import_eur_per_kwh": price_in * taxed, "export_eur_per_kwh": price_out * taxed}, index=slots)


def tax_factor(tariff: Tariff) -> float:
    """What percentage taxes multiply every marginal cost and credit by."""
    return 1.0 + sum(tax.percent for tax in tariff.taxes) / 100


def demand_rates(tariff: Tariff, slots: pd.DatetimeIndex) -> pd.DataFrame:
    """Per demand charge (columns by name): its first-tier rate per kW (with percentage taxes)
    where its window covers the slot, else 0."""
    cal = locate(tariff, slots)
    taxed = tax_factor(tariff)
    return pd.DataFrame(
        {
            charge.name: np.where(charge.windows[cal.month, cal.day_type, cal.quarter_hour], first_tier_rate(charge.tiers) * taxed, 0.0)
            for charge in tariff.demand_charges
        },
        index=slots,
    )


def measured_peaks(tariff: Tariff, energy_kwh: pd.Series) -> dict[str, pd.DataFrame]:
    """Per demand charge: the measured peaks (kW) per billing period code of an interval series
    (kWh per interval, labelled by start; no missing values), as :func:`charge_peaks` gives them."""
    power = demand_kw(tariff, energy_kwh.to_frame(energy_kwh.name or "site"), interval_length(energy_kwh.index, tariff))
    return charge_peaks(tariff, power)


def peaks_so_far_kw(tariff: Tariff, energy_kwh: pd.Series, before: pd.Timestamp) -> dict[str, float]:
    """Per demand charge: the billing period's peak before ``before`` from an interval series
    (kWh per interval, NaN = missing and ignored), raised to its lookback ratchet's floor."""
    code = int(locate(tariff, pd.DatetimeIndex([before]).tz_convert("UTC")).period_code[0])
    series = energy_kwh.dropna()
    series = series[series.index < before]
    if len(series) < 1 or not tariff.demand_charges:
        return {charge.name: 0.0 for charge in tariff.demand_charges}
    peaks = measured_peaks(tariff, series.rename("site"))
    out = {}
    for charge in tariff.demand_charges:
        measured = peaks[charge.name]
        current = measured.reindex([code]).fillna(0.0)  # the horizon's own period, measured so far
        billed = billed_demand(charge, current, measured.loc[measured.index < code])
        out[charge.name] = float(billed.iloc[0, 0])
    return out


def planning_prices(tariff: Tariff, slots: pd.DatetimeIndex, peaks_so_far: dict[str, float] | float | None = None) -> pd.DataFrame:
    """Everything per slot the optimiser's problem needs from the tariff.

    ``slots``: tz-aware slot starts. ``peaks_so_far``: per demand charge name, the billing
    period's peak so far in kW (from :func:`energy.tariffs.history.stored_peaks_so_far_kw`; missing names count as 0),
    or one number for every charge. Slots in a later billing period than the first slot start
    from 0.

    Returns a DataFrame indexed by ``slots`` with ``import_eur_per_kwh``,
    ``export_eur_per_kwh``, ``demand_eur_per_kw`` (the summed rates of the demand charges whose
    window covers the slot) and, per demand charge ``<name>``, the columns
    ``demand:<name>:eur_per_kw`` and ``demand:<name>:peak_so_far_kw``.
    """
    slots = pd.DatetimeIndex(slots).tz_convert("UTC")
    frame = slot_prices(tariff, slots)
    rates = demand_rates(tariff, slots)
    frame["demand_eur_per_kw"] = rates.sum(axis=1) if len(rates.columns) else 0.0
    codes = locate(tariff, slots).period_code
    same_period = codes == codes[0]
    if not isinstance(peaks_so_far, dict):
        peaks_so_far = {charge.name: float(peaks_so_far or 0.0) for charge in tariff.demand_charges}
    for charge in tariff.demand_charges:
        frame[f"demand:{charge.name}:eur_per_kw"] = rates[charge.name]
        peak = float(peaks_so_far.get(charge.name, 0.0))
        frame[f"demand:{charge.name}:peak_so_far_kw"] = np.where(same_period, peak, 0.0)
    return frame


def problem_demand_charge(frame: pd.DataFrame) -> tuple[dict | None, list[str]]:
    """The problem file's single ``demand_charge`` from :func:`planning_prices`, with notes.

    The contract prices one peak over the whole horizon: the charges whose window covers every
    slot are summed into ``eur_per_kw`` and their highest peak so far is taken (exact with one
    such charge, as in a flat monthly demand charge). Charges covering only part of the horizon
    (a peak window) or changing billing period within it cannot be expressed; they are named in
    the notes instead of being dropped silently.
    """
    names = [c.split(":")[1] for c in frame.columns if c.startswith("demand:") and c.endswith(":eur_per_kw")]
    whole, notes = [], []
    for name in names:
        rate = frame[f"demand:{name}:eur_per_kw"].to_numpy()
        peak = frame[f"demand:{name}:peak_so_far_kw"].to_numpy()
        if not rate.any():
            continue
        if (rate == rate[0]).all() and (peak == peak[0]).all():
            whole.append((float(rate[0]), float(peak[0])))
        else:
            notes.append(f"demand charge {name!r} applies to part of the horizon only; not in the problem's demand_charge")
    if not whole:
        return None, notes
    if len(whole) > 1:
        notes.append("several demand charges cover the horizon: rates summed, highest peak so far used")
    return {"eur_per_kw": sum(r for r, _ in whole), "peak_so_far_kw": max(p for _, p in whole)}, notes
