"""``energy plan`` (the nightly job, its replays) and ``energy savings`` (realised savings).

Exit status (``docs/nightly.md``): 0 a plan was stored and exported (optimal, or the best one
found within the limits) or a replay reproduced its run; 1 bad input; 2 infeasible; 4 another
run holds the lock; 5 the solver failed without a schedule; 6 a replay did not reproduce its run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Iterator

import typer

from energy import storage
from energy.cli.app import EXIT_INFEASIBLE, EXIT_LOCKED, ConfigOption, DbOption, OptionalConfigOption, app
from energy.config import load_config
from energy.errors import InputError
from energy.planning import nightly, runs, savings
from energy.storage.site import site_id
from energy.timeutil import parse_day

EXIT_SOLVER_FAILED = 5
EXIT_NOT_REPRODUCED = 6
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("energy.plan")


def _plan_date(text: str | None) -> dt.date | None:
    return None if text is None else parse_day(text, "--date")


@contextlib.contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """INFO and above of the ``energy`` loggers to ``path`` (appended) and to stderr."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--log-file: cannot write {path}: {exc.strerror or exc}") from exc
    to_stderr = logging.StreamHandler(sys.stderr)
    # Messages the CLI prints itself as its one error line go to the file only.
    to_stderr.addFilter(lambda record: not getattr(record, "file_only", False))
    logger = logging.getLogger("energy")
    handlers = [to_file, to_stderr]
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the root's stderr handler would print every line twice
    try:
        yield
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(level)
        logger.propagate = propagate


@app.command()
def plan(
    config: OptionalConfigOption = None,
    date: Annotated[str | None, typer.Option(help="Day to plan, YYYY-MM-DD (default: tomorrow, site time).")] = None,
    jobs: Annotated[Path | None, typer.Option(help="Jobs CSV or JSON from the MES/ERP (default: planning.jobs_file).")] = None,
    replay: Annotated[int | None, typer.Option(metavar="RUN", help="Re-solve stored run RUN and compare its schedule.")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Solver wall-clock limit, s (default: planning.time_limit_s).")] = None,
    gap: Annotated[float | None, typer.Option(help="Relative gap to stop at (default: planning.gap).")] = None,
    log_file: Annotated[Path | None, typer.Option(help="Log file, appended (default: logs/plan.log beside the config).")] = None,
    forecast: Annotated[bool, typer.Option("--forecast/--no-forecast", help="Forecast the day first (default), or use the newest stored forecasts.")] = True,
    db: DbOption = None,
) -> int:
    """Plan tomorrow: forecast it, build and solve the problem, store the run, export for the MES."""
    engine = storage.connect(db)
    storage.require_schema(engine)
    if replay is not None:
        return _replay(engine, replay, time_limit)
    if config is None:
        raise InputError("--config: the site's TOML file is required to plan (only --replay works without it)")
    site = load_config(config)
    with _logging_to(log_file or config.resolve().parent / "logs" / "plan.log"):
        try:
            summary = nightly.run_nightly(engine, site, _plan_date(date), jobs, time_limit, gap, forecast=forecast)
        except runs.RunLockedError as exc:
            log.error("%s", exc, extra={"file_only": True})
            print(f"energy: error: {exc}", file=sys.stderr)
            return EXIT_LOCKED
        except InputError as exc:
            log.error("plan not made: %s", exc, extra={"file_only": True})
            raise
        timings = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in summary.stage_seconds.items())
        if summary.succeeded:
            log.log(logging.WARNING if summary.status == "feasible" else logging.INFO, "%s", summary.describe())
            log.info("stages: %s", timings)
            print(summary.describe())
            return 0
        log.error("%s", summary.describe())
        return EXIT_INFEASIBLE if summary.status == "infeasible" else EXIT_SOLVER_FAILED


def _replay(engine, run_id: int, time_limit: float | None) -> int:
    result = nightly.replay(engine, run_id, time_limit)
    if result.reproduced:
        print(f"run {run_id}: reproduced ({result.status}, cost {result.objective_eur})")
        return 0
    print(f"run {run_id}: NOT reproduced: " + "; ".join(result.differences), file=sys.stderr)
    return EXIT_NOT_REPRODUCED


@app.command("savings")
def realised(
    config: ConfigOption,
    date: Annotated[str | None, typer.Option(help="Planned day, YYYY-MM-DD (its current run).")] = None,
    run: Annotated[int | None, typer.Option(metavar="RUN", help="A stored run instead of a date.")] = None,
    db: DbOption = None,
) -> None:
    """Realised savings of a day's plan once its readings are in; stores and prints them as JSON."""
    site = load_config(config)
    engine = storage.connect(db)
    storage.require_schema(engine)
    if (date is None) == (run is None):
        raise InputError("savings: give exactly one of --date or --run")
    if run is None:
        day = _plan_date(date).isoformat()
        run = runs.current_run_id(engine, site_id(site), day)
        if run is None:
            raise InputError(f"--date: no current plan for {day} (run 'energy plan --date {day}' first)")
    result = savings.compute_realised_savings(engine, site, run)
    savings.store_realised_savings(engine, result)
    print(json.dumps(result, indent=2, sort_keys=True))
