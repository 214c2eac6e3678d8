"""``energy optimize``: the solver-level interface (contract: schedule-problem.md).

Exit status: 0 optimal or feasible; 2 infeasible (the explanation is printed and written);
1 bad input (a message naming the file, field and job or machine); 5 the solver stopped without a
schedule and without proving infeasibility (status ``error``), as for ``energy plan``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import EXIT_INFEASIBLE, app
from energy.errors import InputError

EXIT_SOLVER_FAILED = 5


def write_json_atomically(path: Path, document: dict) -> None:
    """Write ``document`` to ``path`` via a temporary file and rename: never a half-written schedule."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@app.command()
def optimize(
    problem: Annotated[Path, typer.Argument(help="Problem JSON.")],
    out: Annotated[Path, typer.Option(help="Where to write the schedule JSON.")],
    time_limit: Annotated[float, typer.Option(help="Wall-clock limit in seconds.")] = 60.0,
    gap: Annotated[float, typer.Option(help="Relative optimality gap to stop at.")] = 0.0,
) -> int:
    """Find the cheapest feasible schedule for a problem file."""
    from optimizer import load_problem, solve

    if time_limit <= 0:
        raise InputError(f"--time-limit must be > 0 seconds, got {time_limit:g}")
    if gap < 0:
        raise InputError(f"--gap must be ≥ 0, got {gap:g}")
    schedule = solve(load_problem(problem), time_limit_s=time_limit, gap=gap)
    write_json_atomically(out, schedule)
    status = schedule["status"]
    if status in ("optimal", "feasible"):
        text = f"{status}: cost {schedule['objective_eur']:.2f} EUR"
        if schedule.get("gap") is not None:
            text += f", gap {schedule['gap']:.2%}"
        if "savings" in schedule:
            text += f", saves {schedule['savings']['total_eur']:.2f} EUR against the planned baseline"
        print(f"{text} ({schedule['solve_seconds']:.1f} s); schedule written to {out}")
        return 0
    print(f"energy: {status}: " + "; ".join(schedule.get("explanation") or []), file=sys.stderr)
    return EXIT_INFEASIBLE if status == "infeasible" else EXIT_SOLVER_FAILED
