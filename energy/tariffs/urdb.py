"""Import OpenEI Utility Rate Database (URDB) rates (API v3–v7 JSON) into the tariff model.

Field reference: OpenEI's URDB API documentation (``shared/data/tariffs/URDB-JSON-Documentation.html``).
What is billed: TOU energy (12 × 24 weekday/weekend schedules, tiers, ``adj`` added to ``rate``,
``sell`` as the export rate), TOU and flat (seasonal) demand charges with tiers, the demand
window, fixed charges per month or per day, the minimum monthly charge (v3 and v7 fields) and
REopt's lookback ratchet fields (``lookbackPercent``, ``lookbackRange``, ``lookbackMonths``). A
reactive power charge (per kVAR) cannot be billed from a kW series: it is kept and listed under
``not_billed`` on every bill.

Anything else that changes a bill (coincident demand, URDB ratchet percentages, annual minimums,
non-kW or daily units, ``*attrs`` lists, unknown fields) raises :class:`InputError` naming the
field, rather than produce a bill that is silently wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from energy.errors import InputError
from energy.tariffs.model import (
    SCHEDULE_SHAPE,
    WEEKDAY,
    WEEKEND,
    DemandCharge,
    EnergyPeriod,
    FixedCharge,
    Ratchet,
    Tariff,
    Tier,
)
from energy.tariffs.series import read_tariff_text

# Descriptive fields: they do not change a bill.
INFORMATIONAL = {
    "label", "uri", "revisions", "approved", "is_default", "utility", "utility_name", "eiaid", "name",
    "startdate", "enddate", "supercedes", "supersedes", "sector", "servicetype", "description",
    "source", "sourceparent", "sourceReference", "basicinformationcomments", "peakkwcapacitymin",
    "peakkwcapacitymax", "peakkwcapacityhistory", "peakkwhusagemin", "peakkwhusagemax",
    "peakkwhusagehistory", "voltageminimum", "voltagemaximum", "voltagecategory", "phasewiring",
    "demandcomments", "demandComments", "energycomments", "energyComments", "country", "mindemand",
    "maxdemand", "serviceMax", "type", "demandunits", "fixedchargeeaaddl", "fixedKeyVals",
    "energyKeyVals", "demandKeyVals", "dgrules", "dgRules", "usenetmetering", "isdefault",
}
BILLED = {
    "energyratestructure", "energyweekdayschedule", "energyweekendschedule",
    "demandratestructure", "demandweekdayschedule", "demandweekendschedule", "demandrateunit",
    "demandRateUnits", "flatdemandstructure", "flatdemandmonths", "flatdemandunit", "flatDemandUnits",
    "fixedchargefirstmeter", "fixedchargeunits", "fixedmonthlycharge", "minmonthlycharge",
    "mincharge", "minchargeunits",
    "demandwindow", "lookbackPercent", "lookbackRange", "lookbackMonths",
    "demandreactivepowercharge", "demandReactPwrCharge",
}
# Fields that change a bill in ways this importer does not model: refused unless empty/zero.
UNSUPPORTED = {
    "coincidentratestructure": "coincident demand charges",
    "coincidentrateschedule": "coincident demand charges",
    "coincidentrateunit": "coincident demand charges",
    "coincidentRateUnits": "coincident demand charges",
    "demandratchetpercentage": "URDB demand ratchet percentages (use lookbackPercent/lookbackRange)",
    "annualmincharge": "annual minimum charges",
    "fueladjustmentsmonthly": "monthly fuel adjustments",
    "energyattrs": "extra energy attributes",
    "demandattrs": "extra demand attributes",
    "fixedattrs": "extra fixed-charge attributes",
}


def _empty(value) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, list):
        return all(_empty(v) for v in value)
    return False


class _Item:
    """One URDB rate with the source name for error messages."""

    def __init__(self, item: dict, source: str):
        self.item, self.source = item, source

    def fail(self, field: str, message: str) -> InputError:
        return InputError(f"{self.source}: URDB field '{field}': {message}")

    def get(self, *names: str, default=None):
        for name in names:
            if name in self.item:
                return self.item[name]
        return default

    def schedule(self, field: str, n_periods: int) -> np.ndarray:
        """A 12 × 24 period matrix → 12 × 96 quarter hours, checked against the structure."""
        value = self.item.get(field)
        try:
            matrix = np.asarray(value, dtype=np.int64)
        except (TypeError, ValueError) as exc:
            raise self.fail(field, "must be 12 lists of 24 period numbers") from exc
        if matrix.shape != (12, 24):
            raise self.fail(field, f"must be 12 lists of 24 period numbers (got shape {matrix.shape})")
        if matrix.min() < 0 or matrix.max() >= n_periods:
            raise self.fail(field, f"period {int(matrix.max())} is not in the rate structure ({n_periods} period(s))")
        return np.repeat(matrix, 4, axis=1)

    def tiers(self, field: str, period: int, tiers: list, unit: str) -> tuple[tuple[Tier, ...], float]:
        """The period's tiers (rate + adj, cumulative max) and its export (sell) rate."""
        if not isinstance(tiers, list) or not tiers:
            raise self.fail(field, f"period {period}: needs a non-empty list of tiers")
        out, sells = [], set()
        for t, tier in enumerate(tiers):
            where = f"period {period}, tier {t}"
            extra = set(tier) - {"rate", "adj", "max", "unit", "sell"}
            if extra:
                raise self.fail(field, f"{where}: unsupported key(s) {', '.join(sorted(extra))}")
            if tier.get("unit", unit) != unit:
                raise self.fail(field, f"{where}: unit {tier['unit']!r} is not supported (only {unit!r})")
            try:
                rate = float(tier.get("rate", 0.0) or 0.0) + float(tier.get("adj", 0.0) or 0.0)
                up_to = None if tier.get("max") is None else float(tier["max"])
            except (TypeError, ValueError) as exc:
                raise self.fail(field, f"{where}: rate, adj and max must be numbers") from exc
            if t < len(tiers) - 1 and up_to is None:
                raise self.fail(field, f"{where}: every tier but the last needs 'max'")
            out.append(Tier(rate, up_to if t < len(tiers) - 1 else None))
            sells.add(float(tier.get("sell", 0.0) or 0.0))
        if len(sells) > 1:
            raise self.fail(field, f"period {period}: different sell rates per tier are not supported")
        return tuple(out), sells.pop()

    def unit(self, names: tuple[str, ...], allowed: str) -> None:
        value = self.get(*names)
        if value not in (None, "", allowed):
            raise self.fail(names[0], f"unit {value!r} is not supported (only {allowed!r})")


