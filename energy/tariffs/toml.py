"""The project's own tariff format: a TOML file, validated field by field (``docs/tariffs.md``).

Time-of-use periods are written as windows (months, weekdays/weekends, ``HH:MM-HH:MM`` in local
time, quarter-hour resolution) instead of URDB's 12 × 24 matrices; the first energy period whose
window matches a quarter hour wins and one period without ``when`` takes the rest.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

import holidays
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from energy.config import describe_validation_error, divides_hour, known_zone
from energy.errors import InputError
from energy.tariffs.model import (
    SCHEDULE_SHAPE,
    WEEKDAY,
    WEEKEND,
    DemandCharge,
    DynamicPrices,
    EnergyPeriod,
    FixedCharge,
    Levy,
    PercentTax,
    Ratchet,
    Tariff,
    Tier,
)
from energy.tariffs.series import read_price_csv, read_tariff_text

Rate = Annotated[float, Field(allow_inf_nan=False)]
Month = Annotated[int, Field(ge=1, le=12)]
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Spec):
    """A window: calendar months, day type and local clock hours (end exclusive, may wrap)."""

    months: list[Month] = list(range(1, 13))
    days: Literal["all", "weekdays", "weekends"] = "all"
    hours: str = "00:00-24:00"

    @field_validator("hours")
    @classmethod
    def _quarter_hours(cls, value: str) -> str:
        match = _HOURS.match(value.strip())
        if not match:
            raise ValueError("must look like '06:00-22:00'")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2) or m1 % 15 or m2 % 15:
            raise ValueError("times must be quarter hours from 00:00 to 24:00")
        return value.strip()

    def mask(self) -> np.ndarray:
        h1, m1, h2, m2 = map(int, _HOURS.match(self.hours).groups())
        first, end = h1 * 4 + m1 // 15, h2 * 4 + m2 // 15
        quarter = np.arange(SCHEDULE_SHAPE[2])
        in_hours = (quarter >= first) & (quarter < end) if first < end else (quarter >= first) | (quarter < end)
        mask = np.zeros(SCHEDULE_SHAPE, dtype=bool)
        day_types = {"all": [WEEKDAY, WEEKEND], "weekdays": [WEEKDAY], "weekends": [WEEKEND]}[self.days]
        for month in self.months:
            for day_type in day_types:
                mask[month - 1, day_type] = in_hours
        return mask


def _union(windows: list[When] | None) -> np.ndarray:
    if windows is None:
        return np.ones(SCHEDULE_SHAPE, dtype=bool)
    mask = np.zeros(SCHEDULE_SHAPE, dtype=bool)
    for window in windows:
        mask |= window.mask()
    return mask


class TierSpec(_Spec):
    rate: Rate
    up_to: float | None = Field(None, gt=0)


class _Rated(_Spec):
    """A flat ``rate`` or ``tiers`` (ascending ``up_to``, the last one open)."""

    rate: Rate | None = None
    tiers: list[TierSpec] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _rate_or_tiers(self):
        if (self.rate is None) == (self.tiers is None):
            raise ValueError("give exactly one of rate or tiers")
        if self.tiers:
            limits = [t.up_to for t in self.tiers]
            if limits[-1] is not None or None in limits[:-1] or limits[:-1] != sorted(set(limits[:-1])):
                raise ValueError("tiers need ascending up_to limits and a last tier without up_to")
        return self

    def as_tiers(self) -> tuple[Tier, ...]:
        if self.tiers is None:
            return (Tier(float(self.rate)),)
        return tuple(Tier(t.rate, t.up_to) for t in self.tiers)


class EnergySpec(_Rated):
    period: str = Field(min_length=1)
    export_rate: Rate = 0.0
    when: list[When] | None = None


class RatchetSpec(_Spec):
    percent: float = Field(gt=0, le=100)
    months: int = Field(ge=1, le=36)
    counted_months: list[Month] = list(range(1, 13))


class DemandSpec(_Rated):
    name: str = Field(min_length=1)
    when: list[When] | None = None
    ratchet: RatchetSpec | None = None


class LevySpec(_Spec):
    name: str = Field(min_length=1)
    rate: Rate


class TaxSpec(_Spec):
    name: str = Field(min_length=1)
    percent: float = Field(ge=0, le=100)


class FixedSpec(_Spec):
    name: str = Field(min_length=1)
    amount: Rate
    per: Literal["month", "day"] = "month"


class HolidaySpec(_Spec):
    country: str = Field(min_length=2, max_length=3)
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known_calendar(self):
        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError as exc:
            raise ValueError(f"no public holiday calendar for {self.country!r} / {self.subdivision!r} ({exc})") from exc
        return self


class DynamicSpec(_Spec):
    file: Path


class TariffFile(_Spec):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    name: str
    currency: str = Field(min_length=3, max_length=3)
    timezone: str | None = None
    source: str = ""
    demand_interval_minutes: int = Field(15, gt=0, le=60)
    minimum_monthly: float = Field(0.0, ge=0)
    holidays: HolidaySpec | None = None
    energy: list[EnergySpec] = []
    demand: list[DemandSpec] = []
    levies: list[LevySpec] = []
    taxes: list[TaxSpec] = []
    fixed: list[FixedSpec] = []
    dynamic: DynamicSpec | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else known_zone(value)

    @field_validator("demand_interval_minutes")
    @classmethod
    def _divides_hour(cls, value: int) -> int:
        return divides_hour(value)

    @model_validator(mode="after")
    def _something_to_pay(self):
        if not self.energy and self.dynamic is None:
            raise ValueError("a tariff needs [[energy]] periods or a [dynamic] price file")
        names = [e.period for e in self.energy]
        if len(set(names)) != len(names):
            raise ValueError("energy: period names must be unique")
        demand_names = [d.name for d in self.demand]
        if len(set(demand_names)) != len(demand_names):
            raise ValueError("demand: charge names must be unique")
        if sum(e.when is None for e in self.energy) > 1:
            raise ValueError("energy: only one period may leave out 'when' (it takes the remaining hours)")
        return self


def _energy_schedule(spec: TariffFile, source: str) -> np.ndarray:
    schedule = np.full(SCHEDULE_SHAPE, -1, dtype=np.int16)
    ordered = sorted(range(len(spec.energy)), key=lambda i: spec.energy[i].when is None)
    for i in ordered:
        schedule[(schedule == -1) & _union(spec.energy[i].when)] = i
    if spec.energy and spec.dynamic is None and (schedule == -1).any():
        month, day_type, quarter = (int(v[0]) for v in np.nonzero(schedule == -1))
        raise InputError(
            f"{source}: energy: no period covers month {month + 1}, "
            f"{'weekends' if day_type == WEEKEND else 'weekdays'}, {quarter // 4:02d}:{quarter % 4 * 15:02d} "
            "(add a period without 'when' for the remaining hours)"
        )
    return schedule


def tariff_from_toml_dict(data: dict, path: Path | None = None, prices_file: Path | None = None) -> Tariff:
    """Build a tariff from parsed TOML; ``[dynamic] file`` is taken relative to ``path``'s folder.

    ``prices_file`` (the site config's, or ``energy bill --prices``; used as given) replaces the
    file named in ``[dynamic]``.
    """
    source = str(path) if path else "tariff"
    try:
        spec = TariffFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(source, exc).replace("docs/configuration.md", "docs/tariffs.md")) from exc
    dynamic = None
    price_path = Path(prices_file) if prices_file is not None else None
    if price_path is None and spec.dynamic is not None:
        price_path = spec.dynamic.file if spec.dynamic.file.is_absolute() or path is None else path.parent / spec.dynamic.file
    if price_path is not None:
        frame, resolution = read_price_csv(price_path, spec.timezone or "UTC")
        dynamic = DynamicPrices(str(price_path.name), frame, resolution)
    return Tariff(
        id=spec.id,
        name=spec.name,
        currency=spec.currency.upper(),
        timezone=spec.timezone,
        source=spec.source,
        demand_interval_minutes=spec.demand_interval_minutes,
        minimum_monthly=spec.minimum_monthly,
        holidays_country=spec.holidays.country if spec.holidays else None,
        holidays_subdivision=spec.holidays.subdivision if spec.holidays else None,
        energy_periods=tuple(EnergyPeriod(e.period, e.as_tiers(), e.export_rate) for e in spec.energy),
        energy_schedule=_energy_schedule(spec, source),
        demand_charges=tuple(
            DemandCharge(
                d.name,
                d.as_tiers(),
                _union(d.when),
                None if d.ratchet is None else Ratchet(d.ratchet.percent, d.ratchet.months, tuple(sorted(set(d.ratchet.counted_months)))),
            )
            for d in spec.demand
        ),
        fixed_charges=tuple(FixedCharge(f.name, f.amount, f.per) for f in spec.fixed),
        levies=tuple(Levy(v.name, v.rate) for v in spec.levies),
        taxes=tuple(PercentTax(t.name, t.percent) for t in spec.taxes),
        dynamic=dynamic,
    )


def load_toml_tariff(path: Path, prices_file: Path | None = None) -> Tariff:
    path = Path(path)
    try:
        data = tomllib.loads(read_tariff_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc
    return tariff_from_toml_dict(data, path, prices_file)
