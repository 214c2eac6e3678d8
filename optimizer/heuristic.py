"""A constructive heuristic: a feasible schedule within seconds, handed to HiGHS as its start.

Jobs are placed one at a time, predecessors first and the least flexible first; each goes to the
(machine, start) that adds the least cost to what is already placed (energy and CO2 at the slot's
prices on top of the current net load, idle power where its machine is not yet on, what the run
changes in its machine's switching and idling between runs, and the rise of the demand charge),
among the starts that keep capacity and the grid limit. When every job is placed, each machine's
on-periods are chosen optimally for the fixed runs by :func:`machine_on_mask` (bridge a gap when its
idle energy costs less than a switch-off and a switch-on).
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.checker import Placements
from optimizer.prepare import Prepared
from optimizer.problem import Machine, Problem


def searching(deadline: float, stop=None) -> bool:
    """A search may go on: before ``deadline`` (a ``time.perf_counter()`` value) and ``stop`` (a
    threading or multiprocessing event, or None) not set."""
    return time.perf_counter() < deadline and not (stop is not None and stop.is_set())


def slot_cost_eur(problem: Problem, net_kw: np.ndarray, slots=slice(None)) -> np.ndarray:
    """Energy plus CO2 cost of each slot's net grid power (import at cost, export at its price), EUR."""
    h = problem.slot_hours
    return h * (
        problem.import_cost_eur_per_kwh[slots] * np.maximum(net_kw, 0)
        - problem.export_price_eur_per_kwh[slots] * np.maximum(-net_kw, 0)
    )


def machine_on_mask(
    problem: Problem, machine: Machine, running: np.ndarray, net_kw: np.ndarray, limit_kw: float | None = None
) -> np.ndarray:
    """The cheapest on/off pattern of a machine that is on wherever ``running`` is True.

    Dynamic programming over the slots with states off/on: being on costs the idle power at the
    slot's marginal price (on top of ``net_kw``, the load without this machine's idle), switching
    costs startup/shutdown; the machine starts in its initial state and is off after the horizon.
    Idling where no job runs must keep the import at or below ``limit_kw`` (when given).
    """
    idle_cost = slot_cost_eur(problem, net_kw + machine.idle_kw) - slot_cost_eur(problem, net_kw)
    if limit_kw is not None:
        over = ~running & (net_kw + machine.idle_kw > limit_kw + 1e-9)
        idle_cost = np.where(over, np.inf, idle_cost)
    horizon = problem.horizon_slots
    inf = float("inf")
    cost = {False: 0.0 if not machine.initially_on else inf, True: 0.0 if machine.initially_on else inf}
    choice = np.zeros((horizon, 2), dtype=bool)  # previous state chosen for (t, state)
    for t in range(horizon):
        from_off_to_on = cost[False] + machine.startup_eur
        from_on_to_off = cost[True] + machine.shutdown_eur
        on = min(cost[True], from_off_to_on) + idle_cost[t]
        choice[t, 1] = cost[True] <= from_off_to_on
        off = inf if running[t] else min(cost[False], from_on_to_off)
        choice[t, 0] = from_on_to_off < cost[False]
        cost = {False: off, True: on}
    state = cost[True] + machine.shutdown_eur < cost[False]
    mask = np.zeros(horizon, dtype=bool)
    for t in range(horizon - 1, -1, -1):
        mask[t] = state
        state = bool(choice[t, int(state)])
    return mask


def mask_intervals(mask: np.ndarray) -> list[list[int]]:
    """[from, to) intervals where a boolean mask is True."""
    steps = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return [[int(a), int(b)] for a, b in zip(np.flatnonzero(steps == 1), np.flatnonzero(steps == -1))]


def bridge_limit_kw(problem: Problem, peak_kw: float) -> float | None:
    """The import that idling between runs must not exceed: the grid limit, and with a demand
    charge the higher of the billing period's peak so far and ``peak_kw``, the schedule's (a
    bridged gap saves at most a switch-off and a switch-on, a higher peak costs the demand rate
    on every kW)."""
    limit = problem.grid_limit_kw
    charge = problem.demand_charge
    if charge is not None and charge.eur_per_kw > 0:
        peak = max(peak_kw, charge.peak_so_far_kw)
        limit = peak if limit is None else min(limit, peak)
    return limit


