"""Reports: pick a period and download the sustainability report (PDF, XLSX or CSV tables)."""

import plotly.graph_objects as go
import streamlit as st

from energy import dashboard
from energy.reports import performance
from ui import common

site = common.start(
    "Reports",
    "Pick a period and download its sustainability report: energy by month, scope 2 emissions "
    "(location- and market-based, by consumer and by factor source), PV, energy intensity, EnPI "
    "and scheduling savings, with the methodology.",
)
first, last = common.date_range(site, days=30, key="reports_period")
production = st.file_uploader("Production quantities for energy intensity and the EnPI (optional CSV: date,machine,product,units[,unit]; "
                              "without one, the site's [enpi] production_file)", type="csv", key="reports_production")

with common.guard("Report"):
    default_baseline = dashboard.enpi_baseline(site, first)
    picked = st.date_input(f"EnPI baseline period ({site.timezone})", value=default_baseline, key="reports_baseline")
    baseline = tuple(picked) if isinstance(picked, tuple | list) and len(picked) == 2 else default_baseline
    report = common.data("sustainability_report", first, last, production.getvalue() if production else None, baseline)
    scope2 = report.table("scope2_by_consumer")
    # One bar per month, stacked by consumer: the site rows and the period totals are sums of those.
    parts = scope2[(scope2["consumer"] != "site") & (scope2["month"] != "total")]
    if not parts.empty:
        unit = report.table("summary").set_index("item").loc["scope 2, location-based", "unit"]  # what the factors count
        fig = common.figure(f"Scope 2, location-based ({unit.replace('CO2', 'CO₂')})", "Month", barmode="stack")
        for (consumer, name), part in parts.groupby(["consumer", "name"]):
            fig.add_trace(go.Bar(x=part["month"], y=part["location_tco2e"], name=f"{name} ({consumer})"))
        fig.update_xaxes(type="category")
        common.show(fig, "reports_chart")
    # The EnPI's verdict in words, and its CUSUM: a falling line is energy saved against the baseline.
    verdict = performance.verdict_text(report.table("summary"))
    (st.success if performance.claimed(report.table("summary")) else st.warning)(verdict)
    days = report.table("enpi_days")
    days = days[days["complete"] & days["cusum_kwh"].notna()]
    if not days.empty:
        fig = common.figure("CUSUM of actual − expected consumption (kWh)", f"Day ({site.timezone})")
        for name, part in days.groupby("period", sort=False):
            fig.add_trace(go.Scatter(x=part["date"], y=part["cusum_kwh"], name=f"{name} period"))
        common.show(fig, "reports_cusum")
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
