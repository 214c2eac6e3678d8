"""The read-only link over Modbus TCP, RTU over TCP and RTU on a serial port, against the simulator."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from energy.errors import InputError
from energy.metering import simulate
from energy.metering.decoding import decode_blocks, plan_requests
from energy.metering.link import ExceptionResponse, MeterError, ReadOnlyLink
from energy.metering.maps import meter_map
from tests.metering.support import PtyBridge, free_port, site_config, tcp_meter


async def read_meter(config, index: int, link: ReadOnlyLink) -> dict[str, float]:
    regmap = meter_map(config, index)
    connection = config.meters[index].connection
    blocks = {r: await link.read(r.function_code, r.address, r.count, connection.unit_id, connection.timeout_s) for r in plan_requests(regmap)}
    return decode_blocks(regmap, blocks)


def resolution(simulated: simulate.SimulatedMeter, quantity: str, value: float) -> float:
    """How closely the register can carry ``value``: its scale step, or float32's 7 digits."""
    register = simulated.regmap.register(quantity)
    return abs(value) * 1e-6 + (0 if register.data_type.startswith("float") else register.scale)


def check_served(values: dict, simulated: simulate.SimulatedMeter) -> None:
    served = simulated.served[-1]
    assert values["power_kw"] == pytest.approx(served.power_kw, abs=resolution(simulated, "power_kw", served.power_kw))
    assert values["import_energy_kwh"] == pytest.approx(served.import_kwh, abs=resolution(simulated, "import_energy_kwh", served.import_kwh))


@pytest.mark.parametrize("protocol", ["tcp", "rtu_over_tcp"])
def test_units_behind_one_endpoint_share_its_connection(tmp_path, protocol):
    port = free_port()
    models = ["eastron_sdm630", "janitza_umg96rme", "carlo_gavazzi_em24", "abb_b23"]
    config = site_config(tmp_path, [tcp_meter(f"m{i}", model, port, unit_id=i + 1, protocol=protocol) for i, model in enumerate(models)])

    async def scenario():
        async with simulate.serving(config) as sim:
            link = ReadOnlyLink(config.meters[0].connection, 1.0)
            try:
                for i in range(len(models)):
                    check_served(await read_meter(config, i, link), sim.meters[f"m{i}"])
            finally:
                link.close()
            return sim

    sim = asyncio.run(scenario())
    # one connection served every unit, and only reads arrived
    assert {unit for (_, unit, _) in sim.received} == {1, 2, 3, 4}
    assert sim.function_codes() <= {3, 4}


def test_rtu_on_a_serial_port(tmp_path):
    bridge = PtyBridge()
    try:
        meter = {"id": "s1", "model": "eastron_sdm120", "role": "other", "connection": {"protocol": "rtu", "serial_port": bridge.ports[0], "unit_id": 9, "baudrate": 19200, "timeout_s": 1.0}}
        served_by = site_config(tmp_path, [{**meter, "connection": {**meter["connection"], "serial_port": bridge.ports[1]}}])
        config = site_config(tmp_path, [meter])

        async def scenario():
            async with simulate.serving(served_by) as sim:
                link = ReadOnlyLink(config.meters[0].connection, 1.0)
                try:
                    check_served(await read_meter(config, 0, link), sim.meters["s1"])
                finally:
                    link.close()

        asyncio.run(scenario())
    finally:
        bridge.close()


def test_link_cannot_send_a_write(tmp_path):
    # by construction: no write method, and any function code but 3 and 4 is refused before sending
    names = {name for name, _ in inspect.getmembers(ReadOnlyLink)}
    assert not {n for n in names if "write" in n or "coil" in n}
    port = free_port()
    config = site_config(tmp_path, [tcp_meter("m", "eastron_sdm630", port)])

    async def scenario():
        async with simulate.serving(config) as sim:
            link = ReadOnlyLink(config.meters[0].connection, 1.0)
            try:
                for fc in (5, 6, 15, 16, 22, 23, 1, 2):
                    with pytest.raises(ValueError, match="only sends FC03/FC04"):
                        await link.read(fc, 0, 2, 1, 1.0)
                await link.read(4, 0, 2, 1, 1.0)
            finally:
                link.close()
            return sim

    sim = asyncio.run(scenario())
    assert sim.function_codes() == {4}


def test_exception_no_response_and_dropped_connection(tmp_path):
    port = free_port()
    config = site_config(tmp_path, [tcp_meter("m", "janitza_umg96rme", port, timeout_s=0.3)])

    async def scenario():
        async with simulate.serving(config) as sim:
            meter = sim.meters["m"]
            link = ReadOnlyLink(config.meters[0].connection, 0.3)
            try:
                meter.faults = [simulate.Fault("exception", code=6)]
                with pytest.raises(ExceptionResponse, match="exception 6 .device busy") as info:
                    await read_meter(config, 0, link)
                assert info.value.code == 6
                meter.faults = [simulate.Fault("no_response")]
                with pytest.raises(MeterError, match="no response within 0.3 s"):
                    await read_meter(config, 0, link)
                meter.faults = [simulate.Fault("drop_connection")]
                with pytest.raises(MeterError):
                    await read_meter(config, 0, link)
                meter.faults = []
                check_served(await read_meter(config, 0, link), meter)  # reconnected
                with pytest.raises(ExceptionResponse, match="exception 11"):  # no such unit behind the gateway
                    await link.read(3, 19000, 2, 42, 0.3)
            finally:
                link.close()

    asyncio.run(scenario())


def test_unreachable_endpoint_backs_off(tmp_path):
    config = site_config(tmp_path, [tcp_meter("m", "janitza_umg96rme", free_port())])

    async def scenario():
        link = ReadOnlyLink(config.meters[0].connection, 0.3)
        try:
            with pytest.raises(MeterError, match="cannot connect"):
                await link.read(3, 19000, 2, 1, 0.3)
            with pytest.raises(MeterError, match="next attempt in"):
                await link.read(3, 19000, 2, 1, 0.3)
        finally:
            link.close()

    asyncio.run(scenario())


def test_custom_map_from_the_site_config(tmp_path):
    port = free_port()
    custom = {
        "id": "plant_meter",
        "max_registers_per_request": 20,
        "max_gap": 4,
        "registers": [
            {"quantity": "power_kw", "function_code": 4, "address": 100, "data_type": "int32", "word_order": "low_first", "scale": 0.001, "not_available": ["min_signed"]},
            {"quantity": "import_energy_kwh", "function_code": 4, "address": 104, "data_type": "float64"},
            {"quantity": "voltage_l1_v", "function_code": 3, "address": 7, "data_type": "uint16", "scale": 0.1},
        ],
    }
    config = site_config(tmp_path, [tcp_meter("c", "plant_meter", port)], register_maps=[custom])
    assert [(r.function_code, r.address, r.count) for r in plan_requests(meter_map(config, 0))] == [(3, 7, 1), (4, 100, 8)]

    async def scenario():
        async with simulate.serving(config) as sim:
            link = ReadOnlyLink(config.meters[0].connection, 1.0)
            try:
                values = await read_meter(config, 0, link)
            finally:
                link.close()
            check_served(values, sim.meters["c"])
            assert 220 < values["voltage_l1_v"] < 240

    asyncio.run(scenario())
    bad = {**custom, "registers": [{**custom["registers"][0], "data_type": "int24"}]}
    with pytest.raises(InputError, match=r"register_maps\[0\]\.registers\[0\]\.data_type"):
        site_config(tmp_path, [tcp_meter("c", "plant_meter", port)], register_maps=[bad])
