"""``energy simulate --twin``: the simulated meters serve the plant twin's minute power live."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from energy.config import load_config
from energy.metering import simulate
from energy.metering.link import ReadOnlyLink
from energy.twin.live import ImportCounted, live_twin, meter_loads, twin_loads
from energy.twin.params import load_twin_params
from tests.helpers import REPO, run_cli
from tests.metering.support import free_port
from tests.metering.test_link import read_meter, resolution

DEMO = REPO / "data" / "demo"
DEMO_TWIN = DEMO / "twin.toml"


def demo_site_toml(tmp_path: Path, jobs_file: bool = True) -> Path:
    """The demo site on free local ports, its jobs file the demo's (dropped if not ``jobs_file``)."""
    text = (DEMO / "site.toml").read_text(encoding="utf-8")
    for port in (5020, 5021, 5022):
        text, count = re.subn(rf"\bport = {port}\b", f"port = {free_port()}", text)
        assert count, f"the demo site no longer serves port {port}"
    text, count = re.subn(r'jobs_file = "jobs.csv"', f"jobs_file = '{DEMO / 'jobs.csv'}'" if jobs_file else "", text)
    assert count == 1
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def twin_energy_kwh(power_kw: np.ndarray, start: pd.Timestamp, t_s: float) -> float:
    """The twin's import (kWh) from its start to ``t_s``: whole minutes plus the running one."""
    into_s = t_s - start.timestamp()
    minute = int(into_s // 60)
    imported = np.clip(power_kw, 0.0, None)
    return float(imported[:minute].sum() / 60.0 + imported[minute] * (into_s - 60.0 * minute) / 3600.0)


def test_loads_serve_the_twins_minute_power_and_energy():
    config = load_config(DEMO / "site.toml")
    params = load_twin_params(DEMO_TWIN, config)
    now = pd.Timestamp("2026-03-29 10:00", tz="UTC")  # Sunday; Berlin's clocks went forward at 02:00
    twin = live_twin(config, params, now, config.resolve(config.planning.jobs_file))
    loads = twin_loads(config, params, now, config.resolve(config.planning.jobs_file))
    assert twin.start == pd.Timestamp("2026-03-27 23:00", tz="UTC")  # Saturday 28 March, local midnight
    power = twin.meter_power_kw()
    assert set(loads) == set(power) == {m.id for m in config.meters if m.enabled}
    assert max(power[m].max() for m in ("m_furnace1", "m_furnace2")) > 100  # Monday's melts are in it
    minutes = len(power["main"])
    assert minutes == 3 * 1440 - 60  # the short day has 23 hours
    origin = twin.start.timestamp()
    for meter, (load, direction) in loads.items():
        assert direction == 1 and load.origin_s == origin and load.step_s == 60 and load.ripple == 0
        mid = origin + 60 * np.arange(minutes) + 30
        assert np.array_equal([load.power_kw(t) for t in mid], power[meter])  # the same twin, rebuilt
        ends = origin + 60 * np.append(np.arange(0, minutes, 97), minutes)
        expected = [twin_energy_kwh(power[meter], twin.start, t) for t in ends[:-1]] + [power[meter].sum() / 60]
        assert [load.energy_kwh(t) for t in ends] == pytest.approx(expected, rel=1e-12, abs=1e-9)
        # periodic: after the three days they start again, the counter counting on
        period = 60.0 * minutes
        assert load.power_kw(origin + period + 30) == power[meter][0]
        assert load.energy_kwh(origin + period + 90) == pytest.approx(power[meter].sum() / 60 + power[meter][:1].sum() / 60 + power[meter][1] / 120)


def test_an_exporting_meter_counts_import_only():
    start = pd.Timestamp("2026-06-01", tz="UTC")
    stub = SimpleNamespace(start=start, meter_power_kw=lambda: {"main": np.array([100.0, -50.0, 20.0]), "m": np.array([1.0, 2.0, 3.0])})
    loads = meter_loads(stub)
    main, _ = loads["main"]
    assert isinstance(main, ImportCounted) and not isinstance(loads["m"][0], ImportCounted)
    t0 = start.timestamp()
    assert [main.power_kw(t0 + 60 * k + 30) for k in range(3)] == [100.0, -50.0, 20.0]
    assert [main.energy_kwh(t0 + 60 * k) for k in range(4)] == pytest.approx([0.0, 100 / 60, 100 / 60, 120 / 60])


def test_simulated_meters_serve_the_twin(tmp_path):
    config = load_config(demo_site_toml(tmp_path))
    twin = live_twin(config, load_twin_params(DEMO_TWIN, config), pd.Timestamp.now(tz="UTC"), config.resolve(config.planning.jobs_file), tmp_path / "jobs")
    power = twin.meter_power_kw()
    minute_now = int((time.time() - twin.start.timestamp()) // 60)
    machine_meters = [m.id for m in config.meters if m.machine]
    busiest = max(machine_meters, key=lambda meter: power[meter][minute_now])  # a producing machine, if any is
    index = {m.id: i for i, m in enumerate(config.meters)}

    def read(sim, meter: str) -> tuple[dict, list[float]]:
        """The meter's values through a real Modbus client, and when its answers were computed."""
        served = sim.meters[meter].served
        before = len(served)

        async def client() -> dict:
            link = ReadOnlyLink(config.meters[index[meter]].connection, 2.0)
            try:
                return await read_meter(config, index[meter], link)
            finally:
                link.close()

        values = asyncio.run(client())
        return values, [s.at_s for s in list(served)[before:]]

    counters = {meter: 10.0 for meter in power}  # float32 counters resolve well near 10 kWh
    with simulate.serve_in_background(config, loads=meter_loads(twin), counters_kwh=counters) as sim:
        for meter in (busiest, "main"):
            first, at_first = read(sim, meter)
            time.sleep(0.5)
            second, at_second = read(sim, meter)
            simulated = sim.meters[meter]
            # power: the twin's level in the minute of the answer (the answers of one read all
            # fall in one or two adjacent minutes)
            for values, at in ((first, at_first), (second, at_second)):
                minutes = {int((t - twin.start.timestamp()) // 60) for t in at}
                levels = [power[meter][m] for m in minutes]
                tolerance = max(resolution(simulated, "power_kw", level) for level in levels)
                assert min(levels) - tolerance <= values["power_kw"] <= max(levels) + tolerance, (meter, values["power_kw"], levels)
            # counter: advanced by the twin's energy between the two reads' answers
            energy = lambda t: twin_energy_kwh(power[meter], twin.start, t)  # noqa: E731
            shortest = energy(min(at_second)) - energy(max(at_first))
            longest = energy(max(at_second)) - energy(min(at_first))
            advance = second["import_energy_kwh"] - first["import_energy_kwh"]
            tolerance = resolution(simulated, "import_energy_kwh", first["import_energy_kwh"]) + resolution(simulated, "import_energy_kwh", second["import_energy_kwh"])
            assert shortest - tolerance <= advance <= longest + tolerance, (meter, advance, shortest, longest)
            if meter == "main":
                assert shortest > 10 * tolerance  # the base load alone makes the check count


def test_simulate_command_serves_the_twin(tmp_path):
    code, _, err = run_cli("simulate", "--config", demo_site_toml(tmp_path), "--twin", DEMO_TWIN, "--duration", "3")
    assert code == 0, err
    assert f"simulating 7 meter(s) from the twin {DEMO_TWIN} on 127.0.0.1:" in err


def test_simulate_command_rejects_a_bad_twin(tmp_path):
    site = demo_site_toml(tmp_path)
    twin = tmp_path / "twin.toml"
    twin.write_text('seed = 1\n\n[[machines]]\nid = "press"\nkind = "oven"\n', encoding="utf-8")
    code, _, err = run_cli("simulate", "--config", site, "--twin", twin, "--duration", "3")
    assert code == 1 and err.count("\n") == 1, err
    assert f"{twin}: machines[0].id: unknown machine 'press'" in err
    (tmp_path / "other").mkdir()
    code, _, err = run_cli("simulate", "--config", demo_site_toml(tmp_path / "other", jobs_file=False), "--twin", DEMO_TWIN)
    assert code == 1 and err.count("\n") == 1 and "planning.jobs_file" in err, err


def test_no_twin_keeps_the_steel_shaped_load(tmp_path):
    config = load_config(demo_site_toml(tmp_path))
    sim = simulate.Simulator(config)
    assert not any(isinstance(m.load, ImportCounted) for m in sim.meters.values())
    assert type(sim.meters["main"].load).__name__ == "SumLoad"
