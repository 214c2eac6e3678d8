"""The wall clock holds even when HiGHS itself does not stop (its presolve checks no clock)."""

import time

import pytest

from optimizer.highs import _run_until


def stuck_for(seconds: float, result="solved"):
    """Stands in for a HiGHS run stuck in presolve: it returns (or raises) only after ``seconds``."""
    def work():
        time.sleep(seconds)
        if isinstance(result, Exception):
            raise result
        return result
    return work


def test_a_run_past_the_deadline_is_abandoned_in_time():
    started = time.perf_counter()
    finished, results = _run_until(stuck_for(5.0), started + 0.3)
    assert not finished and results is None
    assert time.perf_counter() - started < 4.0  # returned long before the run would have (5 s)


def test_a_run_that_finishes_in_time_returns_its_result_and_its_error():
    assert _run_until(stuck_for(0.0), time.perf_counter() + 5.0) == (True, "solved")
    with pytest.raises(ValueError, match="bad model"):
        _run_until(stuck_for(0.0, ValueError("bad model")), time.perf_counter() + 5.0)
