"""``energy forecast`` and ``energy forecast backtest``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import DbOption, OptionalConfigOption, app, not_available

forecast_app = typer.Typer(help="Forecast load and PV; backtest models on any CSV series.")
app.add_typer(forecast_app, name="forecast")


@forecast_app.callback(invoke_without_command=True)
def forecast(
    ctx: typer.Context,
    date: Annotated[str | None, typer.Option(help="Day to forecast (default: tomorrow, site time).")] = None,
    config: OptionalConfigOption = None,
    db: DbOption = None,
) -> None:
    """Forecast each machine's and the site's load, and PV, for a day, and store them."""
    if ctx.invoked_subcommand is None:
        not_available("forecast", "forecasts")


@forecast_app.command()
def backtest(
    csv: Annotated[Path, typer.Option(help="CSV file with the series.")],
    time_col: Annotated[str, typer.Option(help="Timestamp column.")],
    value_col: Annotated[str, typer.Option(help="Value column.")],
    freq: Annotated[str, typer.Option(help="Series frequency, e.g. 15min.")] = "15min",
    horizon: Annotated[int, typer.Option(help="Steps ahead per origin.")] = 96,
    origins: Annotated[int, typer.Option(help="Number of rolling origins.")] = 8,
) -> None:
    """Rolling-origin backtest; prints JSON per model (MASE, MAPE, bias) and the model chosen."""
    not_available("forecast backtest", "forecasts")
