"""Metering figures: one collector process polling many simulated meters every second.

Three processes: the simulator (``energy.metering.simulate``, one Modbus TCP gateway per ten
meters, the six demo models in turn), the collector (``energy collect``, as deployed) and this
script, which watches the database. Printed:

- sustained readings/s stored, and how many meters were polled on time (no gap over 1.5 s
  between consecutive readings) with the worst gap seen;
- the collector's CPU share (of one core) and peak memory (RSS) over the measured window;
- latency from a register change to the stored reading: a probe meter's power steps to a new
  level every 1.7 s (out of step with the 1 s polls); for each step, the time from the change
  until the first stored reading showing the new level (p50, p95, max).

Usage: ``python bench/metering_collector.py [--meters 200] [--seconds 40] [--warmup 5] [--batch 1.0] [--pg URL]``
(default database: a scratch SQLite file; with ``--pg`` a scratch database is created on that
PostgreSQL server and dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import scratch_postgresql, scratch_site  # noqa: E402  (bench/, beside this script)

MODELS = ["janitza_umg96rme", "eastron_sdm630", "carlo_gavazzi_em24", "abb_b23", "schneider_iem3000", "schneider_pm5100"]
PROBE_STEP_S = 1.7
PER_GATEWAY = 10

SIMULATOR = """
import json, sys, time
import numpy as np
from energy.config import load_config
from energy.metering import simulate
from energy.metering.load_shape import LoadModel

config = load_config(sys.argv[1])
sim = simulate.Simulator(config)
# the probe: a new, distinct power level every PROBE s from the start
start = float(sys.argv[3])
sim.meters["probe"].load = LoadModel(np.arange(1, 100001, dtype=float), float(sys.argv[2]), origin_s=start)
import asyncio
async def main():
    await sim.start()
    print("ready", flush=True)
    await asyncio.sleep(float(sys.argv[4]))
    await sim.stop()
    print(json.dumps({"requests": sum(sim.received.values())}), flush=True)
