"""``energy optimize``: the solver-level interface (contract: schedule-problem.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import app, not_available


@app.command()
def optimize(
    problem: Annotated[Path, typer.Argument(help="Problem JSON.")],
    out: Annotated[Path, typer.Option(help="Where to write the schedule JSON.")],
    time_limit: Annotated[float | None, typer.Option(help="Wall-clock limit in seconds.")] = None,
    gap: Annotated[float | None, typer.Option(help="Relative optimality gap to stop at.")] = None,
) -> None:
    """Find the cheapest feasible schedule for a problem file."""
    not_available("optimize", "optimiser")
