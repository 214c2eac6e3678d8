"""Savings: what the plans promised against what the meters proved, over time."""

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from ui import common

site = common.start(
    "Savings",
    "Planned savings (the schedule against the site's own plan, on forecasts) against realised savings, "
    "proven on the meters (IPMVP Option B: the jobs that really ran, moved back to where the site's own "
    "plan had them), per planned day, with the plan's adherence.",
)
dates = common.data("plan_dates")
newest = max(dt.date.fromisoformat(dates[0]), common.data("latest_day")) if dates else None
first, last = common.date_range(site, days=30, key="savings_period", last=newest)

with common.guard("Savings"):
    history = common.data("savings_history", first, last)
    if history.empty:
        st.info(f"No plans between {first} and {last}: savings appear once the nightly job ('energy plan') has run.")
        st.stop()
    columns = st.columns(4)
    columns[0].metric("Planned savings", common.money(history["planned_total"].sum(), site.currency))
    realised = history["realised_total"]
    columns[1].metric("Realised savings", common.money(realised.sum(min_count=1), site.currency),
                      help=f"{int(realised.notna().sum())} of {len(history)} day(s) have realised savings; band "
                           f"{common.money(history['realised_low'].sum(min_count=1), site.currency)} to "
                           f"{common.money(history['realised_high'].sum(min_count=1), site.currency)}")
    columns[2].metric("of which money", common.money(history["realised_cash"].sum(min_count=1), site.currency),
                      help="Energy, demand charge and switching. The rest is the internal carbon price on the avoided "
                           f"{common.number(history['realised_co2_t'].sum(min_count=1), 't CO₂', 2)}: a steering value, not cash.")
    columns[3].metric("Adherence", "–" if history["adherence"].isna().all() else f"{history['adherence'].mean():.0%}",
                      help="Mean share of the plans' jobs that ran as planned (on their machine, within 30 minutes).")

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
    events = int(history["non_routine"].sum())
    if events:
        st.caption(f"{events} non-routine event(s) (jobs not run, unplanned runs, jobs run on another machine) were "
                   "kept out of the savings: each day's list is on the Plan page under 'What really ran'.")
    ignored = history.index[history["adherence"] < 0.5]
    if len(ignored):
        st.warning(f"On {len(ignored)} day(s) most of the plan was not followed ({', '.join(d.isoformat() for d in ignored[:5])}"
                   f"{' …' if len(ignored) > 5 else ''}): their realised savings are small because the plan did not run, not because it did not work.")
    st.dataframe(history, key="savings_table")
