"""A packing search: a complete feasible placement when the greedy heuristics leave jobs out.

On tightly packed instances (ICON 2014 samples 02–04: long jobs using 75–85 % of three resources
on each machine) one-pass placement fails: some long job finds no run where all its resources are
free. This module repairs the greedy's best partial placement by local search over complete,
possibly infeasible placements (min-conflicts with breakout weights and a tabu list, as in the
constraint-satisfaction, packing and RCPSP literature):

- state: a (machine, start) for every job, the start among the job's prepared starts (window,
  unavailability, capacity, the grid limit on its own: :mod:`optimizer.prepare`), so only what
  jobs do to each other can be violated;
- violation: Σ over machines, resources and slots of the use above capacity (as a share of the
  capacity, so resources in different units weigh alike), plus Σ over slots of the grid import
  above the limit (as a share of the limit), plus per precedence pair the slots by which the later
  job starts before the earlier one ends; each slot and pair carries a weight, 1 at first;
- move: a job that runs in a violated slot (or breaks precedence) goes to the (machine, start)
  where it adds the least weighted violation given all the others, evaluated for all its starts at
  once; among equally violating starts the cheapest (energy and CO2 at the slot prices, idle
  power) wins. Each iteration evaluates a few such jobs drawn at random and makes the best move
  when it lowers the weighted violation; a moved job is tabu for a few iterations;
- at a local minimum (no evaluated move lowers it) the weights of the violated slots and pairs
  grow by half ("breakout", multiplicative), so the search leaves the minimum by moving jobs away
  from the slots that stay violated.

It stops when the violation is zero or at the deadline. Why breakout weights: with tabu and
restarts from the best placement alone, ICON sample02 took 15–16 s from the greedy's partial
placement; with weights that grow by one, 0.4–2 s, but from nothing placed sample03 took up to
22 s and failed on some seeds within 60 s; weights that grow by half take 0.7–2.4 s there.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from optimizer.checker import Placements
from optimizer.heuristic import PlacedJobs, searching, slot_cost_eur
from optimizer.prepare import Prepared
from optimizer.problem import Job, Problem

#: Use above capacity (resource units) or above the grid limit (kW) up to this is round-off, not
#: a violation (the checker allows 1e-6).
EPS = 1e-7
#: Jobs in violation whose best move is evaluated per iteration.
CANDIDATES = 8
#: A moved job stays tabu for this many iterations plus a random 0 … TABU_SPREAD.
TABU_TENURE = 5
TABU_SPREAD = 5
#: At a local minimum the weights of the violated slots and pairs grow by this share …
WEIGHT_RATE = 0.5
#: … and all weights are replaced by their square roots when one passes this.
WEIGHT_LIMIT = 1e6


def _over(level: np.ndarray, limit: float) -> np.ndarray:
    return np.maximum(level - limit - EPS, 0.0)


class _Packing(PlacedJobs):
    """A placement of (some or all) jobs: where each job is, what it uses, and the weights of the
    slots and precedence pairs."""

    def __init__(self, problem: Problem, prepared: Prepared):
        super().__init__(problem, prepared)
        horizon = problem.horizon_slots
        self.weight = {(m.id, r): np.ones(horizon) for m in problem.machines for r in m.capacity}
        self.grid_weight = np.ones(horizon)
        self.pair_weight = {(b, j.id): 1.0 for j in problem.jobs for b in j.after}

    def _late(self, before: str, after_start) -> np.ndarray | float:
        """Slots by which a job starting at ``after_start`` starts before ``before`` ends."""
        return np.maximum(self.placed[before][1] + self.problem.job(before).duration_slots - after_start, 0)

    def added(self, job: Job, machine_id: str, starts: np.ndarray) -> np.ndarray:
        """Weighted violation the (removed) job adds at each of ``starts`` on the machine."""
        problem, state, d = self.problem, self.state, job.duration_slots
        machine = problem.machine(machine_id)
        per_slot = np.zeros(problem.horizon_slots)
        for resource, amount in job.uses.items():
            if amount > 0:
                used, capacity = state.used[machine_id][resource], machine.capacity[resource]
                per_slot += self.weight[(machine_id, resource)] * (_over(used + amount, capacity) - _over(used, capacity)) / capacity
        sums = np.concatenate([[0.0], np.cumsum(per_slot)])
        added = sums[starts + d] - sums[starts]
        if problem.grid_limit_kw is not None:  # power profiles vary along the run: one row per start
            net, load = self._run_loads(job, machine_id, starts)
            excess = _over(load, problem.grid_limit_kw) - _over(net, problem.grid_limit_kw)
            added += (sliding_window_view(self.grid_weight, d)[starts] * excess).sum(axis=1) / problem.grid_limit_kw
        for before in job.after:
            if before in self.placed:
                added += self.pair_weight[(before, job.id)] * self._late(before, starts)
        for after in self.successors[job.id]:
            if after in self.placed:
                added += self.pair_weight[(job.id, after)] * np.maximum(starts + d - self.placed[after][1], 0)
        return added

    def _run_loads(self, job: Job, machine_id: str, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(net load without the removed job, with it and its machine's idle power where the
        machine is not on yet), kW, one row per start and one column per slot of the run."""
        d = job.duration_slots
        net = sliding_window_view(self.state.net, d)[starts]
        return net, net + job.power_kw + self.problem.machine(machine_id).idle_kw * ~sliding_window_view(self.state.on[machine_id], d)[starts]

    def added_cost(self, job: Job, machine_id: str, starts: np.ndarray) -> np.ndarray:
        """Energy and CO2 cost (EUR) the (removed) job adds at each start, with its machine's idle power."""
        net, load = self._run_loads(job, machine_id, starts)
        slots = starts[:, None] + np.arange(job.duration_slots)
        return (slot_cost_eur(self.problem, load, slots) - slot_cost_eur(self.problem, net, slots)).sum(axis=1)

    def best_move(self, job_id: str) -> tuple[float, str, int]:
        """(change of the weighted violation, machine, start): the job's best position other than
        its current one, the cheapest among equally violating ones."""
        job = self.problem.job(job_id)
        current = self.placed.get(job_id)
        now = 0.0
        if current is not None:
            self.remove(job_id)
            now = float(self.added(job, current[0], np.array([current[1]]))[0])
        options = []
        for machine_id, starts in self.starts[job_id].items():
            added = self.added(job, machine_id, starts)
            if current is not None and current[0] == machine_id:
                added[starts == current[1]] = np.inf  # a move must move
            options.append((machine_id, starts, added))
        least = min(float(added.min()) for _, _, added in options)
        cheapest = []
        for machine_id, starts, added in options:
            tied = starts[added <= least + EPS]
            if tied.size:
                cost = self.added_cost(job, machine_id, tied)
                cheapest.append((float(cost.min()), machine_id, int(tied[np.argmin(cost)])))
        _, machine_id, start = min(cheapest)
        if current is not None:
            self.place(job_id, *current)
        return least - now, machine_id, start

    def involved(self) -> list[str]:
        """The jobs that take part in a violation: running in a slot where a resource they use on
        their machine or the grid limit is exceeded, or starting before a predecessor ends."""
        problem, state = self.problem, self.state
        bad = {}
        for machine in problem.machines:
            for resource, capacity in machine.capacity.items():
                over = _over(state.used[machine.id][resource], capacity) > 0
                if over.any():
                    bad[(machine.id, resource)] = over
        grid_bad = _over(state.net, problem.grid_limit_kw) > 0 if problem.grid_limit_kw is not None else None
        late = {job_id for pair in self.pair_weight if self._late(pair[0], self.placed[pair[1]][1]) > 0 for job_id in pair}
        involved = []
        for job_id, (machine_id, start) in self.placed.items():
            run = slice(start, start + problem.job(job_id).duration_slots)
            if (
                job_id in late
                or any(a > 0 and (machine_id, r) in bad and bad[(machine_id, r)][run].any() for r, a in problem.job(job_id).uses.items())
                or (grid_bad is not None and grid_bad[run].any())
            ):
                involved.append(job_id)
        return involved

    def raise_weights(self):
        """Breakout: the weight of every violated slot and precedence pair grows by WEIGHT_RATE."""
        state, factor = self.state, 1.0 + WEIGHT_RATE
        for machine in self.problem.machines:
            for resource, capacity in machine.capacity.items():
                self.weight[(machine.id, resource)][_over(state.used[machine.id][resource], capacity) > 0] *= factor
        if self.problem.grid_limit_kw is not None:
            self.grid_weight[_over(state.net, self.problem.grid_limit_kw) > 0] *= factor
        for pair in self.pair_weight:
            if self._late(pair[0], self.placed[pair[1]][1]) > 0:
                self.pair_weight[pair] *= factor
        weights = [*self.weight.values(), self.grid_weight]
        if max(max(w.max() for w in weights), *self.pair_weight.values(), 1.0) > WEIGHT_LIMIT:
            for w in weights:  # compressed, keeping their order: no overflow however long it runs
                np.sqrt(w, out=w)
            self.pair_weight = {pair: float(np.sqrt(w)) for pair, w in self.pair_weight.items()}


