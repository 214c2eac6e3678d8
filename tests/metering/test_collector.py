"""The collector against the simulator: what is stored, coalescing, faults, the spool, kills, health."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import sqlalchemy as sa

from energy import storage
from energy.metering import simulate
from energy.metering.collector import Collector, collect
from energy.metering.decoding import plan_requests
from energy.metering.health import load_health
from energy.metering.spool import Spool
from energy.readings import load_readings
from energy.storage import schema
from tests.helpers import REPO, run_cli
from tests.metering.support import free_port, site_config, tcp_meter, write_site_toml
from tests.metering.test_link import resolution

MODELS = ["janitza_umg96rme", "eastron_sdm630", "carlo_gavazzi_em24", "abb_b23", "schneider_iem3000", "schneider_pm5100"]


def demo_like_meters(poll_seconds: float = 0.5) -> list[dict]:
    """Six models: one alone, four behind one gateway, one more alone (like data/demo/site.toml)."""
    ports = [free_port() for _ in range(3)]
    meters = [tcp_meter("main", MODELS[0], ports[0], poll_seconds=poll_seconds)]
    meters += [tcp_meter(f"sub{i}", model, ports[1], unit_id=i, poll_seconds=poll_seconds) for i, model in enumerate(MODELS[1:5], start=1)]
    meters += [tcp_meter("pv", MODELS[5], ports[2], poll_seconds=poll_seconds, role="pv")]
    return meters


def run_both(config, engine, duration_s: float, faults=(), during=None, served=None, **options):
    """Simulator (of ``served``, default ``config``) and collector in one loop for ``duration_s``;
    ``during(collector)`` runs alongside."""

    async def scenario():
        async with simulate.serving(served or config, faults=list(faults)) as sim:
            collector = Collector(config, engine, **options)
            jobs = [collector.run(duration_s)]
            if during:
                jobs.append(during(collector))
            await asyncio.gather(*jobs)
            return sim, collector

    return asyncio.run(scenario())


def stored_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(schema.readings)).scalar_one()


def test_stored_readings_are_what_was_served(tmp_path, engine):
    config = site_config(tmp_path, demo_like_meters())
    sim, collector = run_both(config, engine, 2.4)
    readings = load_readings(engine)
    assert collector.stats.errors == 0
    assert len(readings) == collector.stats.readings >= 6 * 4
    for meter_id, stored in readings.groupby("meter"):
        simulated = sim.meters[meter_id]
        served = pd.DataFrame(list(simulated.served))
        for row in stored.itertuples():
            near = served[(served["at_s"] - row.timestamp.timestamp()).abs() < 0.5]
            energy_step = resolution(simulated, "import_energy_kwh", row.energy_kwh)
            power_step = resolution(simulated, "power_kw", row.power_kw)
            assert ((near["import_kwh"] - row.energy_kwh).abs() <= energy_step).any(), (meter_id, row)
            assert ((near["power_kw"] - row.power_kw).abs() <= power_step).any(), (meter_id, row)
        # coalescing: every poll sent exactly the planned reads, and only reads
        polls = len(stored)
        assert sum(simulated.requests.values()) == polls * len(plan_requests(simulated.regmap))
    assert sim.function_codes() <= {3, 4}
    assert sum(sim.received.values()) == sum(sum(m.requests.values()) for m in sim.meters.values())
    # the PV meter is a production meter: its output is its import
    assert (readings.loc[readings["meter"] == "pv", "power_kw"] >= 0).all()
    health = load_health(engine).set_index("meter_id")
    assert health["ok_count"].to_dict() == readings.groupby("meter").size().to_dict()


def test_dead_meter_does_not_hold_up_the_others(tmp_path, sqlite_url):
    gateway, alone = free_port(), free_port()
    meters = [
        tcp_meter("dead", "eastron_sdm630", gateway, unit_id=1, poll_seconds=1.0, timeout_s=0.3, retries=1),
        tcp_meter("neighbour", "eastron_sdm630", gateway, unit_id=2, poll_seconds=1.0),
        tcp_meter("alone", "janitza_umg96rme", alone, poll_seconds=1.0),
        tcp_meter("unplugged", "janitza_umg96rme", free_port(), poll_seconds=1.0, timeout_s=0.3),
    ]
    config = site_config(tmp_path, meters)
    engine = storage.connect(sqlite_url)
    storage.upgrade(engine)
    served = site_config(tmp_path, meters[:3])  # nothing answers on the unplugged meter's port
    sim, collector = run_both(config, engine, 3.6, faults=[("dead", simulate.Fault("no_response"))], served=served)
    counts = load_readings(engine).groupby("meter").size().to_dict()
    # polls at the whole seconds inside 3.6 s: 3 or 4 each, none lost to the dead or unplugged meter
    assert counts.get("neighbour", 0) >= 3 and counts.get("alone", 0) >= 3
    assert "dead" not in counts and "unplugged" not in counts
    assert collector.stats.skipped_polls == 0
    health = load_health(engine).set_index("meter_id")
    assert health.loc["dead", "consecutive_errors"] >= 2
    assert "no response within 0.3 s" in health.loc["dead", "last_error"]
    assert "cannot connect" in health.loc["unplugged", "last_error"]


def dead_database_url(db_url: str, tmp_path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'e.db'}"
    return "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1


def test_database_down_then_up_loses_and_duplicates_nothing(tmp_path, db_url, engine):
    config = site_config(tmp_path, demo_like_meters(poll_seconds=0.25), batch_seconds=0.4)
    dead = storage.connect(dead_database_url(db_url, tmp_path))
    seen = {}

    async def outage(collector):
        await asyncio.sleep(0.8)
        collector.engine = dead
        await asyncio.sleep(1.5)
        seen["spooled"] = len(collector.spool)
        collector.engine = engine

    sim, collector = run_both(config, engine, 3.5, during=outage)
    assert seen["spooled"] >= 2 and collector.stats.batches_spooled >= 2
    assert len(collector.spool) == 0
    readings = load_readings(engine)
    assert len(readings) == collector.stats.readings  # every reading arrived…
    assert not readings.duplicated(["meter", "timestamp"]).any()  # …once
    gaps = readings.groupby("meter")["timestamp"].diff().dropna()
    assert gaps.max() < pd.Timedelta(seconds=1)  # no hole where the database was away


def test_spool_replays_in_order_and_a_replay_after_a_crash_is_ignored(tmp_path, engine):
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "000000000009.tmp").write_text("half a batch")
    spool = Spool(tmp_path / "spool")  # a restart clears what the last run did not finish
    assert not list((tmp_path / "spool").glob("*.tmp"))
    batches = [pd.DataFrame({"meter_id": ["m"] * 3, "epoch_ms": [k * 1000 + i for i in range(3)], "energy_kwh": [1.0, None, 3.0], "power_kw": [0.5, 0.25, None], "quality": "ok"}) for k in range(3)]
    for batch in batches:
        spool.append(batch)
    order = []

    def write(rows):
        with engine.begin() as conn:
            from energy.storage import bulk

            bulk.upsert(conn, schema.readings, rows, on_conflict="ignore")
        order.append(int(rows["epoch_ms"].iloc[0]))

    calls = {"n": 0}

    def failing_write(rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise sa.exc.OperationalError("insert", {}, Exception("database went away"))
        write(rows)

    with pytest.raises(sa.exc.OperationalError):
        spool.drain(failing_write)
    assert len(spool) == 2
    write(Spool.read(spool.files()[0]))  # committed, then the collector died before deleting the file
    spool.drain(write)
    assert order == [0, 1000, 1000, 2000]
    readings = load_readings(engine)
    assert len(readings) == 9 and not readings.duplicated(["meter", "timestamp"]).any()
    assert readings["energy_kwh"].isna().sum() == 3 and readings["power_kw"].isna().sum() == 3


def energy_cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", "from energy.cli import main; main()", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_killed_collector_loses_at_most_its_batch_window(tmp_path, sqlite_url):
    meters = [tcp_meter("a", "eastron_sdm630", free_port(), poll_seconds=0.25), tcp_meter("b", "abb_b23", free_port(), poll_seconds=0.25)]
    path = write_site_toml(tmp_path, meters, batch_seconds=1.0)
    config = site_config(tmp_path, meters, batch_seconds=1.0)
    engine = storage.connect(sqlite_url)
    storage.upgrade(engine)
    with simulate.serve_in_background(config):
        killed = energy_cli("collect", "--config", str(path), "--db", sqlite_url)
        wait_for(lambda: stored_count(engine) >= 8)
        time.sleep(0.5)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        killed_at = time.time()
        after_kill = load_readings(engine)
        # what was stored is intact; at most the batch window (1 s) plus a poll was in memory
        assert not after_kill.duplicated(["meter", "timestamp"]).any()
        last = after_kill.groupby("meter")["timestamp"].max()
        assert (killed_at - last.map(pd.Timestamp.timestamp) < 1.0 + 0.25 + 2.0).all()

        stopped = energy_cli("collect", "--config", str(path), "--db", sqlite_url)
        wait_for(lambda: stored_count(engine) >= len(after_kill) + 8)
        stopped.send_signal(signal.SIGTERM)  # a stop writes what it holds first
        _, err = stopped.communicate(timeout=20)
    assert stopped.returncode == 0, err
    collected = int(re.search(r"(\d+) reading\(s\)", err).group(1))
    assert stored_count(engine) == len(after_kill) + collected


def test_health_is_stored_and_shown(tmp_path, db_url, engine):
    port = free_port()
    served = [tcp_meter("good", "eastron_sdm630", port, unit_id=1), tcp_meter("wrong_model", "eastron_sdm630", port, unit_id=2), tcp_meter("silent", "eastron_sdm630", port, unit_id=3, timeout_s=0.2)]
    polled = [served[0], {**served[1], "model": "janitza_umg96rme"}, served[2]]
    path = write_site_toml(tmp_path, polled)
    config = site_config(tmp_path, polled)

    async def scenario():
        async with simulate.serving(site_config(tmp_path, served), faults=[("silent", simulate.Fault("no_response"))]):
            await Collector(config, engine).run(1.6)

    asyncio.run(scenario())
    code, out, err = run_cli("meters", "--config", str(path), "--db", db_url)
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert re.search(r"\bok\b", lines["good"]) and "failing" not in lines["good"]
    assert "failing" in lines["wrong_model"] and "exception 2 (illegal data address)" in lines["wrong_model"]
    assert "is model 'janitza_umg96rme' right?" in lines["wrong_model"]
    assert "failing" in lines["silent"] and "no response within 0.2 s" in lines["silent"]
    health = load_health(engine).set_index("meter_id")
    assert health.loc["good", "ok_count"] == len(load_readings(engine, meter="good")) >= 2
    assert health.loc["silent", "ok_count"] == 0 and health.loc["silent", "error_count"] >= 1


def test_collect_once_and_clear_errors(tmp_path, sqlite_url):
    meters = [tcp_meter("a", "carlo_gavazzi_em24", free_port())]
    path = write_site_toml(tmp_path, meters)
    code, _, err = run_cli("init", "--config", str(path), "--db", sqlite_url)
    assert code == 0, err
    with simulate.serve_in_background(site_config(tmp_path, meters)):
        code, _, err = run_cli("collect", "--config", str(path), "--db", sqlite_url, "--once")
    assert code == 0, err
    assert "1 reading(s) from 1 poll(s)" in err
    engine = storage.connect(sqlite_url)
    assert len(load_readings(engine, meter="a")) == 1

    bad = write_site_toml(tmp_path, [{**meters[0], "model": "sdm999"}])
    code, _, err = run_cli("collect", "--config", str(bad), "--db", sqlite_url, "--once")
    assert code == 1
    assert "site.toml: meters[0].model: unknown register map 'sdm999'" in err and "eastron_sdm630" in err
    idle = write_site_toml(tmp_path, [{**meters[0], "enabled": False}])
    code, _, err = run_cli("collect", "--config", str(idle), "--db", sqlite_url, "--once")
    assert code == 1 and "site.toml: meters: no enabled meter to collect" in err


def cut_postgresql_under_the_collector(tmp_path, pg_url, outage_s: float, run_s: float, poll_seconds: float) -> None:
    """Run a collector whose PostgreSQL connections all die after 1 s and stay refused for
    ``outage_s`` (a server restart, a network cut); then check every reading arrived once."""
    from sqlalchemy.engine import make_url

    from tests.metering.support import TcpProxy

    target = make_url(storage.database_url(pg_url))
    proxy = TcpProxy((target.host, target.port or 5432))
    engine = storage.connect(target.set(port=proxy.port).render_as_string(hide_password=False))
    storage.upgrade(engine)
    config = site_config(tmp_path, demo_like_meters(poll_seconds=poll_seconds), batch_seconds=0.4)
    seen = {}

    async def outage(collector):
        await asyncio.sleep(1.0)
        proxy.cut()
        await asyncio.sleep(outage_s)
        seen["spooled"] = len(collector.spool)
        proxy.restore()

    try:
        sim, collector = run_both(config, engine, run_s, during=outage)
    finally:
        proxy.cut()
    assert seen["spooled"] >= 2 and len(collector.spool) == 0
    direct = storage.connect(pg_url)
    readings = load_readings(direct)
    direct.dispose()
    engine.dispose()
    assert len(readings) == collector.stats.readings
    assert not readings.duplicated(["meter", "timestamp"]).any()
    gaps = readings.groupby("meter")["timestamp"].diff().dropna()
    assert gaps.max() < pd.Timedelta(seconds=2 * poll_seconds)


@pytest.mark.postgres
def test_postgresql_dropping_live_connections_loses_nothing(tmp_path, pg_url):
    cut_postgresql_under_the_collector(tmp_path, pg_url, outage_s=1.5, run_s=3.5, poll_seconds=0.25)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_away_for_a_minute_loses_nothing(tmp_path, pg_url):
    cut_postgresql_under_the_collector(tmp_path, pg_url, outage_s=60.0, run_s=64.0, poll_seconds=1.0)


def test_a_restarted_collector_replays_the_spool_it_finds(tmp_path, sqlite_url):
    meters = [tcp_meter("a", "eastron_sdm630", free_port())]
    config = site_config(tmp_path, meters)
    left = pd.DataFrame({"meter_id": ["a", "a"], "epoch_ms": [1_000, 2_000], "energy_kwh": [1.5, 1.75], "power_kw": [9.0, None], "quality": "ok"})
    Spool(tmp_path / "spool").append(left)  # what a collector killed during an outage left behind
    engine = storage.connect(sqlite_url)
    storage.upgrade(engine)
    with simulate.serve_in_background(config):
        stats = collect(config, engine, once=True)
    readings = load_readings(engine, meter="a")
    assert stats.readings == 1 and len(readings) == 3
    assert readings["energy_kwh"].iloc[:2].tolist() == [1.5, 1.75] and not list((tmp_path / "spool").glob("*.csv"))
