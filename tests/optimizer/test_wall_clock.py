"""The wall clock holds even when HiGHS itself does not stop (its presolve checks no clock)."""

import time

import pytest

from optimizer.highs import _solve_until


class _SlowSolver:
    """Stands in for a HiGHS run stuck in presolve: it returns only after ``seconds``."""

    def __init__(self, seconds: float, result="solved"):
        self.seconds, self.result = seconds, result

    def solve(self, model):
        time.sleep(self.seconds)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def test_a_run_past_the_deadline_is_abandoned_in_time():
    started = time.perf_counter()
    finished, results = _solve_until(_SlowSolver(5.0), None, started + 0.3)
    assert not finished and results is None
    assert time.perf_counter() - started < 4.0  # returned long before the run would have (5 s)


def test_a_run_that_finishes_in_time_returns_its_results_and_errors():
    assert _solve_until(_SlowSolver(0.0), None, time.perf_counter() + 5.0) == (True, "solved")
    with pytest.raises(ValueError, match="bad model"):
        _solve_until(_SlowSolver(0.0, ValueError("bad model")), None, time.perf_counter() + 5.0)
