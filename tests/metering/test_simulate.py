"""The simulator: load shapes, counters that integrate the served power, fault injection, the CLI."""

from __future__ import annotations

import asyncio
import math
import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from energy.config import load_config
from energy.errors import InputError
from energy.metering import simulate
from energy.metering.collector import Collector
from energy.metering.load_shape import LoadModel, SumLoad
from energy.metering.link import ReadOnlyLink
from energy.readings import load_readings
from tests.helpers import REPO, run_cli
from tests.metering.support import free_port, site_config, tcp_meter, write_site_toml
from tests.metering.test_link import read_meter

LOAD = LoadModel(np.array([100.0, 250.0, 40.0, 0.0, 180.0]), 900.0, origin_s=1_700_000_000.0, ripple=0.05)


@settings(max_examples=15, deadline=None)
@given(st.floats(0, 5 * 86400), st.floats(1, 7200))
def test_energy_counter_is_the_integral_of_power(start_offset_s, length_s):
    start = LOAD.origin_s - 86400 + start_offset_s  # before and after the origin, across periods
    end = start + length_s
    # numerical integral, piece by piece between the steps (power jumps there), Simpson's rule
    steps = LOAD.origin_s + LOAD.step_s * np.arange(np.ceil((start - LOAD.origin_s) / LOAD.step_s), np.floor((end - LOAD.origin_s) / LOAD.step_s) + 1)
    edges = [start, *steps[(steps > start) & (steps < end)], end]
    integral_kwh = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        times = np.linspace(lo, hi, 601)
        times[0], times[-1] = lo + 1e-6 * (hi - lo), hi - 1e-6 * (hi - lo)  # inside the step (epoch floats: ~0.2 µs)
        power = np.array([LOAD.power_kw(t) for t in times])
        integral_kwh += (hi - lo) / 600 / 3 * (power[0] + power[-1] + 4 * power[1:-1:2].sum() + 2 * power[2:-1:2].sum()) / 3600.0
    assert LOAD.energy_kwh(end) - LOAD.energy_kwh(start) == pytest.approx(integral_kwh, rel=1e-6, abs=1e-9)


def test_sum_load_adds_parts():
    other = LoadModel(np.array([10.0, 20.0]), 60.0)
    total = SumLoad((LOAD, other))
    t = LOAD.origin_s + 1234.5
    assert total.power_kw(t) == pytest.approx(LOAD.power_kw(t) + other.power_kw(t))
    assert total.energy_kwh(t) == pytest.approx(LOAD.energy_kwh(t) + other.energy_kwh(t))


