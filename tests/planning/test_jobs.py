"""The MES/ERP jobs file: CSV and JSON, local times, and one-line errors naming file, line, field."""

import datetime as dt
import json

import pandas as pd
import pytest

from energy.errors import InputError
from energy.planning.jobs import read_jobs

DAY = dt.date(2024, 5, 2)
TZ = "Europe/Berlin"
HEADER = "job,machines,duration_min,power_kw,recipe,earliest_start,deadline,after,planned_start,planned_machine\n"


def write(tmp_path, body, name="jobs.csv"):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_csv_with_local_times_separators_and_precedence(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "melt1,furnace1;furnace2,90,210.5,,04:00,24:00,,06:00,furnace1\n"
        + "heat1, oven ,120,,temper,2024-05-02T10:00:00+02:00,2024-05-02T23:00,melt1,,\n"
        + "\n"
        + "blast1,blaster|oven,45,40,,,,melt1;heat1,2024-05-02 14:00,blaster\n",
    )
    melt, heat, blast = read_jobs(path, DAY, TZ)
    assert melt.machines == ("furnace1", "furnace2") and melt.power_kw == 210.5 and melt.recipe is None
    assert melt.earliest_start == pd.Timestamp("2024-05-02T02:00Z")  # 04:00 CEST
    assert melt.deadline == pd.Timestamp("2024-05-02T22:00Z")  # 24:00 = next local midnight
    assert melt.planned_start == pd.Timestamp("2024-05-02T04:00Z") and melt.planned_machine == "furnace1"
    assert heat.machines == ("oven",) and heat.power_kw is None and heat.recipe == "temper"
    assert heat.earliest_start == pd.Timestamp("2024-05-02T08:00Z")
    assert heat.deadline == pd.Timestamp("2024-05-02T21:00Z")  # no offset: site time
    assert heat.planned_start is None
    assert blast.machines == ("blaster", "oven") and blast.after == ("melt1", "heat1")
    assert blast.earliest_start is None and blast.deadline is None
    assert blast.where.endswith("line 5 (job blast1)")


def test_json_list_or_object_with_power_profile(tmp_path):
    jobs = [
        {"job": "a", "machines": ["m1", "m2"], "duration_min": 30, "power_kw": [10, 20], "deadline": "12:00"},
        {"job": "b", "machines": ["m1"], "duration_min": 15, "power_kw": 5, "after": ["a"], "planned_start": "06:00", "planned_machine": "m1"},
    ]
    for body in (jobs, {"jobs": jobs}):
        a, b = read_jobs(write(tmp_path, json.dumps(body), "jobs.json"), DAY, TZ)
        assert a.power_kw == (10.0, 20.0) and a.deadline == pd.Timestamp("2024-05-02T10:00Z")
        assert b.after == ("a",) and b.planned_machine == "m1"
        assert a.to_json(TZ)["deadline"] == "2024-05-02T12:00:00+02:00"


def test_clock_times_follow_the_wall_clock_on_dst_days(tmp_path):
    path = write(tmp_path, HEADER + "j,m1,60,10,,01:00,06:00,,,\n")
    (job,) = read_jobs(path, dt.date(2024, 3, 31), TZ)  # clocks jump 02:00 → 03:00 CET → CEST
    assert job.earliest_start == pd.Timestamp("2024-03-31T00:00Z")
    assert job.deadline == pd.Timestamp("2024-03-31T04:00Z")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "file is empty"),
        ("job,machines,power_kw\n", "line 1: missing column(s) duration_min"),
        ("job,machines,duration_min,power_kw,colour\n", "line 1: unknown column(s) colour"),
        (HEADER, "no jobs in the file"),
        (HEADER + "a,m1,60,,,,,,,\n", "line 2 (job a): fields power_kw, recipe: give exactly one of them"),
        (HEADER + "a,m1,60,10,r1,,,,,\n", "line 2 (job a): fields power_kw, recipe: give exactly one of them"),
        (HEADER + "a,m1,sixty,10,,,,,,\n", "line 2 (job a): field duration_min: 'sixty' is not a number"),
        (HEADER + "a,m1,0,10,,,,,,\n", "field duration_min: must be > 0"),
        (HEADER + "a,m1,60,-3,,,,,,\n", "field power_kw: must be ≥ 0"),
        (HEADER + "a b,m1,60,10,,,,,,\n", "line 2: field job: 'a b' is not a valid id"),
        (HEADER + "a,,60,10,,,,,,\n", "line 2: field machines: required"),
        (HEADER + "a,m1,60,10,,25:00,,,,\n", "field earliest_start: '25:00' is not a time of day"),
        (HEADER + "a,m1,60,10,,tomorrow,,,,\n", "field earliest_start: 'tomorrow' is not an ISO 8601 date or time"),
        (HEADER + "a,m1,60,10,,10:00,10:30,,,\n", "window 10:00–10:30 is shorter than duration_min 60"),
        (HEADER + "a,m1,60,10,,,,,06:00,\n", "fields planned_start, planned_machine: give both or neither"),
        (HEADER + "a,m1,60,10,,,,,06:00,m2\n", "field planned_machine: 'm2' is not one of its machines"),
        (HEADER + "a,m1,60,10,,,,,,\na,m1,30,10,,,,,,\n", "line 3 (job a): field job: duplicate id"),
        (HEADER + "a,m1,60,10,,,,zz,,\n", "line 2 (job a): field after: unknown job 'zz'"),
        (HEADER + "a,m1,60,10,,,,c,,\nb,m1,60,10,,,,a,,\nc,m1,60,10,,,,b,,\n", "precedence cycle"),
        (HEADER + "a,m1,60,10,,,,,,,extra\n", "line 2: more values than columns"),
    ],
)
def test_bad_csv_names_file_line_and_field(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(InputError) as caught:
        read_jobs(path, DAY, TZ)
    text = str(caught.value)
    assert str(path) in text and message in text and "\n" not in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{", "not valid JSON"),
        ('{"items": []}', "expected a list of jobs"),
        ('[{"job": "a", "machines": ["m1"], "duration_min": 60, "power_kw": 1, "speed": 3}]', "jobs[0]: unknown field(s) speed"),
        ('[{"job": "a", "machines": ["m1"], "duration_min": true, "power_kw": 1}]', "jobs[0] (job a): field duration_min: True is not a finite number"),
        ('[{"job": "a", "machines": [], "duration_min": 60, "power_kw": 1}]', "field machines: at least one eligible machine"),
    ],
)
def test_bad_json_names_item_and_field(tmp_path, body, message):
    path = write(tmp_path, body, "jobs.json")
    with pytest.raises(InputError, match=None) as caught:
        read_jobs(path, DAY, TZ)
    assert message in str(caught.value)


def test_missing_file_and_nonexistent_local_time(tmp_path):
    with pytest.raises(InputError, match="jobs file not found"):
        read_jobs(tmp_path / "nope.csv", DAY, TZ)
    path = write(tmp_path, HEADER + "a,m1,60,10,,02:30,,,,\n")
    with pytest.raises(InputError, match="'02:30' does not exist or is ambiguous on 2024-03-31"):
        read_jobs(path, dt.date(2024, 3, 31), TZ)


def test_demo_jobs_file_is_valid():
    jobs = read_jobs("data/demo/jobs.csv", DAY, TZ)
    assert len(jobs) >= 12
    assert all(job.planned_start is not None for job in jobs)
    assert {m for job in jobs for m in job.machines} == {"furnace1", "furnace2", "oven", "blaster"}
    assert sum(1 for job in jobs if job.after) >= 4
