"""A PDF summary an auditor can read: a few A4 pages of key figures, charts and the methodology.

Pages: 1 summary and data quality; 2 energy by month and machine; 3 scope 2, location- vs
market-based, with the factor sources; 4 the scope 2 quality checks and instrument coverage; 5
on-site PV and energy intensity; 6 the EnPI baseline and normalised savings; 7 scheduling savings
(kept apart from the inventory) and the methodology.
The tables in full are in the CSV and XLSX formats. Text is embedded as TrueType, so it can be
searched and extracted.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from energy.reports import performance  # noqa: E402
from energy.reports.tables import TOTAL  # noqa: E402

A4 = (8.27, 11.69)
LARGEST = 10  # machines shown one by one in the energy chart


def _page(pdf: PdfPages, report, title: str):
    figure = plt.figure(figsize=A4)
    figure.text(0.07, 0.965, title, fontsize=15, weight="bold")
    figure.text(0.07, 0.945, f"{report.site} · {report.period.label} · generated {report.generated_utc}", fontsize=8, color="0.35")
    return figure


def _close(pdf: PdfPages, figure) -> None:
    pdf.savefig(figure)
    plt.close(figure)


def _number(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    digits = 3 if unit.startswith("t") else 1  # tonnes: tCO2e, tCO2, mixed or not stated
    return f"{value:,.{digits}f}"


def _text_table(axes, frame: pd.DataFrame, font: float = 8) -> None:
    axes.axis("off")
    if frame.empty:
        axes.text(0, 1, "(no rows)", fontsize=font, va="top")
        return
    cells = frame.astype(str).to_numpy()
    # Columns as wide as their longest text, so nothing is cut off.
    lengths = np.array([max([len(str(c))] + [len(v) for v in cells[:, i]]) for i, c in enumerate(frame.columns)], dtype=float)
    table = axes.table(cellText=cells, colLabels=list(frame.columns), loc="upper left", cellLoc="left",
                       colWidths=list(lengths / lengths.sum()))
    table.auto_set_font_size(False)
    table.set_fontsize(font)
    table.scale(1, 1.25)


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["month"] != TOTAL]


def _note(axes, message: str) -> None:
    axes.axis("off")
    axes.text(0, 0.5, message, fontsize=10)


def _monthly_bars(axes, months: pd.Series, bars: dict[str, pd.Series], ylabel: str, errors: np.ndarray | None = None) -> None:
    """Side-by-side bars per month, one colour per entry of ``bars``."""
    x = np.arange(len(months))
    width = 0.8 / len(bars)
    for position, (label, values) in enumerate(bars.items()):
        offset = (position - (len(bars) - 1) / 2) * width
        axes.bar(x + offset, values, width, label=label, yerr=errors, capsize=3 if errors is not None else 0)
    axes.set_xticks(x, months, rotation=45, fontsize=7)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize=8)


def summary_page(pdf, report) -> None:
    figure = _page(pdf, report, "Sustainability report: summary")
    summary = report.table("summary")
    shown = pd.DataFrame({
        "item": summary["item"],
        "value": [_number(v, u) for v, u in zip(summary["value"], summary["unit"])],
        "unit": summary["unit"],
        "scope": summary["scope"],
    })
    _text_table(figure.add_axes([0.07, 0.45, 0.86, 0.47]), shown, 9)
    figure.text(0.07, 0.40, "\n".join(textwrap.wrap("Energy performance: " + performance.verdict_text(report.table("summary")), 100)), fontsize=9, va="top", weight="bold")
    note = ("Scope 2 follows the GHG Protocol Scope 2 Guidance (dual reporting). Scheduling savings and avoided emissions are "
            "valued with marginal factors and are not part of the inventory. Missing intervals are not filled; their share is "
            "stated with every figure. Full tables: CSV or XLSX format of this report.")
    figure.text(0.07, 0.33, "\n".join(textwrap.wrap(note, 110)), fontsize=8, va="top")
    _close(pdf, figure)


def energy_page(pdf, report) -> None:
    figure = _page(pdf, report, "Energy by month")
    energy = _monthly(report.table("energy"))
    consumers = energy[energy["level"].isin(["machine", "other"])]
    pivot = consumers.pivot_table(index="month", columns="series_id", values="energy_kwh", aggfunc="sum", sort=True) / 1000
    machines = pivot.drop(columns="other").sum().sort_values(ascending=False).index
    if len(machines) > LARGEST:  # a readable chart: the largest machines, the rest together
        pivot = pivot[list(machines[:LARGEST]) + ["other"]].assign(**{"other machines": pivot[machines[LARGEST:]].sum(axis=1)})
    axes = figure.add_axes([0.1, 0.55, 0.82, 0.35])
    bottom = np.zeros(len(pivot))
    # Machines in distinct colours; the rest of the site and the grouped machines in greys.
    greys = {"other": "0.75", "other machines": "0.45"}
    for position, column in enumerate(pivot.columns):
        colour = greys.get(column, plt.cm.tab20(position % 20))
        axes.bar(pivot.index, pivot[column], bottom=bottom, label=column, color=colour)
        bottom += pivot[column].fillna(0).to_numpy()
    axes.set_ylabel("MWh")
    axes.legend(fontsize=7, ncol=4, loc="upper left", bbox_to_anchor=(0, -0.12))
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    site = energy[energy["series_id"] == "site"][["month", "energy_kwh", "measured_pct", "estimated_pct", "missing_pct"]]
    shown = site.assign(**{c: site[c].map(lambda v: f"{v:,.1f}") for c in site.columns if c != "month"})
    _text_table(figure.add_axes([0.07, 0.05, 0.86, 0.33]), shown, 8)
    _close(pdf, figure)


def scope2_page(pdf, report) -> None:
    figure = _page(pdf, report, "Scope 2 emissions: location- and market-based")
    scope = _monthly(report.table("scope2_by_consumer"))
    site = scope[scope["consumer"] == "site"]
    _monthly_bars(figure.add_axes([0.1, 0.6, 0.82, 0.3]), site["month"],
                  {"location-based": site["location_tco2e"], "market-based": site["market_tco2e"]}, "tCO2e")
    sources = report.table("scope2_by_source")
    sources = sources[sources["month"] == TOTAL]
    shown = sources[["method", "basis", "source_id", "grid_kwh", "tco2e", "factor_g_per_kwh", "valid_from", "valid_to"]]
    shown = shown.assign(grid_kwh=shown["grid_kwh"].map("{:,.0f}".format), tco2e=shown["tco2e"].map("{:,.3f}".format),
                         factor_g_per_kwh=shown["factor_g_per_kwh"].map("{:,.1f}".format))
    figure.text(0.07, 0.5, "Factor sources over the period", fontsize=10, weight="bold")
    _text_table(figure.add_axes([0.07, 0.22, 0.86, 0.26]), shown, 7)
    citations = sources.drop_duplicates("source_id")
    text = "\n".join(textwrap.shorten(f"{r.source_id}: {r.citation}", 150) for r in citations.itertuples())
    figure.text(0.07, 0.2, "Citations\n" + text, fontsize=7, va="top")
    _close(pdf, figure)


def quality_page(pdf, report) -> None:
    """Instrument coverage per month and every quality finding, the rules cited once below."""
    figure = _page(pdf, report, "Scope 2 quality checks (Scope 2 Guidance, Table 7.1)")
    coverage = report.table("scope2_coverage")
    shown = pd.DataFrame({
        "month": coverage["month"],
        "grid import MWh": (coverage["grid_import_kwh"] / 1000).map("{:,.1f}".format),
        "by instruments MWh": (coverage["instrument_kwh"] / 1000).map("{:,.1f}".format),
        "covered %": coverage["covered_pct"].map(lambda v: "–" if pd.isna(v) else f"{v:.1f}"),
    })
    figure.text(0.07, 0.92, "Instrument coverage: " + coverage["statement"].iloc[-1], fontsize=10, weight="bold")
    rows = min(len(shown), 14)
    _text_table(figure.add_axes([0.07, 0.9 - 0.018 * (rows + 1), 0.6, 0.018 * (rows + 1)]), shown.tail(rows), 7)
    findings = report.table("scope2_quality")
    rules = list(dict.fromkeys(findings["rule"]))
    lines = []
    for f in findings.itertuples():
        text = f"{f.severity.upper()} · {f.check} · {f.subject} · {f.period}: {f.what} [R{rules.index(f.rule) + 1}]"
        lines += textwrap.wrap(text, 130, subsequent_indent="    ")
    budget = 70 - rows
    more = "\n… (every finding: the scope2_quality table of the XLSX or CSV report)" if len(lines) > budget else ""
    top = 0.86 - 0.018 * rows
    figure.text(0.07, top, "\n".join(lines[:budget]) + more, fontsize=6.5, va="top", family="monospace")
    legend = [line for number, rule in enumerate(rules, start=1) for line in textwrap.wrap(f"R{number}: {rule}", 150)]
    figure.text(0.07, 0.03, "\n".join(legend), fontsize=6, va="bottom", color="0.3")
    _close(pdf, figure)


def _plot_or_note(axes, rows: pd.DataFrame, draw: Callable[[pd.DataFrame], None], message: str) -> None:
    """Draw ``rows`` on ``axes``, or say in ``message`` why there is nothing to draw."""
    if len(rows):
        draw(rows)
    else:
        _note(axes, message)


def pv_intensity_page(pdf, report) -> None:
    figure = _page(pdf, report, "On-site PV and energy intensity")
    pv = _monthly(report.table("pv"))
    axes = figure.add_axes([0.1, 0.56, 0.82, 0.33])
    _plot_or_note(
        axes, pv[pv["pv_meter"] == "site (all PV)"],
        lambda rows: _monthly_bars(axes, rows["month"], {"generation": rows["generation_kwh"] / 1000,
                                                         "self-consumed": rows["self_consumed_kwh"] / 1000}, "MWh"),
        "No PV meter configured.",
    )
    intensity = report.table("intensity")
    lower = figure.add_axes([0.1, 0.1, 0.82, 0.33])

    def draw_intensity(rows: pd.DataFrame) -> None:
        lower.plot(rows["month"], rows["kwh_per_unit"], marker="o")
        lower.set_ylabel("site kWh per unit produced")
        lower.tick_params(axis="x", labelrotation=45, labelsize=7)

    _plot_or_note(lower, intensity[intensity["machine"] == "site"], draw_intensity,
                  "No production file given: energy intensity not computed.")
    _close(pdf, figure)


def enpi_page(pdf, report) -> None:
    figure = _page(pdf, report, "Energy performance (ISO 50001 / ISO 50006)")
    figure.text(0.07, 0.925, "\n".join(textwrap.wrap(performance.verdict_text(report.table("summary")), 95)), fontsize=9, va="top", weight="bold")
    fit = report.table("enpi_fit")
    lines = [f"{r.statistic}: {r.value:.4g}" if isinstance(r.value, float) else f"{r.statistic}: {r.value}" for r in fit.itertuples()]
    figure.text(0.07, 0.86, "\n".join(textwrap.fill(line, 115) for line in lines), fontsize=7, va="top", family="monospace")
    model = report.table("enpi_model")
    if len(model):
        shown = model[["term", "coefficient", "std_error", "p_value", "ci95_low", "ci95_high"]]
        _text_table(figure.add_axes([0.07, 0.52, 0.86, 0.1]), shown.assign(**{c: shown[c].map("{:.4g}".format) for c in shown.columns[1:]}), 7)
    days = report.table("enpi_days")
    cusum = figure.add_axes([0.1, 0.27, 0.82, 0.17])

    def draw_cusum(rows: pd.DataFrame) -> None:
        for period, part in rows.groupby("period", sort=False):
            cusum.plot(pd.to_datetime(part["date"]), part["cusum_kwh"] / 1000, label=f"{period} period")
        cusum.axhline(0, color="0.3", linewidth=0.8)
        cusum.set_ylabel("CUSUM of actual − expected (MWh)")
        cusum.tick_params(axis="x", labelrotation=30, labelsize=7)
        cusum.legend(fontsize=7)

    _plot_or_note(cusum, days[days["complete"] & days["cusum_kwh"].notna()], draw_cusum, "No baseline model: no CUSUM.")
    axes = figure.add_axes([0.1, 0.05, 0.82, 0.15])

    def draw_savings(monthly: pd.DataFrame) -> None:
        error = np.vstack([monthly["savings_kwh"] - monthly["savings_lo95_kwh"], monthly["savings_hi95_kwh"] - monthly["savings_kwh"]])
        _monthly_bars(axes, monthly["month"], {"normalised savings (95 % range)": monthly["savings_kwh"]}, "kWh", error)
        axes.axhline(0, color="0.3", linewidth=0.8)

    claimed = performance.claimed(report.table("summary"))
    _plot_or_note(axes, _monthly(report.table("enpi_savings")) if claimed else pd.DataFrame(), draw_savings,
                  "No normalised saving is claimed (see above): none is charted.")
    _close(pdf, figure)


def scheduling_methodology_page(pdf, report) -> None:
    figure = _page(pdf, report, "Scheduling savings (not part of the inventory) and methodology")
    schedule = report.table("scheduling_savings")
    if len(schedule):
        total = schedule[schedule["plan_date"] == TOTAL].iloc[0]
        text = (f"{len(schedule) - 1} planned day(s): planned savings {_number(total['planned_eur'], 'EUR')} EUR, realised "
                f"{_number(total['realised_eur'], 'EUR')} EUR; energy shifted planned {_number(total['planned_shifted_kwh'], 'kWh')} kWh, "
                f"realised {_number(total['realised_shifted_kwh'], 'kWh')} kWh; avoided emissions (marginal factors) planned "
                f"{_number(total['planned_avoided_tco2e'], 'tCO2e')} t, realised {_number(total['realised_avoided_tco2e'], 'tCO2e')} t.")
    else:
        text = "No nightly plan in the period."
    figure.text(0.07, 0.92, "\n".join(textwrap.wrap(text, 105)), fontsize=9, va="top")
    methodology = report.table("methodology")
    lines = []
    for row in methodology.itertuples():
        lines += textwrap.wrap(f"[{row.section}] {row.item}: {row.detail}", 125)
    figure.text(0.07, 0.84, "\n".join(lines[:75]) + ("\n… (continued in the XLSX methodology sheet)" if len(lines) > 75 else ""),
                fontsize=6.5, va="top")
    _close(pdf, figure)


PAGES = (summary_page, energy_page, scope2_page, quality_page, pv_intensity_page, enpi_page, scheduling_methodology_page)


def write(report, path: Path) -> None:
    """Write the PDF summary to ``path``."""
    with plt.rc_context({"pdf.fonttype": 42, "font.size": 8}):
        with PdfPages(path, metadata={"Title": f"{report.site}: sustainability report {report.period.label}", "Creator": "energy-optimiser"}) as pdf:
            for page in PAGES:
                page(pdf, report)
