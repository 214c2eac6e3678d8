"""What the dashboard shows, as plain read functions (the only data access of ``ui/``).

Every function takes an Engine and returns DataFrames or frozen dataclasses; none writes. Times
come in as tz-aware timestamps (periods are ``[start, end)``) and go out in the site's time zone.
Units are in the names: ``_kw`` (average power over an interval), ``_kwh``, ``_g_per_kwh``,
``_kg`` (kg CO₂e), money in the site's currency.

Sources, and the conventions shared with the other areas:

- histories (:mod:`energy.histories.api`) for every energy series; power is interval energy over
  the interval length;
- money: the bill engine of :mod:`energy.tariffs` on the newest stored tariff (billing periods
  are the tariff's calendar months);
- carbon: :mod:`energy.emissions` on the stored factor sources and instruments (location- and
  market-based scope 2, GHG Protocol hierarchy);
- plans (:mod:`energy.planning.runs`, :mod:`energy.planning.savings`): the current run of a date,
  its baseline and its savings; realised savings from the ``realised_savings`` rows;
- meters: the configured meters, their newest reading, :func:`energy.metering.health.load_health`
  and the histories' processing state.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.emissions import load_factor_sources, location_based
from energy.errors import InputError
from energy.histories import history
from energy.histories.api import site_settings
from energy.histories.process import processing_state
from energy.histories.site import SITE_ID
from energy.histories.states import idle_history
from energy.metering.health import load_health
from energy.planning import runs
from energy.planning.savings import baseline_plan, plan_power_kw
from energy.reports import Report, Scope2Tables, build_report, energy_performance, save_report, scope2_report
from energy.reports.performance import Performance
from energy.reports.report import baseline_period
from energy.storage import schema
from energy.storage.db import schema_revision
from energy.tariffs import stored_bill, stored_tariff
from energy.timeutil import from_epoch_ms, timestamp_to_ms

# --- the site -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    timezone: str
    currency: str
    interval_minutes: int
    config: SiteConfig | None  # None when the stored config no longer validates

    @property
    def interval(self) -> pd.Timedelta:
        return pd.Timedelta(minutes=self.interval_minutes)

    @property
    def interval_hours(self) -> float:
        return self.interval_minutes / 60


def database_problem(engine: Engine) -> str | None:
    """Why the database cannot be shown (unreachable, no schema), or None when it can."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        revision = schema_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        return f"cannot reach the database {url}: {getattr(exc, 'orig', exc)}"
    if revision is None:
        return f"the database {url} has no schema yet: run 'energy init --config SITE.toml' (or 'energy demo')"
    return None


def load_site(engine: Engine) -> Site | None:
    """The site stored by the last ``energy init``, or None before it."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.sites).order_by(schema.sites.c.updated_ms.desc())).mappings().first()
    if row is None:
        return None
    try:
        config = SiteConfig.model_validate_json(row["config_json"])
    except ValidationError:
        config = None
    return Site(row["id"], row["name"], row["timezone"], row["currency"], int(row["interval_minutes"]), config)


def machine_names(engine: Engine) -> dict[str, str]:
    """Machine id → name, in id order."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.machines.c.id, schema.machines.c.name).order_by(schema.machines.c.id)).fetchall()
    return dict(rows)


def data_span(engine: Engine) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First interval start and end of the last interval of the site series (UTC), or None.

    The site series spans what histories have processed; min/max on its primary key is instant
    even for years of data (aggregating every series would scan the whole table).
    """
    table = schema.intervals
    query = sa.select(sa.func.min(table.c.start_ms), sa.func.max(table.c.start_ms)).where(table.c.kind == "site", table.c.series_id == SITE_ID)
    with engine.connect() as conn:
        first_ms, last_ms = conn.execute(query).one()
    if first_ms is None:
        return None
    first, last = from_epoch_ms([first_ms, last_ms])
    return first, last + site_interval(engine)


def site_interval(engine: Engine) -> pd.Timedelta:
    """The stored site's interval length (15 minutes before ``energy init``)."""
    return pd.Timedelta(minutes=site_settings(engine)[1])


