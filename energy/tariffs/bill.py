"""The bill engine: the exact bill of interval load series under a tariff, per billing period.

Input is energy per interval (kWh, labelled by interval start, negative = export) for one or many
meters sharing one time index; everything is vectorised over the meters. A bill is a table of
lines, each naming its component, so that every number can be traced:

``meter, period, category, component, tou_period, tier, quantity, unit, rate, amount, measured_kw``

- ``energy``: imported kWh per TOU period and tier (tiers per billing period and TOU period), and
  the dynamic price series (import kWh × the price in effect at each interval's start);
- ``levy``: taxes and levies per imported kWh;
- ``export``: exported kWh × the period's export rate and the dynamic export price (negative);
- ``demand``: per demand charge, the billing period's highest average import over the tariff's
  demand interval (15 minutes by default: finer data is averaged to it first, so a one-minute
  spike counts only by its share of the quarter hour), raised to a lookback ratchet's floor
  where one applies (``measured_kw`` keeps the measured peak), split over tiers;
- ``fixed``: per month, or per day of the billing period;
- ``minimum``: what lifts the period's total to the tariff's minimum monthly charge;
- ``tax``: percentage taxes (e.g. VAT) on the period's subtotal of all the above.

Billing periods are calendar months of the tariff's local time. Fixed charges are always for the
whole billing period; :func:`usage` tells whether the data covered it completely. Amounts are not
rounded (utilities round differently); ``docs/tariffs.md`` has the conventions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy.errors import InputError
from energy.tariffs.calendar import days_in_period, locate, period_bounds, period_label
from energy.tariffs.model import Tariff, tiered_amount

CATEGORIES = ("energy", "levy", "export", "demand", "fixed", "minimum", "tax")
LINE_COLUMNS = ["meter", "period", "category", "component", "tou_period", "tier", "quantity", "unit", "rate", "amount", "measured_kw"]


def dynamic_at(tariff: Tariff, instants: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Dynamic import and export price in effect at each instant (a price holds until the next
    row, the last one for the series' resolution). Export is 0 where the series gives none.

    Raises InputError naming the first instant without a price.
    """
    frame = tariff.dynamic.frame
    starts = frame.index.as_unit("ns").asi8
    at = instants.as_unit("ns").asi8
    pos = np.searchsorted(starts, at, side="right") - 1
    valid = pos >= 0
    last = len(starts) - 1
    valid &= (pos < last) | (at < starts[last] + tariff.dynamic.resolution.value)
    if not valid.all():
        first = instants[int(np.argmin(valid))]
        raise InputError(
            f"tariff {tariff.id!r}: dynamic prices ({tariff.dynamic.source}) have no price for {first.isoformat()} "
            f"({int((~valid).sum())} interval(s) without one; prices cover {frame.index[0].isoformat()} to "
            f"{(frame.index[-1] + tariff.dynamic.resolution).isoformat()})"
        )
    imports = frame["import_per_kwh"].to_numpy()[pos]
    exports = np.nan_to_num(frame["export_per_kwh"].to_numpy()[pos], nan=0.0)
    return imports, exports


def demand_kw(tariff: Tariff, energy_kwh: pd.DataFrame, resolution: pd.Timedelta) -> pd.DataFrame:
    """Average net import (kW, ≥ 0) per demand interval (aligned on UTC multiples of it).

    Data finer than the demand interval is summed into it; coarser data is used as it is.
    """
    window = pd.Timedelta(minutes=tariff.demand_interval_minutes)
    if resolution < window:
        keys = energy_kwh.index.as_unit("ns").asi8 // window.value
        summed = energy_kwh.groupby(keys).sum()
        summed.index = pd.DatetimeIndex(pd.to_datetime(summed.index.to_numpy() * window.value, utc=True))
        power = summed / (window / pd.Timedelta(hours=1))
    else:
        power = energy_kwh / (resolution / pd.Timedelta(hours=1))
    return power.clip(lower=0.0)


