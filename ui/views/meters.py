"""Meters: the health of every meter; stale data is shown as stale, never as live."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from energy import dashboard
from ui import common

STATE_LABEL = {"live": "Live", "stale": "Stale", "failing": "Failing", "no data": "No data"}
STATE_COLOUR = {"live": "seagreen", "stale": "orange", "failing": "firebrick", "no data": "gray"}

site = common.start(
    "Meters",
    "Every configured meter: its newest reading (or imported interval) and how old it is, polls that "
    "worked and failed, the last error, and how far its readings are turned into intervals.",
)
st.button("Refresh", key="meters_refresh", on_click=common.refresh)

with common.guard("Meters"):
    status = common.data("meter_status", with_site=False)
    if status.empty:
        st.info("No meters are configured: add [[meters]] to the site's TOML and run 'energy init'.")
        st.stop()
    counts = status["state"].value_counts()
    columns = st.columns(4)
    for column, state in zip(columns, ("live", "stale", "failing", "no data")):
        column.metric(STATE_LABEL[state], int(counts.get(state, 0)))
    st.caption(f"Stale: no reading for more than max({dashboard.STALE_MIN.total_seconds() / 60:.0f} min, "
               f"{dashboard.STALE_POLLS} poll periods); failing: {dashboard.FAILING_POLLS}+ failed polls in a row. "
               f"Checked {pd.Timestamp.now(tz=site.timezone):%Y-%m-%d %H:%M:%S}.")

    age_min = status["age"].dt.total_seconds() / 60
    fig = common.figure("Time since its newest data (min)", "Meter", yaxis_type="log")
    fig.add_trace(go.Bar(x=status["meter"], y=age_min.clip(lower=0.01), marker_color=[STATE_COLOUR[s] for s in status["state"]],
                         text=[STATE_LABEL[s] for s in status["state"]], name="age of newest reading"))
    common.show(fig, "meters_chart")

    table = pd.DataFrame({
        "meter": status["meter"],
        "state": status["state"].map(STATE_LABEL),
        "role": status["role"],
        "machine": status["machine"],
        "model": status["model"],
        f"last reading ({site.timezone})": status["last_reading"].dt.tz_convert(site.timezone).dt.strftime("%Y-%m-%d %H:%M:%S"),
        f"intervals to ({site.timezone})": status["last_interval_end"].dt.tz_convert(site.timezone).dt.strftime("%Y-%m-%d %H:%M"),
        "age of newest data (min)": age_min.round(1),
        "polls ok": status["ok_count"],
        "polls failed": status["error_count"],
        "failed in a row": status["consecutive_errors"],
        "last error": status["last_error"],
        f"processed to ({site.timezone})": status["processed_to"].dt.tz_convert(site.timezone).dt.strftime("%Y-%m-%d %H:%M"),
    })
    st.dataframe(table, key="meters_table", hide_index=True)
