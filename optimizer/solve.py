"""The solve step: prepare → starting schedule → Pyomo model → HiGHS under a hard wall clock → checked schedule.

:func:`solve` is the optimiser's public entry point (``energy optimize`` and the nightly job call
it). Its steps are separate functions:

1. :func:`optimizer.prepare.prepare` removes starts that cannot be feasible and explains a job
   that is left with none (window, machines, unavailability, precedence, grid limit);
2. :func:`heuristic_start`: the greedy strategies of :mod:`optimizer.heuristic` and the site's own
   plan give a checked schedule in well under a second on plant problems; when every greedy
   strategy leaves jobs out, the packing search (:mod:`optimizer.packing`) repairs the best
   partial placement; failing that, :func:`coarse_start` solves a conservative coarse-time problem
   (:mod:`optimizer.coarse`);
3. :func:`build_within` builds the MILP (:func:`optimizer.model.build_model`) against the wall
   clock and :func:`optimizer.highs.run_highs` solves it from the start with the time left — for
   problems with a demand charge until 60 % of the limit, after which
   :func:`optimizer.lns.improve_by_peak` re-optimises the jobs that make the peak; week-sized
   problems get the bound of the LP relaxation and are improved by
   :func:`optimizer.lns.improve_by_windows` instead (:func:`windows_with_lp_bound`); beside each
   of these stages :func:`optimizer.anneal.anneal` runs in a second process (:func:`beside`) from
   the best schedule so far, after :func:`optimizer.levelling.level_peak` beside the first stage
   when there is a demand charge (:func:`level_then_anneal`), and its schedule is taken when
   cheaper (:func:`cheaper_annealed`);
4. the better schedule (solver or start) is read back and passed through
   :func:`optimizer.checker.check`: no schedule leaves unchecked.

When HiGHS proves the problem infeasible, :func:`optimizer.diagnose.diagnose` re-solves an elastic
model (jobs may stay unplaced, the grid limit may be exceeded) to name what conflicts; when time
runs out without any schedule, :func:`optimizer.diagnose.explain_unplaced` names the jobs left out
and the resources that block them. See docs/optimizer.md.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import threading
import time

from optimizer.anneal import anneal
from optimizer.checker import COST_COMPONENTS, Placements, check, move_penalty_eur, penalised, placements_of
from optimizer.coarse import coarsen, refine
from optimizer.diagnose import diagnose, explain_unplaced
from optimizer.heuristic import STRATEGIES, greedy_schedule, on_intervals_for
from optimizer.highs import HighsOutcome, SolveStats, lp_relaxation_bound, run_highs
from optimizer.levelling import level_peak
from optimizer.lns import PEAK_NEIGHBOURHOOD_JOBS, improve_by_peak, improve_by_windows
from optimizer.model import ModelOptions, build_model, read_schedule, set_start_values
from optimizer.packing import pack
from optimizer.prepare import prepare
from optimizer.problem import Problem, parse_problem

log = logging.getLogger(__name__)

#: A proven relative gap at or below this is reported as ``optimal`` (HiGHS's own default), and
#: HiGHS stops there even when asked for gap 0: closing the last 0.01 % changes no status (on the
#: 6-job nightly test day it took HiGHS 14.8 s instead of 13.4 s, 139 nodes instead of 15).
OPTIMAL_GAP = 1e-4
#: Share of the time limit the constructive heuristics may use before the MILP is built …
HEURISTIC_SHARE = 0.2
#: … of which the greedy strategies may use this share; the packing search, run only when no
#: strategy places every job, the rest.
GREEDY_SHARE = 0.5
#: The coarse-time stage: slot-length factors tried (coarsest first) and its share of the limit.
COARSE_FACTORS = (6, 3, 2)
COARSE_SHARE = 0.4
#: Large problems (more start-slot entries than this, horizon over two days) get the LP
#: relaxation's bound and are improved by large-neighbourhood search over day windows
#: (optimizer/lns.py) for the rest of the limit; other problems with a demand charge by
#: re-optimising the jobs that make the peak after HiGHS.
LNS_MIN_ENTRIES = 100_000
#: ... of which the LP relaxation (for the bound) may take this share first.
LP_BOUND_SHARE = 0.5
#: With a demand charge (and more jobs than one peak neighbourhood), HiGHS gets this share of the
#: limit on the full model (its bound and best schedule), the peak search the rest.
PEAK_MILP_SHARE = 0.6
#: Above this many start-slot entries (≈ a quarter of the nonzeros) the MILP is not built: a
#: Pyomo build of ~1.4 million nonzeros took 10 s and grows linearly (ICON sample06: 5.3e6
#: entries, sample09: 1.4e8). The heuristics alone answer.
MAX_MODEL_ENTRIES = 4_000_000
#: With a demand charge, the process beside HiGHS's first run levels the peak for this share of
#: its time before annealing (optimizer/levelling.py).
LEVELLING_SHARE = 0.5
#: Seconds the annealing process may take to answer once told to stop.
BESIDE_ANSWER_S = 5.0
#: Models with at most this many start-slot entries (the 6-job nightly test day: 4,332; the
#: benchmark day: ~15,000) HiGHS settles in seconds, and proves infeasible in milliseconds: their
#: heuristics get at most SMALL_MODEL_HEURISTIC_S, and when the greedy leaves jobs out, neither the
#: packing search nor the coarse stage runs (a 3-job infeasible oven took 24 s of a 120 s limit in
#: them, then HiGHS 1 ms).
SMALL_MODEL_ENTRIES = 10_000
SMALL_MODEL_HEURISTIC_S = 1.0
#: Seconds kept back from HiGHS for read-back, checking and writing (the wall clock is hard).
READ_BACK_RESERVE_S = 1.0


class OptimiserError(RuntimeError):
    """A schedule failed the checker: a bug in the optimiser, never handed out."""


def schedule_document(problem: Problem, placements: Placements, machines_on: dict) -> dict:
    """The contract's schedule fields for a placement (no status yet), verified by the checker."""
    document = {
        "jobs": [
            {"id": job.id, "machine": placements[job.id][0], "start_slot": int(placements[job.id][1])}
            for job in problem.jobs
        ],
        "machines_on": {m.id: machines_on.get(m.id, []) for m in problem.machines},
    }
    result = check(problem, document)
    if not result.ok:
        raise OptimiserError("schedule failed the checker: " + "; ".join(result.violations))
    document["objective_eur"] = result.objective_eur
    document["cost_breakdown"] = result.cost_breakdown
    penalty, moved = move_penalty_eur(problem, placements)
    if problem.move_penalty_eur:
        document["move_penalty_eur"] = penalty
        document["moved_jobs"] = moved
    return document


