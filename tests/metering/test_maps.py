"""Every shipped map decodes a known value set that a pymodbus server serves from a register
image built from the DOCUMENTED register list (shared/data/modbus/register_maps.csv), not from
the map itself, so a wrong address, type, word order or scale in a map fails here."""

from __future__ import annotations

import asyncio
import csv
import re
import struct

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from energy.config import Connection
from energy.metering.decoding import decode_blocks, plan_requests
from energy.metering.link import ReadOnlyLink
from energy.metering.maps import builtin_map, builtin_names
from tests.helpers import shared_data
from tests.metering.support import free_port

#: map → the meter names its rows have in the documented list
DOCUMENTED_AS = {
    "eastron_sdm630": ["Eastron SDM630"],
    "eastron_sdm120": ["Eastron SDM120"],
    "janitza_umg96rme": ["Janitza UMG 96RM-E"],
    "abb_b23": ["ABB B23/B24 (mbmd 'ABB')", "ABB B23/B24"],
    "abb_b24": ["ABB B23/B24 (mbmd 'ABB')", "ABB B23/B24"],
    "carlo_gavazzi_em24": ["Carlo Gavazzi EM24"],
    "schneider_iem3000": ["Schneider iEM3000 series"],
    "schneider_pm5100": ["Schneider PM5100/PM5000 series"],
}
#: documented quantity → ours
QUANTITY = {
    "voltage_L1_N": "voltage_l1_v", "voltage_L2_N": "voltage_l2_v", "voltage_L3_N": "voltage_l3_v", "voltage": "voltage_l1_v",
    "current_L1": "current_l1_a", "current_L2": "current_l2_a", "current_L3": "current_l3_a", "current": "current_l1_a",
    "active_power_L1": "power_l1_kw", "active_power_L2": "power_l2_kw", "active_power_L3": "power_l3_kw",
    "active_power_total": "power_kw", "active_power": "power_kw", "frequency": "frequency_hz",
    "import_active_energy_total": "import_energy_kwh", "import_active_energy": "import_energy_kwh",
    "active_energy_delivered_total": "import_energy_kwh",
    "export_active_energy_total": "export_energy_kwh", "export_active_energy": "export_energy_kwh",
}
#: documented raw unit → factor to our unit (V, A, kW, kWh, Hz)
RAW_UNIT = {
    "V": 1, "0.1 V": 0.1, "A": 1, "0.01 A": 0.01, "0.001 A": 0.001, "W": 0.001, "0.1 W": 1e-4, "0.01 W": 1e-5,
    "kW": 1, "kWh": 1, "0.1 kWh": 0.1, "0.01 kWh": 0.01, "Wh": 0.001, "Hz": 1, "0.1 Hz": 0.1, "0.01 Hz": 0.01,
}
#: the known values served (our units)
KNOWN = {
    "voltage_l1_v": 231.7, "voltage_l2_v": 229.3, "voltage_l3_v": 232.1, "current_l1_a": 41.23, "current_l2_a": 39.87,
    "current_l3_a": 40.05, "power_l1_kw": 9.1234, "power_l2_kw": 8.8765, "power_l3_kw": 9.0012, "power_kw": 27.0011,
    "frequency_hz": 49.98, "import_energy_kwh": 123456.7, "export_energy_kwh": 321.4,
}
STRUCT = {"float32": "f", "int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q", "uint64": "Q"}


def documented_rows(model: str) -> list[dict]:
    """The documented rows of a map's meter, for quantities the map has: fc, address, words, factor."""
    rows = []
    with shared_data("modbus", "register_maps.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            quantity = QUANTITY.get(re.sub(r"\s*\(.*$", "", row["quantity"]))
            if row["meter"] not in DOCUMENTED_AS[model] or quantity is None:
                continue
            data_type = row["data_type"].split()[0]
            factor = RAW_UNIT[row["raw_unit"]]
            raw = KNOWN[quantity] / factor
            raw = raw if data_type == "float32" else int(round(raw))
            words = list(struct.unpack(f">{row['words']}H", struct.pack(">" + STRUCT[data_type], raw)))
            if row["word_order"].startswith("LSW"):
                words.reverse()
            rows.append({"quantity": quantity, "fc": int(row["function_code"][2:4]), "address": int(row["address_0based_dec"]), "words": words, "factor": factor})
    return rows


@pytest.mark.parametrize("model", builtin_names())
def test_map_decodes_documented_registers(model):
    rows = documented_rows(model)
    regmap = builtin_map(model)
    requests = plan_requests(regmap)
    assert len(rows) >= 5, f"too few documented rows matched for {model}"
    blocks = {3: {}, 4: {}}
    for request in requests:  # the device fills the gaps between documented registers with 0
        blocks[request.function_code].update({request.address + i: 0 for i in range(request.count)})
    for row in rows:
        blocks[row["fc"]].update({row["address"] + i: w for i, w in enumerate(row["words"])})

    def simdata(image):
        if not image:
            return [SimData(0, datatype=DataType.INVALID)]
        lo = min(image)
        return [SimData(lo, values=[image.get(a, 0) for a in range(lo, max(image) + 1)], datatype=DataType.REGISTERS)]

    bits = [SimData(0, values=False, datatype=DataType.BITS)]
    device = SimDevice(7, simdata=(bits, list(bits), simdata(blocks[3]), simdata(blocks[4])))
    port = free_port()

    async def scenario():
        server = ModbusTcpServer([device], address=("127.0.0.1", port))
        await server.serve_forever(background=True)
        link = ReadOnlyLink(Connection(host="127.0.0.1", port=port, unit_id=7), 2.0)
        try:
            answers = {r: await link.read(r.function_code, r.address, r.count, 7, 2.0) for r in requests}
        finally:
            link.close()
            await server.shutdown()
        return decode_blocks(regmap, answers)

    values = asyncio.run(scenario())
    for row in rows:
        # within the register's resolution (float32 keeps ~7 digits)
        tolerance = max(row["factor"], abs(KNOWN[row["quantity"]]) * 1e-6)
        assert values[row["quantity"]] == pytest.approx(KNOWN[row["quantity"]], abs=tolerance), row["quantity"]