def on_intervals_for(problem: Problem, placements: Placements) -> dict[str, list[list[int]]]:
    """Optimal on-intervals of every machine for fixed job runs; idling between runs stays within
    :func:`bridge_limit_kw` of the runs' peak."""
    running = {m.id: np.zeros(problem.horizon_slots, dtype=bool) for m in problem.machines}
    net = problem.net_base_kw.copy()
    for job_id, (machine_id, start) in placements.items():
        job = problem.job(job_id)
        running[machine_id][start:start + job.duration_slots] = True
        net[start:start + job.duration_slots] += job.power_kw
    # Every machine is on while it runs: each machine's choice must see the others' idle power
    # there, or bridging a gap could break the grid limit where another machine is running.
    for machine in problem.machines:
        net = net + machine.idle_kw * running[machine.id]
    limit = bridge_limit_kw(problem, float(net.max()))
    result = {}
    for machine in problem.machines:
        without = net - machine.idle_kw * running[machine.id]
        mask = machine_on_mask(problem, machine, running[machine.id], without, limit)
        net = without + machine.idle_kw * mask
        result[machine.id] = mask_intervals(mask)
    return result


class PlacedLoad:
    """What has been placed so far: net load and its energy and CO2 cost, on slots, jobs running and
    resource use per machine."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.net = problem.net_base_kw.copy()
        self.net_cost_eur = slot_cost_eur(problem, self.net)  # kept with ``net``: every option is costed against it
        self.on = {m.id: np.zeros(problem.horizon_slots, dtype=bool) for m in problem.machines}
        self.running = {m.id: np.zeros(problem.horizon_slots, dtype=int) for m in problem.machines}
        self.used = {m.id: {r: np.zeros(problem.horizon_slots) for r in m.capacity} for m in problem.machines}
        self.peak = float(np.maximum(self.net, 0).max(initial=0.0))

    def demand_eur(self, peak_kw):
        charge = self.problem.demand_charge
        if charge is None:
            return 0.0
        return charge.eur_per_kw * np.maximum(peak_kw - charge.peak_so_far_kw, 0.0)

    def options(self, job, machine: Machine, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(feasible starts, added cost of each) for a job on a machine."""
        problem, d = self.problem, job.duration_slots
        added = np.zeros(starts.size)
        level_max = np.full(starts.size, -np.inf)
        feasible = np.ones(starts.size, dtype=bool)
        on = self.on[machine.id]
        for k in range(d):
            t = starts + k
            load = self.net[t] + job.power_kw[k] + machine.idle_kw * ~on[t]
            added += slot_cost_eur(problem, load, t) - self.net_cost_eur[t]
            level_max = np.maximum(level_max, load)
            if problem.grid_limit_kw is not None:
                feasible &= load <= problem.grid_limit_kw + 1e-9
            for resource, amount in job.uses.items():
                feasible &= self.used[machine.id][resource][t] + amount <= machine.capacity[resource] + 1e-9
        if machine.startup_eur or machine.shutdown_eur:  # else every gap is free (switch off)
            added += self.on_cost_change(machine, starts, d)
        added += self.demand_eur(np.maximum(level_max, self.peak)) - self.demand_eur(self.peak)
        return starts[feasible], added[feasible]

    def on_cost_change(self, machine: Machine, starts: np.ndarray, duration: int) -> np.ndarray:
        """For each start, what a run of ``duration`` slots changes in the machine's switching and
        idle cost between runs (EUR), as :func:`machine_on_mask` would choose the on-periods.

        The machine's runs leave gaps: before the first run (a switch-on; if it was on before the
        horizon, the cheaper of idling until the run and a switch-off plus switch-on), between runs
        (the cheaper of idling through it and a switch-off plus switch-on; idling is ruled out where
        it would break the grid limit or raise the import peak) and after the last run (a
        switch-off). A run replaces the gaps between the periods it joins by the two gaps it leaves.
        """
        on, horizon = self.on[machine.id], self.problem.horizon_slots
        pair = machine.startup_eur + machine.shutdown_eur
        edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
        period_starts, period_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        # Gap i runs from gap_from[i] (a period's end; 0 when on before the horizon, -1 when off) to
        # gap_to[i] (the next period's start, or the horizon's end).
        gap_from = np.concatenate([[0 if machine.initially_on else -1], period_ends])
        gap_to = np.concatenate([period_starts, [horizon]])
        if machine.idle_kw == 0:
            idle_sums, blocked_sums = np.zeros(horizon + 1), np.zeros(horizon + 1, dtype=int)
        else:
            limit = bridge_limit_kw(self.problem, self.peak)
            idle = self.net + machine.idle_kw
            idle_sums = np.concatenate([[0.0], np.cumsum(slot_cost_eur(self.problem, idle) - self.net_cost_eur)])
            blocked = idle > limit + 1e-9 if limit is not None else np.zeros(horizon, dtype=bool)
            blocked_sums = np.concatenate([[0], np.cumsum(blocked)])

        def gap_cost(first, end):
            real = np.maximum(first, 0)
            idling = np.where(blocked_sums[end] - blocked_sums[real] > 0, np.inf, idle_sums[end] - idle_sums[real])
            inner = np.where(first == end, 0.0, np.minimum(pair, idling))
            return np.where(first < 0, np.where(end == horizon, 0.0, machine.startup_eur),
                            np.where(end == horizon, machine.shutdown_eur, inner))

        gap_sums = np.concatenate([[0.0], np.cumsum(gap_cost(gap_from, gap_to))])
        left = np.searchsorted(period_ends, starts, side="left")  # the gap before the periods joined
        right = np.searchsorted(period_starts, starts + duration, side="right")  # the gap after them
        joined_from = np.minimum(starts, gap_to[left])
        joined_end = np.maximum(starts + duration, gap_from[right])
        before = gap_sums[right + 1] - gap_sums[left]
        return gap_cost(gap_from[left], joined_from) + gap_cost(joined_end, gap_to[right]) - before

    def place(self, job, machine: Machine, start: int):
        run = slice(start, start + job.duration_slots)
        self.net[run] += job.power_kw + machine.idle_kw * ~self.on[machine.id][run]
        self.net_cost_eur[run] = slot_cost_eur(self.problem, self.net[run], run)
        self.on[machine.id][run] = True
        self.running[machine.id][run] += 1
        for resource, amount in job.uses.items():
            self.used[machine.id][resource][run] += amount
        self.peak = max(self.peak, float(self.net[run].max()))

    def remove(self, job, machine: Machine, start: int):
        """Undo :meth:`place` (the machine goes off where no other job runs)."""
        run = slice(start, start + job.duration_slots)
        self.running[machine.id][run] -= 1
        freed = self.running[machine.id][run] == 0
        self.on[machine.id][run] &= ~freed
        self.net[run] -= job.power_kw + machine.idle_kw * freed
        self.net_cost_eur[run] = slot_cost_eur(self.problem, self.net[run], run)
        for resource, amount in job.uses.items():
            self.used[machine.id][resource][run] -= amount
        self.peak = float(np.maximum(self.net, 0).max(initial=0.0))


