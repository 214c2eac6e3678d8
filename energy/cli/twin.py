"""``energy twin``: what if the site followed the product's plans? (docs/twin.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import ConfigOption, app
from energy.config import load_config


@app.command()
def twin(
    config: ConfigOption,
    twin_file: Annotated[Path, typer.Option("--twin", help="The plant twin's TOML file (docs/twin.md).")],
    days: Annotated[int, typer.Option("--days", min=2, help="Days simulated, ending yesterday.")] = 84,
    go_live_days: Annotated[int, typer.Option("--go-live-days", min=1, help="The last N of them are planned by the product.")] = 28,
    workdir: Annotated[Path, typer.Option("--dir", help="Folder for the scratch database, jobs, plans and the truth.")] = Path("twin-run"),
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.5, help="Solver wall-clock limit per night, seconds.")] = 5.0,
) -> None:
    """Run the site's plant twin: its own plans, then the product's; print savings against the truth."""
    from energy.twin.params import load_twin_params
    from energy.twin.run import what_if

    site = load_config(config)
    params = load_twin_params(twin_file, site)
    result, truth_dir = what_if(site, params, days, go_live_days, workdir, time_limit, lambda text: print(text, file=sys.stderr, flush=True))
    table = result.table()
    print(table.to_string(index=False, float_format=lambda value: f"{value:,.2f}"))
    followed = table[table["executed"] == "optimised"]
    print(
        f"\n{len(table)} planned days ({len(followed)} followed by the plant): grid cost savings (energy, CO2, demand) "
        f"expected {table['expected_eur'].sum():,.2f}, realised by the product from meter data {table['realised_eur'].sum():,.2f}, "
        f"true {table['true_eur'].sum():,.2f} EUR"
    )
    print(f"database: {workdir.resolve() / 'energy.db'} (open it with 'energy ui --db sqlite:///…'); the twin's truth: {truth_dir}")
