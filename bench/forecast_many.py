"""Day-ahead forecasts for many series at once (issue 5 evidence: 200 series × 60 days ≤ 3 min).

The series are 61-day windows of the shared steel-plant year at staggered starts, each scaled
and given its own noise so no two are alike: 60 days of history, the 61st day to forecast.
Three runs through the same worker pool the nightly job uses (``energy.forecasts.dayahead``):

- *selection night*: rolling-origin backtest of every candidate (7 origins) and the forecast,
  for every series (the first night);
- *staggered night*: what ``fresh_selection`` makes of an ordinary night: one series in 7
  re-selected, the others reuse their stored selection;
- *reuse night*: every stored selection reused, only the chosen model refitted.

Prints wall time, the workers' CPU time (wall on an idle machine ≈ CPU / workers), the models
chosen and the mean MASE on the forecast day. The machine is shared: compare the load average
printed at the end.

    python bench/forecast_many.py [--series 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from energy.forecasts.backtest import forecast_errors
from energy.forecasts.baselines import naive_scale
from energy.forecasts.calendar import ForecastCalendar
from energy.forecasts.dayahead import LoadTask, run_load_task
from energy.forecasts.parallel import map_in_processes
from energy.forecasts.selection import CANDIDATES
from energy.forecasts.series import power_kw_from_intervals
from energy.histories import read_steel_csv

from _common import STEEL_CSV  # bench/, beside this script

CALENDAR = ForecastCalendar(timezone="Asia/Seoul", country="KR")
DAY = 96
HISTORY_DAYS = 60


def windows(count: int) -> list[tuple[pd.Series, pd.Series]]:
    power = power_kw_from_intervals(read_steel_csv(STEEL_CSV), "15min")
    rng = np.random.default_rng(0)
    span = (HISTORY_DAYS + 1) * DAY
    starts = np.linspace(0, len(power) - span, count).astype(int) // DAY * DAY
    result = []
    for start in starts:
        window = power.iloc[start : start + span]
        window = window * rng.uniform(0.2, 3.0) + rng.normal(0, 2.0, len(window))
        result.append((window.iloc[:-DAY], window.iloc[-DAY:]))
    return result


def tasks(pairs, reuse: list[dict | None]) -> list[LoadTask]:
    end = lambda actual: actual.index[-1] + pd.Timedelta("15min")  # noqa: E731
    return [
        LoadTask("machine", f"s{i}", history, end(actual), pd.Timedelta("15min"), CALENDAR, 7, 56, previous, tuple(CANDIDATES))
        for i, ((history, actual), previous) in enumerate(zip(pairs, reuse))
    ]


def timed_task(task: LoadTask):
    started = time.process_time()
    result = run_load_task(task)
    return result, time.process_time() - started


def run(label: str, pairs, reuse, workers: int) -> list:
    started = time.perf_counter()
    timed = map_in_processes(timed_task, tasks(pairs, reuse), workers)
    seconds = time.perf_counter() - started
    results = [result for result, _ in timed]
    cpu = sum(spent for _, spent in timed)
    failures = [r for r in results if isinstance(r, str)]
    mase = [
        forecast_errors(actual, r.forecast["power_kw"], naive_scale(history, CALENDAR))["mase"]
        for (history, actual), r in zip(pairs, results) if not isinstance(r, str)
    ]
    chosen = pd.Series([r.model for r in results if not isinstance(r, str)]).value_counts().to_dict()
    print(f"{label:<16} {len(pairs)} series: {seconds:6.1f} s wall, {cpu:6.1f} s CPU in workers "
          f"({cpu / len(pairs):.2f} s/series; idle-machine estimate {cpu / workers:.0f} s), {len(failures)} failed, "
          f"mean MASE on the day {np.mean(mase):.3f}, chosen {chosen}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    pairs = windows(args.series)
    print(f"{args.series} series × {HISTORY_DAYS} days of 15-min history, day-ahead, {args.workers} worker processes")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    selected = run("selection night", pairs, [None] * len(pairs), args.workers)
    stored = [r.backtest for r in selected]
    run("staggered night", pairs, [None if i % 7 == 0 else b for i, b in enumerate(stored)], args.workers)
    run("reuse night", pairs, stored, args.workers)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
