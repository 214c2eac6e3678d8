"""The time-indexed MILP in Pyomo, built from one small function per variable or constraint family.

Variables (all over the starts that survived :func:`optimizer.prepare.prepare`):

- ``x[i]``: binary, triple i = (job, machine, start) is chosen; exactly one per job.
- ``on[m, t]``, ``up[m, t]``, ``down[m, t]``: machine on / switched on / switched off (only for
  machines where being on costs something: idle power, switching costs or initially on).
- ``grid_import[t]``, ``grid_export[t]`` (kW) with ``import_mode[t]`` binary only in slots where
  exporting pays more than importing costs (otherwise the LP never does both at once).
- ``peak`` and ``demand_excess`` (kW) when there is a demand charge.

The formulation is chosen for a tight LP relaxation (measured in docs/benchmarks.md):

- capacity counted from start variables over the run window (Σ uses·x over the starts that cover
  slot t ≤ capacity·on[m, t]), never big-M pairs; the same row switches the machine on;
- precedence in the time-indexed "started by t" form (job j started by t ⇒ its predecessor started
  by t − d), which is the convex hull for a pair, rather than one aggregated start-time row;
- peak valid inequalities: the peak is at least what each job's run alone must draw on top of the
  base load in its highest slot (Σ over the job's starts of x·that level);
- identical machines (same costs, capacity, availability and the same jobs eligible) that run one
  job at a time are pooled: one set of start variables for the pool, an integer count of machines
  on, and the pool's capacity is the count (exact for interval jobs: :func:`split_pool` deals the
  pool's runs to its machines with the same switch-ons). This removes the symmetry outright;
  identical machines that can share jobs keep a symmetry-breaking order on their job counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from optimizer.checker import Placements, on_masks, schedule_cost
from optimizer.heuristic import mask_intervals
from optimizer.prepare import Prepared, uses_over_half
from optimizer.problem import Problem

#: The capacity row of a pool of unary machines counts jobs, not a resource.
POOL_COUNT = "(running jobs)"
#: Objective weight of a job left unplaced in the elastic (diagnosis) model, per job.
UNPLACED_WEIGHT = 1000.0


@dataclass
class ModelOptions:
    """Formulation switches (each one measured in bench/optimizer_ideas.py)."""

    peak_cuts: bool = True
    symmetry_breaking: bool = True
    pool_identical_machines: bool = True
    switch_count_cuts: bool = True
    strong_precedence: bool = True
    #: Link each running job to its machine's on-variable (run ≤ on) when there are at most this
    #: many such rows; beyond it only the aggregated capacity row links them.
    max_on_link_rows: int = 200_000
    #: Diagnosis mode: jobs may stay unplaced and the grid limit may be exceeded, at a price.
    elastic: bool = False


@dataclass
class ModelIndex:
    """Plain-Python lookups that the model functions share (built once from the prepared starts)."""

    triples: list[tuple[str, str, int]]
    by_job: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    running: dict[tuple[str, int], list[int]] = field(default_factory=lambda: defaultdict(list))  # (machine, t)
    power: dict[int, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))  # t → (i, kW)
    on_machines: list[str] = field(default_factory=list)
    #: Pooled identical machines: the representative (first) machine id → every member.
    pools: dict[str, list[str]] = field(default_factory=dict)

    def size(self, machine_id: str) -> int:
        """How many machines a model machine stands for (the pool's size, else 1)."""
        return len(self.pools.get(machine_id, (machine_id,)))


def is_unary(problem: Problem, machine_id: str) -> bool:
    """No two of the machine's eligible jobs fit on it at once: all use over half of one resource."""
    machine = problem.machine(machine_id)
    eligible = [job for job in problem.jobs if machine_id in job.machines]
    return any(all(uses_over_half(job, machine, r) for job in eligible) for r in machine.capacity)


def build_index(problem: Problem, prepared: Prepared, options: ModelOptions | None = None) -> ModelIndex:
    index = ModelIndex(triples=[])
    if options is not None and options.pool_identical_machines:
        for group in identical_machine_groups(problem):
            if all(is_unary(problem, k) for k in group):
                index.pools[group[0]] = list(group)
    pooled_away = {k for members in index.pools.values() for k in members[1:]}
    for job in problem.jobs:
        for machine_id, starts in prepared.job_starts(job.id, job.machines).items():
            if machine_id in pooled_away:
                continue
            for s in starts.tolist():
                i = len(index.triples)
                index.triples.append((job.id, machine_id, s))
                index.by_job[job.id].append(i)
                for k in range(job.duration_slots):
                    index.running[(machine_id, s + k)].append(i)
                    if job.power_kw[k] != 0:
                        index.power[s + k].append((i, float(job.power_kw[k])))
    index.on_machines = [m.id for m in problem.machines if m.has_on_cost and m.id not in pooled_away]
    return index


def define_start_variables(model, problem: Problem, index: ModelIndex) -> None:
    model.x = pyo.Var(range(len(index.triples)), domain=pyo.Binary)


def define_assignment_constraints(model, problem: Problem, index: ModelIndex, options: ModelOptions) -> None:
    """Every job starts exactly once (in the elastic model: at most once, the rest is ``unplaced``)."""
    jobs = [j.id for j in problem.jobs]
    if options.elastic:
        model.unplaced = pyo.Var(jobs, bounds=(0, 1))
    model.assign = pyo.Constraint(
        jobs,
        rule=lambda m, j: pyo.quicksum(m.x[i] for i in index.by_job[j]) + (m.unplaced[j] if options.elastic else 0) == 1,
    )


def define_on_off_variables(model, problem: Problem, index: ModelIndex) -> None:
    horizon = range(problem.horizon_slots)
    model.on = pyo.Var(index.on_machines, horizon, domain=pyo.NonNegativeIntegers, bounds=lambda m, k, t: (0, index.size(k)))
    transitions = range(problem.horizon_slots + 1)  # t = T: the switch-off after the horizon
    model.up = pyo.Var(index.on_machines, transitions, bounds=lambda m, k, t: (0, index.size(k)))
    model.down = pyo.Var(index.on_machines, transitions, bounds=lambda m, k, t: (0, index.size(k)))


def define_switching_constraints(model, problem: Problem, index: ModelIndex) -> None:
    """up ≥ on_t − on_{t−1} and down ≥ on_{t−1} − on_t, with the initial state and off after T."""
    T = problem.horizon_slots

    def state(m, machine_id, t):
        if t < 0:
            return index.size(machine_id) if problem.machine(machine_id).initially_on else 0
        return 0 if t >= T else m.on[machine_id, t]

    model.switch_on = pyo.Constraint(
        index.on_machines, range(T + 1),
        rule=lambda m, k, t: m.up[k, t] >= state(m, k, t) - state(m, k, t - 1),
    )
    model.switch_off = pyo.Constraint(
        index.on_machines, range(T + 1),
        rule=lambda m, k, t: m.down[k, t] >= state(m, k, t - 1) - state(m, k, t),
    )


def define_switch_count_cuts(model, problem: Problem, index: ModelIndex) -> None:
    """A machine that starts off and runs a job switches on (and off) at least once: for every job
    and machine, Σ_t up ≥ Σ of the job's starts there (likewise down). Valid inequalities that the
    LP otherwise misses when it spreads a job thinly over many starts and machines."""
    pairs = defaultdict(list)
    for i, (job_id, machine_id, _) in enumerate(index.triples):
        if machine_id in index.on_machines and not problem.machine(machine_id).initially_on:
            pairs[(job_id, machine_id)].append(i)
    slots = range(problem.horizon_slots + 1)
    model.starts_once = pyo.Constraint(
        list(pairs), rule=lambda m, j, k: pyo.quicksum(m.up[k, t] for t in slots) >= pyo.quicksum(m.x[i] for i in pairs[(j, k)])
    )
    model.stops_once = pyo.Constraint(
        list(pairs), rule=lambda m, j, k: pyo.quicksum(m.down[k, t] for t in slots) >= pyo.quicksum(m.x[i] for i in pairs[(j, k)])
    )


def define_capacity_constraints(model, problem: Problem, index: ModelIndex) -> None:
    """Σ uses·x over the starts covering t ≤ capacity·on[m, t] (capacity alone if 'on' is free)."""
    rows = []
    for (machine_id, t), covering in index.running.items():
        machine = problem.machine(machine_id)
        if machine_id in index.pools:  # unary machines: the count of running jobs is what is limited
            if len(covering) > index.size(machine_id) or machine.has_on_cost:
                rows.append((machine_id, t, POOL_COUNT))
            continue
        for resource, capacity in machine.capacity.items():
            uses = [problem.job(index.triples[i][0]).uses.get(resource, 0.0) for i in covering]
            if sum(uses) > capacity + 1e-9 or (machine.has_on_cost and any(uses)):
                rows.append((machine_id, t, resource))

    def rule(m, machine_id, t, resource):
        covering = index.running[(machine_id, t)]
        if resource == POOL_COUNT:
            return pyo.quicksum(m.x[i] for i in covering) <= (
                m.on[machine_id, t] if machine_id in index.on_machines else index.size(machine_id)
            )
        load = pyo.quicksum(problem.job(index.triples[i][0]).uses.get(resource, 0.0) * m.x[i] for i in covering)
        capacity = problem.machine(machine_id).capacity[resource]
        return load <= capacity * (m.on[machine_id, t] if machine_id in index.on_machines else 1)

    model.capacity = pyo.Constraint(rows, rule=rule)


def define_on_link_constraints(model, problem: Problem, index: ModelIndex, options: ModelOptions) -> None:
    """A running job switches its machine on: x ≤ on per covered slot (the disaggregated, tight form).

    Jobs that use no resource of their machine are always linked this way, since the capacity row
    cannot see them; the rest only while the row count stays within ``max_on_link_rows``.
    """
    on_machines = set(index.on_machines) - set(index.pools)  # a pool's capacity row links them
    candidates = [(k, t, i) for (k, t), covering in index.running.items() if k in on_machines for i in covering]
    if len(candidates) > options.max_on_link_rows:
        candidates = [
            (k, t, i) for k, t, i in candidates if not any(problem.job(index.triples[i][0]).uses.values())
        ]
    model.on_link = pyo.Constraint(candidates, rule=lambda m, k, t, i: m.x[i] <= m.on[k, t])


def _started_by(model, index: ModelIndex, job_id: str, t: int):
    return pyo.quicksum(model.x[i] for i in index.by_job[job_id] if index.triples[i][2] <= t)


def define_precedence_constraints(model, problem: Problem, index: ModelIndex, options: ModelOptions) -> None:
    """Job j may have started by t only if each predecessor b started by t − d_b."""
    pairs = [(b, j.id) for j in problem.jobs for b in dict.fromkeys(j.after)]
    if options.strong_precedence:
        rows = []
        for before, job_id in pairs:
            starts = sorted({index.triples[i][2] for i in index.by_job[job_id]})
            rows.extend((before, job_id, t) for t in starts)
        model.precedence = pyo.Constraint(
            rows,
            rule=lambda m, b, j, t: _started_by(m, index, j, t) <= _started_by(m, index, b, t - problem.job(b).duration_slots)
            + (m.unplaced[b] if options.elastic else 0),
        )
    else:
        def start_time(m, job_id):
            return pyo.quicksum(index.triples[i][2] * m.x[i] for i in index.by_job[job_id])

        model.precedence = pyo.Constraint(
            pairs, rule=lambda m, b, j: start_time(m, j) >= start_time(m, b) + problem.job(b).duration_slots
        )


def _import_bounds(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Upper bounds of import and export per slot from the loads that could possibly run (kW)."""
    most = problem.net_base_kw + sum(m.idle_kw for m in problem.machines)
    least = problem.net_base_kw.copy()
    for job in problem.jobs:
        most = most + max(job.power_kw.max(), 0)
        least = least + min(job.power_kw.min(), 0)
    return np.maximum(most, 0), np.maximum(-least, 0)


def define_grid_variables(model, problem: Problem, options: ModelOptions) -> None:
    """Import/export with the power balance; the grid limit caps import (elastic: with a slack)."""
    T = range(problem.horizon_slots)
    import_max, export_max = _import_bounds(problem)
    limit = problem.grid_limit_kw
    hard_cap = import_max if limit is None or options.elastic else np.minimum(import_max, limit)
    model.grid_import = pyo.Var(T, bounds=lambda m, t: (0, float(hard_cap[t])))
    model.grid_export = pyo.Var(T, bounds=lambda m, t: (0, float(export_max[t])))
    pays_to_export = problem.export_price_eur_per_kwh > problem.import_cost_eur_per_kwh
    both = [t for t in T if pays_to_export[t] and export_max[t] > 0 and import_max[t] > 0]
    model.import_mode = pyo.Var(both, domain=pyo.Binary)
    model.import_only = pyo.Constraint(both, rule=lambda m, t: m.grid_import[t] <= float(import_max[t]) * m.import_mode[t])
    model.export_only = pyo.Constraint(
        both, rule=lambda m, t: m.grid_export[t] <= float(export_max[t]) * (1 - m.import_mode[t])
    )
    if options.elastic and limit is not None:
        model.grid_excess = pyo.Var(T, bounds=(0, None))
        model.grid_limit = pyo.Constraint(T, rule=lambda m, t: m.grid_import[t] <= limit + m.grid_excess[t])


def define_power_balance(model, problem: Problem, index: ModelIndex) -> None:
    """import − export = base − PV + Σ idle·on + Σ job power, per slot."""
    def rule(m, t):
        idle = pyo.quicksum(problem.machine(k).idle_kw * m.on[k, t] for k in index.on_machines if problem.machine(k).idle_kw)
        jobs = pyo.quicksum(p * m.x[i] for i, p in index.power.get(t, ()))
        return m.grid_import[t] - m.grid_export[t] - idle - jobs == float(problem.net_base_kw[t])

    model.balance = pyo.Constraint(range(problem.horizon_slots), rule=rule)


def job_peak_levels(problem: Problem, index: ModelIndex) -> np.ndarray:
    """Per triple: the grid import its run alone forces in its highest slot (base − PV + idle + job)."""
    levels = np.empty(len(index.triples))
    net = problem.net_base_kw
    for i, (job_id, machine_id, s) in enumerate(index.triples):
        job = problem.job(job_id)
        levels[i] = (net[s:s + job.duration_slots] + job.power_kw).max() + problem.machine(machine_id).idle_kw
    return levels


def define_peak_constraints(model, problem: Problem, index: ModelIndex, options: ModelOptions) -> None:
    """peak ≥ import_t; demand_excess ≥ peak − peak_so_far; with the per-job peak cuts."""
    if problem.demand_charge is None:
        return
    model.peak = pyo.Var(bounds=(0, None))
    model.demand_excess = pyo.Var(bounds=(0, None))
    model.peak_import = pyo.Constraint(range(problem.horizon_slots), rule=lambda m, t: m.peak >= m.grid_import[t])
    model.peak_excess = pyo.Constraint(expr=model.demand_excess >= model.peak - problem.demand_charge.peak_so_far_kw)
    # Valid only while no job can lower the load: then every other load only adds to the peak.
    if options.peak_cuts and not any((j.power_kw < 0).any() for j in problem.jobs):
        levels = job_peak_levels(problem, index)
        model.peak_job = pyo.Constraint(
            [j.id for j in problem.jobs],
            rule=lambda m, j: m.peak >= pyo.quicksum(float(levels[i]) * m.x[i] for i in index.by_job[j]),
        )


def identical_machine_groups(problem: Problem) -> list[list[str]]:
    """Groups of machines that no job, cost or limit tells apart (so any order of them is as good)."""
    def signature(machine):
        eligible = tuple(sorted(j.id for j in problem.jobs if machine.id in j.machines))
        return (machine.idle_kw, machine.startup_eur, machine.shutdown_eur, machine.initially_on,
                machine.unavailable, tuple(sorted(machine.capacity.items())), eligible)

    pinned = {j.previous_machine for j in problem.jobs if problem.move_penalty_eur > 0}
    groups: dict[tuple, list[str]] = defaultdict(list)
    for machine in problem.machines:
        if machine.id not in pinned:
            groups[signature(machine)].append(machine.id)
    return [g for g in groups.values() if len(g) > 1]


def define_symmetry_breaking(model, problem: Problem, index: ModelIndex, groups: list[list[str]]) -> None:
    """Identical machines carry non-increasing job counts in their listed order."""
    counts = defaultdict(list)
    for i, (_, machine_id, _) in enumerate(index.triples):
        counts[machine_id].append(i)
    pairs = [(g[k], g[k + 1]) for g in groups for k in range(len(g) - 1)]
    model.symmetry = pyo.Constraint(
        pairs, rule=lambda m, a, b: pyo.quicksum(m.x[i] for i in counts[a]) >= pyo.quicksum(m.x[i] for i in counts[b])
    )


def move_penalty_expression(model, problem: Problem, index: ModelIndex):
    """Σ move_penalty_eur over jobs that leave their previous (machine, start)."""
    if not problem.move_penalty_eur:
        return 0
    where = {t: i for i, t in enumerate(index.triples)}
    terms = []
    for job in problem.jobs:
        if job.previous_machine is None or job.previous_start_slot is None:
            continue
        kept = where.get((job.id, job.previous_machine, job.previous_start_slot))
        terms.append(problem.move_penalty_eur * (1 - (model.x[kept] if kept is not None else 0)))
    return pyo.quicksum(terms)


def define_objective(model, problem: Problem, index: ModelIndex, options: ModelOptions) -> None:
    """Cost per the contract (+ move penalties); the elastic model minimises the violations instead."""
    T = range(problem.horizon_slots)
    if options.elastic:
        excess = pyo.quicksum(model.grid_excess[t] for t in T) if hasattr(model, "grid_excess") else 0
        model.objective = pyo.Objective(
            expr=UNPLACED_WEIGHT * pyo.quicksum(model.unplaced[j.id] for j in problem.jobs) + excess
        )
        return
    h = problem.slot_hours
    import_cost = problem.import_cost_eur_per_kwh
    export_price = problem.export_price_eur_per_kwh
    energy = pyo.quicksum(
        h * (float(import_cost[t]) * model.grid_import[t] - float(export_price[t]) * model.grid_export[t]) for t in T
    )
    switching = pyo.quicksum(
        problem.machine(k).startup_eur * model.up[k, t] + problem.machine(k).shutdown_eur * model.down[k, t]
        for k in index.on_machines for t in range(problem.horizon_slots + 1)
    )
    demand = problem.demand_charge.eur_per_kw * model.demand_excess if problem.demand_charge else 0
    model.objective = pyo.Objective(expr=energy + switching + demand + move_penalty_expression(model, problem, index))


def build_model(problem: Problem, prepared: Prepared, options: ModelOptions | None = None):
    """The Pyomo model of a prepared problem; ``model.index`` keeps the triple lookups."""
    options = options or ModelOptions()
    index = build_index(problem, prepared, options)
    model = pyo.ConcreteModel(name=problem.name or "schedule")
    model.index = index
    model.options = options
    define_start_variables(model, problem, index)
    define_assignment_constraints(model, problem, index, options)
    define_on_off_variables(model, problem, index)
    define_switching_constraints(model, problem, index)
    if options.switch_count_cuts:
        define_switch_count_cuts(model, problem, index)
    define_capacity_constraints(model, problem, index)
    define_on_link_constraints(model, problem, index, options)
    define_precedence_constraints(model, problem, index, options)
    define_grid_variables(model, problem, options)
    define_power_balance(model, problem, index)
    define_peak_constraints(model, problem, index, options)
    model.symmetry_groups = [
        g for g in identical_machine_groups(problem) if g[0] not in index.pools
    ] if options.symmetry_breaking and not options.elastic else []
    define_symmetry_breaking(model, problem, index, model.symmetry_groups)
    define_objective(model, problem, index, options)
    return model


def canonical_placements(model, placements: Placements, machines_on: dict) -> tuple[Placements, dict]:
    """Relabel identical machines so a schedule satisfies the symmetry-breaking order."""
    rename = {}
    for group in model.symmetry_groups:
        counts = {k: sum(1 for m, _ in placements.values() if m == k) for k in group}
        for old, new in zip(sorted(group, key=lambda k: -counts[k]), group):
            rename[old] = new
    placements = {j: (rename.get(m, m), s) for j, (m, s) in placements.items()}
    machines_on = {rename.get(k, k): v for k, v in machines_on.items()}
    return placements, machines_on


def set_start_values(model, problem: Problem, placements: Placements, machines_on: dict) -> None:
    """Give every variable its value in a known schedule (HiGHS takes it as the MIP start)."""
    index: ModelIndex = model.index
    placements, machines_on = canonical_placements(model, placements, machines_on)
    pool_of = {member: rep for rep, members in index.pools.items() for member in members}
    chosen = {(j, pool_of.get(m, m), s) for j, (m, s) in placements.items()}
    for i, triple in enumerate(index.triples):
        model.x[i].set_value(1 if triple in chosen else 0)
    masks = on_masks(problem, machines_on)
    for k in index.on_machines:
        counts = sum(masks[member].astype(int) for member in index.pools.get(k, [k]))
        initial = index.size(k) if problem.machine(k).initially_on else 0
        states = np.concatenate([[initial], counts, [0]])
        for t in range(problem.horizon_slots):
            model.on[k, t].set_value(int(counts[t]))
        for t in range(problem.horizon_slots + 1):
            model.up[k, t].set_value(max(states[t + 1] - states[t], 0))
            model.down[k, t].set_value(max(states[t] - states[t + 1], 0))
    net = schedule_cost(problem, placements, machines_on).net_kw
    for t in range(problem.horizon_slots):
        model.grid_import[t].set_value(max(net[t], 0.0))
        model.grid_export[t].set_value(max(-net[t], 0.0))
    for t in model.import_mode:
        model.import_mode[t].set_value(1 if net[t] > 0 else 0)
    if problem.demand_charge is not None:
        peak = float(max(net.max(), 0.0))
        model.peak.set_value(peak)
        model.demand_excess.set_value(max(peak - problem.demand_charge.peak_so_far_kw, 0.0))
    if model.options.elastic:
        for j in problem.jobs:
            model.unplaced[j.id].set_value(0)


def split_pool(
    problem: Problem, members: list[str], runs: list[tuple[str, int]], on_count: np.ndarray
) -> tuple[Placements, dict[str, list[list[int]]]]:
    """Deal a pool's runs (job id, start) to its machines, with ``on_count[t]`` machines on in slot t.

    Slot by slot: surplus machines that are idle are switched off, missing ones switched on, and
    each job starting in t takes an on machine that is free. Since at most ``on_count[t]`` jobs run
    in t, an idle machine to switch off and a free machine to start on always exist, so the
    machines switch on exactly as often as the count rises: the pool's cost is kept.
    """
    horizon = problem.horizon_slots
    initially_on = problem.machine(members[0]).initially_on
    on = {k: initially_on for k in members}
    since = {k: 0 for k in members}
    free_at = {k: 0 for k in members}
    intervals: dict[str, list[list[int]]] = {k: [] for k in members}
    placements: Placements = {}
    starting: dict[int, list[str]] = defaultdict(list)
    for job_id, s in sorted(runs, key=lambda r: (r[1], r[0])):
        starting[s].append(job_id)
    for t in range(horizon):
        wanted = int(on_count[t])
        for k in members:  # switch off idle machines beyond the count
            if sum(on.values()) <= wanted:
                break
            if on[k] and free_at[k] <= t:
                on[k] = False
                if t > since[k]:
                    intervals[k].append([since[k], t])
        for k in members:  # switch on machines up to the count
            if sum(on.values()) >= wanted:
                break
            if not on[k]:
                on[k], since[k] = True, t
        for job_id in starting.get(t, []):
            k = next(k for k in members if on[k] and free_at[k] <= t)
            placements[job_id] = (k, t)
            free_at[k] = t + problem.job(job_id).duration_slots
    for k in members:
        if on[k] and horizon > since[k]:
            intervals[k].append([since[k], horizon])
    return placements, intervals


def read_schedule(model, problem: Problem) -> tuple[Placements, dict[str, list[list[int]]]]:
    """(machine and start of every placed job, on-intervals of every machine) from the solved model.

    On-periods come from the model's on-variables, or are the running slots where being on costs
    nothing; a pool's runs and on-count are dealt to its machines by :func:`split_pool`.
    """
    index: ModelIndex = model.index
    horizon = problem.horizon_slots
    chosen: Placements = {}
    for i, (job_id, machine_id, s) in enumerate(index.triples):
        value = model.x[i].value
        if value is not None and value > 0.5:
            chosen[job_id] = (machine_id, s)
    running = defaultdict(lambda: np.zeros(horizon, dtype=int))
    for job_id, (machine_id, s) in chosen.items():
        running[machine_id][s:s + problem.job(job_id).duration_slots] += 1
    placements: Placements = {}
    machines_on: dict[str, list[list[int]]] = {}
    for machine in problem.machines:
        k = machine.id
        if any(k in members[1:] for members in index.pools.values()):
            continue
        on_count = running[k].copy()
        if k in index.on_machines:
            on_count = np.maximum(on_count, [round(model.on[k, t].value or 0) for t in range(horizon)])
        if k in index.pools:
            runs = [(j, s) for j, (m, s) in chosen.items() if m == k]
            dealt, intervals = split_pool(problem, index.pools[k], runs, on_count)
            placements.update(dealt)
            machines_on.update(intervals)
        else:
            placements.update({j: (m, s) for j, (m, s) in chosen.items() if m == k})
            machines_on[k] = mask_intervals(on_count > 0)
    return placements, machines_on
