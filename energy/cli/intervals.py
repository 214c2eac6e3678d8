"""``energy process``, ``energy import intervals``, ``energy export intervals`` and ``energy export idle``
(docs/histories.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from energy import storage
from energy.cli.app import ConfigOption, DbOption, OptionalConfigOption, app, export_app, import_app
from energy.config import load_config
from energy.errors import InputError
from energy.histories.api import history, site_settings, write_intervals_csv
from energy.histories.imports import import_intervals as import_interval_file
from energy.histories.process import process_site
from energy.histories.site import SITE_ID
from energy.histories.states import idle_history
from energy.histories.store import KINDS
from energy.timeutil import parse_instant


def _series(series: str | None, meter: str | None, machine: str | None, site: bool) -> tuple[str, str]:
    chosen = [(name, value) for name, value in (("--series", series), ("--meter", meter), ("--machine", machine)) if value]
    chosen += [("--site", SITE_ID)] if site else []
    if len(chosen) != 1:
        raise InputError("name exactly one series: --machine ID, --meter ID, --site or --series KIND:ID")
    option, value = chosen[0]
    if option == "--series":
        kind, _, series_id = value.partition(":")
        if kind not in KINDS or not series_id:
            raise InputError(f"--series: {value!r} must be KIND:ID with KIND one of {', '.join(KINDS)}")
        return kind, series_id
    return {"--meter": "meter", "--machine": "machine", "--site": "site"}[option], value


def _period(from_: str | None, to: str | None, tz: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``--from``/``--to`` as UTC instants (times without an offset are in ``tz``)."""
    start = parse_instant(from_, what="--from", tz=tz) if from_ else None
    end = parse_instant(to, what="--to", tz=tz) if to else None
    return start, end


SeriesOption = Annotated[str | None, typer.Option("--series", help="KIND:ID, KIND meter, machine, virtual or site.")]
MeterOption = Annotated[str | None, typer.Option("--meter", help="Meter id.")]
SiteFlag = Annotated[bool, typer.Option("--site", help="The site total.")]


@app.command("process")
def process(
    config: ConfigOption,
    from_: Annotated[str | None, typer.Option("--from", help="Re-process from here (ISO 8601; site time if no offset).")] = None,
    to: Annotated[str | None, typer.Option(help="Re-process up to here, exclusive.")] = None,
    final: Annotated[bool, typer.Option("--final", help="Do not hold the newest readings back: no more will come.")] = False,
    db: DbOption = None,
) -> None:
    """Turn new readings into meter, machine, virtual-meter and site intervals (incremental)."""
    site = load_config(config)
    start, end = _period(from_, to, site.site.timezone)
    engine = storage.connect(db)
    storage.require_schema(engine)
    print(process_site(engine, site, start, end, hold_back=not final), file=sys.stderr)