def successors_of(problem: Problem) -> dict[str, list[str]]:
    """For every job, the jobs that wait for it."""
    successors: dict[str, list[str]] = {j.id: [] for j in problem.jobs}
    for job in problem.jobs:
        for before in set(job.after):
            successors[before].append(job.id)
    return successors


class PlacedJobs:
    """Jobs placed by id on a :class:`PlacedLoad`, with every job's prepared starts and successors:
    the state that the local searches (packing, annealing) move jobs in."""

    def __init__(self, problem: Problem, prepared: Prepared):
        self.problem = problem
        self.state = PlacedLoad(problem)
        self.starts = {j.id: prepared.job_starts(j.id, j.machines) for j in problem.jobs}
        self.successors = successors_of(problem)
        self.placed: Placements = {}

    def place(self, job_id: str, machine_id: str, start: int):
        self.state.place(self.problem.job(job_id), self.problem.machine(machine_id), start)
        self.placed[job_id] = (machine_id, start)

    def remove(self, job_id: str):
        machine_id, start = self.placed.pop(job_id)
        self.state.remove(self.problem.job(job_id), self.problem.machine(machine_id), start)


def _precedence_bounds(problem: Problem, prepared: Prepared, placements: Placements, successors) -> tuple[dict, dict]:
    """Earliest/latest start of every job given the jobs already placed (fixed), through precedence."""
    earliest, latest = {}, {}
    for job_id in prepared.order:
        if job_id in placements:
            earliest[job_id] = placements[job_id][1]
            continue
        job = problem.job(job_id)
        earliest[job_id] = max(
            [prepared.earliest_start[job_id]] + [earliest[b] + problem.job(b).duration_slots for b in job.after]
        )
    for job_id in reversed(prepared.order):
        if job_id in placements:
            latest[job_id] = placements[job_id][1]
            continue
        d = problem.job(job_id).duration_slots
        latest[job_id] = min([prepared.latest_start[job_id]] + [latest[n] - d for n in successors[job_id]])
    return earliest, latest