asyncio.run(main())
"""


def free_ports(n: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def write_config(folder: Path, meters: int, batch_s: float) -> Path:
    ports = free_ports(meters // PER_GATEWAY + 2)
    lines = ['[site]', 'name = "Bench"', 'timezone = "UTC"', "latitude = 50", "longitude = 8", ""]

    def meter(meter_id: str, model: str, port: int, unit: int) -> None:
        lines.extend([
            "[[meters]]", f'id = "{meter_id}"', f'model = "{model}"', 'role = "other"', "poll_seconds = 1.0",
            f'connection = {{ protocol = "tcp", host = "127.0.0.1", port = {port}, unit_id = {unit}, timeout_s = 1.0, retries = 1 }}', "",
        ])

    for i in range(meters):
        meter(f"m{i:03d}", MODELS[i % len(MODELS)], ports[i // PER_GATEWAY], i % PER_GATEWAY + 1)
    meter("probe", "eastron_sdm630", ports[-1], 1)
    lines += ["[collector]", f"batch_seconds = {batch_s}", 'spool_dir = "spool"', ""]
    path = folder / "bench.toml"
    path.write_text("\n".join(lines))
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=40.0, help="collector run time")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after the first stored reading left out of the figures")
    parser.add_argument("--batch", type=float, default=1.0, help="collector batch_seconds")
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL for a scratch database [default: SQLite]")
    args = parser.parse_args()
    if not args.pg:
        run(args, None)
        return
    with scratch_postgresql(args.pg) as url:
        run(args, url)


def run(args, url: str | None) -> None:

    with scratch_site(url) as (folder, engine):
        config = write_config(folder, args.meters, args.batch)
        url = engine.url.render_as_string(hide_password=False)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        start = time.time() + 1.0
        simulator = subprocess.Popen([sys.executable, "-c", SIMULATOR, str(config), str(PROBE_STEP_S), str(start), str(args.seconds + 10)], env=env, stdout=subprocess.PIPE, text=True)
        assert simulator.stdout.readline().strip() == "ready"
        collector = subprocess.Popen([sys.executable, "-c", "from energy.cli import main; main()", "collect", "--config", str(config), "--db", url, "--duration", str(args.seconds)], env=env, stderr=subprocess.PIPE, text=True)
        first_seen: dict[int, float] = {}  # probe level → when a reading of it was first visible
        cpu0 = rss = None
        peak_rss = 0.0
        probe_query = sa.text("SELECT power_kw FROM readings WHERE meter_id = 'probe' AND epoch_ms >= :since")
        count_query = sa.text("SELECT count(*) FROM readings WHERE meter_id <> 'probe' AND epoch_ms >= :a AND epoch_ms < :b")
        while collector.poll() is None:
            now = time.time()
            polling_since = min(first_seen.values(), default=now)  # the collector's start-up is left out
            if cpu0 is None and now - polling_since >= args.warmup:
                cpu0, window_start = cpu_seconds(collector.pid), now
                sim_cpu0 = cpu_seconds(simulator.pid)
            if cpu0 is not None:
                try:
                    cpu1, window_end = cpu_seconds(collector.pid), now
                    sim_cpu1 = cpu_seconds(simulator.pid)
                    rss = rss_mib(collector.pid)
                    peak_rss = max(peak_rss, rss)
                except (FileNotFoundError, ProcessLookupError):
                    break
            with engine.connect() as conn:
                for (power,) in conn.execute(probe_query, {"since": int((now - 10) * 1000)}):
                    first_seen.setdefault(int(round(power * 1000)), now)
            time.sleep(0.05)
        _, err = collector.communicate()
        # cross-check: the collector's whole run (start-up included), from the kernel's accounting
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        whole_run_cpu_s = usage.ru_utime + usage.ru_stime
        simulator.wait()
        with engine.connect() as conn:
            # the collector's shutdown (last write, exit) is no polling time
            last_ms = conn.execute(sa.text("SELECT max(epoch_ms) FROM readings WHERE meter_id <> 'probe'")).scalar_one()
            window_end = min(window_end, last_ms / 1000)
            # whole seconds, so that the window holds whole poll slots (polls start at whole seconds)
            window_start, window_end = float(np.ceil(window_start)), float(np.floor(window_end))
            stored = conn.execute(count_query, {"a": int(window_start * 1000), "b": int(window_end * 1000)}).scalar_one()
            stamps = conn.execute(sa.text("SELECT meter_id, epoch_ms FROM readings WHERE meter_id <> 'probe' AND epoch_ms >= :a AND epoch_ms < :b ORDER BY meter_id, epoch_ms"), {"a": int(window_start * 1000), "b": int(window_end * 1000)}).all()
        window = window_end - window_start
        # on time: no gap over 1.5 poll periods between a meter's consecutive readings
        by_meter: dict[str, list[int]] = {}
        for meter_id, ms in stamps:
            by_meter.setdefault(meter_id, []).append(ms)
        worst_gap_s = {m: float(np.diff(v).max()) / 1000 if len(v) > 1 else float("inf") for m, v in by_meter.items()}
        on_time = sum(1 for gap in worst_gap_s.values() if gap <= 1.5)
        # level k (W) is served from start + (k - 1) × step
        latencies = [seen - (start + (level / 1000 - 1) * PROBE_STEP_S) for level, seen in first_seen.items() if level / 1000 >= 2 and start + (level / 1000 - 1) * PROBE_STEP_S > window_start]
        lat = np.array(latencies)
        print(json.dumps({
            "meters": args.meters,
            "database": engine.dialect.name,
            "batch_seconds": args.batch,
            "window_s": round(window, 1),
            "readings_per_s": round(stored / window, 1),
            "meters_never_late": f"{on_time}/{args.meters}",
            "worst_gap_between_readings_s": round(max(worst_gap_s.values()), 2),
            "collector_cpu_share_of_one_core": round((cpu1 - cpu0) / window, 3),
            "collector_cpu_seconds_whole_run": round(whole_run_cpu_s, 1),
            "collector_peak_rss_mib": round(peak_rss, 1),
            "simulator_cpu_share_of_one_core": round((sim_cpu1 - sim_cpu0) / window, 3),
            "machine_load_average_1min": round(os.getloadavg()[0], 2),
            "latency_samples": len(lat),
            "latency_p50_s": round(float(np.percentile(lat, 50)), 2),
            "latency_p95_s": round(float(np.percentile(lat, 95)), 2),
            "latency_max_s": round(float(lat.max()), 2),
            "collector_summary": err.strip().splitlines()[-1],
        }, indent=2))


if __name__ == "__main__":
    main()
