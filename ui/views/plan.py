"""Plan: a day's schedule beside its baseline, the site load before and after, savings, solver status."""

import datetime as dt

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from energy.planning.runs import COMPONENTS
from ui import common

site = common.start(
    "Plan",
    "Tomorrow's schedule (or any planned day) as a Gantt chart beside the baseline; site load "
    "before and after against price, PV and the grid limit; expected savings; the solver's status.",
)
dates = common.data("plan_dates")
plan_date = st.date_input(f"Plan date ({site.timezone})", value=common.data("default_plan_date"), key="plan_date")
if dates:
    st.caption(f"Days with a stored plan: {', '.join(dates[:10])}{' …' if len(dates) > 10 else ''}")

with common.guard("Plan"):
    view = common.data("plan_view", plan_date)
    if view.run is None and view.failed is None:
        st.info(f"No plan stored for {plan_date}: the nightly job ('energy plan --config SITE.toml --date {plan_date}') has not run for it.")
        st.stop()
    if view.failed is not None:
        st.error(f"The newest run for {plan_date} (run {view.failed.id}) is {view.failed.status}; "
                 + ("the plan below is the last good one." if view.run else "there is no good plan for this day."))
        for line in (view.failed.schedule or {}).get("explanation") or []:
            st.markdown(f"- {line}")
    shown = view.run or view.failed
    solver = shown.solver or {}
    columns = st.columns(4)
    columns[0].metric("Solver status", shown.status)
    columns[1].metric("Expected savings", common.money(None if view.savings is None else view.savings["total_eur"], view.currency))
    columns[2].metric("Optimality gap", "–" if solver.get("gap") is None else f"{solver['gap']:.2%}")
    columns[3].metric("Solve time", common.number(solver.get("solve_seconds"), "s", 2))
    st.caption(f"Run {shown.id}, stored {dt.datetime.fromtimestamp(shown.created_ms / 1000, dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
               f"time limit {solver.get('time_limit_s', '–')} s, gap limit {solver.get('gap_limit', '–')}.")

    st.subheader("Schedule against the baseline")
    if view.jobs.empty:
        st.info("This run has no scheduled jobs.")
    else:
        jobs = view.jobs.assign(row=view.jobs["machine"] + " · " + view.jobs["plan"])
        fig = common.figure("Machine · plan", common.time_axis(site), barmode="overlay")
        for plan, colour in (("baseline", "lightgray"), ("optimised", "seagreen")):
            part = jobs[jobs["plan"] == plan]
            fig.add_trace(go.Bar(
                y=part["row"], x=(part["end"] - part["start"]).dt.total_seconds() * 1000, base=part["start"].dt.tz_localize(None),
                orientation="h", name=plan, marker_color=colour, text=part["job"], textposition="inside",
                hovertemplate="%{text}: %{base|%H:%M} for %{x} ms<extra></extra>",
            ))
        fig.update_xaxes(type="date")
        fig.update_yaxes(categoryorder="category descending")
        common.show(fig, "plan_gantt")

    st.subheader("Site load before and after")
    load = view.load
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = load.index.tz_localize(None)
    for column, name, style in (("before_kw", "before (baseline)", {"dash": "dot"}), ("after_kw", "after (optimised)", {}),
                                ("pv_kw", "PV forecast", {"color": "gold"})):
        if column in load:
            fig.add_trace(go.Scatter(x=x, y=load[column], name=name, line=style), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=load["price_per_kwh"], name="price", line={"shape": "hv", "color": "gray"}), secondary_y=True)
    if view.grid_limit_kw:
        fig.add_hline(y=view.grid_limit_kw, line_color="firebrick", annotation_text=f"grid limit {view.grid_limit_kw:,.0f} kW")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": 1.08}, hovermode="x unified")
    fig.update_xaxes(title_text=common.time_axis(site))
    fig.update_yaxes(title_text="Grid power (kW)", secondary_y=False)
    fig.update_yaxes(title_text=f"Import price ({view.currency}/kWh)", secondary_y=True)
    common.show(fig, "plan_load")

    st.subheader("Expected savings by component")
    if view.savings is None:
        st.info("No savings: the run has no schedule or no baseline to compare with.")
    else:
        names = [c.removesuffix("_eur") for c in COMPONENTS]
        fig = common.figure(f"Savings ({view.currency})", "Cost component")
        fig.add_trace(go.Bar(x=names + ["total"], y=[view.savings[c] for c in COMPONENTS] + [view.savings["total_eur"]], name="expected savings"))
        common.show(fig, "plan_savings")

    st.subheader("What really ran")
    realised = common.data("realised_day", view.run.id) if view.run else None
    if realised is None or "adherence" not in realised:
        st.info("Not known yet: once the day is over and its readings are in, the jobs really run are detected from "
                "the machines' meters and matched to this plan (adherence), and the savings are proven on them.")
    else:
        adherence, band = realised["adherence"], realised["band"]
        columns = st.columns(3)
        columns[0].metric("Adherence", f"{adherence['rate']:.0%}",
                          help="Share of the plan's jobs that ran on their machine within 30 minutes of their planned start.")
        columns[1].metric("Realised savings", common.money(realised["savings"]["total_eur"], view.currency),
                          help=f"Uncertainty band {common.money(band['low_eur'], view.currency)} to {common.money(band['high_eur'], view.currency)}")
        columns[2].metric("Jobs", f"{adherence['as_planned']} as planned, {adherence['moved']} moved, {adherence['not_run']} not run",
                          help=f"{adherence['unplanned']} unplanned run(s) detected")
        st.dataframe(realised["adherence_table"], key="plan_adherence", hide_index=True)
