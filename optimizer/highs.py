"""HiGHS through Pyomo's APPSI interface: one call with a time limit, a gap and an optional MIP start."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import NoReturn

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.timing import HierarchicalTimer
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

log = logging.getLogger(__name__)

#: HiGHS is interrupted (through its interrupt callbacks) this long after the deadline when its
#: own time limit has not stopped it: HiGHS checks its clock seldom in presolve on big models.
HARD_GRACE_S = 0.5
#: A HiGHS run still busy this long after the deadline is abandoned (see :func:`_run_until`).
ABANDON_AFTER_S = 2.0
#: Relative margin taken off an interior-point LP optimum to make it a safe bound (IPX stops at a
#: relative duality gap of 1e-8).
LP_BOUND_TOLERANCE = 1e-6

#: The threads of HiGHS runs abandoned at a deadline (see :func:`_run_until`).
_abandoned_runs: list[threading.Thread] = []


@dataclass
class SolveStats:
    """Where the time went (seconds), for the benchmarks and the log."""

    prepare_s: float = 0.0
    heuristic_s: float = 0.0
    lns_s: float = 0.0
    build_s: float = 0.0
    handoff_s: float = 0.0  # Pyomo → HiGHS (set_instance) inside the solve call
    highs_s: float = 0.0
    first_feasible_s: float | None = None
    restarted_without_start: bool = False
    annealing_better: int = 0  # times the annealing beside a search found the cheaper schedule
    variables: int = 0
    constraints: int = 0

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class HighsOutcome:
    termination: str  # optimal, time_limit, infeasible, other
    has_solution: bool
    bound: float | None
    reported_objective: float | None = None


def run_highs(model, deadline: float, gap: float, warm_start: bool, stats: SolveStats) -> HighsOutcome:
    """Solve with HiGHS (via APPSI) until ``deadline`` (a ``time.perf_counter()`` value) at the latest.

    The model is handed over first and the time limit is what is left after the hand-over, so the
    wall clock holds however long Pyomo takes. Solution values are loaded into the model.

    HiGHS 1.16 can mis-value a MIP start after presolve (its incumbent objective then lacks an
    offset, so it prunes and stops on a wrong value; seen on a 2-job problem: reported 204 for a
    212 schedule). Every warm-started run is therefore checked: when the objective HiGHS reports
    differs from the objective of the solution it returns, its bound is not trusted and the model
    is solved again without the start in the time that is left.
    """
    outcome = _run_highs_once(model, deadline, gap, warm_start, stats)
    if warm_start and outcome.has_solution and outcome.reported_objective is not None:
        actual = float(pyo.value(model.objective))
        if abs(actual - outcome.reported_objective) > 1e-6 * max(1.0, abs(actual)):
            log.warning("HiGHS reported %.6g for a MIP start worth %.6g; solving again without the start",
                        outcome.reported_objective, actual)
            stats.restarted_without_start = True
            first_highs_s = stats.highs_s
            outcome = _run_highs_once(model, deadline, gap, False, stats)
            stats.highs_s += first_highs_s
    return outcome


def _hand_over(model, stats: SolveStats, **options):
    """(APPSI solver, its highspy object) with ``model`` handed over and HiGHS's ``options`` set
    (quiet, one thread, fixed seed unless given). HiGHS is then run through highspy directly:
    APPSI applies options only inside its own ``solve``, which also redirects the process's
    stdout and stderr for as long as HiGHS runs."""
    solver = Highs()
    solver.config.load_solution = False
    clock = time.perf_counter()
    solver.set_instance(model)
    stats.handoff_s = time.perf_counter() - clock
    highs = solver._solver_model  # APPSI keeps the highspy object here
    for name, value in ({"output_flag": False, "threads": 1, "random_seed": 0} | options).items():
        highs.setOptionValue(name, value)
    return solver, highs


def _run_highs_once(model, deadline: float, gap: float, warm_start: bool, stats: SolveStats) -> HighsOutcome:
    solver, highs = _hand_over(model, stats, mip_rel_gap=gap)
    # HiGHS checks its clock less often on big models (presolve) and the read-back grows with the
    # model: keep back as long again as the hand-over took (measured overruns of 10–15 s otherwise).
    highs.setOptionValue("time_limit", max(deadline - time.perf_counter() - stats.handoff_s, 0.05))
    if warm_start:
        solver._warm_start()

    def past_deadline(event) -> None:
        if time.perf_counter() > deadline + HARD_GRACE_S:
            event.interrupt()

    dual_bounds: list[float] = []  # the MIP's bound as it rises: kept for a run that must be abandoned

    def mip_past_deadline(event) -> None:
        bound = event.data_out.mip_dual_bound
        if np.isfinite(bound):
            dual_bounds.append(float(bound))
        past_deadline(event)

    highs.cbMipInterrupt.subscribe(mip_past_deadline)
    for callback in (highs.cbSimplexInterrupt, highs.cbIpmInterrupt):
        callback.subscribe(past_deadline)
    # highspy's own run (see _hand_over): an abandoned APPSI solve would keep stdout/stderr redirected.
    clock = time.perf_counter()
    try:
        finished, _ = _run_until(highs.run, deadline + ABANDON_AFTER_S)
    finally:
        stats.highs_s = time.perf_counter() - clock
    if not finished:
        log.warning("HiGHS did not stop within %.0f s of the deadline (presolve checks no clock); its run is abandoned",
                    ABANDON_AFTER_S)
        return HighsOutcome("time_limit", False, max(dual_bounds, default=None))
    if highs.getModelStatus() == highspy.HighsModelStatus.kInterrupt:
        return _interrupted_outcome(solver, highs)
    results = solver._postsolve(HierarchicalTimer())  # APPSI's reading of HiGHS's result
    condition = results.termination_condition
    has_solution = results.best_feasible_objective is not None
    if has_solution:
        results.solution_loader.load_vars()
    bound = results.best_objective_bound
    bound = float(bound) if bound is not None and abs(bound) != float("inf") else None
    if condition == TerminationCondition.optimal:
        termination = "optimal"
    elif condition == TerminationCondition.maxTimeLimit:
        termination = "time_limit"
    elif condition in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
        termination = "infeasible"
    else:
        termination = "other"
    return HighsOutcome(termination, has_solution, bound, results.best_feasible_objective)


def _run_until(work, give_up_at: float):
    """(finished, result) of ``work()`` run in a daemon thread, waited for until ``give_up_at`` (a
    ``time.perf_counter()`` value).

    HiGHS's presolve looks neither at its time limit nor at the interrupt callbacks (ICON
    sample03: 38 s over a 300 s limit), so the wall clock cannot rely on HiGHS stopping. A run
    still going at ``give_up_at`` is left to finish in the background (it stops at its own time
    limit once presolve is done) and its result is never read: the caller answers with what it
    has. Only one HiGHS run is started at a time (two HiGHS instances running at once in one
    process hung here).
    """
    outcome: list = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=run, name="highs", daemon=True)
    worker.start()
    worker.join(max(give_up_at - time.perf_counter(), 0.0))
    if failure:
        raise failure[0]
    if worker.is_alive():
        _abandoned_runs[:] = [w for w in _abandoned_runs if w.is_alive()] + [worker]
    return (True, outcome[0]) if outcome else (False, None)


def abandoned_run_alive() -> bool:
    """Whether a HiGHS run abandoned at a deadline is still computing in its thread."""
    return any(worker.is_alive() for worker in _abandoned_runs)


def exit_process(code: int) -> NoReturn:
    """End the process with status ``code``, safely while an abandoned HiGHS run still computes.

    A HiGHS run that ends, or calls its interrupt callback, while the interpreter shuts down
    cannot re-enter Python: its thread is stopped inside HiGHS's C++ and the C++ runtime aborts the
    whole process (SIGABRT, status 134: ``energy plan`` after a plan had been stored, on a starved
    machine). So while such a run is alive the shutdown is skipped: logs and standard streams are
    flushed and the process exits at once (files and database commits are complete by then).
    """
    if abandoned_run_alive():
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)
    sys.exit(code)


def _interrupted_outcome(solver, highs) -> HighsOutcome:
    """Stopped by the wall-clock callback: APPSI does not load a solution then, so load HiGHS's
    incumbent (if any) into the Pyomo variables here, with HiGHS's dual bound."""
    solution = highs.getSolution()
    info = highs.getInfo()
    if not solution.value_valid or info.primal_solution_status != 2:  # 2: feasible
        return HighsOutcome("time_limit", False, None)
    values = solution.col_value
    for var_id, column in solver._pyomo_var_to_solver_var_map.items():
        solver._vars[var_id][0].set_value(values[column], skip_validation=True)
    bound = info.mip_dual_bound
    bound = float(bound) if abs(bound) != float("inf") else None
    return HighsOutcome("time_limit", True, bound, float(info.objective_function_value))


def lp_relaxation_bound(model, deadline: float, stats: SolveStats) -> float | None:
    """A lower bound on the model's objective: its LP relaxation solved by interior point (IPX, no
    crossover) by ``deadline`` (a ``time.perf_counter()`` value), else None.

    For week-sized models HiGHS's MIP search does not even finish its root: the dual simplex takes
    longer than 300 s on the week benchmark's relaxation, interior point about 2 minutes. The
    relaxation's optimum, less the solver's relative tolerance, is a valid bound.
    """
    _, highs = _hand_over(model, stats, solver="ipm", run_crossover="off")
    columns = highs.getNumCol()
    highs.changeColsIntegrality(columns, np.arange(columns, dtype=np.int32), np.full(columns, highspy.HighsVarType.kContinuous))
    highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.05))
    clock = time.perf_counter()
    finished, _ = _run_until(highs.run, deadline + ABANDON_AFTER_S)
    stats.highs_s = time.perf_counter() - clock
    if not finished or highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    objective = float(highs.getInfo().objective_function_value)
    return objective - LP_BOUND_TOLERANCE * max(abs(objective), 1.0)
