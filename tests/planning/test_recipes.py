"""Recipe power profiles learned from past plans and the machines' measured intervals."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from energy.errors import InputError
from energy.planning import recipes, runs
from energy.planning.jobs import Job
from tests.planning import seed

NEXT_DAY_MS = pd.Timestamp("2024-05-02T22:00Z").value // 10**6


def past_run(engine, start_slot, recipe="temper"):
    record = seed.toy_record(start_slot=start_slot)
    record = dataclasses.replace(record, inputs={"jobs": [{"job": "j1", "recipe": recipe}]})
    with engine.begin() as conn:
        return runs.store_run(conn, record)


def test_profile_is_the_median_of_past_runs_minus_idle(engine, tmp_path):
    config = seed.load_site(tmp_path, machines=1)  # m1 idles at 5 kW
    seed.seed_day(engine, config)
    slots = pd.date_range("2024-05-01T22:00Z", periods=4, freq="15min")
    seed.store_measured(engine, slots, "machine", "m1", np.array([105.0, 65.0, 85.0, 0.0]))
    past_run(engine, start_slot=2)  # history: ran in slot 2 (85 kW measured)
    past_run(engine, start_slot=0)  # the current plan of that day: slot 0 (105 kW)
    job = Job(id="t", machines=("m1",), duration_min=15, where="jobs.csv: line 2 (job t)", recipe="temper")
    assert recipes.learn_profile_kw(engine, config, "test-works", job, 1, 15, NEXT_DAY_MS) == [100.0]


def test_no_history_asks_for_power(engine, tmp_path):
    config = seed.load_site(tmp_path, machines=1)
    seed.seed_day(engine, config)
    past_run(engine, start_slot=0, recipe="anneal")  # another recipe; and no readings at all
    job = Job(id="t", machines=("m1",), duration_min=15, where="jobs.csv: line 2 (job t)", recipe="temper")
    with pytest.raises(InputError, match=r"jobs.csv: line 2 \(job t\): field recipe: no past run of recipe 'temper' lasting 1 slot\(s\) on m1 .* give power_kw"):
        recipes.learn_profile_kw(engine, config, "test-works", job, 1, 15, NEXT_DAY_MS)
    job = dataclasses.replace(job, recipe="anneal")
    with pytest.raises(InputError, match="recipe 'anneal'"):  # known run, but no readings
        recipes.learn_profile_kw(engine, config, "test-works", job, 1, 15, NEXT_DAY_MS)
