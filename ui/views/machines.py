"""Machines: each machine's history with its data quality, forecast against actual, standby energy."""

import plotly.graph_objects as go
import streamlit as st

from energy import dashboard
from ui import common

site = common.start(
    "Machines",
    "Per-machine power with estimated and missing intervals marked; forecast against actual with "
    "prediction intervals; standby energy (the machine's idle state) per day, in and outside the shifts.",
)
names = common.data("machine_names", with_site=False)
if not names:
    st.info("No machines are configured: add [[machines]] to the site's TOML and run 'energy init'.")
    st.stop()
machine = st.selectbox("Machine", list(names), format_func=lambda m: f"{names[m]} ({m})", key="machine")
first, last = common.date_range(site, key="machines_period")
start, end = common.period(site, first, last)
until = dashboard.elapsed(site, start, end)

with common.guard("History"):
    freq = dashboard.display_freq(start, until)
    series = common.data("power_kw", "machine", machine, start, until, freq)
    counts = dashboard.quality_counts(series)
    columns = st.columns(4)
    columns[0].metric("Energy", common.number(series["energy_kwh"].sum(), "kWh", 0))
    columns[1].metric("Measured intervals", f"{counts['measured']:,}")
    columns[2].metric("Estimated intervals", f"{counts['estimated']:,}")
    columns[3].metric("Missing intervals", f"{counts['missing']:,}")
    if series["power_kw"].notna().any():
        fig = common.figure("Power (kW)", common.time_axis(site))
        fig.add_trace(go.Scatter(x=series.index, y=series["power_kw"], name=f"{names[machine]} ({'hourly' if freq else 'per interval'} average)"))
        estimated = series[series["quality"] == "estimated"]
        fig.add_trace(go.Scatter(x=estimated.index, y=estimated["power_kw"], mode="markers", name="estimated",
                                 marker={"color": "orange", "size": 6, "symbol": "diamond"}))
        missing = series[series["quality"] == "missing"]
        fig.add_trace(go.Scatter(x=missing.index, y=[0.0] * len(missing), mode="markers", name="missing (no data)",
                                 marker={"color": "red", "size": 7, "symbol": "x"}))
        common.show(fig, "machine_history")
    else:
        st.info(f"No stored history for {names[machine]} from {first} to {last} (up to now).")

st.subheader("Forecast against actual")
with common.guard("Forecast"):
    forecast = common.data("forecast_vs_actual", "machine", machine, start, end)
    if forecast.empty:
        st.info(f"No forecast stored for {names[machine]} in this period ('energy forecast' stores them).")
    else:
        fig = common.figure("Power (kW)", common.time_axis(site))
        for level, opacity in (("95", 0.15), ("80", 0.3)):
            fig.add_trace(go.Scatter(x=forecast.index, y=forecast[f"hi{level}_kw"], line={"width": 0}, showlegend=False, hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=forecast.index, y=forecast[f"lo{level}_kw"], line={"width": 0}, fill="tonexty",
                                     fillcolor=f"rgba(31,119,180,{opacity})", name=f"{level} % prediction interval"))
        fig.add_trace(go.Scatter(x=forecast.index, y=forecast["forecast_kw"], name="forecast", line={"dash": "dash"}))
        fig.add_trace(go.Scatter(x=forecast.index, y=forecast["actual_kw"], name="actual"))
        common.show(fig, "machine_forecast")
        error = (forecast["forecast_kw"] - forecast["actual_kw"]).abs().mean()
        st.caption(f"Models: {', '.join(sorted(forecast['model'].unique()))}; mean absolute error {common.number(error, 'kW', 2)} where actuals exist.")

st.subheader("Standby energy")
with common.guard("Standby energy"):
    idle = common.data("idle_by_day", machine, start, until)
    columns = st.columns(3)
    columns[0].metric("Standby energy in the period", common.number(idle["idle_kwh"].sum(), "kWh", 1))
    hours = idle["idle_hours"].sum()
    columns[1].metric("Standby level", common.number(idle["idle_kwh"].sum() / hours if hours > 0 else None, "kW", 1))
    columns[2].metric("Standby on non-working days", common.number(idle["idle_non_working_kwh"].sum(), "kWh", 1))
    fig = common.figure("Standby energy (kWh per day)", f"Day ({site.timezone})", barmode="stack")
    days = [day.isoformat() for day in idle.index.date]
    for column, name in (("idle_in_shifts_kwh", "in shifts"), ("idle_outside_shifts_kwh", "outside shifts (working days)"),
                         ("idle_non_working_kwh", "non-working days")):
        fig.add_trace(go.Bar(x=days, y=idle[column], name=f"{name} (kWh)", hovertemplate="%{y:.1f} kWh"))
    fig.update_xaxes(type="category")
    common.show(fig, "machine_idle")
    st.caption("Standby = the machine's idle state, read from its own meter data: on, drawing its standby level, not "
               "producing (minute by minute where 1-minute readings are stored, else per interval). Non-working days are "
               "Sundays, public holidays and shutdown days; Saturdays are working days. A day with a missing interval "
               "(today, until it is over) has no total rather than a partial one.")
