"""A seeded generator of realistic plant problems (contract JSON), for benchmarks and tests.

The generator first lays out the plan the site would run without optimisation (jobs packed on their
machines during the working day, in order), then draws every constraint around that plan, so the
plan is always feasible and is the problem's baseline: windows contain the planned run with some
slack, precedence only links jobs whose planned runs are already in order, maintenance blocks sit
where the plan leaves a machine idle, and the grid limit is above the plan's peak. Prices follow a
time-of-use tariff with noise, the base load a working-day shape, PV a clear-sky-like bell.

Sizes (``size``): ``day`` ≈ 40 jobs, 5 machines, 96 quarter-hours; ``week`` ≈ 200 jobs,
10 machines, 672 quarter-hours. Identical machine pairs exist (to exercise symmetry breaking).
"""

from __future__ import annotations

import numpy as np

SIZES = {"day": {"jobs": 40, "machines": 5, "days": 1}, "week": {"jobs": 200, "machines": 10, "days": 7}}
SLOTS_PER_DAY = 96  # 15-minute slots


def _tariff_eur_per_kwh(rng: np.random.Generator, slots: int) -> np.ndarray:
    hour = (np.arange(slots) % SLOTS_PER_DAY) / 4.0
    day = np.arange(slots) // SLOTS_PER_DAY
    price = np.where((hour >= 6) & (hour < 22), 0.24, 0.15)  # day / night
    price = np.where((hour >= 17) & (hour < 20), 0.34, price)  # evening peak
    price = np.where(day % 7 >= 5, 0.15, price)  # weekend at the night rate
    return np.round(price + rng.normal(0, 0.015, slots), 4)


def _base_load_kw(rng: np.random.Generator, slots: int) -> np.ndarray:
    hour = (np.arange(slots) % SLOTS_PER_DAY) / 4.0
    shape = 120 + 80 * np.exp(-(((hour - 13) / 5) ** 2))
    return np.round(np.maximum(shape + rng.normal(0, 8, slots), 20), 1)