#: The greedy strategies tried, in order: (job order, placement rule).
STRATEGIES = (("slack", "cheapest"), ("deadline", "cheapest"), ("deadline", "earliest"), ("size", "earliest"))


def greedy_schedule(
    problem: Problem, prepared: Prepared, order_by: str = "slack", place_by: str = "cheapest",
    restarts: int = 30, deadline: float | None = None,
) -> tuple[Placements, list[str]]:
    """(placements, []) or, when some jobs find no room, (the best partial placement, the jobs left out).

    Jobs are taken least flexible first (``order_by="slack"``: fewest feasible starts), latest
    start first (``"deadline"``) or largest first (``"size"``: duration × resource share); each
    goes to the start that adds the least cost (``place_by="cheapest"``) or to the earliest start
    (``"earliest"``, a packing rule for tight instances), within the window that its placed
    predecessors and successors leave it. A job that finds no room moves to the front of the order
    and the pass starts again ("squeaky wheel"), up to ``restarts`` times or until ``deadline``
    (a ``time.perf_counter()`` value).
    """
    successors = successors_of(problem)

    def key(job_id):
        job = problem.job(job_id)
        if order_by == "deadline":
            return (prepared.latest_start[job_id], job_id)
        if order_by == "size":
            share = max(a / problem.machine(job.machines[0]).capacity[r] for r, a in job.uses.items()) if job.uses else 0
            return (-job.duration_slots * max(share, 1e-3), job_id)
        return (sum(s.size for s in prepared.job_starts(job_id, job.machines).values()), job_id)

    order = sorted((j.id for j in problem.jobs), key=key)
    best: tuple[Placements, list[str]] | None = None
    for _ in range(restarts + 1):
        placements, unplaced = _greedy_pass(problem, prepared, order, successors, place_by == "earliest")
        if best is None or len(unplaced) < len(best[1]):
            best = (placements, unplaced)
        if not unplaced or (deadline is not None and time.perf_counter() > deadline):
            break
        order = unplaced + [j for j in order if j not in unplaced]
    return best


def _greedy_pass(problem: Problem, prepared: Prepared, order: list[str], successors, earliest_first: bool) -> tuple[Placements, list[str]]:
    state = PlacedLoad(problem)
    placements: Placements = {}
    unplaced: list[str] = []
    for job_id in order:
        job = problem.job(job_id)
        earliest, latest = _precedence_bounds(problem, prepared, placements, successors)
        best = None
        for machine_id, starts in prepared.job_starts(job_id, job.machines).items():
            window = starts[(starts >= earliest[job_id]) & (starts <= latest[job_id])]
            starts, added = state.options(job, problem.machine(machine_id), window)
            if starts.size:
                i = 0 if earliest_first else int(np.argmin(added))
                rank = float(starts[i]) if earliest_first else added[i]
                if best is None or rank < best[0] - 1e-12:
                    best = (rank, machine_id, int(starts[i]))
        if best is None:
            unplaced.append(job_id)
            continue
        state.place(job, problem.machine(best[1]), best[2])
        placements[job_id] = (best[1], best[2])
    return placements, unplaced
