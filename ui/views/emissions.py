"""Emissions: location- and market-based scope 2 by month and machine, with the factor sources
and the quality checks of the factors and instruments (GHG Protocol Scope 2 Guidance, Table 7.1).

The figures are the sustainability report's own scope 2 tables (``energy.dashboard.emissions``),
so this page and a report of the same days always agree. Units say what the factors count:
t CO₂e, t CO₂ (CO₂-only factors), mixed or not stated (``energy.emissions.quality``).
"""

import plotly.graph_objects as go
import streamlit as st

from energy import dashboard
from energy.emissions import quality
from energy.reports.tables import TOTAL
from ui import common

site = common.start(
    "Emissions",
    "Scope 2 emissions of purchased electricity, location-based (grid average) and market-based "
    "(contractual and residual-mix factors), by month and machine, with each factor's source and the quality "
    "checks of factors and instruments (vintage, market, evidence, gases, instrument coverage).",
)
first, last = common.date_range(site, days=90, key="emissions_period")

with common.guard("Emissions"):
    scope = common.data("emissions", first, last)
    table = scope.by_consumer
    site_total = table[(table["month"] == TOTAL) & (table["consumer"] == "site")].iloc[0]
    if site_total["energy_kwh"] == 0:
        st.info(f"No energy stored between {first} and {last}.")
        st.stop()
    unit = {method: quality.emissions_unit(gases).replace("CO2", "CO₂") for method, gases in scope.gases.items()}
    columns = st.columns(2)
    for column, method in zip(columns, ("location", "market")):
        column.metric(f"Site, {method}-based", common.number(site_total[f"{method}_tco2e"], unit[method], 2))
    for month, counts in scope.missing_factor.drop(index=TOTAL).iterrows():
        for method, count in counts.items():
            if count:
                st.warning(f"{method}-based, {month}: {count} interval(s) with grid import have no carbon factor "
                           "and are left out (load the factor data with 'energy init')")

    method = st.radio("Method", ["location", "market"], horizontal=True, key="emissions_method")
    monthly = table[table["month"] != TOTAL]
    fig = common.figure(f"Emissions ({unit[method]})", "Month", barmode="stack")
    for (consumer, name), part in monthly[monthly["consumer"] != "site"].groupby(["consumer", "name"], sort=False):
        fig.add_trace(go.Bar(x=part["month"], y=part[f"{method}_tco2e"], name=f"{name} ({consumer})"))
    site_rows = monthly[monthly["consumer"] == "site"]
    fig.add_trace(go.Scatter(x=site_rows["month"], y=site_rows[f"{method}_tco2e"], name="site", mode="lines+markers"))
    fig.update_xaxes(type="category")
    common.show(fig, "emissions_chart")
    st.caption("Each interval's grid import is shared among the machines and the rest of the site in proportion to their "
               "consumption; market-based applies contractual instruments first, then supplier or residual-mix factors. "
               "The same figures as the report's 'Scope 2 by month and consumer' table.")
    st.dataframe(common.displayable(table), key="emissions_table", hide_index=True)

    st.subheader("Factor sources")
    stored = dashboard.factor_source_table(scope.sources)  # the sources the figures were made with
    if stored.empty:
        st.info("No emission factor sources stored: add [[emissions.factors]] to the config and run 'energy init'.")
    else:
        st.caption("Grid import valued by each factor source or contractual instrument, per month, with citation and validity.")
        st.dataframe(common.displayable(scope.by_source), key="emissions_sources", hide_index=True)
        with st.expander("Every stored factor source"):
            st.dataframe(stored, key="emissions_stored_sources", hide_index=True)

    st.subheader("Quality checks")
    st.caption("Each factor source and contractual instrument against the energy it valued (GHG Protocol Scope 2 Guidance, "
               "Table 7.1): vintage, cancellation, registry evidence, market boundary, gases counted. A finding does not change "
               "a figure: a stale factor may be the best available, so it is applied and flagged. The same checks as the "
               "report's 'Scope 2 quality checks' table.")
    st.markdown(f"**Instrument coverage:** {scope.coverage['statement'].iloc[-1]} in the period.")
    for finding in scope.quality[scope.quality["severity"] == "warning"].itertuples():
        st.warning(f"{finding.check}, {finding.subject} ({finding.period}): {finding.what}")
    st.dataframe(scope.quality, key="emissions_quality", hide_index=True)
    st.dataframe(common.displayable(scope.coverage), key="emissions_coverage", hide_index=True)
