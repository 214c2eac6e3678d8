"""``energy demo``: a demo steel works simulated by the plant twin, run through the whole chain.

The demo plant is the plant twin (``energy.twin``, ``docs/twin.md``) of the shipped demo site
(``data/demo/site.toml``, its jobs file and its twin file ``twin.toml``): machines that really run
the jobs they are given, with recipe profiles, standby, start-up energy and the disturbances of
real operation, on top of a real steel plant's load as the non-flexible base (UCI data set 851,
``data/demo/ATTRIBUTION.md``) placed on the site's own clock. The demo builds a year that ends now:

1. until the go-live date (:data:`GO_LIVE_DAYS` ago) the plant runs the site's own plans;
2. from then on, every night the product forecasts and plans the next day exactly as
   ``energy plan`` does (with :data:`PAST_PLAN_LIMIT_S` of solver time per night, to keep the demo
   short) and the plant executes that plan, disturbances and all; the day's meter readings go
   through the product's pipeline before the next night's forecast;
3. the meters record it: 15-minute logger readings for the older history, 1-minute readings for
   the last :data:`MINUTE_READINGS_DAYS` days; then the simulated meters are served on Modbus TCP
   and collected live, continuing the twin's day;
4. each planned day's realised savings are computed from the meters, tomorrow is planned, last
   month's report is written, and the twin's ground truth is written to ``twin-truth/`` beside the
   database, for comparing the product's estimates with what really happened (the product never
   reads it). What the plant produced goes to ``site/production.csv``, as its MES would report it
   (``energy.twin.production``: tonnes per day and product from the runs that ran, at invented
   specific energies); the site config names it, and the report's and the dashboard's EnPI read it.

What is invented, and documented so nobody mistakes it for data: the machines, their behaviour
and the disturbances (``twin.toml``); the roof PV's weather (clear sky × a seeded daily
clearness); the grid carbon intensity is Electricity Maps' real hourly German 2022 series,
re-dated by whole weeks onto the demo's dates and labelled as such in its source citation.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from energy import storage
from energy.config import SiteConfig, load_config
from energy.errors import InputError
from energy.histories.process import process_site
from energy.setup import initialise
from energy.twin.params import TwinParams, load_twin_params
from energy.twin.plant import PlantTwin
from energy.twin.production import daily_production, write_production_csv
from energy.twin.run import PlantRun, day_jobs, forecast_and_plan, fresh_sqlite_url, run_plant
from energy.twin.truth import write_truth

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: Days before today on which the site started planning with the product (the "go-live").
GO_LIVE_DAYS = 21
#: Solver time per past night; tomorrow's plan gets the demo's ``time_limit_s``. On the demo's
#: 13-job day the optimiser's schedule after 1 s equals its 15 s schedule (docs/benchmarks.md).
PAST_PLAN_LIMIT_S = 2.0
#: Days of 1-minute meter readings before now; older history is stored as 15-minute readings.
MINUTE_READINGS_DAYS = 35
#: Counter values the demo meters start their year of history from (kWh), as installed meters do.
START_COUNTER_KWH = 100_000.0

LOCATION_FACTOR_FILE = "de_grid_location_demo.csv"
LOCATION_FACTOR_CITATION = (
    "Electricity Maps, Germany 2022 hourly, direct (ODbL); re-dated by whole weeks onto the demo's dates"
)


@dataclass
class DemoSite:
    """Where the demo's files are, its config and its twin's parameters."""

    workdir: Path
    config_path: Path
    config: SiteConfig = field(repr=False)
    twin_params: TwinParams = field(repr=False)

    @property
    def jobs_folder(self) -> Path:
        return self.config_path.parent / "jobs"


def shipped_data_dir() -> Path:
    """The repository's ``data/`` folder (the demo runs from a source checkout)."""
    if not (DATA_DIR / "demo" / "site.toml").is_file():
        raise InputError(f"{DATA_DIR}: the demo data is not there; install the project from its checkout (pip install -e .)")
    return DATA_DIR


