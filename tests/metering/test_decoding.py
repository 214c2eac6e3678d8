"""Decoding of every data type, word order and sentinel; request coalescing; map validation."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from energy.errors import InputError
from energy.metering.decoding import ReadRequest, decode_blocks, decode_words, encode_value, is_sentinel, plan_requests, sentinel_words
from energy.metering.maps import WORDS, Register, RegisterMap, builtin_map, builtin_names, parse_map_document

INT_RANGES = {
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
ORDERS = ["high_first", "low_first"]


@pytest.mark.parametrize("word_order", ORDERS)
@pytest.mark.parametrize("data_type", list(INT_RANGES))
def test_integers_round_trip(data_type, word_order):
    lo, hi = INT_RANGES[data_type]

    @given(st.integers(lo, hi))
    def check(raw):
        words = encode_value(raw, data_type, word_order)
        assert len(words) == WORDS[data_type]
        assert all(0 <= w <= 0xFFFF for w in words)
        assert decode_words(words, data_type, word_order) == float(raw)

    check()


@pytest.mark.parametrize("word_order", ORDERS)
@pytest.mark.parametrize("data_type", ["float32", "float64"])
def test_floats_round_trip(data_type, word_order):
    @given(st.floats(allow_nan=False, allow_infinity=False, width=32 if data_type == "float32" else 64))
    def check(value):
        assert decode_words(encode_value(value, data_type, word_order), data_type, word_order) == value

    check()


def test_word_orders_against_hand_built_words():
    # 0x12345678 as int32: high word first is [0x1234, 0x5678], low word first [0x5678, 0x1234]
    assert decode_words([0x1234, 0x5678], "int32", "high_first") == 0x12345678
    assert decode_words([0x5678, 0x1234], "int32", "low_first") == 0x12345678
    # -2 as int32, low word first (Carlo Gavazzi)
    assert decode_words([0xFFFE, 0xFFFF], "int32", "low_first") == -2
    # 230.5 as float32 big-endian is 0x43668000
    assert decode_words([0x4366, 0x8000], "float32") == 230.5
    assert decode_words([0x8000, 0x4366], "float32", "low_first") == 230.5
    # 1.5 as float64 is 0x3FF8000000000000
    assert decode_words([0x3FF8, 0, 0, 0], "float64") == 1.5
    # uint64 with a scale: 123456789 × 0.01 kWh
    words = list(struct.unpack(">4H", struct.pack(">Q", 123456789)))
    assert decode_words(words, "uint64", scale=0.01) == pytest.approx(1234567.89)


@given(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0.1, 0.01, 0.001, 10.0]))
def test_scale_multiplies_raw(raw, scale):
    assert decode_words(encode_value(raw * scale, "int32", scale=scale), "int32", scale=scale) == pytest.approx(raw * scale)


@pytest.mark.parametrize("word_order", ORDERS)
@pytest.mark.parametrize("data_type", list(INT_RANGES))
@pytest.mark.parametrize("kind", ["all_ones", "min_signed", "max_signed"])
def test_sentinels_read_as_missing(kind, data_type, word_order):
    words = sentinel_words(data_type, kind, word_order)
    assert math.isnan(decode_words(words, data_type, word_order, sentinels=[kind]))
    # without declaring it, the same words are a number
    assert not math.isnan(decode_words(words, data_type, word_order))


@pytest.mark.parametrize("word_order", ORDERS)
@pytest.mark.parametrize("data_type", ["float32", "float64"])
def test_float_nan_and_infinity_are_missing(data_type, word_order):
    assert math.isnan(decode_words(sentinel_words(data_type, None, word_order), data_type, word_order))
    infinite = encode_value(math.inf, data_type, word_order)
    assert math.isnan(decode_words(infinite, data_type, word_order))


@given(st.integers(-(2**31) + 1, 2**31 - 2))
def test_values_next_to_a_sentinel_are_numbers(raw):
    words = encode_value(raw, "int32")
    assert not is_sentinel(words, "int32", ["max_signed", "min_signed"]) or raw in (2**31 - 1, -(2**31))
    assert decode_words(words, "int32", sentinels=["max_signed", "min_signed"]) == raw


def _map(registers, max_registers=100, max_gap=0):
    return RegisterMap("t", tuple(registers), max_registers_per_request=max_registers, max_gap=max_gap)


def test_coalescing_merges_within_gap_and_size():
    regs = [Register("power_kw", 4, 0, "float32"), Register("voltage_l1_v", 4, 4, "float32"), Register("frequency_hz", 4, 70, "float32"), Register("import_energy_kwh", 3, 10, "uint32")]
    assert plan_requests(_map(regs, max_gap=2)) == [ReadRequest(3, 10, 2), ReadRequest(4, 0, 6), ReadRequest(4, 70, 2)]
    assert plan_requests(_map(regs, max_gap=80)) == [ReadRequest(3, 10, 2), ReadRequest(4, 0, 72)]
    assert plan_requests(_map(regs, max_registers=50, max_gap=80)) == [ReadRequest(3, 10, 2), ReadRequest(4, 0, 6), ReadRequest(4, 70, 2)]
    assert plan_requests(_map(regs, max_gap=0)) == [ReadRequest(3, 10, 2), ReadRequest(4, 0, 2), ReadRequest(4, 4, 2), ReadRequest(4, 70, 2)]


@pytest.mark.parametrize("name", builtin_names())
def test_shipped_maps_plan_few_requests_that_cover_every_register(name):
    regmap = builtin_map(name)
    requests = plan_requests(regmap)
    assert all(r.count <= regmap.max_registers_per_request and r.function_code in (3, 4) for r in requests)
    blocks = {r: [0] * r.count for r in requests}
    assert set(decode_blocks(regmap, blocks)) == {r.quantity for r in regmap.registers}  # each register is covered
    assert len(requests) <= 3
    assert {"power_kw", "import_energy_kwh", "export_energy_kwh", "voltage_l1_v", "current_l1_a"} <= {r.quantity for r in regmap.registers}


def test_bad_maps_are_named_by_file_and_field():
    base = {"id": "x", "registers": [{"quantity": "power_kw", "address": 0, "data_type": "float32"}]}
    assert parse_map_document(base, "m.toml").registers[0].function_code == 3
    cases = [
        ({"registers": [{"quantity": "power", "address": 0, "data_type": "float32"}]}, "m.toml.registers[0].quantity: unknown quantity 'power'"),
        ({"registers": [{"quantity": "power_kw", "address": 0, "data_type": "float16"}]}, "m.toml.registers[0].data_type: unknown type"),
        ({"function_code": 6}, "m.toml.registers[0].function_code: must be 3 or 4"),
        ({"registers": [{"quantity": "power_kw", "address": 65535, "data_type": "float32"}]}, "m.toml.registers[0].address"),
        ({"registers": [{"quantity": "voltage_l1_v", "address": 0, "data_type": "float32"}]}, "maps neither import_energy_kwh nor power_kw"),
        ({"address_base": 2}, "m.toml.address_base: must be 0 or 1"),
        ({"registers": [{"quantity": "power_kw", "address": 0, "data_type": "float32", "colour": 1}]}, "unknown field(s) ['colour']"),
        ({"not_available": ["nan"]}, "m.toml.registers[0].not_available: unknown sentinel"),
    ]
    for change, message in cases:
        with pytest.raises(InputError, match=None) as info:
            parse_map_document({**base, **change}, "m.toml")
        assert message in str(info.value)


def test_one_based_maps_subtract_one():
    # Schneider documents register 3060 for total power: protocol address 3059
    assert builtin_map("schneider_iem3000").register("power_kw").address == 3059
    assert builtin_map("schneider_pm5100").register("import_energy_kwh").address == 3203
    assert builtin_map("abb_b24").register("power_kw") == builtin_map("abb_b23").register("power_kw")
