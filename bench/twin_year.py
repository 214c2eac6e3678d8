"""Plant twin figure: a plant year (5–10 machines, readings at 1 min) generated in ≤ 60 s.

The demo site (``data/demo/site.toml``) and its twin (``data/demo/twin.toml``) are simulated
for 52 weeks ending yesterday (``--days``): every day executed with the site's own plan of its
orders (``write_jobs_file`` → ``read_jobs`` → ``run_day``, the counterfactual included), then
every meter's readings at every minute boundary (``PlantTwin.readings``) and the ground truth
tables (``PlantTwin.ground_truth``); ``--write-truth DIR`` also writes them as CSV. Timed per
phase: set-up (the timelines, base load and PV), days, readings, truth (and writing it).

``--machines N`` (default 5, the demo's) makes a bigger plant in memory: N − 5 copies of the
demo's flexible machines in turn (furnace1 → furnace3, furnace2 → furnace4, oven → oven2,
blaster → blaster2, then furnace5, …), each with the site file's and the twin file's settings
of its original and its own sub-meter (same model, next unit id behind the gateway, subtracted
by the ``unmetered`` virtual meter). Each round of copies gets the jobs file's jobs that its
originals are planned with (``planned_machine``), renamed ``<job>-r<round>`` and bound to the
copy alone; a copy keeps a predecessor only if that predecessor was copied in the same round
(heat-A on oven2 follows melt-A1 and melt-A2 on furnace3 and furnace4).

Usage: ``python bench/twin_year.py [--machines N] [--days D] [--seeds S ...] [--write-truth DIR]``
(``--seeds``: repetitions with these twin seeds, default the twin file's own).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from energy.config import load_config, parse_config
from energy.planning.jobs import read_jobs
from energy.twin.params import load_twin_params, parse_twin_params
from energy.twin.plant import PlantTwin
from energy.twin.truth import write_truth

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
START_COUNTER_KWH = 100000.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def copy_names(config, count: int) -> list[tuple[str, str, int]]:
    """(original, copy, round) for ``count`` copies of the flexible machines in turn."""
    flexible = [m.id for m in config.machines if m.flexible]
    taken = {m.id for m in config.machines}
    copies = []
    for i in range(count):
        original = flexible[i % len(flexible)]
        stem = re.sub(r"\d+$", "", original)
        number = 2
        while f"{stem}{number}" in taken:
            number += 1
        taken.add(f"{stem}{number}")
        copies.append((original, f"{stem}{number}", i // len(flexible) + 1))
    return copies


def bigger_plant(config, params, machines: int, folder: Path):
    """(config, params, jobs template) of the demo with ``machines`` machines (module docstring)."""
    template = DEMO / "jobs.csv"
    copies = copy_names(config, machines - len(config.machines))
    if not copies:
        return config, params, template
    data = config.model_dump()
    meters = data["meters"]
    for original, copy, _ in copies:
        data["machines"].append({**config.machine(original).model_dump(), "id": copy, "name": f"{config.machine(original).name} (copy {copy})"})
        source = next(m for m in meters if m["machine"] == original)
        gateway = source["connection"]
        unit = 1 + max(m["connection"]["unit_id"] for m in meters if (m["connection"]["host"], m["connection"]["port"]) == (gateway["host"], gateway["port"]))
        meters.append({**source, "id": f"m_{copy}", "machine": copy, "connection": {**gateway, "unit_id": unit}})
        for virtual in data["virtual_meters"]:
            if source["id"] in virtual["subtract"]:
                virtual["subtract"].append(f"m_{copy}")
    bigger = parse_config(data, config.path)

    twin = params.model_dump()
    for original, copy, _ in copies:
        twin["machines"].append({**params.machine(original).model_dump(), "id": copy})
    bigger_params = parse_twin_params(twin, bigger, params.path)

    with template.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, list(reader)
    extra = []
    for round_ in sorted({r for _, _, r in copies}):
        renamed = {original: copy for original, copy, r in copies if r == round_}
        copied = {row["job"] for row in rows if row["planned_machine"] in renamed}
        for row in rows:
            if row["job"] in copied:
                after = [f"{b}-r{round_}" for b in row["after"].split(";") if b in copied]
                machine = renamed[row["planned_machine"]]
                extra.append({**row, "job": f"{row['job']}-r{round_}", "machines": machine, "planned_machine": machine, "after": ";".join(after)})
    path = folder / "jobs.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows + extra)
    return bigger, bigger_params, path


def measure(config, params, template: Path, first_day: dt.date, last_day: dt.date, truth_dir: Path | None) -> dict:
    tz = config.site.timezone
    figures = {}
    began = time.perf_counter()
    twin = PlantTwin(config, params, first_day, last_day, template)
    figures["set-up"] = time.perf_counter() - began

    began = time.perf_counter()
    jobs = 0
    with tempfile.TemporaryDirectory(prefix="twin-bench-") as scratch:
        day = first_day
        while day <= last_day:
            path = twin.write_jobs_file(day, Path(scratch) / f"jobs-{day.isoformat()}.csv")
            day_jobs = read_jobs(path, day, tz) if path else []
            twin.run_day(day, day_jobs)
            jobs += len(day_jobs)
            day += dt.timedelta(days=1)
    figures["days"] = time.perf_counter() - began

    began = time.perf_counter()
    readings = twin.readings(np.arange(twin.actual.minutes + 1), START_COUNTER_KWH)
    figures["readings"] = time.perf_counter() - began

    began = time.perf_counter()
    truth = twin.ground_truth()
    figures["truth"] = time.perf_counter() - began
    if truth_dir is not None:
        began = time.perf_counter()
        write_truth(truth, truth_dir)
        figures["write truth"] = time.perf_counter() - began

    figures["total"] = sum(figures.values())
    figures["_counts"] = {
        "days": len(twin.days),
        "jobs": jobs,
        "readings": len(readings),
        "meters": readings["meter"].nunique(),
        "runs": len(truth.runs),
        "machine intervals": len(truth.machine_intervals),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=5, help="machines of the plant (≥ 5; default the demo's 5)")
    parser.add_argument("--days", type=int, default=364, help="days ending yesterday (default 364 = 52 weeks)")
    parser.add_argument("--seeds", type=int, nargs="*", help="twin seeds, one repetition each (default the twin file's)")
    parser.add_argument("--write-truth", type=Path, metavar="DIR", help="also write the truth tables here (CSV)")
    args = parser.parse_args()

    began = time.perf_counter()
    config = load_config(DEMO / "site.toml")
    params = load_twin_params(DEMO / "twin.toml", config)
    if args.machines < len(config.machines):
        parser.error(f"--machines: at least the demo's {len(config.machines)}")
    with tempfile.TemporaryDirectory(prefix="twin-bench-jobs-") as folder:
        config, params, template = bigger_plant(config, params, args.machines, Path(folder))
        load_s = time.perf_counter() - began
        yesterday = pd.Timestamp.now(tz=config.site.timezone).date() - dt.timedelta(days=1)
        first_day = yesterday - dt.timedelta(days=args.days - 1)
        print(f"{len(config.machines)} machines ({', '.join(m.id for m in config.machines)}), "
              f"{first_day} … {yesterday} ({args.days} days), site and twin loaded in {load_s:.2f} s")
        for seed in args.seeds or [params.seed]:
            figures = measure(config, params.model_copy(update={"seed": seed}), template, first_day, yesterday, args.write_truth)
            counts = figures.pop("_counts")
            phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in figures.items() if name != "total")
            print(f"seed {seed}: {phases}; total {figures['total']:.1f} s (target ≤ 60 s); "
                  f"peak RSS {peak_rss_mib():,.0f} MiB")
            print(f"seed {seed}: {counts['readings']:,} readings of {counts['meters']} meters, {counts['jobs']:,} jobs "
                  f"in {counts['days']} days, {counts['runs']:,} true runs, {counts['machine intervals']:,} machine intervals")


if __name__ == "__main__":
    main()
