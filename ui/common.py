"""What every page shares: the database, cached reads of ``energy.dashboard``, pickers, charts.

All data comes from :mod:`energy.dashboard` through :func:`data`, cached for ``TTL_S`` seconds
per database URL and arguments (readings arrive every few seconds; a minute old is fresh enough
for a dashboard and keeps the database quiet). Pages never see an exception's traceback: a bad or
missing input becomes a warning, anything else a one-line error (the traceback goes to the log).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from energy import dashboard
from energy.errors import InputError
from energy.storage import connect
from energy.storage.db import database_url

TTL_S = int(os.environ.get("ENERGY_UI_CACHE_TTL", "60"))
log = logging.getLogger("energy.ui")


def db_url() -> str:
    """The database the dashboard shows: ``ENERGY_DB_URL`` (set by ``energy ui --db``), else the default."""
    return database_url(None)


@st.cache_resource(show_spinner=False)
def engine_for(url: str):
    return connect(url)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _site(url: str) -> dashboard.Site | None:
    return dashboard.load_site(engine_for(url))


@st.cache_data(ttl=TTL_S, show_spinner="Reading the database…")
def _call(name: str, url: str, with_site: bool, *args):
    engine = engine_for(url)
    function = getattr(dashboard, name)
    return function(engine, _site(url), *args) if with_site else function(engine, *args)


def data(name: str, *args, with_site: bool = True):
    """``energy.dashboard.<name>(engine, site, *args)`` (or without the site), cached."""
    return _call(name, db_url(), with_site, *args)


def refresh() -> None:
    """Forget every cached read (the next one goes to the database)."""
    _call.clear()
    _site.clear()


def start(title: str, caption: str) -> dashboard.Site:
    """Title the page and return the site; stop the page with an explanation when there is none."""
    st.title(title)
    st.caption(caption)
    url = db_url()
    problem = dashboard.database_problem(engine_for(url))
    if problem:
        st.info(f"Nothing to show yet: {problem}.")
        st.stop()
    site = _site(url)
    if site is None:
        st.info("Nothing to show yet: no site is configured in this database. Run 'energy init --config SITE.toml' (or 'energy demo').")
        st.stop()
    return site


@contextlib.contextmanager
def guard(what: str):
    """Show a failure inside a page section as a message, never as a traceback."""
    try:
        yield
    except InputError as exc:
        st.warning(f"{what}: {exc}")
    except Exception as exc:  # the page's last line of defence; the log keeps the traceback
        log.exception("dashboard section %r failed", what)
        st.error(f"{what} could not be shown: {type(exc).__name__}: {exc}")


def default_period(site: dashboard.Site, days: int, last: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last ``days`` local days up to ``last`` (default: the newest day with data, or today),
    starting no earlier than the first day with data."""
    last = last or data("latest_day")
    first = last - dt.timedelta(days=days - 1)
    span = data("data_span", with_site=False)
    if span is not None:
        first = min(max(first, span[0].tz_convert(site.timezone).date()), last)
    return first, last


def date_range(site: dashboard.Site, days: int = 7, key: str = "period", last: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """A date-range picker (local dates of the site), defaulting to :func:`default_period`."""
    first, last = default_period(site, days, last)
    picked = st.date_input(f"Period ({site.timezone})", value=(first, last), key=key)
    if isinstance(picked, tuple | list):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:  # the second date is still being picked
            return picked[0], picked[0]
        return first, last
    return picked, picked


def period(site: dashboard.Site, first: dt.date, last: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    return dashboard.local_days(first, last, site.timezone)


def figure(y_title: str, x_title: str, **layout) -> go.Figure:
    """An empty chart with both axes titled (with units) and a compact layout."""
    fig = go.Figure()
    fig.update_layout(
        xaxis_title=x_title,
        yaxis_title=y_title,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
        **layout,
    )
    return fig


def show(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def displayable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with mixed-type text columns (numbers and words in one column) as text, which
    the browser's table (Arrow) needs."""
    mixed = [c for c in frame.columns if frame[c].dtype == object and frame[c].map(type).nunique() > 1]
    return frame.astype({c: str for c in mixed})


def time_axis(site: dashboard.Site) -> str:
    return f"Local time ({site.timezone})"


def money(value: float | None, currency: str, digits: int = 2) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:,.{digits}f} {currency}"


def number(value: float | None, unit: str, digits: int = 1) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:,.{digits}f} {unit}"
