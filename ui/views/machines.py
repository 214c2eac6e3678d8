"""Machines: each machine's history with its data quality, forecast against actual, idle energy."""

import plotly.graph_objects as go
import streamlit as st

from energy import dashboard
from ui import common

site = common.start(
    "Machines",
    "Per-machine power with estimated and missing intervals marked; forecast against actual with "
    "prediction intervals; idle (standby) energy outside the shifts.",
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

st.subheader("Idle (standby) energy")
with common.guard("Idle energy"):
    idle = common.data("idle_by_day", machine, start, until)
    st.metric("Idle energy in the period", common.number(idle["idle_energy_kwh"].sum(), "kWh", 1))
    fig = common.figure("Idle energy (kWh per day)", f"Day ({site.timezone})")
    fig.add_trace(go.Bar(x=[day.isoformat() for day in idle.index.date], y=idle["idle_energy_kwh"], name="idle energy",
                         customdata=idle["idle_power_kw"], hovertemplate="%{y:.1f} kWh, %{customdata:.1f} kW average"))
    fig.update_xaxes(type="category")
    common.show(fig, "machine_idle")
    st.caption("Idle = every interval outside the configured shifts ([calendar] shifts) or on a shutdown day. "
               "A day with a missing interval (today, until it is over) has no total rather than a partial one.")