def baseline_document(problem: Problem) -> dict | None:
    """The planned schedule's cost (machines on from their first planned start to last planned end)."""
    if not problem.has_plan:
        return None
    placements = problem.planned_placements()
    spans: dict[str, list[int]] = {}
    for job_id, (machine_id, start) in placements.items():
        end = min(start + problem.job(job_id).duration_slots, problem.horizon_slots)
        first, last = spans.get(machine_id, (start, end))
        spans[machine_id] = [min(first, start), max(last, end)]
    plan = {"jobs": [{"id": j, "machine": m, "start_slot": s} for j, (m, s) in placements.items()],
            "machines_on": {m: [span] for m, span in spans.items()}}
    result = check(problem, plan)
    baseline = {"objective_eur": result.objective_eur, "cost_breakdown": result.cost_breakdown, **plan}
    if result.violations:  # the site's own plan may break a constraint: cost it anyway, say so
        baseline["violations"] = result.violations
    return baseline


def heuristic_start(
    problem: Problem, prepared, baseline: dict | None, deadline: float, pack_left_out: bool = True
) -> tuple[dict | None, tuple[Placements, list[str]] | None]:
    """(the cheapest checked schedule among the greedy strategies and the site's plan, or else
    the packing search's, or None; the greedy attempt that left the fewest jobs out when there is
    no schedule, else None).

    Strategies run in turn, each restarting ("squeaky wheel") until it places every job or its
    equal share of :data:`GREEDY_SHARE` of the time to ``deadline`` (a ``time.perf_counter()``
    value) is used. When none gives a schedule, :func:`optimizer.packing.pack` completes the
    fewest-left-out attempt until ``deadline`` (if ``pack_left_out``).
    """
    candidates, partial = [], None
    if baseline is not None and "violations" not in baseline:
        plan = placements_of(baseline)
        candidates.append(schedule_document(problem, plan, on_intervals_for(problem, plan)))
    greedy_deadline = time.perf_counter() + GREEDY_SHARE * (deadline - time.perf_counter())
    for number, (order_by, place_by) in enumerate(STRATEGIES):
        now = time.perf_counter()
        if now > greedy_deadline:
            break
        own_deadline = now + (greedy_deadline - now) / (len(STRATEGIES) - number)  # an equal share of what is left
        placements, unplaced = greedy_schedule(problem, prepared, order_by, place_by, restarts=10**6, deadline=own_deadline)
        if unplaced:
            if partial is None or len(unplaced) < len(partial[1]):
                partial = (placements, unplaced)
            continue
        candidates += _checked(problem, placements, "greedy")
    if not candidates and partial is not None and pack_left_out:
        clock = time.perf_counter()
        packed = pack(problem, prepared, *partial, deadline)
        log.info("packing search from %d job(s) left out: %s after %.2f s", len(partial[1]),
                 "every job placed" if packed else "no schedule", time.perf_counter() - clock)
        if packed is not None:
            candidates += _checked(problem, packed, "packing")
    best = min(candidates, key=penalised, default=None)
    return best, (partial if best is None else None)