def elapsed(site: Site, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """``end`` cut to the end of the interval in progress (history stops there: what lies
    beyond has not happened, it is not missing)."""
    current = (now or pd.Timestamp.now(tz="UTC")).ceil(f"{site.interval_minutes}min")
    return max(start, min(end, current))


def local_day(day: dt.date, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of local ``day`` (23, 24 or 25 hours)."""
    start = pd.Timestamp(day).tz_localize(tz)
    return start, pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(tz)


def local_days(first: dt.date, last: dt.date, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start of first, end of last)`` in local time: a date-range picker's period."""
    return local_day(first, tz)[0], local_day(last, tz)[1]


def latest_day(engine: Engine, site: Site, now: pd.Timestamp | None = None) -> dt.date:
    """The day to show by default: today, or the last day with data when today has none."""
    today = (now or pd.Timestamp.now(tz="UTC")).tz_convert(site.timezone).date()
    span = data_span(engine)
    if span is None:
        return today
    last = (span[1] - pd.Timedelta(1, "ms")).tz_convert(site.timezone).date()
    return min(today, last)


# --- energy, power, prices and carbon ---------------------------------------------------------


def display_freq(start: pd.Timestamp, end: pd.Timestamp) -> str | None:
    """The resolution to chart a period at: the stored intervals up to 31 days, hours beyond."""
    return None if end - start <= pd.Timedelta(days=31) else "1h"


def power_kw(
    engine: Engine, site: Site, kind: str, series_id: str, start: pd.Timestamp, end: pd.Timestamp, freq: str | None = None
) -> pd.DataFrame:
    """A series' average power per interval (``freq``: None for the stored intervals, or e.g. ``1h``):
    ``power_kw``, ``energy_kwh``, ``quality``, indexed by local interval start."""
    frame = history(engine, kind, series_id, start, end, freq=freq, tz=site.timezone)
    hours = site.interval_hours if freq is None else pd.Timedelta(freq) / pd.Timedelta(hours=1)
    frame.insert(0, "power_kw", frame["energy_kwh"] / hours)
    return frame


def factor_source_table(sources: list) -> pd.DataFrame:
    """Factor sources (``energy.emissions.FactorSource``) as a table: ``id``, ``method``,
    ``source``, ``valid_from``, ``valid_to``, ``constant_g_per_kwh``, ``file``, ``rows``,
    ``vintage``, ``gases`` (None when not stated)."""
    rows = [
        {"id": s.id, "method": s.method, "source": s.source, "valid_from": s.valid_from, "valid_to": s.valid_to,
         "constant_g_per_kwh": s.constant_g_per_kwh, "file": s.file, "rows": len(s.rows), "vintage": s.vintage, "gases": s.gases}
        for s in sources
    ]
    columns = ["id", "method", "source", "valid_from", "valid_to", "constant_g_per_kwh", "file", "rows", "vintage", "gases"]
    return pd.DataFrame(rows, columns=columns).astype({"vintage": "Int64"})


# --- Overview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    level: str  # "error", "warning" or "info"
    text: str


@dataclass(frozen=True)
class MonthToDate:
    start: pd.Timestamp
    end: pd.Timestamp
    energy_kwh: float  # grid import
    peak_kw: float | None  # highest 15-minute average grid import
    peak_at: pd.Timestamp | None
    bill: dict[str, float] | None  # the tariff's bill so far: amount per category and "total"
    bill_currency: str | None
    bill_problem: str | None  # why there is no bill (no tariff, a missing interval…)
    co2_kg: float | None  # location-based
    co2_share: float  # of the imported energy with a factor


@dataclass(frozen=True)
class Overview:
    day: dt.date
    today: pd.DataFrame  # power_kw, energy_kwh, quality
    yesterday: pd.DataFrame
    forecast: pd.DataFrame  # the day's site forecast (see forecast_vs_actual), empty without one
    month: MonthToDate
    grid_limit_kw: float | None
    alerts: list[Alert]


def month_to_date(engine: Engine, site: Site, end: pd.Timestamp) -> MonthToDate:
    """Grid import, its bill and CO₂, and the peak, from the start of ``end``'s month to ``end``.

    The bill is the tariff's own (:func:`energy.tariffs.stored_bill` of the site series with the
    newest stored tariff): energy, levies, demand, fixed charges and taxes of the billing period
    so far, fixed charges for the whole month.
    """
    local_end = end.tz_convert(site.timezone)
    start = (local_end - pd.Timedelta(1, "ms")).normalize().replace(day=1)
    start = pd.Timestamp(start.tz_localize(None)).tz_localize(site.timezone)
    grid = power_kw(engine, site, "site", SITE_ID, start, end)
    imported = grid["energy_kwh"].clip(lower=0)
    energy = float(imported.sum())
    location = location_based(imported, load_factor_sources(engine, start, end, ["location"]), interval=site.interval, on_missing="report")
    without_factor = float(imported[location["location_missing"].to_numpy()].sum())
    peak = grid["power_kw"].max()
    bill, currency, problem = None, None, None
    measured = grid.index[grid["energy_kwh"].notna().to_numpy()]
    if measured.empty:
        problem = "no site intervals stored this month"
    else:
        try:
            tariff = stored_tariff(engine, start=start, end=end)
            summary = stored_bill(engine, tariff, start, measured[-1] + site.interval).summary()
            bill, currency = {name: float(summary[name].sum()) for name in summary.columns}, tariff.currency
        except InputError as exc:
            problem = str(exc)
    return MonthToDate(
        start=start,
        end=end,
        energy_kwh=energy,
        peak_kw=None if pd.isna(peak) else float(peak),
        peak_at=None if pd.isna(peak) else grid["power_kw"].idxmax(),
        bill=bill,
        bill_currency=currency,
        bill_problem=problem,
        co2_kg=None if energy > 0 and without_factor == energy else float(location["location_emissions_kg"].sum()),
        co2_share=1.0 - without_factor / energy if energy > 0 else 0.0,
    )


def overview(engine: Engine, site: Site, day: dt.date, now: pd.Timestamp | None = None) -> Overview:
    """Site load on ``day`` (measured and forecast) and the day before, the month to date, and the alerts."""
    start, end = local_day(day, site.timezone)
    before, _ = local_day(day - dt.timedelta(days=1), site.timezone)
    now = now or pd.Timestamp.now(tz="UTC")
    today = power_kw(engine, site, "site", SITE_ID, start, end)
    return Overview(
        day=day,
        today=today,
        yesterday=power_kw(engine, site, "site", SITE_ID, before, start),
        forecast=forecast_vs_actual(engine, site, "site", SITE_ID, start, end, measured=today),
        month=month_to_date(engine, site, min(end, max(now, start + site.interval))),
        grid_limit_kw=site.config.planning.grid_limit_kw if site.config else None,
        alerts=alerts(engine, site, today, now),
    )


def alerts(engine: Engine, site: Site, today: pd.DataFrame, now: pd.Timestamp) -> list[Alert]:
    """What needs the energy manager's attention: meters, data gaps, data age, plans."""
    found = []
    status = meter_status(engine, now)
    for row in status.itertuples():
        if row.state == "failing":
            found.append(Alert("error", f"meter {row.meter}: {row.consecutive_errors} failed polls in a row ({row.last_error})"))
        elif row.state == "stale":
            found.append(Alert("warning", f"meter {row.meter}: stale, its newest data is {age_text(row.age)} old"))
        elif row.state == "no data":
            found.append(Alert("info", f"meter {row.meter}: nothing stored from it yet"))
    # The newest intervals are still being processed (histories hold the last readings back).
    settled = today[today.index + 3 * site.interval <= now]
    missing = int((settled["quality"] == "missing").sum())
    if missing:
        found.append(Alert("warning", f"site load: {missing} interval(s) missing on {today.index[0]:%Y-%m-%d}"))
    span = data_span(engine)
    if span is None:
        found.append(Alert("info", "no energy data stored yet: collect or import readings"))
    elif now - span[1] > pd.Timedelta(days=1):
        found.append(Alert("warning", f"newest data ends {span[1].tz_convert(site.timezone):%Y-%m-%d %H:%M}: {(now - span[1]).days} day(s) old"))
    listed = runs.list_runs(engine, site.id)
    if not listed.empty and listed.iloc[0]["status"] not in runs.SUCCESS:
        newest = listed.iloc[0]
        found.append(Alert("error", f"the newest plan run ({newest['plan_date']}, run {newest['id']}) is {newest['status']}"))
    return found


def age_text(age: pd.Timedelta) -> str:
    """``age`` for people: ``42 min``, ``5.5 h`` or ``3 days``."""
    minutes = age / pd.Timedelta(minutes=1)
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h" if minutes < 48 * 60 else f"{minutes / 1440:.0f} days"


# --- Machines -------------------------------------------------------------------------------


def forecast_vs_actual(
    engine: Engine, site: Site, kind: str, series_id: str, start: pd.Timestamp, end: pd.Timestamp,
    measured: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Forecast power with its prediction intervals against the measured power, per interval
    (``kind`` ``machine`` or ``site``: a stored forecast series and the history of the same name).

    Columns ``forecast_kw``, ``lo80_kw``, ``hi80_kw``, ``lo95_kw``, ``hi95_kw``, ``actual_kw``,
    ``model``; for each interval the newest issued forecast wins. Empty when none is stored.
    ``measured``: the series' :func:`power_kw` over ``[start, end)`` when the caller has already
    read it (otherwise it is read here).
    """
    fruns, rows = schema.forecast_runs, schema.forecasts
    query = (
        sa.select(rows.c.start_ms, rows.c.power_kw, rows.c.lo80_kw, rows.c.hi80_kw, rows.c.lo95_kw, rows.c.hi95_kw, fruns.c.model, fruns.c.issued_ms, fruns.c.id)
        .join(fruns, fruns.c.id == rows.c.run_id)
        .where(fruns.c.kind == kind, fruns.c.series_id == series_id)
        .where(rows.c.start_ms >= timestamp_to_ms(start), rows.c.start_ms < timestamp_to_ms(end))
    )
    with engine.connect() as conn:
        data = conn.execute(query).fetchall()
    columns = ["start_ms", "forecast_kw", "lo80_kw", "hi80_kw", "lo95_kw", "hi95_kw", "model", "issued_ms", "run_id"]
    frame = pd.DataFrame(data, columns=columns).sort_values(["start_ms", "issued_ms", "run_id"])
    frame = frame.drop_duplicates("start_ms", keep="last")
    index = from_epoch_ms(frame["start_ms"].astype("int64")).tz_convert(site.timezone)
    frame = frame.drop(columns=["start_ms", "issued_ms", "run_id"]).set_index(index).astype({c: float for c in columns[1:6]})
    if frame.empty:
        frame["actual_kw"] = pd.Series(dtype=float)
        return frame
    actual = measured if measured is not None else power_kw(engine, site, kind, series_id, frame.index[0], frame.index[-1] + site.interval)
    frame["actual_kw"] = actual["power_kw"].reindex(frame.index)
    return frame


def idle_by_day(engine: Engine, site: Site, machine_id: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """A machine's standby energy per local day: the energy of its idle state, from its meter
    data, in all (``idle_kwh``) and split into in shifts, outside shifts on working days and on
    non-working days (:func:`energy.histories.states.idle_history`)."""
    if site.config is None:
        raise InputError("the stored site configuration cannot be read: run 'energy init --config SITE.toml' again")
    return idle_history(engine, site.config, machine_id, start, end, "1D", site.timezone)


def quality_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Intervals per quality flag (``measured``, ``estimated``, ``missing``)."""
    counts = frame["quality"].value_counts()
    return {name: int(counts.get(name, 0)) for name in ("measured", "estimated", "missing")}


# --- Plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanView:
    plan_date: str
    run: runs.StoredRun | None  # the date's current plan
    failed: runs.StoredRun | None  # the newest run of the date when it failed
    jobs: pd.DataFrame  # job, machine, start, end, plan ("optimised" or "baseline")
    load: pd.DataFrame  # per slot: base_load_kw, pv_kw, before_kw, after_kw, price_per_kwh, co2_g_per_kwh
    grid_limit_kw: float | None
    savings: dict | None  # expected savings by component (currency)
    currency: str = "EUR"

    @property
    def status(self) -> str:
        return self.failed.status if self.failed else self.run.status if self.run else "none"


def plan_dates(engine: Engine, site: Site) -> list[str]:
    """The dates with a stored plan run, newest first."""
    listed = runs.list_runs(engine, site.id)
    return list(dict.fromkeys(sorted(listed["plan_date"], reverse=True)))


def default_plan_date(engine: Engine, site: Site, now: pd.Timestamp | None = None) -> dt.date:
    """Tomorrow's date if it has a run, else the newest date with one, else tomorrow."""
    tomorrow = (now or pd.Timestamp.now(tz="UTC")).tz_convert(site.timezone).date() + dt.timedelta(days=1)
    dates = plan_dates(engine, site)
    if not dates or tomorrow.isoformat() in dates:
        return tomorrow
    return dt.date.fromisoformat(dates[0])


def _job_rows(problem: dict, placed: list[dict], plan: str, tz: str) -> list[dict]:
    start, step = runs.slot_times(problem)
    jobs = {job["id"]: job for job in problem["jobs"]}
    return [
        {
            "job": item["id"],
            "machine": item["machine"],
            "start": (start + item["start_slot"] * step).tz_convert(tz),
            "end": (start + (item["start_slot"] + jobs[item["id"]]["duration_slots"]) * step).tz_convert(tz),
            "plan": plan,
        }
        for item in placed
    ]


def plan_view(engine: Engine, site: Site, plan_date: dt.date) -> PlanView:
    """The date's current plan beside its baseline, the site load before and after, the savings."""
    listed = runs.list_runs(engine, site.id, plan_date.isoformat())
    current = listed[listed["is_current"].astype(bool)]
    run = runs.load_run(engine, int(current.iloc[0]["id"])) if not current.empty else None
    failed = None
    if not listed.empty and listed.iloc[0]["status"] not in runs.SUCCESS:
        failed = runs.load_run(engine, int(listed.iloc[0]["id"]))
    shown = run or failed
    jobs = pd.DataFrame(columns=["job", "machine", "start", "end", "plan"])
    load = pd.DataFrame(columns=["base_load_kw", "pv_kw", "before_kw", "after_kw", "price_per_kwh", "co2_g_per_kwh"])
    grid_limit = None
    if shown is not None:
        problem = shown.problem
        grid_limit = problem.get("grid_limit_kw")
        start, step = runs.slot_times(problem)
        slots = pd.date_range(start, periods=problem["horizon_slots"], freq=step).tz_convert(site.timezone)
        base, pv = np.asarray(problem.get("base_load_kw", [0.0] * len(slots))), np.asarray(problem.get("pv_kw", [0.0] * len(slots)))
        load = pd.DataFrame(
            {
                "base_load_kw": base,
                "pv_kw": pv,
                "price_per_kwh": problem["price_eur_per_kwh"],
                "co2_g_per_kwh": problem.get("co2_g_per_kwh", [0.0] * len(slots)),
            },
            index=slots,
        )
        rows = []
        if all(job.get("planned_start_slot") is not None for job in problem["jobs"]):
            placed, machines_on = baseline_plan(problem)
            load["before_kw"] = base - pv + plan_power_kw(problem, placed, machines_on)
            rows += _job_rows(problem, placed, "baseline", site.timezone)
        if run is not None:
            placed = [dict(j) for j in run.schedule.get("jobs", [])]
            load["after_kw"] = base - pv + plan_power_kw(problem, placed, run.schedule.get("machines_on", {}))
            rows += _job_rows(problem, placed, "optimised", site.timezone)
        if rows:
            jobs = pd.DataFrame(rows)
    return PlanView(plan_date.isoformat(), run, failed, jobs, load, grid_limit, run.savings if run else None, site.currency)


# --- Savings --------------------------------------------------------------------------------


def savings_history(engine: Engine, site: Site, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Per plan date (current runs, ``first`` to ``last`` inclusive): status, planned and realised savings.

    Columns ``run_id``, ``status``, ``planned_total``, ``realised_total``, and per component
    ``planned_<component>`` / ``realised_<component>`` (currency); of the realised savings
    (``energy.planning.savings``) also ``realised_cash`` (money: energy, demand, switching; the
    internal carbon price ``realised_co2`` is not), ``realised_low`` / ``realised_high`` (the
    uncertainty band of the total), ``realised_co2_t`` (avoided tonnes), ``adherence`` (share of
    planned jobs run as planned) and ``non_routine`` (events excluded from the savings). Realised
    values are NaN until the day's readings are in and the savings have been computed.
    """
    table, realised = schema.plan_runs, schema.realised_savings
    query = (
        sa.select(table.c.id, table.c.plan_date, table.c.status, table.c.savings_json, realised.c.savings_json)
        .outerjoin(realised, realised.c.run_id == table.c.id)
        .where(table.c.site_id == site.id, table.c.is_current.is_(True))
        .where(table.c.plan_date >= first.isoformat(), table.c.plan_date <= last.isoformat())
        .order_by(table.c.plan_date)
    )
    with engine.connect() as conn:
        data = conn.execute(query).fetchall()
    verified = ["realised_cash", "realised_low", "realised_high", "realised_co2_t", "adherence", "non_routine"]
    records = []
    for run_id, plan_date, status, planned_json, realised_json in data:
        planned = json.loads(planned_json) if planned_json else {}
        result = json.loads(realised_json) if realised_json else {}
        actual = result.get("savings", {})
        record = {"plan_date": dt.date.fromisoformat(plan_date), "run_id": run_id, "status": status}
        for name in (*runs.COMPONENTS, "total_eur"):
            label = name.removesuffix("_eur")
            record[f"planned_{label}"] = planned.get(name, np.nan)
            record[f"realised_{label}"] = actual.get(name, np.nan)
        band = result.get("band", {})
        record.update(
            realised_cash=result.get("cash_eur", np.nan),
            realised_low=band.get("low_eur", np.nan),
            realised_high=band.get("high_eur", np.nan),
            realised_co2_t=result.get("co2_t", np.nan),
            adherence=result.get("adherence", {}).get("rate", np.nan),
            non_routine=len(result["non_routine"]) if "non_routine" in result else np.nan,
        )
        records.append(record)
    columns = ["plan_date", "run_id", "status"] + [f"{kind}_{name.removesuffix('_eur')}" for name in (*runs.COMPONENTS, "total_eur") for kind in ("planned", "realised")] + verified
    return pd.DataFrame(records, columns=columns).set_index("plan_date")


def realised_day(engine: Engine, site: Site, run_id: int) -> dict | None:
    """The stored realised savings of a plan run (``energy.planning.savings``), or None; its
    ``jobs`` as a table (``adherence_table``) with local times."""
    with engine.connect() as conn:
        text = conn.execute(sa.select(schema.realised_savings.c.savings_json).where(schema.realised_savings.c.run_id == run_id)).scalar()
    if text is None:
        return None
    result = json.loads(text)
    if "jobs" in result:
        result["adherence_table"] = adherence_table(result["jobs"], site.timezone)
    return result


def adherence_table(jobs: list[dict], timezone: str) -> pd.DataFrame:
    """The matched jobs of a realised day (records of ``energy.planning.adherence``) for people:
    headers in words, times as local ``HH:MM``."""
    frame = pd.DataFrame(jobs, columns=["job", "status", "planned_machine", "planned_start", "machine", "start", "end", "shift_min"])

    def clock(column: str) -> pd.Series:
        return pd.to_datetime(frame[column], utc=True).dt.tz_convert(timezone).dt.strftime("%H:%M").fillna("—")

    return pd.DataFrame(
        {
            "Job": frame["job"].replace("", "(unplanned)"),
            "What happened": frame["status"].str.replace("_", " "),
            "Planned on": frame["planned_machine"].fillna("—"),
            "Planned start": clock("planned_start"),
            "Ran on": frame["machine"].fillna("—"),
            "Start": clock("start"),
            "End": clock("end"),
            "Shift (min)": frame["shift_min"].round(0),
        }
    )


# --- Emissions ------------------------------------------------------------------------------


def emissions(engine: Engine, site: Site, first: dt.date, last: dt.date) -> Scope2Tables:
    """Scope 2 of local days ``first`` … ``last``: the sustainability report's own tables
    (:func:`energy.reports.scope2_report`), so the page and the report show the same figures.

    ``by_consumer``: per month (``YYYY-MM``, then ``total``) and consumer (machines, ``other``, the
    ``site``): energy, grid share, location- and market-based tCO2e with their factor sources;
    ``by_source``: grid import valued by each factor source or instrument. Intervals without a
    carbon factor are left out and counted in ``missing_factor`` (never counted as zero).
    """
    return scope2_report(engine, _config(site), first, last, on_missing="report")


# --- Meters ---------------------------------------------------------------------------------

STALE_MIN = pd.Timedelta(minutes=5)  # a meter is stale when its newest reading is older than
STALE_POLLS = 10  # max(STALE_MIN, STALE_POLLS × its poll period)
FAILING_POLLS = 3  # consecutive failed polls that make a meter failing


def meter_status(engine: Engine, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Every configured meter's health, one row each.

    Columns: ``meter``, ``role``, ``machine``, ``model``, ``poll_seconds``, ``last_reading``
    (newest stored reading, UTC), ``last_interval_end`` (end of its newest stored interval, e.g.
    imported from another system), ``age`` (now − the newer of the two), ``state`` (``live``,
    ``stale``, ``failing`` or ``no data``), ``ok_count``, ``error_count``, ``consecutive_errors``,
    ``last_error``, ``last_error_at``, ``processed_to`` (end of the intervals made from readings).
    """
    now = now or pd.Timestamp.now(tz="UTC")
    readings = schema.readings
    with engine.connect() as conn:
        meters = pd.DataFrame(
            conn.execute(sa.select(schema.meters.c.id, schema.meters.c.role, schema.meters.c.machine_id, schema.meters.c.model, schema.meters.c.poll_seconds).order_by(schema.meters.c.id)).fetchall(),
            columns=["meter", "role", "machine", "model", "poll_seconds"],
        )
        # Primary-key lookups per meter: a GROUP BY would scan every reading ever stored.
        newest = {m: conn.execute(sa.select(sa.func.max(readings.c.epoch_ms)).where(readings.c.meter_id == m)).scalar() for m in meters["meter"]}
        intervals = schema.intervals
        newest_interval = {
            m: conn.execute(sa.select(sa.func.max(intervals.c.start_ms)).where(intervals.c.kind == "meter", intervals.c.series_id == m)).scalar()
            for m in meters["meter"]
        }
    health = load_health(engine).set_index("meter_id")
    processed = processing_state(engine).set_index("meter_id")["processed_to"]
    known = health.reindex(meters["meter"])
    meters["last_reading"] = pd.to_datetime(meters["meter"].map(newest).astype(float), unit="ms", utc=True)
    meters["last_interval_end"] = pd.to_datetime(meters["meter"].map(newest_interval).astype(float), unit="ms", utc=True) + site_interval(engine)
    meters["age"] = now - meters[["last_reading", "last_interval_end"]].max(axis=1)
    for column in ("ok_count", "error_count", "consecutive_errors"):
        meters[column] = known[column].fillna(0).astype(int).to_numpy()
    meters["last_error"] = known["last_error"].to_numpy()
    meters["last_error_at"] = pd.to_datetime(known["last_error_ms"].astype(float).to_numpy(), unit="ms", utc=True)
    meters["processed_to"] = pd.to_datetime(processed.reindex(meters["meter"]).to_numpy(), utc=True)
    limit = np.maximum(STALE_MIN / pd.Timedelta(seconds=1), STALE_POLLS * meters["poll_seconds"].astype(float))
    age_s = meters["age"].dt.total_seconds()
    meters["state"] = np.select(
        [meters["consecutive_errors"] >= FAILING_POLLS, age_s.isna(), age_s > limit],
        ["failing", "no data", "stale"],
        "live",
    )
    return meters


# --- Reports --------------------------------------------------------------------------------


def _config(site: Site):
    if site.config is None:
        raise InputError("the stored site configuration cannot be read: run 'energy init --config SITE.toml' again")
    return site.config


def sustainability_report(engine: Engine, site: Site, first: dt.date, last: dt.date, production_csv: bytes | None = None,
                          baseline: tuple[dt.date, dt.date] | None = None) -> Report:
    """The sustainability report of local days ``first`` … ``last`` (:func:`energy.reports.build_report`),
    with production counts from the CSV text ``production_csv`` when given (else the configured
    ``[enpi] production_file``) and the EnPI baseline period ``baseline`` (else the configured one)."""
    if production_csv is None:
        return build_report(engine, _config(site), first, last, baseline=baseline)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "production.csv"
        path.write_bytes(production_csv)
        return build_report(engine, _config(site), first, last, production=path, baseline=baseline)


def enpi_baseline(site: Site, first: dt.date) -> tuple[dt.date, dt.date]:
    """The EnPI baseline period of a report from ``first`` (:func:`energy.reports.report.baseline_period`)."""
    base = baseline_period(_config(site), first)
    return base.first_day, base.last_day


def month_performance(engine: Engine, site: Site, day: dt.date) -> Performance:
    """The EnPI (ISO 50006) of ``day``'s month up to ``day`` against the baseline (the report's own,
    :func:`energy.reports.energy_performance`): its verdict says whether a saving may be headlined."""
    return energy_performance(engine, _config(site), day.replace(day=1), day)


def report_file(report: Report, fmt: str) -> bytes:
    """A built report as the bytes of its ``csv`` (a zip of the tables), ``xlsx`` or ``pdf`` file."""
    with tempfile.TemporaryDirectory() as folder:
        return save_report(report, fmt, Path(folder) / f"report.{'zip' if fmt == 'csv' else fmt}").read_bytes()