@import_app.command("intervals")
def import_intervals(
    file: Annotated[Path, typer.Argument(help="CSV of interval data.")],
    series: SeriesOption = None,
    meter: MeterOption = None,
    machine: Annotated[str | None, typer.Option("--machine", help="Machine id.")] = None,
    site: SiteFlag = False,
    time_column: Annotated[str, typer.Option(help="Column of the timestamps.")] = "timestamp",
    time_format: Annotated[str | None, typer.Option(help="strptime format, e.g. '%d/%m/%Y %H:%M' [default: ISO 8601].")] = None,
    stamps: Annotated[str, typer.Option(help="Whether a stamp marks the interval's start or end.")] = "start",
    midnight: Annotated[str, typer.Option(help="End stamps 'D 00:00': auto, next-day (ends day D) or this-day.")] = "auto",
    value_column: Annotated[str, typer.Option(help="Column of the values.")] = "energy_kwh",
    unit: Annotated[str, typer.Option(help="kWh (energy per interval) or kW (mean power).")] = "kWh",
    tz: Annotated[str | None, typer.Option(help="Zone of stamps without offset [default: the site's, else UTC].")] = None,
    interval_minutes: Annotated[int | None, typer.Option(help="Interval length [default: from the stamps].")] = None,
    config: OptionalConfigOption = None,
    db: DbOption = None,
) -> None:
    """Store interval energy from a utility or other system's CSV (with --config, a meter's import
    also rebuilds the machine, virtual-meter and site series over the imported period)."""
    kind, series_id = _series(series, meter, machine, site)
    site_config = load_config(config) if config else None
    engine = storage.connect(db)
    storage.require_schema(engine)
    zone = tz or (site_config.site.timezone if site_config else site_settings(engine)[0])
    frame = import_interval_file(
        engine, file, kind, series_id, site_config,
        time_column=time_column, time_format=time_format, stamps=stamps, midnight=midnight,
        value_column=value_column, unit=unit, tz=zone, interval_minutes=interval_minutes,
    )
    total = frame["energy_kwh"].sum()
    print(f"{len(frame)} intervals from {file} stored as {kind}:{series_id} ({total:.3f} kWh)", file=sys.stderr)


@export_app.command("intervals")
def export_intervals(
    machine: Annotated[str | None, typer.Option("--machine", help="Machine id.")] = None,
    meter: MeterOption = None,
    site: SiteFlag = False,
    series: SeriesOption = None,
    freq: Annotated[str, typer.Option(help="Resolution: 15min, 1h, or local 1D, 1W, 1MS.")] = "15min",
    from_: Annotated[str | None, typer.Option("--from", help="Start, inclusive (ISO 8601; site time if no offset).")] = None,
    to: Annotated[str | None, typer.Option(help="End, exclusive (ISO 8601; site time if no offset).")] = None,
    tz: Annotated[str | None, typer.Option(help="Zone of calendar buckets [default: the site's].")] = None,
    db: DbOption = None,
) -> None:
    """CSV to stdout: interval_start,energy_kwh,quality (interval_start ISO 8601 UTC)."""
    kind, series_id = _series(series, meter, machine, site)
    engine = storage.connect(db)
    storage.require_schema(engine)
    zone = tz or site_settings(engine)[0]
    start, end = _period(from_, to, zone)
    frame = history(engine, kind, series_id, start, end, freq, zone)
    if frame.empty and start is None and end is None:
        raise InputError(f"no intervals stored for {kind} {series_id!r} (run 'energy process' or 'energy import intervals')")
    write_intervals_csv(frame, sys.stdout)


@export_app.command("idle")
def export_idle(
    machine: Annotated[str, typer.Option("--machine", help="Machine id.")],
    config: ConfigOption,
    freq: Annotated[str, typer.Option(help="Resolution: local 1D, 1W, 1MS, or 1h.")] = "1D",
    from_: Annotated[str | None, typer.Option("--from", help="Start, inclusive (ISO 8601; site time if no offset).")] = None,
    to: Annotated[str | None, typer.Option(help="End, exclusive (ISO 8601; site time if no offset).")] = None,
    db: DbOption = None,
) -> None:
    """CSV to stdout: period_start,idle_kwh,idle_in_shifts_kwh,idle_outside_shifts_kwh,
    idle_non_working_kwh,idle_hours,idle_power_kw,quality: the machine's standby energy (its idle
    state, from its meter data) split by the site calendar (period_start in the site's local
    time, with offset)."""
    site = load_config(config)
    start, end = _period(from_, to, site.site.timezone)
    engine = storage.connect(db)
    storage.require_schema(engine)
    frame = idle_history(engine, site, machine, start, end, freq)
    if frame.empty:
        raise InputError(f"no intervals stored for machine {machine!r} (run 'energy process' first)")
    frame.index = frame.index.map(pd.Timestamp.isoformat).rename("period_start")
    frame.round(6).to_csv(sys.stdout, lineterminator="\n")
