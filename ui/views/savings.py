"""Savings: what the plans promised against what the meters proved, over time."""

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from ui import common

site = common.start(
    "Savings",
    "Planned savings (schedule against baseline on forecasts) against realised savings (the same "
    "comparison on the day's measured load), per planned day.",
)
dates = common.data("plan_dates")
newest = max(dt.date.fromisoformat(dates[0]), common.data("latest_day")) if dates else None
first, last = common.date_range(site, days=30, key="savings_period", last=newest)

with common.guard("Savings"):
    history = common.data("savings_history", first, last)
    if history.empty:
        st.info(f"No plans between {first} and {last}: savings appear once the nightly job ('energy plan') has run.")
        st.stop()
    columns = st.columns(3)
    columns[0].metric("Planned savings", common.money(history["planned_total"].sum(), site.currency))
    realised = history["realised_total"]
    columns[1].metric("Realised savings", common.money(realised.sum(min_count=1), site.currency),
                      help=f"{int(realised.notna().sum())} of {len(history)} day(s) have realised savings")
    columns[2].metric("Planned days", f"{len(history)}")

    fig = common.figure(f"Savings ({site.currency} per day)", f"Plan date ({site.timezone})", barmode="group")
    days = [day.isoformat() for day in history.index]
    fig.add_trace(go.Bar(x=days, y=history["planned_total"], name="planned"))
    fig.add_trace(go.Bar(x=days, y=history["realised_total"], name="realised"))
    fig.add_trace(go.Scatter(x=days, y=history["planned_total"].cumsum(), name="planned, cumulative", line={"dash": "dot"}))
    fig.add_trace(go.Scatter(x=days, y=history["realised_total"].cumsum(), name="realised, cumulative", connectgaps=True))
    fig.update_xaxes(type="category")
    common.show(fig, "savings_chart")
    if realised.isna().any():
        st.caption("Days without realised savings: their readings are not complete yet, or 'energy plan' has not computed them.")
    st.dataframe(history, key="savings_table")
