"""The site configuration: one TOML file per site, validated with pydantic.

``load_config(path)`` returns a :class:`SiteConfig`; any problem raises
:class:`energy.errors.InputError` naming the file and the field path, for example
``site.toml: meters[3].port: must be 1–65535``. File references inside the config (tariff,
weather, emission factor files, custom register maps) are resolved relative to the config file.
The full reference is ``docs/configuration.md``; a documented example is ``data/demo/site.toml``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from energy.errors import InputError


class _Section(BaseModel):
    # Unknown keys are typos more often than not: reject them with their path.
    model_config = ConfigDict(extra="forbid", frozen=True)


NonNegative = Annotated[float, Field(ge=0)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
#: The calendar year a factor's data or an instrument's generation describe (docs/emissions.md).
Vintage = Annotated[int, Field(ge=1900, le=2200)]
#: What a factor counts: CO2 only, or CO2 equivalents (docs/emissions.md).
Gases = Literal["co2", "co2e"]


def known_zone(value: str) -> str:
    """``value`` if it is an IANA time zone name, else ValueError (for pydantic validators)."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from exc
    return value


def divides_hour(minutes: int) -> int:
    """``minutes`` if it divides an hour, else ValueError (for pydantic validators)."""
    if 60 % minutes:
        raise ValueError("must divide 60 (1, 5, 10, 15, 30 or 60)")
    return minutes


class Site(_Section):
    name: str
    timezone: str
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    altitude_m: float = 0.0
    currency: str = Field("EUR", min_length=3, max_length=3)
    interval_minutes: int = Field(15, gt=0, le=60)
    country: str | None = Field(None, description="ISO 3166 code for public holidays")
    subdivision: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @field_validator("interval_minutes")
    @classmethod
    def _divides_hour(cls, value: int) -> int:
        return divides_hour(value)


