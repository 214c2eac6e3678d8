"""Day-ahead accuracy on the shared steel-plant series (issue 5 evidence).

For each local midnight of the last 8 weeks of 2018 (Asia/Seoul), a forecast of the next 96
intervals is issued from all data before it: the model chosen by the rolling-origin backtest
(``forecast_series``), and every candidate fitted on the same data. Each is scored on the day's
actuals as MASE against the daily seasonal-naive scale of its training data. Prints a table and
the selected model's MASE ratio to the weekly seasonal naive (target ≤ 0.85).

    python bench/forecast_steel.py [--days 56] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import pandas as pd

from energy.forecasts.backtest import forecast_errors
from energy.forecasts.baselines import naive_scale
from energy.forecasts.calendar import ForecastCalendar
from energy.forecasts.parallel import map_in_processes
from energy.forecasts.selection import CANDIDATES, forecast_series
from energy.forecasts.series import power_kw_from_intervals
from energy.histories import read_steel_csv

from _common import STEEL_CSV  # bench/, beside this script

CALENDAR = ForecastCalendar(timezone="Asia/Seoul", country="KR")
FIT_DAYS = 56


def evaluate_day(task: tuple[pd.Series, pd.Series]) -> dict:
    history, actual = task
    scale = naive_scale(history, CALENDAR)
    selected = forecast_series(history, len(actual), "15min", CALENDAR, fit_days=FIT_DAYS)
    row = {"day": actual.index[0].tz_convert(CALENDAR.timezone).date().isoformat(), "chosen": selected.model}
    row["selected"] = forecast_errors(actual, selected.forecast["power_kw"], scale)["mase"]
    inside80 = (actual >= selected.forecast["lo80_kw"]) & (actual <= selected.forecast["hi80_kw"])
    inside95 = (actual >= selected.forecast["lo95_kw"]) & (actual <= selected.forecast["hi95_kw"])
    row["cover80"], row["cover95"] = float(inside80.mean()), float(inside95.mean())
    recent = history.iloc[-FIT_DAYS * 96:]
    for name, (model, _days) in CANDIDATES.items():
        row[name] = forecast_errors(actual, model(recent, actual.index, CALENDAR), scale)["mase"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=56)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    power = power_kw_from_intervals(read_steel_csv(STEEL_CSV), "15min")
    last = power.index[-1].tz_convert(CALENDAR.timezone).normalize() + pd.Timedelta(days=1)
    days = pd.date_range(end=last - pd.Timedelta(days=1), periods=args.days, freq="D")
    tasks = []
    for day in days:
        origin = day.tz_convert("UTC")
        tasks.append((power[power.index < origin], power[(power.index >= origin) & (power.index < origin + pd.Timedelta(days=1))]))
    started = time.perf_counter()
    rows = pd.DataFrame(map_in_processes(evaluate_day, tasks, args.workers))
    seconds = time.perf_counter() - started
    models = ["selected", *CANDIDATES]
    mean = rows[models].mean()
    print(f"steel plant, {len(rows)} day-ahead forecasts {rows['day'].iloc[0]} … {rows['day'].iloc[-1]}, "
          f"{seconds:.0f} s with {args.workers} workers")
    print("mean MASE (daily seasonal-naive scale) and ratio to weekly seasonal naive:")
    for name in models:
        print(f"  {name:<13} {mean[name]:.3f}  {mean[name] / mean['naive_week']:.3f}")
    print("models chosen:", json.dumps(rows["chosen"].value_counts().to_dict()))
    print(f"interval coverage: 80 % → {rows['cover80'].mean():.1%}, 95 % → {rows['cover95'].mean():.1%}")
    ratio = mean["selected"] / mean["naive_week"]
    print(f"selected / weekly naive = {ratio:.3f} (target ≤ 0.85: {'met' if ratio <= 0.85 else 'NOT met'})")
    sys.exit(0)


if __name__ == "__main__":
    main()