def pack(
    problem: Problem, prepared: Prepared, placements: Placements, unplaced: list[str], deadline: float, seed: int = 0,
    stop=None,
) -> Placements | None:
    """Placements of every job that break no capacity, grid limit or precedence, found by local
    search from the partial ``placements`` (within the prepared starts) with the ``unplaced`` jobs
    added where they violate least; None when not found by ``deadline`` (a ``time.perf_counter()``
    value) or before ``stop`` (an event) is set. Machine on-periods are the caller's
    (:func:`optimizer.heuristic.on_intervals_for`)."""
    rng = np.random.default_rng(seed)
    search = _Packing(problem, prepared)
    for job_id, (machine_id, start) in placements.items():
        search.place(job_id, machine_id, start)
    for job_id in unplaced:
        search.place(job_id, *search.best_move(job_id)[1:])
    involved = search.involved()
    tabu: dict[str, int] = {}
    iteration = 0
    while involved and searching(deadline, stop):
        iteration += 1
        move = None
        free = [job_id for job_id in involved if tabu.get(job_id, 0) <= iteration]
        for job_id in (free[k] for k in rng.permutation(len(free))[:CANDIDATES]):
            gain, machine_id, start = search.best_move(job_id)
            if move is None or gain < move[0]:
                move = (gain, job_id, machine_id, start)
        if move is None or move[0] >= -EPS:
            if free:
                search.raise_weights()
            continue
        _, job_id, machine_id, start = move
        search.remove(job_id)
        search.place(job_id, machine_id, start)
        tabu[job_id] = iteration + TABU_TENURE + int(rng.integers(TABU_SPREAD + 1))
        involved = search.involved()
    return None if involved else dict(search.placed)