class Connection(_Section):
    """How to reach a meter: Modbus TCP, RTU on a serial port, or RTU over TCP (a gateway)."""

    protocol: Literal["tcp", "rtu", "rtu_over_tcp"] = "tcp"
    host: str | None = None
    port: int | None = None
    unit_id: int = Field(1, ge=0, le=247)
    serial_port: str | None = None
    baudrate: int = Field(9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    timeout_s: float = Field(1.0, gt=0)
    retries: int = Field(2, ge=0, le=10)

    @field_validator("port")
    @classmethod
    def _port_range(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 65535:
            raise ValueError("must be 1–65535")
        return value

    @model_validator(mode="after")
    def _endpoint_given(self) -> Connection:
        if self.protocol in ("tcp", "rtu_over_tcp") and (not self.host or self.port is None):
            raise ValueError(f"protocol {self.protocol} needs host and port")
        if self.protocol == "rtu" and not self.serial_port:
            raise ValueError("protocol rtu needs serial_port")
        return self


class MeterAssignment(_Section):
    """A meter measured ``machine`` from ``valid_from`` (inclusive) to ``valid_to`` (exclusive)."""

    machine: Identifier
    valid_from: dt.datetime
    valid_to: dt.datetime | None = None


class Meter(_Section):
    id: Identifier
    model: str = Field(description="built-in register map name, or the id of a custom map")
    connection: Connection
    poll_seconds: float = Field(5.0, gt=0)
    role: Literal["machine", "main", "pv", "other"] = "machine"
    machine: Identifier | None = None
    assignments: list[MeterAssignment] = []
    rated_kw: float | None = Field(None, gt=0, description="readings above this are implausible")
    enabled: bool = True

    @model_validator(mode="after")
    def _machine_for_role(self) -> Meter:
        if self.role == "machine" and not self.machine and not self.assignments:
            raise ValueError("a meter with role 'machine' needs machine (or assignments)")
        return self


class RegisterMapRow(_Section):
    quantity: str
    function_code: Literal[3, 4] = 3
    address: int = Field(ge=0, le=65535)
    data_type: Literal[
        "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"
    ]
    word_order: Literal["high_first", "low_first"] = "high_first"
    scale: float = 1.0
    unit: str = ""
    not_available: list[Literal["all_ones", "min_signed", "max_signed"]] = Field(
        [], description="raw patterns meaning 'not available' (float NaN always is)"
    )


class CustomRegisterMap(_Section):
    id: Identifier
    max_registers_per_request: int = Field(100, ge=1, le=125)
    max_gap: int = Field(0, ge=0, le=124, description="unmapped registers one request may span")
    registers: list[RegisterMapRow] = Field(min_length=1)


class Machine(_Section):
    id: Identifier
    name: str
    idle_kw: NonNegative = 0.0
    rated_kw: float | None = Field(None, gt=0)
    flexible: bool = False
    startup_eur: NonNegative = 0.0
    shutdown_eur: NonNegative = 0.0


class VirtualMeter(_Section):
    """A series computed from others: Σ add − Σ subtract (ids of meters or machines)."""

    id: Identifier
    add: list[Identifier] = Field(min_length=1)
    subtract: list[Identifier] = []


class TariffRef(_Section):
    file: Path
    format: Literal["auto", "toml", "urdb"] = "auto"
    urdb_index: int = Field(0, ge=0, description="which item of a URDB response to use")
    prices_file: Path | None = Field(None, description="dynamic prices CSV (timestamp, price)")


class PVArray(_Section):
    id: Identifier
    kwp: float = Field(gt=0)
    tilt_deg: float = Field(30.0, ge=0, le=90)
    azimuth_deg: float = Field(180.0, ge=0, lt=360)
    losses_pct: float = Field(14.0, ge=0, lt=100)
    inverter_kw: float | None = Field(None, gt=0)
    meter: Identifier | None = None


class EmissionFactorSource(_Section):
    """One dated factor source: a series file (hourly, monthly…) or a constant, with its citation.

    Reading the files is ``energy.emissions.sources`` (see docs/emissions.md).
    """

    id: Identifier
    method: Literal["location", "market", "residual_mix", "supplier", "marginal"]
    file: Path | None = None
    column: str | None = None
    time_column: str | None = Field(None, description="default: the file's first column")
    unit: Literal["g_per_kwh", "kg_per_mwh", "kg_per_kwh", "t_per_mwh", "lb_per_kwh", "lb_per_mwh"] = "g_per_kwh"
    timezone: str = Field("UTC", description="zone of timestamps without an offset in the file")
    g_per_kwh: float | None = Field(None, ge=0)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    source: str = Field(min_length=1, description="citation: publisher, data set, version")
    vintage: Vintage | None = Field(None, description="calendar year the data describe (not the publication year)")
    gases: Gases | None = Field(None, description="co2 (CO2 only) or co2e; unknown when not given")

    @model_validator(mode="after")
    def _file_or_value(self) -> EmissionFactorSource:
        if (self.file is None) == (self.g_per_kwh is None):
            raise ValueError("give exactly one of file or g_per_kwh")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


class ContractualInstrument(_Section):
    """Guarantees of origin, RECs or a PPA: MWh covered in a period at a factor (often 0)."""

    id: Identifier
    kind: Literal["go", "rec", "ppa", "green_tariff"]
    mwh: float = Field(gt=0)
    valid_from: dt.date
    valid_to: dt.date
    g_per_kwh: float = Field(0.0, ge=0)
    source: str = Field(min_length=1, description="citation: registry, certificate ids, contract")
    vintage: Vintage | None = Field(None, description="calendar year the energy was generated in")
    gases: Gases | None = Field(None, description="what g_per_kwh counts (irrelevant at 0)")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code of the generation's market")
    registry_id: str | None = Field(None, min_length=1, description="id in the tracking registry (certificates, cancellation statement)")
    device: str | None = Field(None, min_length=1, description="the generating device or facility")
    cancelled_on: dt.date | None = Field(None, description="local date of the cancellation (redemption) for the site")

    @model_validator(mode="after")
    def _period(self) -> ContractualInstrument:
        if self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        if self.cancelled_on is not None and self.vintage is not None and self.cancelled_on.year < self.vintage:
            raise ValueError(f"cancelled_on {self.cancelled_on} is before the vintage year {self.vintage}: a certificate is cancelled after its energy is generated")
        return self

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (two capital letters, like DE)")
        return value


class Emissions(_Section):
    factors: list[EmissionFactorSource] = []
    instruments: list[ContractualInstrument] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> Emissions:
        for section, items in (("factors", self.factors), ("instruments", self.instruments)):
            ids = [item.id for item in items]
            for i, item_id in enumerate(ids):
                if item_id in ids[:i]:
                    raise ValueError(f"{section}[{i}].id: duplicate id {item_id!r}")
        return self


class Calendar(_Section):
    shutdown_days: list[dt.date] = []
    shifts: list[str] = Field([], description="'HH:MM-HH:MM' production shifts in local time")


class Collector(_Section):
    batch_seconds: float = Field(5.0, gt=0)
    spool_dir: Path = Path("spool")


class Forecasts(_Section):
    """How ``energy forecast`` runs (docs/forecasts.md)."""

    weather_file: Path | None = Field(None, description="CSV: timestamp, ghi_w_m2 or cloud_cover_pct")
    clear_sky_index: float = Field(0.7, gt=0, le=1, description="PV derating of clear sky without weather")
    history_days: int = Field(56, ge=2, le=730)
    backtest_origins: int = Field(7, ge=1, le=60)
    reselect_days: int = Field(7, ge=0, description="re-run model selection when older than this")
    workers: int | None = Field(None, ge=1)
    models: list[str] | None = Field(None, description="candidate models (default all); naives always")


class Planning(_Section):
    jobs_file: Path | None = None
    export_dir: Path = Path("plans")
    time_limit_s: float = Field(60.0, gt=0)
    gap: float = Field(0.01, ge=0)
    grid_limit_kw: float | None = Field(None, gt=0)
    co2_price_eur_per_t: NonNegative = 0.0
    move_penalty_eur: NonNegative = 0.0


class Dashboard(_Section):
    """``energy ui``: where it listens and who may look (docs/dashboard.md)."""

    host: str = Field("127.0.0.1", description="bind address; anything wider needs authentication")
    port: int = Field(8501, ge=1, le=65535)
    password_sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$", description="hex SHA-256 of the password")
    oidc: bool = Field(False, description="require Streamlit's OIDC login (provider in .streamlit/secrets.toml)")


class EnpiAdjustment(_Section):
    """A non-routine adjustment of the energy baseline (ISO 50015): kWh the baseline must also expect."""

    date: dt.date = Field(description="local day it applies to (the first day, with until)")
    until: dt.date | None = Field(None, description="last local day: kwh is then added on every day from date to until")
    description: str = Field(min_length=1, description="what changed: an extension, a new line, a commissioning test …")
    kwh: float = Field(description="kWh added to the expected consumption (negative: less expected)")

    @model_validator(mode="after")
    def _span(self) -> EnpiAdjustment:
        if self.until is not None and self.until < self.date:
            raise ValueError("until must not be before date")
        return self


class Enpi(_Section):
    """Energy performance per ISO 50006 (docs/enpi.md): relevant variables, baseline, adjustments."""

    production_file: Path | None = Field(None, description="the MES/ERP production CSV (energy.reports.production)")
    products: list[str] = Field([], description="products that are relevant variables of their own; the others are summed per unit")
    weather_file: Path | None = Field(None, description="CSV: timestamp, temp_air_c (°C) → heating and cooling degree days")
    heating_base_c: float = Field(18.3, ge=-30, le=40, description="base temperature of heating degree days")
    cooling_base_c: float = Field(18.3, ge=-30, le=40, description="base temperature of cooling degree days")
    baseline_from: dt.date | None = None
    baseline_to: dt.date | None = None
    granularity: Literal["auto", "daily", "weekly", "monthly"] = "auto"
    static_factors: list[str] = Field([], description="what the baseline assumes unchanged (ISO 50006 static factors)")
    adjustments: list[EnpiAdjustment] = []

    @model_validator(mode="after")
    def _baseline(self) -> Enpi:
        if (self.baseline_from is None) != (self.baseline_to is None):
            raise ValueError("give both baseline_from and baseline_to, or neither")
        if self.baseline_from and self.baseline_to < self.baseline_from:
            raise ValueError("baseline_to must not be before baseline_from")
        if self.cooling_base_c < self.heating_base_c:
            raise ValueError("cooling_base_c must not be below heating_base_c")
        return self


class SiteConfig(_Section):
    site: Site
    machines: list[Machine] = []
    meters: list[Meter] = []
    register_maps: list[CustomRegisterMap] = []
    virtual_meters: list[VirtualMeter] = []
    tariff: TariffRef | None = None
    pv: list[PVArray] = []
    emissions: Emissions = Emissions()
    calendar: Calendar = Calendar()
    collector: Collector = Collector()
    planning: Planning = Planning()
    forecasts: Forecasts = Forecasts()
    ui: Dashboard = Dashboard()
    enpi: Enpi = Enpi()
    path: Path | None = Field(None, exclude=True, description="the file this was read from")

    @model_validator(mode="after")
    def _references_resolve(self) -> SiteConfig:
        _unique("machines", [m.id for m in self.machines])
        _unique("meters", [m.id for m in self.meters])
        machine_ids = {m.id for m in self.machines}
        for i, meter in enumerate(self.meters):
            named = [meter.machine] if meter.machine else []
            named += [a.machine for a in meter.assignments]
            for machine in named:
                if machine not in machine_ids:
                    raise ValueError(f"meters[{i}].machine: unknown machine {machine!r}")
        series_ids = machine_ids | {m.id for m in self.meters}
        for i, virtual in enumerate(self.virtual_meters):
            for name in [*virtual.add, *virtual.subtract]:
                if name not in series_ids:
                    raise ValueError(f"virtual_meters[{i}]: unknown meter or machine {name!r}")
        return self

    def resolve(self, relative: Path | None) -> Path | None:
        """A path from the config, taken relative to the config file's folder."""
        if relative is None or relative.is_absolute() or self.path is None:
            return relative
        return self.path.parent / relative

    def machine(self, machine_id: str) -> Machine:
        for machine in self.machines:
            if machine.id == machine_id:
                return machine
        raise InputError(f"unknown machine {machine_id!r} (config has: {', '.join(m.id for m in self.machines)})")


def _unique(section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            raise ValueError(f"{section}[{i}].id: duplicate id {item!r}")
        seen.add(item)


def format_location(loc: tuple) -> str:
    """``('meters', 3, 'port')`` → ``meters[3].port``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _describe(error: dict) -> str:
    message = error["msg"].removeprefix("Value error, ")
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than_equal":
        message = f"must be ≥ {ctx['ge']}"
    elif kind == "greater_than":
        message = f"must be > {ctx['gt']}"
    elif kind == "less_than_equal":
        message = f"must be ≤ {ctx['le']}"
    elif kind == "less_than":
        message = f"must be < {ctx['lt']}"
    elif kind == "extra_forbidden":
        message = "unknown field (check the spelling against docs/configuration.md)"
    elif kind == "missing":
        message = "required field is missing"
    location = format_location(tuple(error["loc"]))
    return f"{location}: {message}" if location else message


def describe_validation_error(source: str, exc: ValidationError) -> str:
    """One line naming the source and the first problem's field path (and how many more)."""
    errors = exc.errors()
    first = _describe(errors[0])
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{source}: {first}{more}"


def parse_config(data: dict, path: Path | None = None) -> SiteConfig:
    source = str(path) if path else "config"
    try:
        config = SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(source, exc)) from exc
    path = path.resolve() if path else None
    # The EnPI's files are read where the config is stored and read back (the dashboard), without its folder.
    files = {k: path.parent / v for k in ("production_file", "weather_file") if path and (v := getattr(config.enpi, k)) and not v.is_absolute()}
    return config.model_copy(update={"path": path, "enpi": config.enpi.model_copy(update=files)})


def read_toml(path: Path, what: str) -> dict:
    """The content of the TOML file ``path`` (a ``what``: "config", "twin" …); a missing,
    unreadable or invalid file raises InputError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: {what} file not found") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read {what} file: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} file: {exc.strerror}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc


def load_config(path: str | Path) -> SiteConfig:
    """Read and validate a site's TOML file."""
    path = Path(path)
    return parse_config(read_toml(path, "config"), path)
