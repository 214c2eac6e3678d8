"""``energy demo``: a demo steel works built from shipped real data, run through the whole chain.

The demo plant's grid connection follows the real 15-minute load of a steel plant (UCI data set
851, 2018; ``data/demo/ATTRIBUTION.md``), moved by whole weeks so that its year of history ends
now (weekdays and times of day kept). From it the demo writes what the plant's meters would have
recorded, as cumulative counter readings, and sends them through the same pipeline as real
meters: readings → histories → forecasts → tomorrow's plan → report.

What is invented, and documented here so nobody mistakes it for data:

- the roof PV array's output is the project's clear-sky PV chain (pvlib) for the configured
  array, scaled by a seeded daily clearness between 0.25 and 1.0;
- the plant's consumption is the steel load plus that PV output (the PV feeds the plant behind
  the main meter, so the main meter sees the real steel load); each sub-metered machine draws a
  fixed share of it (:data:`SUBMETER_SHARES`), the rest is unmetered;
- grid carbon intensity is Electricity Maps' real hourly German 2022 series, re-dated by whole
  weeks onto the demo's dates and labelled as such in its source citation.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from energy import storage
from energy.config import PVArray, SiteConfig, load_config
from energy.errors import InputError
from energy.forecasts import pv
from energy.histories.imports import read_steel_csv
from energy.histories.process import process_site
from energy.histories.series import shift_weeks
from energy.readings import store_readings
from energy.setup import initialise

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: Share of the plant's consumption that each sub-meter sees (invented, fixed for the demo).
SUBMETER_SHARES = {
    "m_furnace1": 0.25,
    "m_furnace2": 0.20,
    "m_oven": 0.15,
    "m_blaster": 0.05,
    "m_compressors": 0.12,
}

#: Counter values the demo meters start their year of history from (kWh), as installed meters do.
START_COUNTER_KWH = 100_000.0

LOCATION_FACTOR_FILE = "de_grid_location_demo.csv"
LOCATION_FACTOR_CITATION = (
    "Electricity Maps, Germany 2022 hourly, direct (ODbL); re-dated by whole weeks onto the demo's dates"
)


@dataclass
class DemoSite:
    """Where the demo's files are, its config and the main meter's history (UTC)."""

    workdir: Path
    config_path: Path
    config: SiteConfig = field(repr=False)
    grid_kwh: pd.Series = field(repr=False)

    @property
    def history_start(self) -> pd.Timestamp:
        return self.grid_kwh.index[0]

    @property
    def history_end(self) -> pd.Timestamp:
        return self.grid_kwh.index[-1] + (self.grid_kwh.index[1] - self.grid_kwh.index[0])


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
    period and the citation saying so.
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
            "",
        ]
    )
    return body.rstrip("\n") + "\n\n# Emissions of the demo (moved to the demo's dates by `energy demo`).\n" + location + "".join("\n" + k for k in kept)


def _redate_validity(block: str, valid_from: dt.date, valid_to: dt.date) -> str:
    block = re.sub(r"^valid_from = .*$", f"valid_from = {valid_from.isoformat()}", block, flags=re.MULTILINE)
    block = re.sub(r"^valid_to = .*$", f"valid_to = {valid_to.isoformat()}", block, flags=re.MULTILINE)
    block = re.sub(r'^source = "(.*)"$', 'source = "\\1; applied to the demo\'s dates"', block, flags=re.MULTILINE)
    return block


def demo_grid_kwh(now: pd.Timestamp) -> pd.Series:
    """The main meter's energy per interval: the steel year moved by whole weeks to end at ``now``.

    The year is moved to end at or just after ``now`` and cut there, so the history runs up to
    the present with the plant's weekdays on the calendar's weekdays.
    """
    steel = read_steel_csv(shipped_data_dir() / "demo" / "steel_industry_2018_15min.csv")
    if steel["energy_kwh"].isna().any():
        raise InputError("demo: the shipped steel-plant file has gaps")
    moved = shift_weeks(steel, now + pd.Timedelta(weeks=1))
    return moved.loc[moved.index < now, "energy_kwh"]


def prepare_workdir(workdir: Path, now: pd.Timestamp) -> DemoSite:
    """Copy the shipped demo site into ``workdir`` and write its demo-dated config."""
    data = shipped_data_dir()
    grid = demo_grid_kwh(now)
    site_dir, reference_dir = workdir / "site", workdir / "reference"
    shutil.copytree(data / "demo", site_dir, dirs_exist_ok=True)
    shutil.copytree(data / "reference", reference_dir, dirs_exist_ok=True)
    valid_from, valid_to = redate_factor_file(
        reference_dir / "electricitymaps_DE_2022_hourly.csv",
        reference_dir / LOCATION_FACTOR_FILE,
        grid.index[0],
        now + pd.Timedelta(days=8),
    )
    config_path = site_dir / "site.toml"
    config_path.write_text(demo_config_text((data / "demo" / "site.toml").read_text(encoding="utf-8"), valid_from, valid_to), encoding="utf-8")
    return DemoSite(workdir, config_path, load_config(config_path), grid)


def pv_power_kw(index: pd.DatetimeIndex, config: SiteConfig, array: PVArray, seed: int = 2018) -> pd.Series:
    """Average AC power (kW) of ``array`` in each interval starting at ``index`` (demo weather).

    The project's PV chain (:func:`energy.forecasts.pv.array_power_kw`: clear sky, PVWatts,
    losses, inverter) scaled by a seeded clearness per UTC day drawn uniformly from [0.25, 1].
    """
    clear_kw, _ = pv.array_power_kw(array, pv.site_location(config), index)
    days = (index.normalize().asi8 // (86_400 * 10**9)).astype(np.int64)
    clearness = np.random.default_rng(seed).uniform(0.25, 1.0, size=days.max() - days.min() + 1)[days - days.min()]
    return pd.Series(clear_kw.to_numpy() * clearness, index=index, name="power_kw")


def history_readings(grid_kwh: pd.Series, pv_kw: pd.Series, config: SiteConfig) -> pd.DataFrame:
    """Counter readings (``timestamp, meter, energy_kwh, power_kw``) at every interval end.

    ``grid_kwh``: the main meter's energy per interval; ``pv_kw``: PV output per interval. Each
    meter's counter starts at :data:`START_COUNTER_KWH` at the first interval's start.
    """
    step = grid_kwh.index[1] - grid_kwh.index[0]
    hours = step / pd.Timedelta(hours=1)
    pv_kwh = pv_kw * hours
    per_meter = {"main": grid_kwh, "pv": pv_kwh}
    plant_kwh = grid_kwh + pv_kwh
    for meter, share in SUBMETER_SHARES.items():
        per_meter[meter] = plant_kwh * share
    known = {meter.id for meter in config.meters}
    frames = []
    stamps = grid_kwh.index.append(pd.DatetimeIndex([grid_kwh.index[-1] + step]))
    for meter, energy in per_meter.items():
        if meter not in known:
            raise InputError(f"demo config: meter {meter!r} is not configured")
        counter = START_COUNTER_KWH + np.concatenate([[0.0], np.cumsum(energy.to_numpy())])
        power = np.concatenate([[energy.iloc[0] / hours], energy.to_numpy() / hours])
        frames.append(pd.DataFrame({"timestamp": stamps, "meter": meter, "energy_kwh": counter, "power_kw": power}))
    return pd.concat(frames, ignore_index=True)


def build_history(engine, site: DemoSite) -> int:
    """Store the demo meters' year of counter readings; returns the number of readings."""
    grid = site.grid_kwh
    config = site.config
    array = config.pv[0]
    pv_kw = pv_power_kw(grid.index, config, array)
    readings = history_readings(grid, pv_kw, config)
    store_readings(engine, readings)
    return len(readings)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def collect_live(engine, config: SiteConfig, seconds: float) -> str:
    """Serve the demo meters (simulated, continuing their stored counters) and collect them."""
    from energy.metering.collector import collect
    from energy.metering.simulate import last_counters_kwh, serve_in_background

    with serve_in_background(config, counters_kwh=last_counters_kwh(engine)):
        stats = collect(config, engine, duration_s=seconds)
    return str(stats)


