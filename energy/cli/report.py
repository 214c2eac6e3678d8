"""``energy report``: sustainability exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import ConfigOption, DbOption, app, not_available


@app.command()
def report(
    config: ConfigOption,
    from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    to: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")],
    format: Annotated[str, typer.Option(help="csv, xlsx or pdf.")],
    out: Annotated[Path, typer.Option(help="Output file (csv: a folder).")],
    db: DbOption = None,
) -> None:
    """The sustainability report for a period."""
    not_available("report", "reports")
