"""The MES export: local times with offsets, atomic files, and all-or-nothing with the stored run."""

import json
import os

import pytest

from energy.errors import InputError
from energy.planning import export, nightly, runs
from energy.storage import schema
from tests.planning import seed


def test_rows_are_in_local_time_with_offset():
    rows = export.schedule_rows(seed.toy_problem(), seed.toy_schedule(start_slot=2), "Europe/Berlin")
    assert rows == [{"job": "j1", "machine": "m1", "start": "2024-05-02T00:30:00+02:00", "end": "2024-05-02T00:45:00+02:00"}]
    assert export.render_csv(rows) == "job,machine,start,end\nj1,m1,2024-05-02T00:30:00+02:00,2024-05-02T00:45:00+02:00\n"
    assert json.loads(export.render_json(rows, {"run_id": 3}))["jobs"] == rows


def test_staged_files_appear_only_when_published(tmp_path):
    final = tmp_path / "plans" / "plan.csv"
    final.parent.mkdir()
    final.write_text("old plan\n")
    staged = export.stage({final: "new plan\n"})
    assert final.read_text() == "old plan\n"  # readers still see the whole old file
    assert len(list(final.parent.glob(".plan.csv.*.tmp"))) == 1
    assert staged.publish() == [final]
    assert final.read_text() == "new plan\n" and os.listdir(final.parent) == ["plan.csv"]


def test_a_failed_stage_leaves_no_file(tmp_path):
    blocker = tmp_path / "plans"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(InputError, match="planning.export_dir: cannot write the MES export"):
        export.stage({blocker / "plan.csv": "x", blocker / "plan.json": "y"})
    assert os.listdir(tmp_path) == ["plans"]


def test_store_and_export_writes_both_or_neither(engine, tmp_path, monkeypatch):
    config = seed.load_site(tmp_path, machines=1)
    summary = nightly.store_and_export(engine, config, seed.toy_record(start_slot=2))
    plans = tmp_path / "plans"
    assert summary.succeeded and sorted(p.name for p in summary.exported) == ["plan_2024-05-02.csv", "plan_2024-05-02.json"]
    document = json.loads((plans / "plan_2024-05-02.json").read_text())
    assert document["run_id"] == summary.run_id and document["status"] == "optimal" and document["timezone"] == "Europe/Berlin"
    before = {p.name: p.read_text() for p in plans.iterdir()}

    # A crash while staging the second file: no half export, no half-stored run.
    real_fsync = os.fsync
    calls = []

    def crash_on_second_file(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt  # e.g. the operator or systemd stops the job
        real_fsync(fd)

    monkeypatch.setattr(export.os, "fsync", crash_on_second_file)
    with pytest.raises(KeyboardInterrupt):
        nightly.store_and_export(engine, config, seed.toy_record(start_slot=0))
    monkeypatch.undo()
    assert {p.name: p.read_text() for p in plans.iterdir()} == before  # no temp file left either
    assert seed.count(engine, schema.plan_runs) == 1
    assert runs.current_run_id(engine, "test-works", "2024-05-02") == summary.run_id


def test_an_infeasible_run_exports_nothing(engine, tmp_path):
    config = seed.load_site(tmp_path, machines=1)
    summary = nightly.store_and_export(engine, config, seed.toy_record(status="infeasible"))
    assert not summary.succeeded and summary.exported == [] and not (tmp_path / "plans").exists()
    assert "job j1 cannot fit" in summary.describe() and "nothing exported" in summary.describe()
    assert runs.load_run(engine, summary.run_id).status == "infeasible"