def _energy(rate: _Item) -> tuple[tuple[EnergyPeriod, ...], np.ndarray]:
    structure = rate.item.get("energyratestructure")
    if _empty(structure):
        raise rate.fail("energyratestructure", "missing: a rate without energy charges cannot be billed")
    periods = []
    for i, tiers in enumerate(structure):
        rates, sell = rate.tiers("energyratestructure", i, tiers, "kWh")
        periods.append(EnergyPeriod(f"period {i}", rates, sell))
    schedule = np.empty(SCHEDULE_SHAPE, dtype=np.int16)
    schedule[:, WEEKDAY] = rate.schedule("energyweekdayschedule", len(periods))
    schedule[:, WEEKEND] = rate.schedule("energyweekendschedule", len(periods))
    return tuple(periods), schedule


def _ratchet(rate: _Item) -> Ratchet | None:
    percent = rate.item.get("lookbackPercent")
    if _empty(percent):
        return None
    months = rate.item.get("lookbackRange")
    if _empty(months):
        raise rate.fail("lookbackRange", "lookbackPercent needs lookbackRange (months looked back)")
    flags = rate.item.get("lookbackMonths") or [1] * 12
    if len(flags) != 12:
        raise rate.fail("lookbackMonths", "must be 12 flags, one per calendar month")
    counted = tuple(m + 1 for m, flag in enumerate(flags) if flag)
    # URDB/REopt give the share as a fraction (0.8); accept percent (80) as well.
    share = float(percent)
    return Ratchet(share * 100 if share <= 1 else share, int(months), counted)


def _demand(rate: _Item) -> list[DemandCharge]:
    charges = []
    rate.unit(("demandrateunit", "demandRateUnits"), "kW")
    rate.unit(("flatdemandunit", "flatDemandUnits"), "kW")
    rate.unit(("demandunits",), "kW")
    structure = rate.item.get("demandratestructure")
    if not _empty(structure):
        windows = np.empty(SCHEDULE_SHAPE, dtype=np.int16)
        windows[:, WEEKDAY] = rate.schedule("demandweekdayschedule", len(structure))
        windows[:, WEEKEND] = rate.schedule("demandweekendschedule", len(structure))
        for i, tiers in enumerate(structure):
            rates, _ = rate.tiers("demandratestructure", i, tiers, "kW")
            if any(t.rate for t in rates):
                charges.append(DemandCharge(f"tou period {i}", rates, windows == i))
    ratchet = _ratchet(rate)
    flat = rate.item.get("flatdemandstructure")
    if not _empty(flat):
        months = np.asarray(rate.item.get("flatdemandmonths", [0] * 12), dtype=np.int64)
        if months.shape != (12,) or months.min() < 0 or months.max() >= len(flat):
            raise rate.fail("flatdemandmonths", f"must be 12 period numbers below {len(flat)}")
        for i, tiers in enumerate(flat):
            rates, _ = rate.tiers("flatdemandstructure", i, tiers, "kW")
            windows = np.zeros(SCHEDULE_SHAPE, dtype=bool)
            windows[months == i] = True
            if any(t.rate for t in rates) and windows.any():
                name = "flat" if len(flat) == 1 else f"flat period {i}"
                charges.append(DemandCharge(name, rates, windows, ratchet))
    elif ratchet is not None:
        raise rate.fail("lookbackPercent", "a lookback ratchet needs a flat demand charge (flatdemandstructure)")
    return charges


