"""The ``energy`` command: the Typer application, shared options and the error boundary.

Each area registers its subcommands in its own module (``energy/cli/<area>.py``) on the objects
defined here; ``energy/cli/__init__.py`` imports them all. Contract: ``shared/contracts/cli.md``.

Exit status: 0 success; 1 bad input (one line naming file, field or row); 2 optimiser found the
problem infeasible (``energy optimize``/``plan``); 3 a capability that has not landed yet;
4 another run holds the lock; 130 interrupted. Never a traceback unless ENERGY_DEBUG=1.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from energy.errors import InputError

EXIT_BAD_INPUT = 1
EXIT_INFEASIBLE = 2
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="energy",
    help="Energy monitoring and scheduling optimiser for manufacturing sites.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)
export_app = typer.Typer(help="Export stored data as CSV to stdout.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy database URL [default: $ENERGY_DB_URL, else sqlite:///energy.db]"),
]
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The site's TOML configuration file.")]
OptionalConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="The site's TOML configuration file.")
]


def interactive() -> bool:
    """Progress bars and colour only on a terminal; quiet in cron and pipes."""
    return sys.stderr.isatty()


def _fail(message: str, code: int) -> int:
    print(f"energy: error: {message}", file=sys.stderr)
    return code


def _classify(exc: Exception) -> int:
    # Typer vendors its own click, so its exceptions are recognised by shape, not by class.
    kind = type(exc).__name__
    if kind == "Exit":
        return exc.exit_code
    if kind == "Abort":
        return _fail("interrupted", EXIT_INTERRUPTED)
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
        if not exc.format_message():  # bare 'energy' or a bare group: help was shown
            return 0
        return _fail(f"{exc.format_message()} (see 'energy --help')", EXIT_BAD_INPUT)
    if os.environ.get("ENERGY_DEBUG"):
        raise exc
    return _fail(f"internal error: {kind}: {exc} (set ENERGY_DEBUG=1 for the traceback)", 70)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the app and turns every failure into one line and a status."""
    import energy.cli  # noqa: F401  (registers every subcommand)

    logging.basicConfig(
        level=os.environ.get("ENERGY_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    code = 0
    try:
        result = app(args=argv, prog_name="energy", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except InputError as exc:
        code = _fail(str(exc), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        code = _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # the last line of defence: one line, traceback only on request
        code = _classify(exc)
    solver = sys.modules.get("optimizer.highs")  # loaded only by the commands that solve
    if argv is None and solver is not None:  # the process's own command line: it ends here
        solver.exit_process(code)
    sys.exit(code)