def test_demo_site_loads_follow_the_steel_plant():
    config = load_config(REPO / "data" / "demo" / "site.toml")
    now = 1_767_225_600.0  # 2026-01-01 00:00 UTC
    loads = simulate.meter_loads(config, now)
    main, direction = loads["main"]
    assert direction == 1 and isinstance(main, SumLoad)
    subs = [loads[m][0] for m in ("m_furnace1", "m_furnace2", "m_oven", "m_blaster", "m_compressors")]
    for t in now + np.arange(0, 86400, 3600.0):
        assert main.power_kw(t) >= sum(s.power_kw(t) for s in subs)  # the main meter sees its sub-meters
        assert main.power_kw(t) <= 1000.0 * 1.03  # its rating, plus the ripple
    assert loads["pv"][1] == 1  # a production meter: the PV output is its import
    pv = loads["pv"][0]
    assert pv.power_kw(now) == 0 and 0.5 * 120 < max(pv.power_kw(t) for t in now + np.arange(0, 86400, 900.0)) <= 120 * 1.03
    levels, first_s = simulate.steel_levels_kw()
    assert len(levels) == 35040 and levels.max() == pytest.approx(157.18 * 4)
    # the furnace (second meter: two days back in the year) draws the steel level scaled to 250 kW,
    # the year moved by whole weeks so that weekdays stay weekdays
    furnace = loads["m_furnace1"][0]
    aligned = first_s + (now - first_s) // (7 * 86400) * (7 * 86400)
    step = int((now - (aligned - 2 * 86400)) // 900)
    for k in range(96):
        t = now + k * 900 + 450  # mid-step, where the ripple is 0
        assert furnace.power_kw(t) == pytest.approx(levels[step + k] / levels.max() * 250.0, abs=1e-9)


def test_fault_syntax():
    assert simulate.parse_fault("m1:no_response") == ("m1", simulate.Fault("no_response"))
    meter, fault = simulate.parse_fault("m2:exception=0x0B@5-7.5")
    assert (meter, fault.code, fault.start_s, fault.end_s) == ("m2", 11, 5.0, 7.5)
    assert simulate.parse_fault("m3:sentinel=power_kw+import_energy_kwh")[1].quantities == ("power_kw", "import_energy_kwh")
    for bad, message in [("m1", "expected METER:KIND"), ("m1:explode", "unknown fault 'explode'"), ("m1:exception=99", "not a Modbus exception code"), ("m1:sentinel=watts", "unknown quantities"), ("m1:no_response@soon", "could not convert")]:
        with pytest.raises(InputError, match=message):
            simulate.parse_fault(bad)


def test_counter_reset_and_sentinels(tmp_path, sqlite_url):
    from energy import storage

    port = free_port()
    config = site_config(tmp_path, [tcp_meter("r", "schneider_iem3000", port), tcp_meter("s", "abb_b23", port, unit_id=2)])
    engine = storage.connect(sqlite_url)
    storage.upgrade(engine)

    async def scenario():
        faults = [("r", simulate.Fault("counter_reset")), ("s", simulate.Fault("sentinel", quantities=("power_kw", "voltage_l1_v")))]
        async with simulate.serving(config, faults=faults) as sim:
            link = ReadOnlyLink(config.meters[0].connection, 1.0)
            try:
                reset = await read_meter(config, 0, link)
                unavailable = await read_meter(config, 1, link)
            finally:
                link.close()
            await Collector(config, engine).run(once=True)
            return sim, reset, unavailable

    sim, reset, unavailable = asyncio.run(scenario())
    assert 0 <= reset["import_energy_kwh"] < 0.01  # restarted from 0 (INT64 Wh)
    assert math.isnan(unavailable["power_kw"]) and math.isnan(unavailable["voltage_l1_v"])
    assert unavailable["import_energy_kwh"] > 0 and not math.isnan(unavailable["current_l1_a"])
    stored = load_readings(engine).set_index("meter")
    assert math.isnan(stored.loc["s", "power_kw"]) and stored.loc["s", "energy_kwh"] > 0  # missing, never a number


def test_clear_errors_for_endpoints(tmp_path):
    port = free_port()
    with pytest.raises(InputError, match="same unit id"):
        simulate.Simulator(site_config(tmp_path, [tcp_meter("a", "abb_b23", port), tcp_meter("b", "abb_b23", port)]))
    with pytest.raises(InputError, match="use protocols"):
        simulate.Simulator(site_config(tmp_path, [tcp_meter("a", "abb_b23", port), tcp_meter("b", "abb_b23", port, unit_id=2, protocol="rtu_over_tcp")]))
    with pytest.raises(InputError, match="no enabled meter 'zz'"):
        simulate.Simulator(site_config(tmp_path, [tcp_meter("a", "abb_b23", port)]), faults=[("zz", simulate.Fault("no_response"))])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(InputError, match=f"cannot serve meters a on 127.0.0.1:{port}"):
            with simulate.serve_in_background(site_config(tmp_path, [tcp_meter("a", "abb_b23", port)])):
                pass


def test_simulate_command(tmp_path):
    path = write_site_toml(tmp_path, [tcp_meter("a", "eastron_sdm120", free_port())])
    code, _, err = run_cli("simulate", "--config", str(path), "--duration", "0.3", "--fault", "a:exception=4@0-1")
    assert code == 0, err
    assert "simulating 1 meter(s) on 127.0.0.1:" in err and "served 0 request(s)" in err
    code, _, err = run_cli("simulate", "--config", str(path), "--fault", "b:no_response")
    assert code == 1 and "--fault: no enabled meter 'b'" in err


def test_simulation_can_continue_stored_counters(tmp_path, engine):
    import pandas as pd

    from energy.readings import store_readings

    store_readings(engine, pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-01-01T00:00Z", "2026-01-01T00:15Z", "2026-01-01T00:30Z"]),
        "meter": ["a", "a", "b"], "energy_kwh": [500.0, 512.5, None], "power_kw": [50.0, 50.0, 3.0],
    }))
    assert simulate.last_counters_kwh(engine) == {"a": 512.5}
    config = site_config(tmp_path, [tcp_meter("a", "abb_b23", free_port()), tcp_meter("b", "abb_b23", free_port())])
    flat = LoadModel(np.array([36.0]), 3600.0)
    sim = simulate.Simulator(config, counters_kwh=simulate.last_counters_kwh(engine), loads={"a": (flat, 1)})
    t = sim.started_s + 100.0
    assert sim.meters["a"].values(t)["import_energy_kwh"] == pytest.approx(512.5 + 36.0 * 100 / 3600)
    assert sim.meters["a"].values(t)["power_kw"] == 36.0
    assert sim.meters["b"].values(sim.started_s)["import_energy_kwh"] == pytest.approx(2000.0)
