"""Register words ↔ values, "not available" sentinels, and request coalescing (pure functions).

Words are 16-bit register values as Modbus carries them (each big-endian on the wire).
Multi-word types are either *high word first* (the Modbus convention) or *low word first*
(Carlo Gavazzi). A value is ``raw × scale``.

Not available: a float NaN or infinity is always missing; integer registers declare the
sentinels their maker uses: ``all_ones`` (every byte 0xFF, ABB), ``min_signed`` (0x8000…,
Schneider, SunSpec) or ``max_signed`` (0x7FFF FFFF…). A missing value decodes to NaN, never
to a number.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Iterable, Sequence

from energy.metering.maps import WORDS, Register, RegisterMap

_FORMATS = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q", "uint64": "Q", "float32": "f", "float64": "d"}


def _ordered(words: Sequence[int], word_order: str) -> list[int]:
    """Words most significant first."""
    return list(words) if word_order == "high_first" else list(reversed(words))


def is_sentinel(words: Sequence[int], data_type: str, sentinels: Iterable[str], word_order: str = "high_first") -> bool:
    """Whether the raw words are one of the declared "not available" patterns."""
    high_first = _ordered(words, word_order)
    rest = high_first[1:]
    for kind in sentinels:
        if kind == "all_ones" and all(w == 0xFFFF for w in high_first):
            return True
        if kind == "min_signed" and high_first[0] == 0x8000 and all(w == 0 for w in rest):
            return True
        if kind == "max_signed" and high_first[0] == 0x7FFF and all(w == 0xFFFF for w in rest):
            return True
    return False


def decode_words(words: Sequence[int], data_type: str, word_order: str = "high_first", scale: float = 1.0, sentinels: Iterable[str] = ()) -> float:
    """The value of one register's words (NaN when not available)."""
    if len(words) != WORDS[data_type]:
        raise ValueError(f"{data_type} needs {WORDS[data_type]} words, got {len(words)}")
    if is_sentinel(words, data_type, sentinels, word_order):
        return math.nan
    raw = struct.unpack(">" + _FORMATS[data_type], struct.pack(f">{len(words)}H", *_ordered(words, word_order)))[0]
    value = float(raw) * scale
    return value if math.isfinite(value) else math.nan


def encode_value(value: float, data_type: str, word_order: str = "high_first", scale: float = 1.0) -> list[int]:
    """Words holding ``value`` (raw = value / scale, rounded for integer types)."""
    raw = value if scale == 1 else value / scale  # an int stays exact (int64 beyond 2**53)
    if data_type.startswith(("int", "uint")):
        raw = int(round(raw))
    packed = struct.pack(">" + _FORMATS[data_type], raw)
    words = list(struct.unpack(f">{WORDS[data_type]}H", packed))
    return words if word_order == "high_first" else list(reversed(words))


def sentinel_words(data_type: str, kind: str | None, word_order: str = "high_first") -> list[int]:
    """Words of a "not available" pattern; ``kind=None`` for a float NaN."""
    n = WORDS[data_type]
    if kind is None:
        words = encode_value(math.nan, data_type)
    elif kind == "all_ones":
        words = [0xFFFF] * n
    elif kind == "min_signed":
        words = [0x8000] + [0] * (n - 1)
    elif kind == "max_signed":
        words = [0x7FFF] + [0xFFFF] * (n - 1)
    else:
        raise ValueError(f"unknown sentinel {kind!r}")
    return words if word_order == "high_first" else list(reversed(words))


@dataclass(frozen=True)
class ReadRequest:
    """One Modbus read: function code, first 0-based address, register count."""

    function_code: int
    address: int
    count: int


def plan_requests(regmap: RegisterMap) -> list[ReadRequest]:
    """As few reads as the device allows: registers of one function code are merged while the
    span stays within ``max_registers_per_request`` and each gap within ``max_gap``."""
    requests: list[ReadRequest] = []
    for fc in sorted({r.function_code for r in regmap.registers}):
        spans = sorted((r.address, r.address + r.words) for r in regmap.registers if r.function_code == fc)
        start, end = spans[0]
        for lo, hi in spans[1:]:
            if lo - end <= regmap.max_gap and max(end, hi) - start <= regmap.max_registers_per_request:
                end = max(end, hi)
            else:
                requests.append(ReadRequest(fc, start, end - start))
                start, end = lo, hi
        requests.append(ReadRequest(fc, start, end - start))
    return requests


def register_words(register: Register, blocks: dict[ReadRequest, Sequence[int]]) -> Sequence[int]:
    """The words of ``register`` from the answered requests."""
    for request, words in blocks.items():
        offset = register.address - request.address
        if request.function_code == register.function_code and 0 <= offset and offset + register.words <= request.count:
            return words[offset : offset + register.words]
    raise KeyError(f"no request covers {register.quantity} at {register.address}")


def decode_blocks(regmap: RegisterMap, blocks: dict[ReadRequest, Sequence[int]]) -> dict[str, float]:
    """Quantity → value (NaN when not available) from the words of every planned request."""
    return {
        r.quantity: decode_words(register_words(r, blocks), r.data_type, r.word_order, r.scale, r.not_available)
        for r in regmap.registers
    }


def encode_image(regmap: RegisterMap, values: dict[str, float], unavailable: Iterable[str] = ()) -> dict[tuple[int, int], int]:
    """The register image ``{(function_code, address): word}`` serving ``values``.

    Quantities in ``unavailable`` get the register's sentinel (NaN for floats, else the first
    declared pattern); quantities without a value are left out.
    """
    unavailable = set(unavailable)
    image: dict[tuple[int, int], int] = {}
    for r in regmap.registers:
        if r.quantity in unavailable:
            kind = None if r.data_type.startswith("float") else (r.not_available or (None,))[0]
            if kind is None and not r.data_type.startswith("float"):
                continue  # the map declares no way to say "not available" for this register
            words = sentinel_words(r.data_type, kind, r.word_order)
        elif r.quantity in values:
            words = encode_value(values[r.quantity], r.data_type, r.word_order, r.scale)
        else:
            continue
        for i, word in enumerate(words):
            image[(r.function_code, r.address + i)] = word
    return image
