"""``energy report``: sustainability exports (see docs/reports.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import ConfigOption, DbOption, app


@app.command()
def report(
    config: ConfigOption,
    from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, local).")],
    to: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD, local).")],
    format: Annotated[str, typer.Option(help="csv, xlsx or pdf.")],
    out: Annotated[Path, typer.Option(help="Output file (csv: a folder, or a .zip).")],
    production: Annotated[
        Path | None, typer.Option(help="Production CSV: date,machine,product,units[,unit] (for intensity and EnPI; default: [enpi] production_file).")
    ] = None,
    machine: Annotated[list[str] | None, typer.Option(help="Report only this machine (repeatable).")] = None,
    baseline_from: Annotated[str | None, typer.Option(help="EnPI baseline first day (default: [enpi] baseline_from, else 365 days before --from).")] = None,
    baseline_to: Annotated[str | None, typer.Option(help="EnPI baseline last day (default: [enpi] baseline_to, else the day before --from).")] = None,
    db: DbOption = None,
) -> None:
    """The sustainability report for a period."""
    from energy import storage
    from energy.config import load_config
    from energy.errors import InputError
    from energy.reports import write_report

    site = load_config(config)
    if (baseline_from is None) != (baseline_to is None):
        raise InputError("--baseline-from and --baseline-to go together")
    baseline = (baseline_from, baseline_to) if baseline_from else None
    engine = storage.connect(db)
    try:
        path = write_report(engine, site, from_, to, format, out, production=production, machines=machine or None, baseline=baseline)
    finally:
        engine.dispose()
    print(f"report written: {path}")
