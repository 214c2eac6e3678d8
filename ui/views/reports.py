"""Reports: pick a period and download the sustainability report (PDF, XLSX or CSV tables)."""

import plotly.graph_objects as go
import streamlit as st

from energy import dashboard
from ui import common

site = common.start(
    "Reports",
    "Pick a period and download its sustainability report: energy by month, scope 2 emissions "
    "(location- and market-based, by consumer and by factor source), PV, energy intensity, EnPI "
    "and scheduling savings, with the methodology.",
)
first, last = common.date_range(site, days=30, key="reports_period")
production = st.file_uploader("Production counts (optional CSV: date,machine,product,units) for energy intensity and EnPI",
                              type="csv", key="reports_production")

with common.guard("Report"):
    report = common.data("sustainability_report", first, last, production.getvalue() if production else None)
    scope2 = report.table("scope2_by_consumer")
    # One bar per month, stacked by consumer: the site rows and the period totals are sums of those.
    parts = scope2[(scope2["consumer"] != "site") & (scope2["month"] != "total")]
    if not parts.empty:
        fig = common.figure("Scope 2, location-based (t CO₂e)", "Month", barmode="stack")
        for (consumer, name), part in parts.groupby(["consumer", "name"]):
            fig.add_trace(go.Bar(x=part["month"], y=part["location_tco2e"], name=f"{name} ({consumer})"))
        fig.update_xaxes(type="category")
        common.show(fig, "reports_chart")
    stem = f"sustainability_report_{first}_{last}"
    columns = st.columns(3)
    for column, (fmt, label, mime) in zip(columns, (
        ("pdf", "PDF report", "application/pdf"),
        ("xlsx", "XLSX workbook", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("csv", "CSV tables (zip)", "application/zip"),
    )):
        column.download_button(f"Download {label}", lambda fmt=fmt: dashboard.report_file(report, fmt),
                               file_name=f"{stem}.{'zip' if fmt == 'csv' else fmt}", mime=mime, key=f"download_{fmt}")
    for table in report.tables:
        with st.expander(f"{table.title} ({len(table.frame)} rows)", expanded=table.name == "summary"):
            st.caption(table.description)
            st.dataframe(common.displayable(table.frame), key=f"table_{table.name}", hide_index=True)
    st.caption(f"The same report from the command line: energy report --config SITE.toml --from {first} --to {last} --format pdf --out report.pdf")