def _checked(problem: Problem, placements: Placements, source: str) -> list[dict]:
    """[the schedule document of a heuristic's complete placements], or [] when the checker rejects it."""
    try:
        return [schedule_document(problem, placements, on_intervals_for(problem, placements))]
    except OptimiserError as exc:  # a heuristic flaw must not stop the exact solve
        log.warning("%s start rejected: %s", source, exc)
        return []


def savings_by_component(baseline: dict, document: dict) -> dict:
    """Baseline minus schedule, per cost component and in total (EUR)."""
    savings = {k: baseline["cost_breakdown"][k] - document["cost_breakdown"][k] for k in COST_COMPONENTS}
    savings["total_eur"] = baseline["objective_eur"] - document["objective_eur"]
    return savings


def coarse_start(problem: Problem, deadline: float) -> dict | None:
    """A checked fine schedule from the conservative coarse problem, trying coarser grids first."""
    for factor in COARSE_FACTORS:
        remaining = deadline - time.perf_counter()
        if remaining <= 1.0 or problem.horizon_slots // factor < 12:
            continue
        coarse = coarsen(problem, factor)
        if not prepare(coarse).feasible:
            continue
        result = solve(coarse, time_limit_s=remaining, gap=0.01, coarse_first=False)
        if result["status"] not in ("optimal", "feasible"):
            continue
        placements = refine(result["jobs"], factor)
        try:
            return schedule_document(problem, placements, on_intervals_for(problem, placements))
        except OptimiserError as exc:
            log.warning("coarse ×%d schedule rejected on the fine grid: %s", factor, exc)
    return None


def beside(work, *args):
    """Start ``work(*args, stop=event)`` in a forked process; returns a function that sets the
    event and gives the work's result (None if it failed or did not answer within
    :data:`BESIDE_ANSWER_S`).

    The annealing runs this way on the second core while HiGHS solves: a thread would share the
    GIL with the Pyomo hand-over and read-back, which call into highspy thousands of times and
    wait for the GIL after each call (a 0.7 s hand-over took 17.7 s beside an annealing thread).
    """
    context = multiprocessing.get_context("fork")  # the child inherits the problem: nothing to pickle
    stop = context.Event()
    receiver, sender = context.Pipe(duplex=False)

    def run() -> None:
        try:
            sender.send(work(*args, stop=stop))
        except Exception:  # a heuristic's flaw must not stop the exact solve
            log.exception("%s failed", getattr(work, "__name__", work))
            sender.send(None)

    process = context.Process(target=run, name="beside-highs", daemon=True)
    process.start()
    sender.close()

    def finish():
        stop.set()
        try:
            result = receiver.recv() if receiver.poll(BESIDE_ANSWER_S) else None
        except EOFError:  # the process died without answering
            result = None
        process.join(BESIDE_ANSWER_S)
        if process.is_alive():
            process.kill()
        return result

    return finish


def level_then_anneal(problem: Problem, prepared, placements: Placements, deadline: float, stop=None) -> Placements:
    """Peak levelling (with a demand charge) for :data:`LEVELLING_SHARE` of the time to
    ``deadline``, then annealing from the cheapest schedule it found: the work beside HiGHS's first run."""
    if has_peak_charge(problem):
        levelled_by = time.perf_counter() + LEVELLING_SHARE * (deadline - time.perf_counter())
        placements = level_peak(problem, placements, levelled_by, stop)
    return anneal(problem, prepared, placements, deadline, stop=stop)


def cheaper_annealed(problem: Problem, document: dict, annealed: Placements | None, stats: SolveStats) -> dict:
    """The checked schedule of the ``annealed`` placements when it is cheaper than ``document``
    (counted in ``stats.annealing_better``), else ``document``."""
    candidates = _checked(problem, annealed, "annealing") if annealed is not None else []
    if candidates and penalised(candidates[0]) < penalised(document) - 1e-9:
        stats.annealing_better += 1
        return candidates[0]
    return document


