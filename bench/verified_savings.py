"""Realised savings and plan adherence measured against the plant twin's ground truth (issue 22).

    python bench/verified_savings.py [--days 44] [--go-live-days 31] [--seed 2026] [--time-limit 2]
                                     [--scenario realistic|nothing-produced]

Runs the demo site's twin (``energy twin``'s :func:`energy.twin.run.what_if`): the site's own
plans until the go-live, then the product's nightly plans, executed with the twin's disturbances
(``data/demo/twin.toml``; ``nothing-produced``: every planned job is cancelled). The product
computes each planned day's realised savings and adherence from the meter data alone; only then
are they compared with the twin's truth:

- savings: the month's realised grid-cost savings (energy, CO₂, demand) against the true ones
  (target: within 5 %), per day too; on days when nothing was produced, the realised savings
  (target: 0);
- adherence: the detected runs of planned jobs against the true runs (precision and recall, a
  detection counted right when the job really ran on that machine and started within 30 minutes
  of the detected start; target ≥ 0.95 each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from energy.demo import prepare_workdir  # noqa: E402
from energy.twin.run import what_if  # noqa: E402
from energy.twin.truth import read_truth  # noqa: E402

MATCH = pd.Timedelta(minutes=30)


def adherence_scores(result, truth) -> dict:
    """Precision and recall of the detected runs of planned jobs against the true runs."""
    true_runs = truth.runs[(truth.runs["kind"] == "planned") & truth.runs["start"].notna()]
    detected_right = detected = true_found = true_total = 0
    for item in result.planned:
        if not item.realised:
            continue
        day = item.day.isoformat()
        truths = true_runs[true_runs["day"] == day]
        rows = pd.DataFrame(item.realised["jobs"])
        ran = rows[rows["status"].isin(["as_planned", "moved"])]
        for row in ran.itertuples():
            detected += 1
            same = truths[(truths["job"] == row.job) & (truths["machine"] == row.machine)]
            detected_right += bool(len(same) and (abs(same["start"] - pd.Timestamp(row.start)) <= MATCH).any())
        for run in truths.itertuples():
            true_total += 1
            found = ran[(ran["job"] == run.job) & (ran["machine"] == run.machine)]
            true_found += bool(len(found) and (abs(pd.to_datetime(found["start"], utc=True) - run.start) <= MATCH).any())
    return {
        "precision": detected_right / detected if detected else float("nan"),
        "recall": true_found / true_total if true_total else float("nan"),
        "detected": detected,
        "true_runs": true_total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=44)
    parser.add_argument("--go-live-days", type=int, default=31)
    parser.add_argument("--seed", type=int, default=None, help="the twin's seed (default: twin.toml's)")
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--scenario", choices=("realistic", "nothing-produced"), default="realistic")
    parser.add_argument("--keep", type=Path, default=None, help="keep the site, database and truth in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="verified-savings-") as temporary:
        scratch = args.keep or temporary
        now = pd.Timestamp.now(tz="UTC").floor("15min")
        site = prepare_workdir(Path(scratch) / "site", now, now.date() - dt.timedelta(days=args.days + 1))
        params = site.twin_params
        if args.seed is not None:
            params = params.model_copy(update={"seed": args.seed})
        if args.scenario == "nothing-produced":
            params = params.model_copy(update={"disturbances": params.disturbances.model_copy(update={"cancel_probability": 1.0})})
        clock = time.perf_counter()
        result, truth_dir = what_if(site.config, params, args.days, args.go_live_days, Path(scratch) / "run", args.time_limit)
        seconds = time.perf_counter() - clock
        truth = read_truth(truth_dir)
        table = result.table()
        print(f"scenario {args.scenario}, seed {params.seed}: {len(table)} planned days over, {seconds:.0f} s")
        disturbed = truth.days[truth.days["day"].isin(table["day"])]
        print("disturbances on those days: " + ", ".join(f"{name} {int(disturbed[name].sum())}" for name in ("delayed", "cancelled", "breakdowns", "extra_runs", "left_idle"))
              + f", plan ignored on {int((disturbed['executed'] != disturbed['given']).sum())} day(s)")
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
        realised, true = table["realised_eur"].sum(), table["true_eur"].sum()
        missing = int(table["realised_eur"].isna().sum())
        print(f"\nrealised {realised:,.2f} EUR, true {true:,.2f} EUR, expected {table['expected_eur'].sum():,.2f} EUR"
              + (f" ({missing} day(s) without realised savings)" if missing else ""))
        if true:
            print(f"realised vs true over the period: {100 * (realised - true) / abs(true):+.2f} % (target within ±5 %)")
        errors = (table["realised_eur"] - table["true_eur"]).abs()
        print(f"per day: mean absolute error {errors.mean():,.2f} EUR, largest {errors.max():,.2f} EUR")
        if args.scenario == "nothing-produced":
            print(f"phantom savings on days when nothing was produced: largest {table['realised_eur'].abs().max():,.4f} EUR (target 0)")
        scores = adherence_scores(result, truth)
        print(f"adherence detection: precision {scores['precision']:.3f}, recall {scores['recall']:.3f} "
              f"({scores['detected']} detected runs, {scores['true_runs']} true runs; target ≥ 0.95 each)")
        rates = [item.realised["adherence"]["rate"] for item in result.planned if item.realised]
        print(f"adherence rate per day: mean {sum(rates) / len(rates):.2f}, lowest {min(rates):.2f}" if rates else "no adherence")


if __name__ == "__main__":
    main()
