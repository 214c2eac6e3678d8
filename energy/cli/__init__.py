"""The ``energy`` console script; see ``energy.cli.app`` for the error boundary and exit codes."""

from energy.cli import (  # noqa: F401  (each module registers its subcommands)
    forecasts,
    intervals,
    metering,
    optimize,
    plan,
    readings,
    report,
    site,
    tariffs,
    twin,
    ui,
)
from energy.cli.app import app, main

__all__ = ["app", "main"]
