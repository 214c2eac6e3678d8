"""Optimiser figures (issue 10): generated day/week problems and the ICON 2014 samples.

Usage (each line prints one result; each seed or sample runs in a process of its own; run in the
background on a shared machine):

    python bench/optimizer_bench.py day  --seeds 1 2 3 4 5 --time-limit 30
    python bench/optimizer_bench.py day  --seeds 1 2 3 4 5 --time-limit 30 --peak-so-far-kw 450
    python bench/optimizer_bench.py day  --seeds 1 2 3 4 5 --time-limit 30 --demand-eur-per-kw 3
    python bench/optimizer_bench.py week --seeds 1 --time-limit 300
    python bench/optimizer_bench.py icon --samples 01 02 03 04 --time-limit 300

Every schedule is verified by the checker (``optimizer.check``) inside ``solve``; ICON schedules
are also scored with the specification's formula (``optimizer.icon.icon_cost``). Printed per run:
status, objective, proven bound and gap, wall time, time to the first feasible schedule, the
Pyomo build + hand-off time and its share of the wall time, and the model size. Timings depend on
the machine's load: note ``os.getloadavg()`` printed with each line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optimizer import solve  # noqa: E402
from optimizer.generator import generate_problem  # noqa: E402
from optimizer.highs import SolveStats, exit_process  # noqa: E402
from optimizer.icon import icon_cost, read_instance, read_prices, to_problem, write_solution  # noqa: E402

ICON_DIR = REPO.parent / "shared" / "data" / "benchmarks" / "icon2014" / "sampleinstances"


def report(label: str, schedule: dict, stats: SolveStats, wall_s: float, extra: dict | None = None) -> dict:
    pyomo_s = stats.build_s + stats.handoff_s
    row = {
        "run": label,
        "status": schedule["status"],
        "objective_eur": round(schedule["objective_eur"], 2) if schedule.get("objective_eur") is not None else None,
        "lower_bound_eur": round(schedule["lower_bound_eur"], 2) if schedule.get("lower_bound_eur") is not None else None,
        "gap": round(schedule["gap"], 4) if schedule.get("gap") is not None else None,
        "wall_s": round(wall_s, 1),
        "first_feasible_s": round(stats.first_feasible_s, 2) if stats.first_feasible_s is not None else None,
        "build_s": round(stats.build_s, 2),
        "handoff_s": round(stats.handoff_s, 2),
        "pyomo_share": round(pyomo_s / wall_s, 3) if wall_s else None,
        "highs_s": round(stats.highs_s, 1),
        "annealing_better": stats.annealing_better,
        "variables": stats.variables,
        "constraints": stats.constraints,
        "baseline_eur": round(schedule["baseline"]["objective_eur"], 2) if "baseline" in schedule else None,
        "load_avg_1min": round(os.getloadavg()[0], 2),
        **(extra or {}),
    }
    if schedule["status"] not in ("optimal", "feasible"):
        row["explanation"] = schedule.get("explanation")
    print(json.dumps(row), flush=True)
    return row


def run_generated(size: str, seeds: list[int], time_limit: float, gap: float, peak_so_far_kw: float | None,
                  demand_eur_per_kw: float | None) -> None:
    for seed in seeds:
        problem = generate_problem(size, seed)
        label = f"{size} seed {seed}"
        if peak_so_far_kw is not None:  # a day later in the billing period: the peak so far is higher
            problem["demand_charge"]["peak_so_far_kw"] = peak_so_far_kw
            label += f" peak so far {peak_so_far_kw:g} kW"
        if demand_eur_per_kw is not None:  # how the gap depends on the demand charge's weight
            problem["demand_charge"]["eur_per_kw"] = demand_eur_per_kw
            label += f" demand {demand_eur_per_kw:g} EUR/kW"
        stats = SolveStats()
        started = time.perf_counter()
        schedule = solve(problem, time_limit_s=time_limit, gap=gap, stats=stats)
        report(label, schedule, stats, time.perf_counter() - started)


def run_icon(samples: list[str], time_limit: float, gap: float, out_dir: Path | None) -> None:
    for sample in samples:
        folder = ICON_DIR / f"sample{sample}"
        instance = read_instance(folder / "instance.txt")
        prices = read_prices(folder / "forecast.txt")
        stats = SolveStats()
        started = time.perf_counter()
        schedule = solve(to_problem(instance, prices, f"icon sample{sample}"), time_limit_s=time_limit, gap=gap, stats=stats)
        wall = time.perf_counter() - started
        extra = {}
        if schedule["status"] in ("optimal", "feasible"):
            score = icon_cost(instance, prices, schedule)
            extra = {"icon_cost": round(score["cost"], 2), "icon_violations": score["violations"][:3]}
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                write_solution(instance, schedule, out_dir / f"sample{sample}_solution.txt")
        report(f"icon sample{sample} ({len(instance.machines)} machines, {len(instance.tasks)} tasks)", schedule, stats, wall, extra)


def each_in_own_process(option: str, values: list) -> None:
    """Run this script once per seed or sample (the same arguments, the last ``--seeds``/``--samples``
    wins): a HiGHS run abandoned at the deadline (its presolve checks no clock) goes on computing in
    its thread until presolve ends, and would slow the next run in the same process (ICON sample04
    after an abandoned sample02: build + hand-off 96 s instead of 71 s)."""
    for value in values:
        subprocess.run([sys.executable, __file__, *sys.argv[1:], f"--{option}", str(value)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["day", "week", "icon"])
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    parser.add_argument("--samples", nargs="*", default=["01", "02", "03", "04"])
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--gap", type=float, default=0.0)
    parser.add_argument("--peak-so-far-kw", type=float, default=None,
                        help="override the demand charge's peak so far (a day later in the billing period)")
    parser.add_argument("--demand-eur-per-kw", type=float, default=None,
                        help="override the demand charge's rate (0: no demand charge)")
    parser.add_argument("--out", type=Path, default=None, help="folder for ICON solution files")
    args = parser.parse_args()
    option = "samples" if args.kind == "icon" else "seeds"
    if len(getattr(args, option)) > 1:
        each_in_own_process(option, getattr(args, option))
        return
    print(json.dumps({"machine": f"{os.cpu_count()} cores", "load_avg": os.getloadavg()}), flush=True)
    if args.kind == "icon":
        run_icon(args.samples, args.time_limit, args.gap, args.out)
    else:
        run_generated(args.kind, args.seeds, args.time_limit, args.gap, args.peak_so_far_kw, args.demand_eur_per_kw)


if __name__ == "__main__":
    main()
    exit_process(0)  # an abandoned HiGHS run must not abort the process at its exit
