"""``energy simulate``, ``energy collect`` and ``energy meters``."""

from __future__ import annotations

from typing import Annotated

import typer

from energy.cli.app import ConfigOption, DbOption, app, not_available


@app.command()
def simulate(
    config: ConfigOption,
    duration: Annotated[float | None, typer.Option(help="Stop after S seconds.")] = None,
) -> None:
    """Serve the config's meters as Modbus TCP devices with realistic load."""
    not_available("simulate", "metering")


@app.command()
def collect(
    config: ConfigOption,
    db: DbOption = None,
    duration: Annotated[float | None, typer.Option(help="Stop after S seconds.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every meter once and stop.")] = False,
) -> None:
    """Poll the config's meters and store their readings."""
    not_available("collect", "metering")
