"""Emissions: location- and market-based scope 2 by month and machine, with the factor sources."""

import plotly.graph_objects as go
import streamlit as st

from ui import common

site = common.start(
    "Emissions",
    "Scope 2 emissions of purchased electricity, location-based (grid average) and market-based "
    "(contractual and residual-mix factors), by month and machine, with each factor's source.",
)
first, last = common.date_range(site, days=90, key="emissions_period")
start, end = common.period(site, first, last)

with common.guard("Emissions"):
    table = common.data("emissions_by_month", start, end)
    if table.empty or table["energy_kwh"].sum() == 0:
        st.info(f"No energy stored between {first} and {last}.")
        st.stop()
    totals = table[table["series"] == "site"].groupby("method")["co2_kg"].sum(min_count=1)
    columns = st.columns(2)
    for column, method in zip(columns, ("location", "market")):
        value = totals.get(method)
        column.metric(f"Site, {method}-based", common.number(None if value is None else value / 1000, "t CO₂e", 2))
    for row in table[(table["series"] == "site") & (table["missing_intervals"] > 0)].itertuples():
        st.warning(f"{row.method}-based, {row.month:%Y-%m}: {row.missing_intervals} interval(s) with grid import have no carbon factor "
                   "and are left out (load the factor data with 'energy init')")

    method = st.radio("Method", ["location", "market"], horizontal=True, key="emissions_method")
    machines = table[(table["series"] != "site") & (table["method"] == method)]
    fig = common.figure("Emissions (t CO₂e)", "Month", barmode="stack")
    names = common.data("machine_names", with_site=False)
    for series, part in machines.groupby("series"):
        fig.add_trace(go.Bar(x=part["month"], y=part["co2_kg"] / 1000, name=f"{names[series]} ({series})" if series in names else series))
    site_rows = table[(table["series"] == "site") & (table["method"] == method)]
    fig.add_trace(go.Scatter(x=site_rows["month"], y=site_rows["co2_kg"] / 1000, name="site (grid import)", mode="lines+markers"))
    fig.update_xaxes(dtick="M1", tickformat="%Y-%m")
    common.show(fig, "emissions_chart")
    st.caption("Each interval's grid import is shared among the machines and the unmetered rest in proportion to "
               "their energy; market-based applies contractual instruments first, then supplier or residual-mix factors.")

    st.subheader("Factor sources")
    sources = common.data("factor_sources", start, end, with_site=False)
    if sources.empty:
        st.info("No emission factor sources stored: add [[emissions.factors]] to the config and run 'energy init'.")
    else:
        st.dataframe(sources, key="emissions_sources", hide_index=True)
    st.dataframe(table, key="emissions_table")