def has_peak_charge(problem: Problem) -> bool:
    """A demand charge that the schedule can change (a positive rate)."""
    return problem.demand_charge is not None and problem.demand_charge.eur_per_kw > 0


def model_entries(problem: Problem, prepared) -> int:
    """Roughly the model's nonzeros: one per start variable and slot of its run."""
    return sum(starts.size * problem.job(job_id).duration_slots for (job_id, _), starts in prepared.starts.items())


def build_within(problem: Problem, prepared, options: ModelOptions | None, deadline: float):
    """The Pyomo model, or None when it is too large or is not built by ``deadline``.

    The build runs in a daemon thread so that a model that takes longer than the time left
    cannot break the wall clock (the thread is abandoned; the process stays responsive).
    """
    entries = model_entries(problem, prepared)
    if entries > MAX_MODEL_ENTRIES:
        log.warning("model skipped: about %d nonzeros (limit %d)", entries, MAX_MODEL_ENTRIES)
        return None
    built = []
    worker = threading.Thread(target=lambda: built.append(build_model(problem, prepared, options)), daemon=True)
    worker.start()
    worker.join(max(deadline - time.perf_counter(), 0.0))
    if not built:
        log.warning("model not built within the time limit")
        return None
    return built[0]


def windows_with_lp_bound(
    problem: Problem, prepared, model, document: dict, deadline: float, options: ModelOptions | None, window: int, stats: SolveStats
) -> tuple[dict, HighsOutcome]:
    """Week-sized problems: the LP relaxation of ``model`` (if built) gives the bound, within
    :data:`LP_BOUND_SHARE` of the time left — HiGHS's MIP search would not finish its root in the
    time (docs/benchmarks.md) — then the window search improves ``document`` until ``deadline``.
    The annealing runs beside both, from the best schedule so far."""
    bound = None
    annealing = beside(level_then_anneal, problem, prepared, placements_of(document), deadline)
    if model is not None:
        bound = lp_relaxation_bound(model, time.perf_counter() + LP_BOUND_SHARE * (deadline - time.perf_counter()), stats)
        document = cheaper_annealed(problem, document, annealing(), stats)
        annealing = beside(anneal, problem, prepared, placements_of(document), deadline, 1)
    clock = time.perf_counter()
    document = improve_by_windows(problem, prepared, document, deadline, options, window, functools.partial(schedule_document, problem))
    document = cheaper_annealed(problem, document, annealing(), stats)
    stats.lns_s = time.perf_counter() - clock
    return document, HighsOutcome("time_limit", False, bound)