def _fixed(rate: _Item) -> tuple[FixedCharge, ...]:
    charges = []
    first_meter = rate.item.get("fixedchargefirstmeter")
    if not _empty(first_meter):
        units = rate.item.get("fixedchargeunits", "$/month")
        per = {"$/month": "month", "$/day": "day"}.get(units)
        if per is None:
            raise rate.fail("fixedchargeunits", f"{units!r} is not supported ('$/month' or '$/day')")
        charges.append(FixedCharge("fixed charge", float(first_meter), per))
    monthly = rate.item.get("fixedmonthlycharge")
    if not _empty(monthly):
        charges.append(FixedCharge("fixed monthly charge", float(monthly), "month"))
    return tuple(charges)


def _minimum_monthly(rate: _Item) -> float:
    """``minmonthlycharge`` (API v3) or ``mincharge`` per month (v7)."""
    minimum = float(rate.item.get("minmonthlycharge") or 0.0)
    v7 = rate.item.get("mincharge")
    if not _empty(v7):
        units = rate.item.get("minchargeunits", "$/month")
        if units != "$/month":
            raise rate.fail("minchargeunits", f"{units!r} is not supported (only '$/month')")
        minimum = max(minimum, float(v7))
    return minimum


def tariff_from_urdb_item(item: dict, source: str = "URDB rate") -> Tariff:
    """One URDB rate (an element of ``items``, or REopt's ``urdb_response``) as a :class:`Tariff`."""
    rate = _Item(item, source)
    for field in item:
        if field in UNSUPPORTED:
            if not _empty(item[field]):
                raise rate.fail(field, f"{UNSUPPORTED[field]} are not supported yet; this rate cannot be billed exactly")
        elif field not in INFORMATIONAL and field not in BILLED:
            raise rate.fail(field, "unknown field; not supported (it may change the bill)")
    periods, schedule = _energy(rate)
    window = rate.item.get("demandwindow")
    if not _empty(window) and (float(window) != int(window) or 60 % int(window)):
        raise rate.fail("demandwindow", f"{window} minutes is not supported (must divide 60)")
    reactive = rate.get("demandreactivepowercharge", "demandReactPwrCharge")
    net_metering = rate.get("usenetmetering") is True or str(rate.get("dgrules", "dgRules", default="")).lower() == "net metering"
    label = str(item.get("label") or "rate")
    return Tariff(
        id=f"urdb-{label}"[:64],
        name=" — ".join(str(v) for v in (item.get("utility"), item.get("name")) if v) or label,
        currency="USD",
        energy_periods=periods,
        energy_schedule=schedule,
        demand_charges=tuple(_demand(rate)),
        fixed_charges=_fixed(rate),
        demand_interval_minutes=15 if _empty(window) else int(window),
        minimum_monthly=_minimum_monthly(rate),
        source=str(item.get("uri") or item.get("source") or source),
        not_billed=() if _empty(reactive) else (f"reactive power charge {float(reactive)} per kVAR (needs kVAR data)",),
        net_metering=net_metering,
    )


def load_urdb_tariff(path: Path, index: int = 0) -> Tariff:
    """Read a URDB API response (``{"items": [...]}``), a bare rate, or a REopt scenario's
    ``ElectricTariff.urdb_response``; ``index`` picks the item of a response."""
    path = Path(path)
    try:
        data = json.loads(read_tariff_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(data, dict) and "ElectricTariff" in data:
        data = data["ElectricTariff"].get("urdb_response")
        if data is None:
            raise InputError(f"{path}: REopt scenario without ElectricTariff.urdb_response")
    if isinstance(data, dict) and "items" in data:
        items = data["items"]
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise InputError(f"{path}: urdb_index {index} is out of range ({len(items) if isinstance(items, list) else 0} item(s))")
        data = items[index]
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a URDB rate (expected a JSON object)")
    return tariff_from_urdb_item(data, str(path))
