"""The tariff: what a commercial or industrial site pays, as plain dataclasses.

One model serves both sources (the project's TOML format, ``energy.tariffs.toml``, and OpenEI URDB
JSON, ``energy.tariffs.urdb``), the bill engine (``energy.tariffs.bill``) and the planning prices
(``energy.tariffs.prices``). Amounts are in the tariff's ``currency``: energy rates per kWh,
demand rates per kW per billing period, fixed charges per month or per day.

Time-of-use schedules are arrays of shape ``(12, 2, 96)``: calendar month (0 = January), day type
(0 = weekday, 1 = weekend or public holiday) and quarter hour of the local day (0 = 00:00–00:15).
Local time is the tariff's ``timezone``; a tariff without one (URDB has none) reads timestamps
as a fixed clock without daylight saving, as REopt and SAM do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MONTHS, DAY_TYPES, QUARTER_HOURS = 12, 2, 96
SCHEDULE_SHAPE = (MONTHS, DAY_TYPES, QUARTER_HOURS)
WEEKDAY, WEEKEND = 0, 1


@dataclass(frozen=True)
class Tier:
    """One block of a tiered rate: ``rate`` applies to the quantity up to ``up_to``.

    ``up_to`` is cumulative (kWh per billing period and TOU period for energy, kW for demand);
    ``None`` means no upper limit (the last tier).
    """

    rate: float
    up_to: float | None = None


@dataclass(frozen=True)
class EnergyPeriod:
    """A time-of-use energy period: import rate (tiered) and export (feed-in) rate per kWh."""

    name: str
    tiers: tuple[Tier, ...]
    export_rate: float = 0.0


@dataclass(frozen=True)
class Ratchet:
    """Lookback ratchet: billed demand ≥ ``percent`` % of the highest peak of the previous
    ``months`` billing periods (only peaks of calendar months in ``counted_months`` count)."""

    percent: float
    months: int
    counted_months: tuple[int, ...] = tuple(range(1, 13))


@dataclass(frozen=True, eq=False)
class DemandCharge:
    """A demand charge on the billing period's highest demand-interval average import (kW).

    ``windows`` (bool, ``SCHEDULE_SHAPE``) says when demand counts: everywhere for a flat monthly
    charge, a peak window for a time-of-use one. Tiers apply to the billed kW.
    """

    name: str
    tiers: tuple[Tier, ...]
    windows: np.ndarray
    ratchet: Ratchet | None = None


@dataclass(frozen=True)
class FixedCharge:
    name: str
    amount: float
    per: str = "month"  # "month" or "day" (of the billing period)


@dataclass(frozen=True)
class Levy:
    """A tax or levy per imported kWh (e.g. electricity tax, surcharges)."""

    name: str
    rate: float


@dataclass(frozen=True)
class PercentTax:
    """A tax on the billing period's subtotal (e.g. VAT, a utility users tax), in percent."""

    name: str
    percent: float


@dataclass(frozen=True, eq=False)
class DynamicPrices:
    """Prices from a series (e.g. the day-ahead market), each held until the next row.

    ``frame``: UTC tz-aware index of price start times; ``import_per_kwh`` and optional
    ``export_per_kwh`` (NaN where not given). ``resolution``: how long the last row holds.
    """

    source: str
    frame: pd.DataFrame
    resolution: pd.Timedelta


@dataclass(frozen=True, eq=False)
class Tariff:
    id: str
    name: str
    currency: str
    energy_periods: tuple[EnergyPeriod, ...] = ()
    # Index into energy_periods per (month, day type, quarter hour); -1 where no TOU energy
    # rate applies (a purely dynamic tariff).
    energy_schedule: np.ndarray = field(default_factory=lambda: np.full(SCHEDULE_SHAPE, -1, dtype=np.int16))
    demand_charges: tuple[DemandCharge, ...] = ()
    fixed_charges: tuple[FixedCharge, ...] = ()
    levies: tuple[Levy, ...] = ()
    taxes: tuple[PercentTax, ...] = ()
    dynamic: DynamicPrices | None = None
    demand_interval_minutes: int = 15
    minimum_monthly: float = 0.0
    timezone: str | None = None
    holidays_country: str | None = None  # public holidays billed as weekend days
    holidays_subdivision: str | None = None
    source: str = ""
    # Charges in the source that a kW/kWh load series cannot bill (e.g. reactive power per
    # kVAR): listed on every bill so that nothing is left out silently.
    not_billed: tuple[str, ...] = ()
    # Exports under net metering would need netting rules we do not implement: refused at
    # billing time when the load exports.
    net_metering: bool = False

    def energy_period_names(self) -> list[str]:
        return [p.name for p in self.energy_periods]


def first_tier_rate(tiers: tuple[Tier, ...]) -> float:
    return tiers[0].rate if tiers else 0.0


