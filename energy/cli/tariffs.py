"""``energy bill``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import app, not_available


@app.command()
def bill(
    tariff: Annotated[Path, typer.Option(help="URDB JSON or the project's TOML tariff.")],
    load: Annotated[Path, typer.Option(help="CSV: timestamp,kw or timestamp,kwh.")],
) -> None:
    """The bill for a load series, per billing period and component, as JSON."""
    not_available("bill", "tariffs")
