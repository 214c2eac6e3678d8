"""``energy bill``: the bill of a load series under a tariff, as JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import app
from energy.tariffs.bill import bill_load
from energy.tariffs.calendar import tariff_zone
from energy.tariffs.loading import load_tariff
from energy.tariffs.series import read_load_csv


@app.command()
def bill(
    tariff: Annotated[Path, typer.Option(help="URDB JSON or the project's TOML tariff.")],
    load: Annotated[Path, typer.Option(help="CSV: timestamp,kw or timestamp,kwh (interval starts).")],
    format: Annotated[str, typer.Option(help="Tariff format: auto (by extension), toml or urdb.")] = "auto",
    urdb_index: Annotated[int, typer.Option(help="Which item of a URDB response to use.")] = 0,
    prices: Annotated[Path | None, typer.Option(help="Dynamic price CSV (timestamp, import_per_kwh[, export_per_kwh]).")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Zone of local times when the tariff names none (URDB); default: a fixed UTC clock.")
    ] = None,
) -> None:
    """The bill for a load series, per billing period and component, as JSON."""
    chosen = load_tariff(tariff, format, urdb_index, prices, timezone)
    energy_kwh, resolution = read_load_csv(load, tariff_zone(chosen))
    print(json.dumps(bill_load(chosen, energy_kwh, resolution), indent=2, ensure_ascii=False))
