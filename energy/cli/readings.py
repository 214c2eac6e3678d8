"""``energy import readings`` and ``energy export readings``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from energy import readings, storage
from energy.cli.app import DbOption, export_app, import_app
from energy.histories.process import reopen
from energy.timeutil import parse_instant


@import_app.command("readings")
def import_readings(
    file: Annotated[Path, typer.Argument(help="CSV with columns timestamp,meter,energy_kwh,power_kw.")],
    db: DbOption = None,
) -> None:
    """Store readings from CSV; readings already stored (same meter and time) are kept once."""
    frame = readings.parse_readings_csv(file)
    engine = storage.connect(db)
    storage.require_schema(engine)
    count = readings.store_readings(engine, frame)
    print(f"{count} readings from {file} stored ({frame['meter'].nunique()} meter(s))", file=sys.stderr)
    reopened = reopen(engine, frame)  # readings older than what is processed: the next run redoes them
    if reopened:
        print(f"'energy process' will re-process the period they reach for {', '.join(reopened)}", file=sys.stderr)


@export_app.command("readings")
def export_readings(
    meter: Annotated[str, typer.Option(help="Meter id.")],
    from_: Annotated[str | None, typer.Option("--from", help="Start, inclusive (ISO 8601; UTC if no offset).")] = None,
    to: Annotated[str | None, typer.Option(help="End, exclusive (ISO 8601; UTC if no offset).")] = None,
    db: DbOption = None,
) -> None:
    """CSV to stdout: timestamp,meter,energy_kwh,power_kw with ISO 8601 UTC timestamps."""
    start = parse_instant(from_, what="--from") if from_ else None
    end = parse_instant(to, what="--to") if to else None
    engine = storage.connect(db)
    storage.require_schema(engine)
    frame = readings.load_readings(engine, meter, start, end)
    readings.write_readings_csv(frame, sys.stdout)
