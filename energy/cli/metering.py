"""``energy simulate``, ``energy collect`` and ``energy meters`` (docs/metering.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from energy import storage
from energy.cli.app import ConfigOption, DbOption, OptionalConfigOption, app
from energy.config import load_config
from energy.errors import InputError
from energy.timeutil import now_ms

FaultOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fault",
        help="METER:KIND[=ARG][@START[-END]], KIND no_response, exception[=CODE], drop_connection, "
        "counter_reset or sentinel[=Q1+Q2]; START/END in seconds after the start. Repeatable.",
    ),
]


@app.command()
def simulate(
    config: ConfigOption,
    duration: Annotated[float | None, typer.Option(help="Stop after S seconds [default: until Ctrl-C].")] = None,
    fault: FaultOption = None,
    twin: Annotated[
        Path | None,
        typer.Option(help="Serve the plant twin's meters (a twin file, docs/twin.md) instead of the steel-shaped load."),
    ] = None,
) -> None:
    """Serve the config's meters as Modbus TCP devices with realistic load."""
    from energy.metering import simulate as simulation

    site = load_config(config)
    faults = [simulation.parse_fault(text) for text in fault or []]
    loads = None
    if twin is not None:
        import pandas as pd

        from energy.twin.live import twin_loads  # only here: estimators never import the twin
        from energy.twin.params import load_twin_params

        params = load_twin_params(twin, site)
        if site.planning.jobs_file is None:
            raise InputError(f"{site.path or config}: planning.jobs_file: --twin needs the site's jobs file (the plant's orders)")
        loads = twin_loads(site, params, pd.Timestamp.now(tz="UTC"), site.resolve(site.planning.jobs_file))
    endpoints = sorted({simulation.endpoint_key(m)[1:] for m in site.meters if m.enabled}, key=str)
    source = f" from the twin {twin}" if twin is not None else ""
    print(f"simulating {sum(m.enabled for m in site.meters)} meter(s){source} on {', '.join(':'.join(map(str, e)) for e in endpoints)}", file=sys.stderr)
    simulator = simulation.run(site, duration, faults=faults, loads=loads)
    print(f"served {sum(simulator.received.values())} request(s)", file=sys.stderr)


@app.command()
def collect(
    config: ConfigOption,
    db: DbOption = None,
    duration: Annotated[float | None, typer.Option(help="Stop after S seconds.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every meter once and stop.")] = False,
) -> None:
    """Poll the config's meters and store their readings."""
    from energy.metering.collector import collect as run_collector

    site = load_config(config)
    engine = storage.connect(db)
    try:
        storage.require_schema(engine)
    except storage.DatabaseUnreachableError as exc:
        # A collector must start while the database is away: its readings wait in the spool.
        print(f"energy: warning: {exc}; readings go to the spool until it answers", file=sys.stderr)
    stats = run_collector(site, engine, duration_s=duration, once=once)
    print(
        f"{stats.readings} reading(s) from {stats.polls} poll(s), {stats.errors} failed poll(s), "
        f"{stats.skipped_polls} poll slot(s) missed, latest poll start {stats.max_lag_s:.2f} s late; "
        f"{stats.rows_written} row(s) stored, {stats.batches_spooled} batch(es) spooled",
        file=sys.stderr,
    )


@app.command()
def meters(config: OptionalConfigOption = None, db: DbOption = None) -> None:
    """Each meter's health: last good reading, counts of good and failed polls, the last error."""
    from energy.metering.health import health_table

    site = load_config(config) if config else None
    engine = storage.connect(db)
    storage.require_schema(engine)
    try:
        table = health_table(engine, site, now_ms())
    except sa.exc.OperationalError as exc:
        raise InputError(f"database: cannot read meter health: {exc.orig}") from exc
    if table.empty:
        print("no meters configured or polled yet", file=sys.stderr)
        return
    print(table.astype(object).fillna("").to_string(index=False))