def tiered_amount(quantity: np.ndarray, tiers: tuple[Tier, ...]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Split ``quantity`` over tiers: ``[(tier index, quantity in tier, amount), …]``.

    Works element-wise on arrays of any shape (many meters and periods at once).
    """
    out, lower = [], 0.0
    quantity = np.asarray(quantity, dtype=float)
    for i, tier in enumerate(tiers):
        upper = np.inf if tier.up_to is None else float(tier.up_to)
        in_tier = np.clip(quantity - lower, 0.0, upper - lower)
        out.append((i, in_tier, in_tier * tier.rate))
        lower = upper
    return out


# --- serialisation: the stored form (``tariffs.body_json``) round-trips every field ----------


def _tiers_to_json(tiers: tuple[Tier, ...]) -> list[dict]:
    return [{"rate": t.rate, "up_to": t.up_to} for t in tiers]


def _tiers_from_json(items: list[dict]) -> tuple[Tier, ...]:
    return tuple(Tier(float(t["rate"]), None if t.get("up_to") is None else float(t["up_to"])) for t in items)


def to_json_dict(tariff: Tariff) -> dict:
    """A JSON-ready dict of the whole tariff (dynamic prices are stored in ``prices``, not here)."""
    return {
        "id": tariff.id,
        "name": tariff.name,
        "currency": tariff.currency,
        "timezone": tariff.timezone,
        "source": tariff.source,
        "demand_interval_minutes": tariff.demand_interval_minutes,
        "minimum_monthly": tariff.minimum_monthly,
        "holidays_country": tariff.holidays_country,
        "holidays_subdivision": tariff.holidays_subdivision,
        "energy_periods": [
            {"name": p.name, "tiers": _tiers_to_json(p.tiers), "export_rate": p.export_rate} for p in tariff.energy_periods
        ],
        "energy_schedule": tariff.energy_schedule.astype(int).tolist(),
        "demand_charges": [
            {
                "name": d.name,
                "tiers": _tiers_to_json(d.tiers),
                "windows": d.windows.astype(int).tolist(),
                "ratchet": None
                if d.ratchet is None
                else {"percent": d.ratchet.percent, "months": d.ratchet.months, "counted_months": list(d.ratchet.counted_months)},
            }
            for d in tariff.demand_charges
        ],
        "fixed_charges": [{"name": f.name, "amount": f.amount, "per": f.per} for f in tariff.fixed_charges],
        "levies": [{"name": v.name, "rate": v.rate} for v in tariff.levies],
        "taxes": [{"name": t.name, "percent": t.percent} for t in tariff.taxes],
        "dynamic": None if tariff.dynamic is None else {"source": tariff.dynamic.source, "resolution_s": tariff.dynamic.resolution.total_seconds()},
        "not_billed": list(tariff.not_billed),
        "net_metering": tariff.net_metering,
    }


def from_json_dict(body: dict, dynamic_frame: pd.DataFrame | None = None) -> Tariff:
    """The inverse of :func:`to_json_dict`; ``dynamic_frame`` supplies the stored prices."""
    dynamic = None
    if body.get("dynamic") is not None and dynamic_frame is not None:
        dynamic = DynamicPrices(body["dynamic"]["source"], dynamic_frame, pd.Timedelta(seconds=body["dynamic"]["resolution_s"]))
    return Tariff(
        id=body["id"],
        name=body["name"],
        currency=body["currency"],
        timezone=body.get("timezone"),
        source=body.get("source", ""),
        demand_interval_minutes=int(body.get("demand_interval_minutes", 15)),
        minimum_monthly=float(body.get("minimum_monthly", 0.0)),
        holidays_country=body.get("holidays_country"),
        holidays_subdivision=body.get("holidays_subdivision"),
        energy_periods=tuple(
            EnergyPeriod(p["name"], _tiers_from_json(p["tiers"]), float(p.get("export_rate", 0.0))) for p in body["energy_periods"]
        ),
        energy_schedule=np.asarray(body["energy_schedule"], dtype=np.int16),
        demand_charges=tuple(
            DemandCharge(
                d["name"],
                _tiers_from_json(d["tiers"]),
                np.asarray(d["windows"], dtype=bool),
                None if d.get("ratchet") is None else Ratchet(float(d["ratchet"]["percent"]), int(d["ratchet"]["months"]), tuple(d["ratchet"]["counted_months"])),
            )
            for d in body["demand_charges"]
        ),
        fixed_charges=tuple(FixedCharge(f["name"], float(f["amount"]), f["per"]) for f in body["fixed_charges"]),
        levies=tuple(Levy(v["name"], float(v["rate"])) for v in body["levies"]),
        taxes=tuple(PercentTax(t["name"], float(t["percent"])) for t in body.get("taxes", ())),
        dynamic=dynamic,
        not_billed=tuple(body.get("not_billed", ())),
        net_metering=bool(body.get("net_metering", False)),
    )
