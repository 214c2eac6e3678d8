"""Annealing over complete schedules: lowers the demand charge where the MILP's search does not.

With a demand charge the MILP's LP bound of the peak is the flattened average load, so HiGHS's
branch and bound hardly lowers the peak of its incumbent (docs/benchmarks.md). This search works
on complete feasible placements instead, with the cost model of the constructive heuristic
(:meth:`optimizer.heuristic.PlacedLoad.options`: energy and CO2 of the net load, idle power while a
machine runs, switching or idling between runs as the on-period choice would make it, the demand
charge on the peak) plus the move penalty of stable plans:

- move: one job is taken out and every start it may take given the others (its prepared starts on
  its machines, capacity, the grid limit, its placed predecessors and successors) is costed at
  once; the new position is drawn with probability ∝ exp(−Δcost / temperature) ("heat bath"),
  so a move may go uphill while the temperature is high;
- which job: half the time one that runs in the slot of the import peak, else any;
- temperature: geometric from :data:`START_TEMPERATURE_SHARE` of the mean absolute cost change of
  the first moves down to :data:`END_TEMPERATURE_SHARE` of it, over the time given.

It keeps the cheapest placement seen. Machine on-periods are chosen afterwards for the fixed runs
(:func:`optimizer.heuristic.on_intervals_for`) and the result is checked like any other schedule.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.checker import Placements
from optimizer.heuristic import PlacedJobs, searching
from optimizer.prepare import Prepared
from optimizer.problem import Problem

#: Share of moves that take a job running in the peak slot.
PEAK_JOB_SHARE = 0.5
#: Moves whose cost changes set the temperature scale.
CALIBRATION_MOVES = 200
#: Start and end temperature, as shares of that scale.
START_TEMPERATURE_SHARE = 0.1
END_TEMPERATURE_SHARE = 0.0003


class _Annealing(PlacedJobs):
    """A complete placement with its load, and the cost of moving one job."""

    def __init__(self, problem: Problem, prepared: Prepared, placements: Placements):
        super().__init__(problem, prepared)
        for job_id, (machine_id, start) in placements.items():
            self.place(job_id, machine_id, start)

    def peak_jobs(self) -> list[str]:
        """The jobs running in the slot of the highest import."""
        peak = int(np.argmax(self.state.net))
        return [j for j, (_, s) in self.placed.items() if s <= peak < s + self.problem.job(j).duration_slots]

    def positions(self, job_id: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(machine, start, added cost in EUR) of every position the removed job may take."""
        problem = self.problem
        job = problem.job(job_id)
        d = job.duration_slots
        earliest = max((self.placed[b][1] + problem.job(b).duration_slots for b in job.after), default=0)
        latest = min((self.placed[a][1] - d for a in self.successors[job_id]), default=problem.horizon_slots)
        machines, starts, costs = [], [], []
        for machine_id, own in self.starts[job_id].items():
            feasible, added = self.state.options(job, problem.machine(machine_id), own[(own >= earliest) & (own <= latest)])
            if problem.move_penalty_eur and job.previous_machine is not None and job.previous_start_slot is not None:
                moved = (machine_id != job.previous_machine) | (feasible != job.previous_start_slot)
                added = added + problem.move_penalty_eur * moved
            machines += [machine_id] * feasible.size
            starts.append(feasible)
            costs.append(added)
        return machines, np.concatenate(starts), np.concatenate(costs)


def anneal(
    problem: Problem, prepared: Prepared, placements: Placements, deadline: float, seed: int = 0, stop=None,
) -> Placements:
    """The cheapest complete placement found by annealing from the complete feasible
    ``placements`` until ``deadline`` (a ``time.perf_counter()`` value) or until ``stop`` (a
    threading or multiprocessing event) is set; ``placements`` when nothing cheaper is found."""
    rng = np.random.default_rng(seed)
    search = _Annealing(problem, prepared, placements)
    job_ids = [j.id for j in problem.jobs]
    cost = best_cost = 0.0  # relative to the start
    best = dict(search.placed)
    changes: list[float] = []
    scale = None
    began = time.perf_counter()
    while searching(deadline, stop):
        now = time.perf_counter()
        peak_jobs = search.peak_jobs() if rng.random() < PEAK_JOB_SHARE else []
        job_id = peak_jobs[rng.integers(len(peak_jobs))] if peak_jobs else job_ids[rng.integers(len(job_ids))]
        machine_id, start = search.placed[job_id]
        search.remove(job_id)
        machines, starts, added = search.positions(job_id)
        current = np.flatnonzero((starts == start) & (np.asarray(machines) == machine_id))
        if not current.size:  # a start the search itself would not take (e.g. above the grid limit with idle power)
            search.place(job_id, machine_id, start)
            continue
        change = added - added[current[0]]
        if scale is None:  # calibrating: greedy moves until the scale of a move's cost change is known
            choice = int(np.argmin(change))
            changes.append(float(np.abs(change).mean()))
            if len(changes) == CALIBRATION_MOVES:
                scale = max(float(np.mean(changes)), 1e-6)
                began, span = now, max(deadline - now, 1e-3)
        else:
            progress = (now - began) / span
            temperature = scale * START_TEMPERATURE_SHARE * (END_TEMPERATURE_SHARE / START_TEMPERATURE_SHARE) ** progress
            weight = np.exp(-(change - change.min()) / temperature)
            choice = int(rng.choice(weight.size, p=weight / weight.sum()))
        search.place(job_id, machines[choice], int(starts[choice]))
        cost += float(change[choice])
        if cost < best_cost - 1e-9:
            best_cost, best = cost, dict(search.placed)
    return best
