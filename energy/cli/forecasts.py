"""``energy forecast`` and ``energy forecast backtest`` (docs/forecasts.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from energy import storage
from energy.cli.app import DbOption, OptionalConfigOption, app, interactive
from energy.errors import InputError

forecast_app = typer.Typer(help="Forecast load and PV; backtest models on any CSV series.")
app.add_typer(forecast_app, name="forecast")


@forecast_app.callback(invoke_without_command=True)
def forecast(
    ctx: typer.Context,
    date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Day to forecast (default: tomorrow, site time).")] = None,
    config: OptionalConfigOption = None,
    db: DbOption = None,
    weather: Annotated[Path | None, typer.Option(help="Weather forecast CSV for PV (default: forecasts.weather_file).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: forecasts.workers, else one per core).")] = None,
) -> None:
    """Forecast each machine's and the site's load, and PV, for a day, and store them."""
    if ctx.invoked_subcommand is not None:
        return
    from energy.config import load_config
    from energy.forecasts.dayahead import forecast_site

    if config is None:
        raise InputError("--config: required (the site's TOML file)")
    site = load_config(config)
    engine = storage.connect(db)
    storage.require_schema(engine)
    if interactive():
        typer.echo(f"forecasting the site, {len(site.machines)} machine(s) and {len(site.pv)} PV array(s)…", err=True)
    summary = forecast_site(engine, site, date.date() if date else None, weather_file=weather, workers=workers)
    typer.echo(json.dumps(summary.to_dict(), indent=2))


@forecast_app.command()
def backtest(
    csv: Annotated[Path, typer.Option(help="CSV file with the series.")],
    time_col: Annotated[str, typer.Option(help="Timestamp column.")],
    value_col: Annotated[str, typer.Option(help="Value column (any unit; errors are reported in it).")],
    freq: Annotated[str, typer.Option(help="Series frequency, e.g. 15min.")] = "15min",
    horizon: Annotated[int, typer.Option(min=1, help="Steps ahead per origin.")] = 96,
    origins: Annotated[int, typer.Option(min=1, help="Number of rolling origins, one day apart.")] = 8,
    time_format: Annotated[str | None, typer.Option(help="strptime format of the stamps (default: ISO 8601, else day/month/year, else month/day/year).")] = None,
    stamps: Annotated[str, typer.Option(help="Whether a stamp marks the start or the end of its interval.")] = "start",
    tz: Annotated[str, typer.Option(help="Time zone of stamps without offset; also the calendar's.")] = "UTC",
    country: Annotated[str | None, typer.Option(help="ISO country code for public holidays.")] = None,
    fit_days: Annotated[int, typer.Option(min=2, help="Days of history each fit uses at most.")] = 56,
) -> None:
    """Rolling-origin backtest; prints JSON per model (MASE, MAPE, bias) and the model chosen."""
    from energy.forecasts.evaluate import backtest_csv

    result = backtest_csv(csv, time_col, value_col, freq, horizon, origins, time_format=time_format, stamps=stamps, tz=tz, country=country, fit_days=fit_days)
    typer.echo(json.dumps(result, indent=2))
