"""``energy plan``: the nightly job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import ConfigOption, DbOption, app, not_available


@app.command()
def plan(
    config: ConfigOption,
    date: Annotated[str | None, typer.Option(help="Day to plan (default: tomorrow, site time).")] = None,
    jobs: Annotated[Path | None, typer.Option(help="Jobs CSV or JSON from the MES/ERP.")] = None,
    replay: Annotated[int | None, typer.Option(help="Re-solve stored run RUN.")] = None,
    db: DbOption = None,
) -> None:
    """Plan tomorrow: forecast, build and solve the problem, store the run, export for the MES."""
    not_available("plan", "nightly job")