def solve(
    problem: dict | Problem,
    time_limit_s: float = 60.0,
    gap: float = 0.0,
    options: ModelOptions | None = None,
    stats: SolveStats | None = None,
    coarse_first: bool = True,
) -> dict:
    """The cheapest schedule found within ``time_limit_s`` wall-clock seconds (contract schedule dict).

    ``problem`` is the contract's problem (a dict, validated here: bad input raises
    :class:`~energy.errors.InputError` naming the field) or a parsed :class:`Problem`. Stops at a
    relative ``gap``. When no constructive heuristic places every job, a coarse-time stage
    (:mod:`optimizer.coarse`, unless ``coarse_first`` is false) looks for the first schedule. The
    result has ``status`` optimal / feasible / infeasible / error; feasible and optimal schedules
    have passed the independent checker.
    """
    started = time.perf_counter()
    deadline = started + time_limit_s
    stats = stats if stats is not None else SolveStats()
    problem = problem if isinstance(problem, Problem) else parse_problem(problem)
    baseline = baseline_document(problem)

    def finish(document: dict) -> dict:
        if baseline is not None:
            document["baseline"] = baseline
            if document.get("status") in ("optimal", "feasible"):
                document["savings"] = savings_by_component(baseline, document)
        document["solve_seconds"] = round(time.perf_counter() - started, 3)
        document["stats"] = stats.as_dict()
        return document

    clock = time.perf_counter()
    prepared = prepare(problem)
    stats.prepare_s = time.perf_counter() - clock
    if not prepared.feasible:
        return finish({"status": "infeasible", "explanation": prepared.explanation, "jobs": [], "machines_on": {}})

    clock = time.perf_counter()
    entries = model_entries(problem, prepared)
    too_large = entries > MAX_MODEL_ENTRIES  # then the heuristics get all the time
    small = entries <= SMALL_MODEL_ENTRIES  # then HiGHS decides what the greedy cannot
    heuristic_s = min(HEURISTIC_SHARE * time_limit_s, SMALL_MODEL_HEURISTIC_S) if small else HEURISTIC_SHARE * time_limit_s
    heuristic_deadline = deadline - READ_BACK_RESERVE_S if too_large else started + heuristic_s
    start_document, partial = heuristic_start(problem, prepared, baseline, heuristic_deadline, pack_left_out=not small)
    if start_document is None and coarse_first and not too_large and not small:
        start_document = coarse_start(problem, started + COARSE_SHARE * time_limit_s)
    if start_document is not None:
        stats.first_feasible_s = time.perf_counter() - started
    stats.heuristic_s = time.perf_counter() - clock
    window = 1440 // problem.resolution_minutes  # one day
    windowed = start_document is not None and entries > LNS_MIN_ENTRIES and problem.horizon_slots > 2 * window
    # With a demand charge, the peak search polishes HiGHS's best after HiGHS's share of the time.
    polish = not windowed and start_document is not None and coarse_first and has_peak_charge(problem) and len(problem.jobs) > PEAK_NEIGHBOURHOOD_JOBS
    clock = time.perf_counter()
    model = build_within(problem, prepared, options, deadline - READ_BACK_RESERVE_S)
    stats.build_s = time.perf_counter() - clock
    if model is not None:
        stats.variables = model.nvariables()
        stats.constraints = model.nconstraints()
    if windowed:
        start_document, outcome = windows_with_lp_bound(
            problem, prepared, model, start_document, deadline - READ_BACK_RESERVE_S, options, window, stats
        )
    elif model is None:
        outcome = HighsOutcome("not_built", False, None)
    else:
        if start_document is not None:
            set_start_values(model, problem, placements_of(start_document), start_document["machines_on"])
        highs_deadline = started + PEAK_MILP_SHARE * time_limit_s if polish else deadline - READ_BACK_RESERVE_S
        annealing = beside(level_then_anneal, problem, prepared, placements_of(start_document), highs_deadline) if start_document else None
        outcome = run_highs(model, highs_deadline, max(gap, OPTIMAL_GAP), start_document is not None, stats)
        if annealing is not None:
            start_document = cheaper_annealed(problem, start_document, annealing(), stats)

    best = start_document
    if outcome.has_solution:
        solved, machines_on = read_schedule(model, problem)
        if len(solved) == len(problem.jobs):
            document = schedule_document(problem, solved, machines_on)
            if best is None or penalised(document) <= penalised(best) + 1e-9:
                best = document
            if stats.first_feasible_s is None:
                stats.first_feasible_s = time.perf_counter() - started
    if model is not None and polish and outcome.termination != "optimal":
        clock = time.perf_counter()
        annealing = beside(anneal, problem, prepared, placements_of(best), deadline - READ_BACK_RESERVE_S, 1)
        best = improve_by_peak(
            problem, prepared, best, deadline - READ_BACK_RESERVE_S, options,
            functools.partial(schedule_document, problem),
        )
        best = cheaper_annealed(problem, best, annealing(), stats)
        stats.lns_s += time.perf_counter() - clock

    if best is None:
        if outcome.termination == "infeasible":
            explanation = diagnose(problem, prepared, max(deadline, time.perf_counter() + 5.0))
            return finish({"status": "infeasible", "explanation": explanation, "jobs": [], "machines_on": {}})
        explanation = [
            f"no feasible schedule was found within the time limit of {time_limit_s:g} s and infeasibility was not "
            + ("proven (HiGHS stopped: time limit)" if model is not None else
               "examined: the MILP could not be built in time (model too large for the limit)")
        ]
        if partial is not None:
            explanation += explain_unplaced(problem, *partial, time_limit_s)
        return finish({"status": "error", "jobs": [], "machines_on": {}, "explanation": explanation})

    objective = penalised(best)
    bound = outcome.bound
    if outcome.termination == "optimal" and bound is None:
        bound = objective
    if bound is not None:
        bound = min(bound, objective)  # the heuristic start may beat what HiGHS saw; a bound never exceeds it
        achieved = (objective - bound) / max(abs(objective), 1e-9)
    else:
        achieved = None
    status = "optimal" if achieved is not None and achieved <= OPTIMAL_GAP else "feasible"
    document = {
        "status": status,
        "objective_eur": best["objective_eur"],
        "lower_bound_eur": bound,
        "gap": achieved,
        **{k: v for k, v in best.items() if k != "objective_eur"},
    }
    return finish(document)