@dataclass
class DemoOutcome:
    """What the demo did, for its summary."""

    plan_date: dt.date
    plan: object = None
    realised: dict | None = None
    report_paths: list[Path] = field(default_factory=list)
    report_summary: pd.DataFrame | None = None


def _forecast_line(series: dict) -> str:
    accuracy = "no backtest" if series.get("mase") is None else f"MASE {series['mase']:.2f}"
    return f"{series['kind']} {series['series_id']}: {series['model']} ({accuracy})"


def plan_and_prove(engine, site: DemoSite, today: dt.date, time_limit_s: float) -> DemoOutcome:
    """Yesterday's plan with its realised savings (its readings are in), then tomorrow's plan."""
    from energy.forecasts import forecast_site
    from energy.planning import run_nightly
    from energy.planning.savings import compute_realised_savings, store_realised_savings

    config, jobs = site.config, site.config_path.parent / "jobs.csv"
    yesterday, tomorrow = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    outcome = DemoOutcome(tomorrow)
    for day in (yesterday, tomorrow):
        issued = pd.Timestamp(day, tz=config.site.timezone).tz_convert("UTC") - pd.Timedelta(hours=2)
        forecasts = forecast_site(engine, config, day, issued_ms=int(issued.value // 10**6))
        _say(f"forecasts for {day}: " + "; ".join(_forecast_line(s) for s in forecasts.series))
        summary = run_nightly(engine, config, plan_date=day, jobs_path=jobs, time_limit_s=time_limit_s)
        _say(summary.describe())
        if day == yesterday and summary.succeeded:
            outcome.realised = compute_realised_savings(engine, config, summary.run_id)
            store_realised_savings(engine, outcome.realised)
        if day == tomorrow:
            outcome.plan = summary
    return outcome


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
    if outcome.realised:
        total = outcome.realised["savings"]["total_eur"]
        lines.append(f"  yesterday's plan, realised on measured load: savings {total:,.2f} EUR")
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
    db_path = workdir / "energy.db"
    if db_url is None:
        for stale in workdir.glob("energy.db*"):
            stale.unlink()
        db_url = f"sqlite:///{db_path}"
    now = pd.Timestamp.now(tz="UTC").floor("15min")
    site = prepare_workdir(workdir, now)
    engine = storage.connect(db_url)
    storage.upgrade(engine)
    _say(initialise(engine, site.config))
    _say(f"demo site written to {site.config_path}; database {db_url}")
    count = build_history(engine, site)
    _say(f"stored {count:,} meter readings ({site.history_start:%Y-%m-%d} to {site.history_end:%Y-%m-%d %H:%M} UTC)")
    if live_seconds > 0:
        _say(f"simulated meters on Modbus TCP, collecting for {live_seconds:g} s …")
        _say(collect_live(engine, site.config, live_seconds))
    _say(f"histories: {process_site(engine, site.config)}")
    today = now.tz_convert(site.config.site.timezone).date()
    outcome = plan_and_prove(engine, site, today, time_limit_s)
    write_reports(engine, site, today, outcome)
    print(summary_text(outcome), flush=True)
    engine.dispose()
    if start_ui:
        from energy.cli.ui import launch

        launch(db_url=db_url, settings=site.config.ui)