def _pv_kw(rng: np.random.Generator, slots: int, peak_kw: float) -> np.ndarray:
    hour = (np.arange(slots) % SLOTS_PER_DAY) / 4.0
    cloud = np.repeat(rng.uniform(0.4, 1.0, slots // SLOTS_PER_DAY + 1), SLOTS_PER_DAY)[:slots]
    bell = np.clip(np.cos((hour - 13) / 7 * np.pi / 2), 0, None) ** 2 * ((hour > 6) & (hour < 20))
    return np.round(peak_kw * bell * cloud, 1)


def _co2_g_per_kwh(rng: np.random.Generator, slots: int) -> np.ndarray:
    hour = (np.arange(slots) % SLOTS_PER_DAY) / 4.0
    return np.round(380 - 120 * np.exp(-(((hour - 13) / 3) ** 2)) + rng.normal(0, 15, slots), 1)


def generate_problem(size: str = "day", seed: int = 0) -> dict:
    """A contract problem of ``size`` (``day`` or ``week``), the same for the same seed."""
    spec = SIZES[size]
    rng = np.random.default_rng(seed)
    slots = SLOTS_PER_DAY * spec["days"]
    n_machines, n_jobs = spec["machines"], spec["jobs"]
    machines = []
    for k in range(n_machines):
        twin = k % 5 == 1  # machine k is identical to machine k-1 (same type): symmetric pairs
        source = machines[-1] if twin else None
        machine = dict(source) if source else {
            "idle_kw": float(rng.choice([0.0, 5.0, 10.0, 20.0])),
            "startup_eur": float(rng.choice([0.0, 2.0, 5.0, 10.0])),
            "shutdown_eur": float(rng.choice([0.0, 1.0, 3.0])),
        }
        machine["id"] = f"M{k + 1}"
        machine.pop("unavailable", None)
        machines.append(machine)
    types = [k - 1 if k % 5 == 1 else k for k in range(n_machines)]  # machine → its type's first machine

    # The plan: jobs packed on their machines in working hours (06:00–22:00) of working days.
    free_at = np.zeros(n_machines, dtype=int)
    working = [(d * SLOTS_PER_DAY + 24, d * SLOTS_PER_DAY + 88) for d in range(spec["days"]) if d % 7 < 5 or spec["days"] == 1]
    jobs, plan = [], []
    for i in range(n_jobs):
        duration = int(rng.integers(2, 13 if size == "day" else 17))
        for _ in range(n_machines * 3):
            k = int(rng.integers(n_machines))
            start = int(free_at[k]) + int(rng.integers(0, 3))
            block = next(((a, b) for a, b in working if start + duration <= b and b - max(start, a) >= duration), None)
            if block is not None:
                start = max(start, block[0])
                break
        else:
            continue
        free_at[k] = start + duration
        power = float(np.round(rng.uniform(20, 150), 1))
        profile = (power * rng.uniform(0.8, 1.2, duration)).round(1).tolist() if rng.random() < 0.3 else power
        eligible = sorted({f"M{m + 1}" for m in range(n_machines) if types[m] == types[k]} | {f"M{k + 1}"})
        if rng.random() < 0.3:
            extra = int(rng.integers(n_machines))
            eligible = sorted(set(eligible) | {f"M{extra + 1}"})
        slack_before, slack_after = (int(rng.integers(0, 40 if size == "day" else 96)) for _ in range(2))
        job = {
            "id": f"J{i + 1:03d}",
            "machines": eligible,
            "duration_slots": duration,
            "power_kw": profile,
            "earliest_start_slot": max(0, start - slack_before),
            "deadline_slot": min(slots, start + duration + slack_after),
            "planned_start_slot": start,
            "planned_machine": f"M{k + 1}",
        }
        jobs.append(job)
        plan.append((start, start + duration, k))
    # Precedence: about a third of the jobs wait for an earlier-planned job (1–2 predecessors).
    for i, job in enumerate(jobs):
        if rng.random() < 0.33:
            before = [b for b in range(len(jobs)) if plan[b][1] <= plan[i][0]]
            if before:
                chosen = rng.choice(before, size=min(len(before), int(rng.integers(1, 3))), replace=False)
                job["after"] = sorted(jobs[int(b)]["id"] for b in chosen)
    # Maintenance: one block on some machines, where the plan leaves them idle.
    for k, machine in enumerate(machines):
        if rng.random() < 0.4:
            busy = np.zeros(slots, dtype=bool)
            for s, e, m in plan:
                if m == k:
                    busy[s:e] = True
            for _ in range(50):
                first = int(rng.integers(0, slots - 8))
                length = int(rng.integers(4, 9))
                if not busy[first:first + length].any():
                    machine["unavailable"] = [[first, first + length]]
                    break
    base = _base_load_kw(rng, slots)
    pv = _pv_kw(rng, slots, float(rng.uniform(50, 200)))
    planned_load = base - pv
    for (s, e, k), job in zip(plan, jobs):
        planned_load[s:e] += np.asarray(job["power_kw"], dtype=float)
    return {
        "name": f"generated {size} seed {seed}",
        "start": "2024-03-04T00:00:00+00:00",
        "resolution_minutes": 15,
        "horizon_slots": slots,
        "price_eur_per_kwh": _tariff_eur_per_kwh(rng, slots).tolist(),
        "export_price_eur_per_kwh": 0.06,
        "co2_g_per_kwh": _co2_g_per_kwh(rng, slots).tolist(),
        "co2_price_eur_per_t": 80.0,
        "base_load_kw": base.tolist(),
        "pv_kw": pv.tolist(),
        # Above the plan with every machine idling: the baseline (machines on over their span) keeps it.
        "grid_limit_kw": float(np.ceil(planned_load.max() + sum(m["idle_kw"] for m in machines) + 100)),
        "demand_charge": {"eur_per_kw": 12.0, "peak_so_far_kw": float(np.round(np.quantile(base, 0.9), 1))},
        "machines": machines,
        "jobs": jobs,
    }
