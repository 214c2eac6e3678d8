"""``energy init`` and ``energy demo``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from energy import storage
from energy.cli.app import ConfigOption, DbOption, app
from energy.config import load_config
from energy.setup import initialise


@app.command()
def init(config: ConfigOption, db: DbOption = None) -> None:
    """Create or upgrade the schema and load the site, meters, machines, tariff and factors."""
    site = load_config(config)
    engine = storage.connect(db)
    storage.upgrade(engine)
    summary = initialise(engine, site)
    print(summary, file=sys.stderr)


@app.command()
def demo(
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Do not start the dashboard at the end.")] = False,
    workdir: Annotated[Path, typer.Option("--dir", help="Folder for the demo database and files.")] = Path("energy-demo"),
    live_seconds: Annotated[float, typer.Option("--live-seconds", min=0, help="How long to collect from the simulated meters.")] = 15.0,
    time_limit: Annotated[float, typer.Option("--time-limit", min=1, help="Solver wall-clock limit per plan, seconds.")] = 60.0,
    db: DbOption = None,
) -> None:
    """Build a demo plant from the shipped data and run the whole chain."""
    from energy.demo import run_demo

    run_demo(workdir=workdir, db_url=db, start_ui=not no_ui, live_seconds=live_seconds, time_limit_s=time_limit)
