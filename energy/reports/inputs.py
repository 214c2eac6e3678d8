"""What a report reads from storage: the period, interval series, factor rows, plan runs, tariffs.

Everything here is I/O at the edge; the tables are computed from what it returns by pure
functions (:mod:`energy.reports.tables`, :mod:`energy.reports.scope2`, …).

- The period is whole local days of the site: ``--from D1 --to D2`` means from D1 00:00 to the
  end of D2 (D2 + 1 day, 00:00) in the site's time zone.
- Series are read with :func:`energy.histories.store.load_interval_arrays` and laid on the period's
  interval grid, so an interval without a stored row is ``missing`` (never zero).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.histories.series import interval_grid
from energy.histories.site import SITE_ID
from energy.histories.store import load_interval_arrays
from energy.storage import schema
from energy.timeutil import from_epoch_ms, parse_day, timestamp_to_ms


@dataclass(frozen=True)
class Period:
    """Whole local days ``first_day`` … ``last_day`` (inclusive) of the site; ``start``/``end`` in UTC."""

    first_day: dt.date
    last_day: dt.date
    tz: str
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def label(self) -> str:
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


def local_midnight(day: dt.date, tz: str) -> pd.Timestamp:
    """00:00 of local ``day`` in ``tz``, as UTC (the first instant of the day on DST changes)."""
    return pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")


def period(first_day: str | dt.date, last_day: str | dt.date, tz: str, what: tuple[str, str] = ("--from", "--to")) -> Period:
    """The report period of whole local days; an empty or reversed period is an ``InputError``."""
    first, last = parse_day(first_day, what[0]), parse_day(last_day, what[1])
    if last < first:
        raise InputError(f"{what[1]}: {last} is before {what[0]} {first}: the period is empty")
    return Period(first, last, tz, local_midnight(first, tz), local_midnight(last + dt.timedelta(days=1), tz))


@dataclass(frozen=True)
class IntervalSeries:
    """One series on a period's interval grid: kWh (NaN where missing) and quality codes
    (0 measured, 1 estimated, 2 missing; see :mod:`energy.histories.quality`)."""

    kwh: np.ndarray
    code: np.ndarray


def series(engine: Engine, kind: str, series_id: str, index: pd.DatetimeIndex) -> IntervalSeries:
    """A stored series on exactly ``index`` (UTC interval starts, evenly spaced); absent intervals
    are missing."""
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=15)
    stored = load_interval_arrays(engine, kind, series_id, index[0], index[-1] + step)
    # Grid positions by arithmetic on epoch ms: a year of 50 machines stays fast.
    step_ms = int(step / pd.Timedelta(milliseconds=1))
    offset = stored.start_ms - timestamp_to_ms(index[0])
    on_grid = offset % step_ms == 0
    at = offset[on_grid] // step_ms
    kwh, code = np.full(len(index), np.nan), np.full(len(index), 2, dtype="int8")
    kwh[at], code[at] = stored.energy_kwh[on_grid], stored.code[on_grid]
    kwh[code == 2] = np.nan
    return IntervalSeries(kwh, code)


def grid(p: Period, interval_minutes: int) -> pd.DatetimeIndex:
    """The period's interval starts (UTC)."""
    return interval_grid(p.start, p.end, interval_minutes)


@dataclass
class SiteSeries:
    """The measured series a report is built from, all on the period's interval grid (kWh, quality)."""

    index: pd.DatetimeIndex
    site: IntervalSeries  # the stored site series: net grid (main meters), else Σ machines
    machines: dict[str, IntervalSeries]
    pv: dict[str, IntervalSeries]  # PV meter id → generation
    has_main_meter: bool


def pv_meters(config: SiteConfig) -> list[str]:
    """Meters measuring on-site generation: those named by ``[[pv]]`` arrays and ``role = "pv"``."""
    named = [array.meter for array in config.pv if array.meter]
    named += [m.id for m in config.meters if m.role == "pv" and m.id not in named]
    return named


def load_site_series(engine: Engine, config: SiteConfig, index: pd.DatetimeIndex, machines: list[str]) -> SiteSeries:
    """Read the site, machine and PV series of the period."""
    return SiteSeries(
        index=index,
        site=series(engine, "site", SITE_ID, index),
        machines={m: series(engine, "machine", m, index) for m in machines},
        pv={m: series(engine, "meter", m, index) for m in pv_meters(config)},
        has_main_meter=any(m.role == "main" for m in config.meters),
    )


def stored_span(engine: Engine, kind: str, series_ids: list[str]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last stored interval start of any of the series, or None when nothing is stored."""
    table = schema.intervals
    query = sa.select(sa.func.min(table.c.start_ms), sa.func.max(table.c.start_ms)).where(
        table.c.kind == kind, table.c.series_id.in_(series_ids)
    )
    with engine.connect() as conn:
        first, last = conn.execute(query).first()
    if first is None:
        return None
    stamps = from_epoch_ms([first, last])
    return stamps[0], stamps[1]


def stored_tariffs(engine: Engine) -> pd.DataFrame:
    """The loaded tariffs (id, name, currency, format, loaded at) with their price rows' span."""
    tariffs, prices = schema.tariffs, schema.prices
    query = (
        sa.select(
            tariffs.c.id, tariffs.c.name, tariffs.c.currency, tariffs.c.source_format, tariffs.c.loaded_ms,
            sa.func.count(prices.c.start_ms), sa.func.min(prices.c.start_ms), sa.func.max(prices.c.start_ms),
        )
        .select_from(tariffs.outerjoin(prices, prices.c.tariff_id == tariffs.c.id))
        .group_by(tariffs.c.id, tariffs.c.name, tariffs.c.currency, tariffs.c.source_format, tariffs.c.loaded_ms)
        .order_by(tariffs.c.loaded_ms)
    )
    with engine.connect() as conn:
        data = conn.execute(query).fetchall()
    return pd.DataFrame(data, columns=["id", "name", "currency", "source_format", "loaded_ms", "price_rows", "first_price_ms", "last_price_ms"])


@dataclass
class PlanRun:
    """A current nightly plan of a day in the period, with its realised savings when computed."""

    id: int
    plan_date: str
    problem: dict
    schedule: dict
    planned: dict | None  # expected savings by component (EUR)
    realised: dict | None = field(default=None)  # the realised_savings document


def load_plan_runs(engine: Engine, p: Period) -> list[PlanRun]:
    """The current successful plan runs whose local plan date lies in the period."""
    runs, realised = schema.plan_runs, schema.realised_savings
    query = (
        sa.select(runs.c.id, runs.c.plan_date, runs.c.problem_json, runs.c.schedule_json, runs.c.savings_json, realised.c.savings_json)
        .select_from(runs.outerjoin(realised, realised.c.run_id == runs.c.id))
        .where(runs.c.is_current.is_(True), runs.c.status.in_(("optimal", "feasible")))
        .where(runs.c.plan_date >= p.first_day.isoformat(), runs.c.plan_date <= p.last_day.isoformat())
        .order_by(runs.c.plan_date, runs.c.id)
    )
    with engine.connect() as conn:
        data = conn.execute(query).fetchall()

    def parse(text):
        return None if text is None else json.loads(text)

    return [PlanRun(r[0], r[1], json.loads(r[2]), json.loads(r[3]), parse(r[4]), parse(r[5])) for r in data]
