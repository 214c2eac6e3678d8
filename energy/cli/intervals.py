"""``energy import intervals`` and ``energy export intervals``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import DbOption, export_app, import_app, not_available


@import_app.command("intervals")
def import_intervals(file: Annotated[Path, typer.Argument(help="CSV of interval data.")], db: DbOption = None) -> None:
    """Store interval energy from a utility or other system's CSV."""
    not_available("import intervals", "histories")


@export_app.command("intervals")
def export_intervals(
    machine: Annotated[str, typer.Option(help="Machine id.")],
    freq: Annotated[str, typer.Option(help="Resolution, e.g. 15min, 1h, 1D.")] = "15min",
    from_: Annotated[str | None, typer.Option("--from", help="Start (ISO 8601).")] = None,
    to: Annotated[str | None, typer.Option(help="End, exclusive (ISO 8601).")] = None,
    db: DbOption = None,
) -> None:
    """CSV to stdout: interval_start,energy_kwh,quality."""
    not_available("export intervals", "histories")