def charge_peaks(tariff: Tariff, power_kw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per demand charge: the highest demand-interval kW in its windows, per billing period code
    (rows) and meter (columns); only periods in which the charge's windows occur."""
    cal = locate(tariff, power_kw.index)
    values = power_kw.to_numpy()
    peaks = {}
    for charge in tariff.demand_charges:
        active = charge.windows[cal.month, cal.day_type, cal.quarter_hour]
        frame = pd.DataFrame(np.where(active[:, None], values, 0.0), columns=power_kw.columns)
        by_period = frame.groupby(cal.period_code).max()
        peaks[charge.name] = by_period.loc[pd.Series(active).groupby(cal.period_code).any()]
    return peaks


def billed_demand(charge, peaks: pd.DataFrame, prior: pd.DataFrame | None = None) -> pd.DataFrame:
    """Measured peaks raised to the lookback ratchet's floor (rows: period codes)."""
    if charge.ratchet is None:
        return peaks
    history = peaks if prior is None else pd.concat([prior.loc[~prior.index.isin(peaks.index)], peaks]).sort_index()
    counted = history.loc[np.isin(history.index.to_numpy() % 12 + 1, charge.ratchet.counted_months)]
    billed = peaks.copy()
    for code in peaks.index:
        looked = counted.loc[(counted.index >= code - charge.ratchet.months) & (counted.index < code)]
        if len(looked):
            floor = looked.max() * (charge.ratchet.percent / 100.0)
            billed.loc[code] = np.maximum(peaks.loc[code].to_numpy(), floor.to_numpy())
    return billed


@dataclass(frozen=True)
class Bills:
    """Bills of one or more meters: the lines and the usage figures behind them."""

    tariff: Tariff
    lines: pd.DataFrame
    usage: pd.DataFrame  # per (meter, period): import_kwh, export_kwh, peak_kw, start, end, complete

    def summary(self) -> pd.DataFrame:
        """Per (meter, period): amount per category and ``total``."""
        table = self.lines.pivot_table(index=["meter", "period"], columns="category", values="amount", aggfunc="sum", fill_value=0.0)
        table = table.reindex(columns=list(CATEGORIES), fill_value=0.0)
        table["total"] = table.sum(axis=1)
        return table

    def to_json(self, meter) -> dict:
        """The bill of one meter as the ``energy bill`` JSON document (see docs/tariffs.md)."""
        summary = self.summary().loc[meter]
        lines = self.lines[self.lines["meter"] == meter]
        usage = self.usage.loc[meter]
        periods = []
        for period, row in summary.iterrows():
            period_lines = lines[lines["period"] == period]
            info = usage.loc[period]
            periods.append(
                {
                    "period": period,
                    "start": info["start"].isoformat(),
                    "end": info["end"].isoformat(),
                    "complete": bool(info["complete"]),
                    "import_kwh": _round(info["import_kwh"]),
                    "export_kwh": _round(info["export_kwh"]),
                    "peak_kw": _round(info["peak_kw"]),
                    **{category: _round(row[category]) for category in CATEGORIES},
                    "total": _round(row["total"]),
                    "components": [_line_json(line) for line in period_lines.itertuples(index=False)],
                }
            )
        return {
            "tariff": self.tariff.id,
            "tariff_name": self.tariff.name,
            "currency": self.tariff.currency,
            "timezone": self.tariff.timezone or "UTC (fixed clock, no daylight saving)",
            "demand_interval_minutes": self.tariff.demand_interval_minutes,
            "not_billed": list(self.tariff.not_billed),
            "periods": periods,
            "total": _round(summary["total"].sum()),
        }


def _round(value: float) -> float:
    return round(float(value), 6)


def _line_json(line) -> dict:
    out = {
        "category": line.category,
        "component": line.component,
        "tou_period": line.tou_period or None,
        "tier": None if line.tier < 0 else int(line.tier),
        "quantity": _round(line.quantity),
        "unit": line.unit,
        "rate": _round(line.rate),
        "amount": _round(line.amount),
    }
    if not np.isnan(line.measured_kw):
        out["measured_kw"] = _round(line.measured_kw)
    return out


class _Lines:
    """Collects bill lines from per-period × per-meter arrays."""

    def __init__(self, meters: pd.Index):
        self.meters = np.asarray(meters, dtype=object)
        self.parts: list[pd.DataFrame] = []

    def add(self, codes, category, component, quantity, amount, unit, rate=None, tou_period="", tier=-1, measured_kw=None):
        codes = np.asarray(codes)
        quantity, amount = np.atleast_2d(quantity), np.atleast_2d(amount)
        shape = (len(codes), len(self.meters))
        quantity, amount = np.broadcast_to(quantity, shape), np.broadcast_to(amount, shape)
        if rate is None:  # an average rate (dynamic prices): amount / quantity
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.where(quantity != 0, amount / np.where(quantity != 0, quantity, 1), 0.0)
        rate = np.broadcast_to(np.asarray(rate, dtype=float), shape)
        measured = np.full(shape, np.nan) if measured_kw is None else np.asarray(measured_kw, dtype=float)
        self.parts.append(
            pd.DataFrame(
                {
                    "meter": np.tile(self.meters, len(codes)),
                    "period_code": np.repeat(codes, len(self.meters)),
                    "category": category,
                    "component": component,
                    "tou_period": tou_period,
                    "tier": tier,
                    "quantity": quantity.ravel(),
                    "unit": unit,
                    "rate": rate.ravel(),
                    "amount": amount.ravel(),
                    "measured_kw": measured.ravel(),
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        lines = pd.concat(self.parts, ignore_index=True)
        labels = {code: period_label(code) for code in lines["period_code"].unique()}
        lines.insert(1, "period", lines["period_code"].map(labels))
        return lines


def _check_resolution(tariff: Tariff, resolution: pd.Timedelta) -> None:
    """Refuse interval lengths that cannot give a bill this engine would call exact."""
    window = pd.Timedelta(minutes=tariff.demand_interval_minutes)
    varies = tariff.demand_charges or len(tariff.energy_periods) > 1 or tariff.dynamic is not None
    if resolution > pd.Timedelta(hours=1) and varies:
        raise InputError(
            f"load: intervals of {resolution} are too coarse for tariff {tariff.id!r} (time-of-use, demand or "
            "dynamic prices need interval data of at most 60 minutes)"
        )
    if resolution < window and window % resolution != pd.Timedelta(0):
        raise InputError(
            f"load: intervals of {resolution} do not divide the tariff's {tariff.demand_interval_minutes}-minute demand interval"
        )


def _check_load(tariff: Tariff, energy_kwh: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(energy_kwh.index, pd.DatetimeIndex) or energy_kwh.index.tz is None:
        raise InputError("load: the index must be tz-aware timestamps (interval starts)")
    if energy_kwh.empty:
        raise InputError("load: no intervals to bill")
    energy_kwh = energy_kwh.sort_index()
    energy_kwh.index = energy_kwh.index.as_unit("ns").tz_convert("UTC")
    missing = energy_kwh.isna().to_numpy()
    if missing.any():
        row, col = np.argwhere(missing)[0]
        raise InputError(
            f"load: {int(missing.sum())} missing value(s), first for {energy_kwh.columns[col]!r} at "
            f"{energy_kwh.index[row].isoformat()} (fill or estimate them before billing)"
        )
    if tariff.net_metering and (energy_kwh.to_numpy() < 0).any():
        raise InputError(f"tariff {tariff.id!r}: the load exports, and net metering rules are not supported yet")
    return energy_kwh


def bill(
    tariff: Tariff,
    energy_kwh: pd.DataFrame | pd.Series,
    resolution: pd.Timedelta,
    prior_peaks: dict[str, pd.DataFrame] | None = None,
) -> Bills:
    """Bill each column of ``energy_kwh`` (kWh per interval of length ``resolution``).

    ``prior_peaks``: per demand charge name, measured peaks (kW) of earlier billing periods
    (rows: period codes ``year * 12 + month - 1``, columns: meters) for lookback ratchets that
    reach before the data.
    """
    if isinstance(energy_kwh, pd.Series):
        energy_kwh = energy_kwh.to_frame(energy_kwh.name or "load")
    energy_kwh = _check_load(tariff, energy_kwh)
    _check_resolution(tariff, resolution)
    cal = locate(tariff, energy_kwh.index)
    values = energy_kwh.to_numpy(dtype=float)
    imports, exports = np.clip(values, 0.0, None), np.clip(-values, 0.0, None)
    codes = np.unique(cal.period_code)
    lines = _Lines(energy_kwh.columns)

    def per_period(array: np.ndarray) -> np.ndarray:
        return pd.DataFrame(array).groupby(cal.period_code).sum().reindex(codes, fill_value=0.0).to_numpy()

    import_kwh, export_kwh = per_period(imports), per_period(exports)

    # TOU energy: kWh per (billing period, TOU period), then tiers; export at the period's rate.
    if tariff.energy_periods:
        tou = tariff.energy_schedule[cal.month, cal.day_type, cal.quarter_hour].astype(np.int64)
        for p, period in enumerate(tariff.energy_periods):
            in_period = tou == p
            if not in_period.any():
                continue
            used = per_period(np.where(in_period[:, None], imports, 0.0))
            present = np.unique(cal.period_code[in_period])
            rows = np.isin(codes, present)
            for tier, quantity, amount in tiered_amount(used[rows], period.tiers):
                lines.add(codes[rows], "energy", "energy", quantity, amount, "kWh", period.tiers[tier].rate, period.name, tier if len(period.tiers) > 1 else -1)
            if period.export_rate:
                sold = per_period(np.where(in_period[:, None], exports, 0.0))[rows]
                lines.add(codes[rows], "export", "export", sold, -sold * period.export_rate, "kWh", -period.export_rate, period.name)

    if tariff.dynamic is not None:
        price_in, price_out = dynamic_at(tariff, energy_kwh.index)
        name = f"dynamic prices ({tariff.dynamic.source})"
        lines.add(codes, "energy", name, import_kwh, per_period(imports * price_in[:, None]), "kWh")
        if price_out.any():
            lines.add(codes, "export", name, export_kwh, -per_period(exports * price_out[:, None]), "kWh")

    for levy in tariff.levies:
        lines.add(codes, "levy", levy.name, import_kwh, import_kwh * levy.rate, "kWh", levy.rate)

    power = demand_kw(tariff, energy_kwh, resolution)
    all_peaks = charge_peaks(tariff, power)
    for charge in tariff.demand_charges:
        peaks = all_peaks[charge.name]
        prior = (prior_peaks or {}).get(charge.name)
        billed = billed_demand(charge, peaks, prior)
        for tier, quantity, amount in tiered_amount(billed.to_numpy(), charge.tiers):
            lines.add(
                billed.index.to_numpy(), "demand", charge.name, quantity, amount, "kW", charge.tiers[tier].rate,
                tier=tier if len(charge.tiers) > 1 else -1, measured_kw=peaks.to_numpy(),
            )

    for fixed in tariff.fixed_charges:
        count = np.array([days_in_period(c) if fixed.per == "day" else 1 for c in codes], dtype=float)[:, None]
        unit = "day" if fixed.per == "day" else "month"
        lines.add(codes, "fixed", fixed.name, count, count * fixed.amount, unit, fixed.amount)

    def subtotal() -> np.ndarray:
        frame = lines.frame()
        totals = frame.pivot_table(index="period_code", columns="meter", values="amount", aggfunc="sum")
        return totals.reindex(index=codes, columns=energy_kwh.columns, fill_value=0.0).to_numpy()

    if tariff.minimum_monthly:
        top_up = np.clip(tariff.minimum_monthly - subtotal(), 0.0, None)
        lines.add(codes, "minimum", "minimum monthly charge", np.ones_like(top_up), top_up, "month", top_up)
    if tariff.taxes:
        taxable = subtotal()
        for tax in tariff.taxes:
            lines.add(codes, "tax", tax.name, taxable, taxable * tax.percent / 100, tariff.currency, tax.percent / 100)
    frame = lines.frame()

    usage = _usage(tariff, energy_kwh, resolution, cal.period_code, codes, import_kwh, export_kwh, power)
    return Bills(tariff, frame.drop(columns="period_code")[LINE_COLUMNS], usage)


def _usage(tariff, energy_kwh, resolution, period_code, codes, import_kwh, export_kwh, power) -> pd.DataFrame:
    meters = energy_kwh.columns
    peak = power.groupby(locate(tariff, power.index).period_code).max().reindex(codes, fill_value=0.0).to_numpy()
    counts = pd.Series(1, index=energy_kwh.index).groupby(period_code).sum().reindex(codes)
    bounds = [period_bounds(tariff, c) for c in codes]
    complete = [counts[c] * resolution >= end - start for c, (start, end) in zip(codes, bounds)]
    frame = pd.DataFrame(
        {
            "meter": np.tile(np.asarray(meters, dtype=object), len(codes)),
            "period": np.repeat([period_label(c) for c in codes], len(meters)),
            "import_kwh": import_kwh.ravel(),
            "export_kwh": export_kwh.ravel(),
            "peak_kw": peak.ravel(),
            "start": np.repeat([b[0] for b in bounds], len(meters)),
            "end": np.repeat([b[1] for b in bounds], len(meters)),
            "complete": np.repeat(complete, len(meters)),
        }
    )
    return frame.set_index(["meter", "period"])


def bill_load(tariff: Tariff, energy_kwh: pd.Series, resolution: pd.Timedelta) -> dict:
    """The ``energy bill`` JSON document of one load series."""
    name = energy_kwh.name or "load"
    return bill(tariff, energy_kwh.rename(name), resolution).to_json(name)
