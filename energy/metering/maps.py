"""Register maps: which Modbus registers hold which quantity, as data.

A map is one TOML file per meter model in ``energy/metering/maps/`` (shipped with the package)
or a ``[[register_maps]]`` entry of the site config. Every register names a *quantity* from
:data:`QUANTITIES`, in the unit given there after multiplying the raw value by ``scale`` (for
example an ABB power register counts 0.01 W, so ``scale = 0.00001`` gives kW).

Map file keys: ``id``, ``maker``, ``model``, ``source`` (where the addresses were checked),
``function_code`` (3 or 4), ``word_order`` (``high_first`` or ``low_first``), ``address_base``
(0, or 1 when the maker numbers registers from 1: address = register − 1),
``max_registers_per_request``, ``max_gap`` (unmapped registers a single request may span),
``not_available`` (sentinel patterns, see :mod:`energy.metering.decoding`) and ``registers``,
a list of ``{quantity, address, data_type, scale, unit}`` with optional per-register
``function_code``, ``word_order`` and ``not_available``. ``extends = "other_map"`` starts from
another shipped map (a sibling model with the same register table).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from energy.config import SiteConfig
from energy.errors import InputError

MAPS_DIR = Path(__file__).parent / "maps"

#: Quantity name → unit after scaling.
QUANTITIES = {
    "voltage_l1_v": "V",
    "voltage_l2_v": "V",
    "voltage_l3_v": "V",
    "current_l1_a": "A",
    "current_l2_a": "A",
    "current_l3_a": "A",
    "power_kw": "kW (total active power, import positive)",
    "power_l1_kw": "kW",
    "power_l2_kw": "kW",
    "power_l3_kw": "kW",
    "import_energy_kwh": "kWh (total active import counter)",
    "export_energy_kwh": "kWh (total active export counter)",
    "frequency_hz": "Hz",
}
#: What a reading needs: at least one of these.
READING_QUANTITIES = ("import_energy_kwh", "power_kw")

#: data type → number of 16-bit registers.
WORDS = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "int64": 4, "uint64": 4, "float32": 2, "float64": 4}
SENTINELS = ("all_ones", "min_signed", "max_signed")


@dataclass(frozen=True)
class Register:
    quantity: str
    function_code: int
    address: int  # 0-based protocol address
    data_type: str
    word_order: str = "high_first"
    scale: float = 1.0
    unit: str = ""
    not_available: tuple[str, ...] = ()

    @property
    def words(self) -> int:
        return WORDS[self.data_type]


@dataclass(frozen=True)
class RegisterMap:
    id: str
    registers: tuple[Register, ...]
    max_registers_per_request: int = 100
    max_gap: int = 0
    maker: str = ""
    model: str = ""
    source: str = ""

    def register(self, quantity: str) -> Register | None:
        for register in self.registers:
            if register.quantity == quantity:
                return register
        return None


def _check_register(where: str, register: Register) -> None:
    if register.quantity not in QUANTITIES:
        raise InputError(f"{where}.quantity: unknown quantity {register.quantity!r} (known: {', '.join(QUANTITIES)})")
    if register.function_code not in (3, 4):
        raise InputError(f"{where}.function_code: must be 3 or 4 (read holding / input registers)")
    if register.data_type not in WORDS:
        raise InputError(f"{where}.data_type: unknown type {register.data_type!r} (known: {', '.join(WORDS)})")
    if register.word_order not in ("high_first", "low_first"):
        raise InputError(f"{where}.word_order: must be high_first or low_first")
    if not 0 <= register.address <= 65536 - register.words:
        raise InputError(f"{where}.address: {register.address} is outside 0–65535 for a {register.data_type}")
    unknown = set(register.not_available) - set(SENTINELS)
    if unknown:
        raise InputError(f"{where}.not_available: unknown sentinel(s) {sorted(unknown)} (known: {', '.join(SENTINELS)})")


def _check_map(where: str, regmap: RegisterMap) -> RegisterMap:
    if not 1 <= regmap.max_registers_per_request <= 125:
        raise InputError(f"{where}.max_registers_per_request: must be 1–125")
    quantities = [r.quantity for r in regmap.registers]
    for i, register in enumerate(regmap.registers):
        _check_register(f"{where}.registers[{i}]", register)
        if register.words > regmap.max_registers_per_request:
            raise InputError(f"{where}.registers[{i}]: a {register.data_type} does not fit in max_registers_per_request")
        if quantities.index(register.quantity) != i:
            raise InputError(f"{where}.registers[{i}].quantity: {register.quantity!r} is mapped twice")
    if not any(q in quantities for q in READING_QUANTITIES):
        raise InputError(f"{where}: maps neither {' nor '.join(READING_QUANTITIES)}; a reading needs one of them")
    return regmap


def parse_map_document(document: dict, where: str) -> RegisterMap:
    """A map from the parsed TOML of a map file (see the module doc for the keys)."""
    try:
        base = int(document.get("address_base", 0))
        if base not in (0, 1):
            raise InputError(f"{where}.address_base: must be 0 or 1")
        defaults = {
            "function_code": int(document.get("function_code", 3)),
            "word_order": document.get("word_order", "high_first"),
            "not_available": tuple(document.get("not_available", ())),
        }
        registers = []
        for i, row in enumerate(document.get("registers", [])):
            unknown = set(row) - {"quantity", "address", "data_type", "scale", "unit", *defaults}
            if unknown:
                raise InputError(f"{where}.registers[{i}]: unknown field(s) {sorted(unknown)}")
            fields = {**defaults, **row}
            registers.append(
                Register(
                    quantity=fields["quantity"],
                    function_code=int(fields["function_code"]),
                    address=int(fields["address"]) - base,
                    data_type=fields["data_type"],
                    word_order=fields["word_order"],
                    scale=float(fields.get("scale", 1.0)),
                    unit=str(fields.get("unit", "")),
                    not_available=tuple(fields["not_available"]),
                )
            )
        regmap = RegisterMap(
            id=document["id"],
            registers=tuple(registers),
            max_registers_per_request=int(document.get("max_registers_per_request", 100)),
            max_gap=int(document.get("max_gap", 0)),
            maker=document.get("maker", ""),
            model=document.get("model", ""),
            source=document.get("source", ""),
        )
    except KeyError as exc:
        raise InputError(f"{where}: required field {exc.args[0]!r} is missing") from exc
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from exc
    return _check_map(where, regmap)


def _read_map_file(name: str) -> dict:
    path = MAPS_DIR / f"{name}.toml"
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    parent = document.pop("extends", None)
    if parent:
        document = {**_read_map_file(parent), **document}
    return document


def builtin_names() -> list[str]:
    return sorted(path.stem for path in MAPS_DIR.glob("*.toml"))


@cache
def builtin_map(name: str) -> RegisterMap:
    """A shipped register map by model name (``eastron_sdm630``…)."""
    if name not in builtin_names():
        raise InputError(f"unknown meter model {name!r} (built-in: {', '.join(builtin_names())})")
    return parse_map_document(_read_map_file(name), f"energy/metering/maps/{name}.toml")


def custom_map(config: SiteConfig, index: int) -> RegisterMap:
    """The config's ``register_maps[index]`` as a :class:`RegisterMap`."""
    entry = config.register_maps[index]
    document = {
        "id": entry.id,
        "max_registers_per_request": entry.max_registers_per_request,
        "max_gap": entry.max_gap,
        "registers": [row.model_dump() for row in entry.registers],
    }
    return parse_map_document(document, f"{config.path or 'config'}: register_maps[{index}]")


def meter_map(config: SiteConfig, meter_index: int) -> RegisterMap:
    """The register map of ``config.meters[meter_index]``: a custom map of that id, else a shipped one."""
    meter = config.meters[meter_index]
    for i, entry in enumerate(config.register_maps):
        if entry.id == meter.model:
            return custom_map(config, i)
    if meter.model in builtin_names():
        return builtin_map(meter.model)
    custom = [m.id for m in config.register_maps]
    raise InputError(
        f"{config.path or 'config'}: meters[{meter_index}].model: unknown register map {meter.model!r} "
        f"(built-in: {', '.join(builtin_names())}{'; custom: ' + ', '.join(custom) if custom else ''})"
    )
