"""The report as an Excel workbook (openpyxl).

A ``contents`` sheet first (site, period, generation time and one line per table), then one
sheet per table named like its CSV file, the methodology last. Every table sheet has its header
in row 1, frozen, with an auto-filter; units are in the column names (``_kwh``, ``_tco2e``,
``_pct``, ``_g_per_kwh``, ``_eur``) and set the cells' number format.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
FORMATS = (  # column-name suffix → number format, first match wins
    ("_tco2e", "#,##0.000"),
    ("_kwh", "#,##0.0"),
    ("_pct", "0.0"),
    ("_g_per_kwh", "0.0"),
    ("_eur", "#,##0.00"),
    ("p_value", "0.0000"),
    ("kwh_per_unit", "0.000"),
)


def number_format(column: str) -> str | None:
    for suffix, fmt in FORMATS:
        if column.endswith(suffix):
            return fmt
    return None


def _cell(value):
    # Excel has no NaN or infinity: such cells stay empty.
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        return _cell(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (dt.date, bool, int, float, str)):
        return value
    return str(value)


def _sheet(book: Workbook, table) -> None:
    sheet = book.create_sheet(table.name[:31])
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for row in frame.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        fmt = number_format(column)
        width = max([len(column)] + [len(str(v)) for v in frame.iloc[:200, position - 1].tolist()]) + 2
        sheet.column_dimensions[letter].width = min(max(width, 10), 80)
        if fmt is None and column == "date":
            fmt = "yyyy-mm-dd"
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
                cell.number_format = fmt
        if column in ("detail", "description", "note", "meaning", "what", "rule"):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    if columns and len(frame):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"


def write(report, path: Path) -> None:
    """Write the workbook to ``path``."""
    book = Workbook()
    contents = book.active
    contents.title = "contents"
    contents.append([f"{report.site}: sustainability report"])
    contents["A1"].font = Font(bold=True, size=14)
    contents.append([f"Period: {report.period.label} (local days, {report.period.tz})"])
    contents.append([f"Generated: {report.generated_utc}"])
    contents.append(["Units are in the column names: _kwh kWh, _tco2e tonnes CO2e (tonnes CO2 where a gases column or the "
                     "summary's unit says co2: see scope2_quality), _pct percent, _g_per_kwh g/kWh, _eur euro."])
    contents.append([])
    contents.append(["sheet", "title", "description", "rows"])
    for cell in contents[6]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for table in report.tables:
        contents.append([table.name[:31], table.title, table.description, len(table.frame)])
    contents.column_dimensions["A"].width = 22
    contents.column_dimensions["B"].width = 34
    contents.column_dimensions["C"].width = 110
    contents.freeze_panes = "A7"
    for table in report.tables:
        _sheet(book, table)
    book.properties.title = f"{report.site}: sustainability report {report.period.label}"
    book.properties.creator = "energy-optimiser"
    book.save(path)
