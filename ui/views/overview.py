"""Overview: what the site draws today, against yesterday, the month's peak and the grid limit."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import common

site = common.start(
    "Overview",
    "Site load today against yesterday, the billing period's peak so far and the grid limit; "
    "the bill and CO₂ this month so far; energy performance against the baseline; what needs attention.",
)
day = st.date_input(f"Day ({site.timezone})", value=common.data("latest_day"), key="day")

with common.guard("Overview"):
    view = common.data("overview", day)
    month = view.month

    st.subheader("Alerts")
    if not view.alerts:
        st.success("No alerts: every meter is live and the newest plan succeeded.")
    for alert in view.alerts:
        {"error": st.error, "warning": st.warning}.get(alert.level, st.info)(alert.text)

    st.subheader(f"This month so far ({month.start:%Y-%m-%d} to {month.end.tz_convert(site.timezone):%Y-%m-%d %H:%M})")
    columns = st.columns(5)
    bill = month.bill or {}
    currency = month.bill_currency or site.currency
    columns[0].metric("Grid import", common.number(month.energy_kwh, "kWh", 0))
    columns[1].metric("Bill so far", common.money(bill.get("total"), currency, 0),
                      help=", ".join(f"{name} {common.money(value, currency, 0)}" for name, value in bill.items() if name != "total" and value) or None)
    columns[2].metric("Demand charges so far", common.money(bill.get("demand"), currency, 0))
    columns[3].metric("Peak so far", common.number(month.peak_kw, "kW"),
                      help=None if month.peak_at is None else f"at {month.peak_at:%Y-%m-%d %H:%M}")
    columns[4].metric("CO₂ (location-based)", common.number(None if month.co2_kg is None else month.co2_kg / 1000, "t CO₂e", 2),
                      help=f"{month.co2_share:.0%} of the imported energy has a carbon factor")
    if month.bill_problem:
        st.info(f"No bill so far: {month.bill_problem}")

    with common.guard("Energy performance"):
        # A normalised saving is headlined only when the baseline model is adequate and the saving
        # exceeds its uncertainty (ASHRAE Guideline 14); otherwise the verdict says why, in words.
        performance = common.data("month_performance", day)
        st.subheader(f"Energy performance this month (ISO 50006, against the baseline {performance.baseline_label})")
        if performance.verdict.claimed:
            total = performance.total
            columns = st.columns(3)
            columns[0].metric("Normalised saving", f"{total['savings_pct']:.1f} %",
                              help=f"fractional savings uncertainty ±{total['fsu68_pct']:.0f} % of it at 68 % confidence")
            columns[1].metric("Saved against the baseline", common.number(total["savings_kwh"], "kWh", 0),
                              help=f"95 % range {total['savings_lo95_kwh']:,.0f} to {total['savings_hi95_kwh']:,.0f} kWh")
            columns[2].metric("EnPI (actual / expected)", f"{total['enpi_ratio']:.3f}")
            st.success(performance.verdict.text)
        elif performance.model is not None:
            st.warning(performance.verdict.text)
        else:
            st.info(performance.verdict.text)

    st.subheader(f"Site load on {day:%Y-%m-%d}")
    if view.today["power_kw"].notna().any() or view.yesterday["power_kw"].notna().any() or not view.forecast.empty:
        fig = common.figure("Grid power (kW)", common.time_axis(site))
        wall = view.today.index.tz_localize(None)
        fig.add_trace(go.Scatter(x=wall, y=view.today["power_kw"], name="Today", line={"width": 2}))
        fig.add_trace(go.Scatter(x=view.yesterday.index.tz_localize(None) + pd.Timedelta(days=1), y=view.yesterday["power_kw"],
                                 name="Yesterday (same time)", line={"dash": "dot"}))
        if not view.forecast.empty:
            fig.add_trace(go.Scatter(x=view.forecast.index.tz_localize(None), y=view.forecast["forecast_kw"], name="Forecast",
                                     line={"dash": "dash", "color": "gray"}))
        if month.peak_kw is not None:
            fig.add_hline(y=month.peak_kw, line_dash="dash", line_color="firebrick",
                          annotation_text=f"peak so far {month.peak_kw:,.0f} kW (demand charge threshold)")
        if view.grid_limit_kw:
            fig.add_hline(y=view.grid_limit_kw, line_color="black", annotation_text=f"grid limit {view.grid_limit_kw:,.0f} kW")
        common.show(fig, "overview_load")
        counts = common.dashboard.quality_counts(view.today)
        st.caption(f"Intervals today: {counts['measured']} measured, {counts['estimated']} estimated, {counts['missing']} missing or not yet in.")
    else:
        st.info(f"No site load stored for {day:%Y-%m-%d} or the day before: collect or import readings ('energy collect', 'energy import readings').")
