"""The schedule for the MES: ``plan_<date>.csv`` and ``plan_<date>.json`` in the export folder.

Both list each job with its machine and its start and end in the site's local time with the UTC
offset (``2024-05-02T06:00:00+02:00``). Files appear atomically: each is written to a hidden
temporary file in the same folder (``.plan_<date>.csv.<random>.tmp``), flushed to disk, and
renamed over the final name with ``os.replace``, so a reader sees the old file or the new one,
never half of one. An MES watching the folder should ignore names starting with a dot.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from energy.errors import InputError
from energy.planning.runs import slot_times

CSV_COLUMNS = ("job", "machine", "start", "end")


def schedule_rows(problem: dict, schedule: dict, tz: str) -> list[dict]:
    """The scheduled jobs in start order: job, machine, local start and end with offset."""
    start, step = slot_times(problem)
    durations = {job["id"]: job["duration_slots"] for job in problem["jobs"]}
    rows = []
    for placed in sorted(schedule["jobs"], key=lambda j: (j["start_slot"], j["machine"], j["id"])):
        begin = start + placed["start_slot"] * step
        end = begin + durations[placed["id"]] * step
        rows.append(
            {
                "job": placed["id"],
                "machine": placed["machine"],
                "start": begin.tz_convert(tz).isoformat(),
                "end": end.tz_convert(tz).isoformat(),
            }
        )
    return rows


def render_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render_json(rows: list[dict], header: dict) -> str:
    return json.dumps({**header, "jobs": rows}, indent=2, ensure_ascii=False) + "\n"


def export_paths(export_dir: Path, plan_date: str) -> dict[str, Path]:
    return {kind: export_dir / f"plan_{plan_date}.{kind}" for kind in ("csv", "json")}


@dataclass
class StagedFiles:
    """Temporary files written and synced, waiting to be renamed over their final names."""

    moves: list[tuple[Path, Path]]

    def publish(self) -> list[Path]:
        """Rename every temporary file over its final name; returns the final paths."""
        for temporary, final in self.moves:
            os.replace(temporary, final)
        return [final for _, final in self.moves]

    def discard(self) -> None:
        for temporary, _ in self.moves:
            temporary.unlink(missing_ok=True)


def stage(files: dict[Path, str]) -> StagedFiles:
    """Write each text to a temporary file beside its final path (nothing visible changes yet)."""
    staged = StagedFiles([])
    try:
        for final, text in files.items():
            final.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
            staged.moves.append((Path(name), final))
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
    except OSError as exc:
        staged.discard()
        raise InputError(f"planning.export_dir: cannot write the MES export in {final.parent}: {exc.strerror or exc}") from exc
    except BaseException:
        staged.discard()
        raise
    return staged


def stage_schedule(export_dir: Path, plan_date: str, problem: dict, schedule: dict, tz: str, header: dict) -> StagedFiles:
    """Stage the CSV and JSON exports of a schedule (publish them with ``.publish()``)."""
    rows = schedule_rows(problem, schedule, tz)
    paths = export_paths(export_dir, plan_date)
    return stage({paths["csv"]: render_csv(rows), paths["json"]: render_json(rows, header)})