def redate_factor_file(source: Path, target: Path, start: pd.Timestamp, end: pd.Timestamp) -> tuple[dt.date, dt.date]:
    """Write ``source``'s hourly factors, repeated by whole weeks, so they cover ``[start, end)``.

    Each copy of the year is shifted by a whole number of weeks (weekday and hour kept); where
    two copies overlap the later copy wins. Returns the first and last day covered (UTC).
    """
    frame = pd.read_csv(source, encoding="utf-8", dtype=str, keep_default_na=False)
    stamps = pd.to_datetime(frame["Datetime (UTC)"], utc=True)
    week = pd.Timedelta(weeks=1)
    first_shift = (start.floor("D") - stamps.iloc[0]) // week
    last_shift = -((stamps.iloc[-1] - end.ceil("D")) // week)
    copies = []
    for weeks in range(first_shift, last_shift + 52, 52):
        copy = frame.copy()
        copy["Datetime (UTC)"] = (stamps + weeks * week).dt.strftime("%Y-%m-%d %H:%M:%S")
        copies.append(copy)
    joined = pd.concat(copies).drop_duplicates("Datetime (UTC)", keep="last").sort_values("Datetime (UTC)")
    moved = pd.to_datetime(joined["Datetime (UTC)"], utc=True)
    joined = joined[(moved >= start.floor("D")) & (moved < end.ceil("D"))]
    target.parent.mkdir(parents=True, exist_ok=True)
    joined.to_csv(target, index=False, encoding="utf-8")
    covered = pd.to_datetime(joined["Datetime (UTC)"], utc=True)
    return covered.iloc[0].date(), (covered.iloc[-1] + pd.Timedelta(hours=1)).date()


_EMISSION_TABLES = re.compile(r"^\[\[emissions\.(factors|instruments)\]\]\n(?:(?!\[).*\n)*", re.MULTILINE)


def demo_config_text(shipped_text: str, valid_from: dt.date, valid_to: dt.date) -> str:
    """The shipped site config with its emission factors moved to the demo's dates.

    Factor series from files are replaced by the re-dated location series; constant factors and
    contractual instruments keep their values and citations, with validity moved to the demo's
    period and the citation saying so. What the data describe is not moved: each keeps its
    ``vintage`` (and cancellation date), and the re-dated series states 2022, so the report's
    quality checks flag 2021 and 2022 data applied to the demo's years.
    """
    kept = [
        _redate_validity(block.group(0), valid_from, valid_to)
        for block in _EMISSION_TABLES.finditer(shipped_text)
        if not re.search(r"^file = ", block.group(0), flags=re.MULTILINE)
    ]
    body = _EMISSION_TABLES.sub("", shipped_text)
    location = "\n".join(
        [
            "[[emissions.factors]]",
            'id = "de_grid_demo"',
            'method = "location"',
            f'file = "../reference/{LOCATION_FACTOR_FILE}"',
            'column = "Carbon Intensity gCO₂eq/kWh (direct)"',
            f"valid_from = {valid_from.isoformat()}",
            f"valid_to = {valid_to.isoformat()}",
            f'source = "{LOCATION_FACTOR_CITATION}"',
            "vintage = 2022",
            'gases = "co2e"',
            "",
        ]
    )
    return body.rstrip("\n") + "\n\n# Emissions of the demo (moved to the demo's dates by `energy demo`).\n" + location + "".join("\n" + k for k in kept)


def _redate_validity(block: str, valid_from: dt.date, valid_to: dt.date) -> str:
    block = re.sub(r"^valid_from = .*$", f"valid_from = {valid_from.isoformat()}", block, flags=re.MULTILINE)
    block = re.sub(r"^valid_to = .*$", f"valid_to = {valid_to.isoformat()}", block, flags=re.MULTILINE)
    block = re.sub(r'^source = "(.*)"$', 'source = "\\1; applied to the demo\'s dates"', block, flags=re.MULTILINE)
    return block


def prepare_workdir(workdir: Path, now: pd.Timestamp, first_day: dt.date) -> DemoSite:
    """Copy the shipped demo site into ``workdir`` and write its demo-dated config."""
    data = shipped_data_dir()
    site_dir, reference_dir = workdir / "site", workdir / "reference"
    shutil.copytree(data / "demo", site_dir, dirs_exist_ok=True)
    shutil.copytree(data / "reference", reference_dir, dirs_exist_ok=True)
    valid_from, valid_to = redate_factor_file(
        reference_dir / "electricitymaps_DE_2022_hourly.csv",
        reference_dir / LOCATION_FACTOR_FILE,
        pd.Timestamp(first_day, tz="UTC") - pd.Timedelta(days=1),
        now + pd.Timedelta(days=8),
    )
    config_path = site_dir / "site.toml"
    config_path.write_text(demo_config_text((data / "demo" / "site.toml").read_text(encoding="utf-8"), valid_from, valid_to), encoding="utf-8")
    config = load_config(config_path)
    return DemoSite(workdir, config_path, config, load_twin_params(site_dir / "twin.toml", config))


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class DemoOutcome:
    """What the demo did, for its summary."""

    plan_date: dt.date
    plant: PlantRun
    plan: object = None
    report_paths: list[Path] = field(default_factory=list)
    report_summary: pd.DataFrame | None = None
    truth_dir: Path | None = None


def _forecast_line(series: dict) -> str:
    accuracy = "no backtest" if series.get("mase") is None else f"MASE {series['mase']:.2f}"
    return f"{series['kind']} {series['series_id']}: {series['model']} ({accuracy})"


def collect_live(engine, config: SiteConfig, twin: PlantTwin, seconds: float) -> str:
    """Serve the twin's meters (continuing their stored counters) and collect them."""
    from energy.metering.collector import collect
    from energy.metering.simulate import last_counters_kwh, serve_in_background
    from energy.twin.live import meter_loads

    with serve_in_background(config, counters_kwh=last_counters_kwh(engine), loads=meter_loads(twin)):
        stats = collect(config, engine, duration_s=seconds)
    return str(stats)


def plan_tomorrow(engine, site: DemoSite, twin: PlantTwin, outcome: DemoOutcome, time_limit_s: float) -> None:
    """Tomorrow's orders, forecast and plan, as the nightly job will make them tonight."""
    path, _ = day_jobs(twin, site.jobs_folder, outcome.plan_date)
    if path is None:
        path = site.config_path.parent / "jobs.csv"  # a day without orders: plan the usual day
    forecasts, outcome.plan = forecast_and_plan(engine, twin, outcome.plan_date, path, time_limit_s)
    _say(f"forecasts for {outcome.plan_date}: " + "; ".join(_forecast_line(s) for s in forecasts.series))
    _say(outcome.plan.describe())


def write_reports(engine, site: DemoSite, today: dt.date, outcome: DemoOutcome) -> None:
    """The sustainability report of the last complete month, in every format."""
    from energy.reports import build_report, save_report

    last = today.replace(day=1) - dt.timedelta(days=1)
    first = last.replace(day=1)
    report = build_report(engine, site.config, first, last)
    folder = site.workdir / "reports"
    folder.mkdir(exist_ok=True)
    for fmt, name in (("xlsx", "report.xlsx"), ("pdf", "report.pdf"), ("csv", "report-csv")):
        outcome.report_paths.append(save_report(report, fmt, folder / f"{first:%Y-%m}-{name}"))
    outcome.report_summary = report.table("summary")


def summary_text(outcome: DemoOutcome) -> str:
    """The demo's closing summary: plan, savings, emissions and where the files are."""
    lines = ["", "Demo Steelworks — summary"]
    plan = outcome.plan
    if plan is not None and plan.succeeded and plan.expected_savings:
        savings = plan.expected_savings
        lines.append(
            f"  plan for {outcome.plan_date}: {plan.status}, cost {plan.objective_eur:,.2f} EUR against "
            f"{plan.baseline_eur:,.2f} EUR for the site's own plan: expected savings {savings['total_eur']:,.2f} EUR"
        )
        lines.append("    by component: " + ", ".join(f"{k.removesuffix('_eur')} {v:,.2f}" for k, v in savings.items() if k != "total_eur"))
        lines += [f"    schedule for the MES: {path}" for path in plan.exported]
    elif plan is not None:
        lines.append(f"  plan for {outcome.plan_date}: {plan.describe()}")
    table = outcome.plant.table()
    realised = table.dropna(subset=["realised_eur"])
    if len(realised):
        lines.append(
            f"  {len(outcome.plant.planned)} days planned since the go-live on {outcome.plant.go_live}; over the {len(realised)} past ones, grid cost "
            f"savings (energy, CO2, demand) realised on measured load: {realised['realised_eur'].sum():,.2f} EUR "
            f"(expected when planned: {realised['expected_eur'].sum():,.2f} EUR)"
        )
        lines.append(
            f"    what the plant twin really saved on those days (its ground truth, not a product figure): {realised['true_eur'].sum():,.2f} EUR"
        )
    if outcome.truth_dir is not None:
        lines.append(f"  the twin's ground truth (never read by the product): {outcome.truth_dir}")
    if outcome.report_summary is not None:
        lines.append("  last month (report summary):")
        for row in outcome.report_summary.itertuples(index=False):
            lines.append("    " + "  ".join(f"{value:,.1f}" if isinstance(value, float) else str(value) for value in row))
    lines += [f"  report: {path}" for path in outcome.report_paths]
    return "\n".join(lines)


def run_demo(workdir: Path, db_url: str | None, start_ui: bool, live_seconds: float = 15.0, time_limit_s: float = 60.0) -> None:
    """Build the demo plant in ``workdir`` and run the whole chain; see the module docstring."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or fresh_sqlite_url(workdir)
    now = pd.Timestamp.now(tz="UTC").floor("15min")
    data = shipped_data_dir()
    probe = load_config(data / "demo" / "site.toml")
    today = now.tz_convert(probe.site.timezone).date()
    first_day, go_live = today - dt.timedelta(weeks=52), today - dt.timedelta(days=GO_LIVE_DAYS)
    site = prepare_workdir(workdir, now, first_day)
    engine = storage.connect(db_url)
    storage.upgrade(engine)
    _say(initialise(engine, site.config))
    _say(f"demo site written to {site.config_path}; database {db_url}")
    twin = PlantTwin(site.config, site.twin_params, first_day, today, site.config_path.parent / "jobs.csv")
    plant = run_plant(engine, twin, site.jobs_folder, now, go_live, PAST_PLAN_LIMIT_S, MINUTE_READINGS_DAYS, START_COUNTER_KWH, _say)
    outcome = DemoOutcome(today + dt.timedelta(days=1), plant)
    if live_seconds > 0:
        _say(f"simulated meters on Modbus TCP, collecting for {live_seconds:g} s …")
        _say(collect_live(engine, site.config, twin, live_seconds))
        _say(f"histories: {process_site(engine, site.config)}")
    plan_tomorrow(engine, site, twin, outcome, time_limit_s)
    truth = twin.ground_truth()
    outcome.truth_dir = write_truth(truth, workdir / "twin-truth")
    plant.compare(engine, truth)
    # The plant's MES file (tonnes per day and product), named by the site's [enpi] production_file.
    kinds = {machine: behaviour.kind for machine, behaviour in twin.machines.items()}
    write_production_csv(daily_production(truth.runs, kinds, twin.params.seed, until=now), site.config.enpi.production_file)
    write_reports(engine, site, today, outcome)
    print(summary_text(outcome), flush=True)
    engine.dispose()
    if start_ui:
        from energy.cli.ui import launch

        launch(db_url=db_url, settings=site.config.ui)
