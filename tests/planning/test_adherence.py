"""Plan adherence: producing spans from measured states, and planned jobs matched to them."""

from __future__ import annotations

import pandas as pd

from energy.planning.adherence import AS_PLANNED, MOVED, NOT_RUN, PlannedJob, Span, match_day, match_plans, producing_spans

DAY = pd.Timestamp("2026-12-01", tz="UTC")


def at(hours: float) -> pd.Timestamp:
    return DAY + pd.Timedelta(hours=hours)


def minutes(n: float) -> pd.Timedelta:
    return pd.Timedelta(minutes=n)


MELT_A = PlannedJob("A", "f1", at(6), minutes(120), ("f1", "f2"))
MELT_B = PlannedJob("B", "f1", at(8.25), minutes(90), ("f1", "f2"))
MELT_C = PlannedJob("C", "f1", at(10), minutes(150), ("f1",))


def test_spans_are_placed_to_the_minute_from_partly_producing_intervals():
    index = pd.date_range(at(6), periods=16, freq="15min")
    producing = pd.Series([0, 7, 15, 15, 15, 8, 0, 0, 15, 15, 3, 0, 0, 5, 0, 15], index=index)
    spans = producing_spans("f1", producing, minutes(15))
    # 06:15 holds 7 producing minutes at its end; 07:15 holds 8 at its start. The 5 minutes at
    # 09:15 are too short to be a run; production still going at the end closes the span there.
    assert spans == [Span("f1", at(6) + minutes(23), at(7) + minutes(23)), Span("f1", at(8), at(8) + minutes(33)), Span("f1", at(9.75), at(10))]


def test_jobs_run_back_to_back_after_a_delay_are_split_by_their_planned_lengths():
    # A started 20 minutes late, B waited for it and followed at once: one span of 210 minutes.
    spans = [Span("f1", at(6) + minutes(20), at(6) + minutes(230)), Span("f1", at(10), at(12.5))]
    day = match_day([MELT_A, MELT_B, MELT_C], spans)
    starts = {o.job.id: (o.status, o.start) for o in day.jobs}
    assert starts == {"A": (AS_PLANNED, at(6) + minutes(20)), "B": (AS_PLANNED, at(8) + minutes(20)), "C": (AS_PLANNED, at(10))}
    assert day.rate == 1.0 and not day.unplanned


def test_a_cancelled_job_is_not_run_and_does_not_take_the_next_jobs_run():
    day = match_day([MELT_A, MELT_B], [Span("f1", at(8.25), at(9.75))])
    assert [(o.job.id, o.status) for o in day.jobs] == [("A", NOT_RUN), ("B", AS_PLANNED)]
    assert day.rate == 0.5 and day.counts() == {AS_PLANNED: 1, MOVED: 0, NOT_RUN: 1, "unplanned": 0}


def test_late_jobs_are_moved_and_production_nobody_planned_is_unplanned():
    spans = [Span("f1", at(7.5), at(9.5)), Span("f1", at(16), at(17))]
    day = match_day([MELT_A], spans)
    assert day.jobs[0].status == MOVED and day.jobs[0].shift_min == 90
    assert day.unplanned == (Span("f1", at(16), at(17)),)


def test_a_job_run_on_another_eligible_machine_is_found_there():
    day = match_day([MELT_A], [Span("f2", at(6), at(8))])
    assert day.jobs[0].status == MOVED and day.jobs[0].machine == "f2" and not day.unplanned


def test_a_day_without_production_runs_nothing():
    day = match_day([MELT_A, MELT_B, MELT_C], [])
    assert {o.status for o in day.jobs} == {NOT_RUN} and day.rate == 0.0
    assert match_day([], []).rate == 1.0


def test_a_day_run_by_the_site_plan_is_recognised_as_such():
    # The optimiser moved the melts to the night on the other furnace; the operators ran the
    # site's usual day instead (06:00 and 08:15 on f2), a little late.
    given = [PlannedJob("A", "f1", at(0), minutes(120), ("f1", "f2")), PlannedJob("B", "f1", at(2), minutes(90), ("f1", "f2"))]
    usual = [PlannedJob("A", "f2", at(6), minutes(120), ("f1", "f2")), PlannedJob("B", "f2", at(8.25), minutes(90), ("f1", "f2"))]
    spans = [Span("f2", at(6) + minutes(10), at(8) + minutes(10)), Span("f2", at(8.25), at(9.75))]
    assert NOT_RUN in {o.status for o in match_day(given, spans).jobs}  # against the given plan alone, B is lost
    day = match_plans(given, usual, spans)
    assert [(o.job.id, o.status, o.machine, o.start) for o in day.jobs] == [("A", MOVED, "f2", at(6) + minutes(10)), ("B", MOVED, "f2", at(8.25))]
    assert day.rate == 0.0 and not day.unplanned
    # a day that followed the plan keeps the plan's explanation
    followed = [Span("f1", at(0), at(2)), Span("f1", at(2), at(3.5))]
    assert {o.status for o in match_plans(given, usual, followed).jobs} == {AS_PLANNED}
