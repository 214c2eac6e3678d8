"""Tidy CSV: one file per table (``<table>.csv``), units in the column names, plus ``index.csv``
listing the files with their titles and descriptions.

Written into a folder, or into a ZIP archive of the same files when the output path ends in
``.zip``. UTF-8, comma-separated, ``.`` as decimal separator, numbers at full precision, empty
cells for values that do not exist (e.g. kWh per unit with no units produced).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

INDEX = "index.csv"


def _text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def files(report) -> dict[str, str]:
    """File name → CSV text of every table, and the index."""
    out = {f"{t.name}.csv": _text(t.frame) for t in report.tables}
    index = pd.DataFrame(
        [(f"{t.name}.csv", t.title, t.description, len(t.frame)) for t in report.tables],
        columns=["file", "title", "description", "rows"],
    )
    header = pd.DataFrame([(INDEX, f"{report.site}: sustainability report {report.period.label}", f"generated {report.generated_utc}", len(index))], columns=index.columns)
    out[INDEX] = _text(pd.concat([header, index], ignore_index=True))
    return out


def write(report, path: Path, zipped: bool = False) -> None:
    """Write the tables into the new folder ``path`` (or the archive ``path`` when ``zipped``)."""
    content = files(report)
    if zipped:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in content.items():
                archive.writestr(name, text)
        return
    path.mkdir()
    for name, text in content.items():
        (path / name).write_text(text, encoding="utf-8")


def read(path: Path) -> dict[str, pd.DataFrame]:
    """The tables of a CSV report folder or archive, by table name (the inverse of :func:`write`)."""
    path = Path(path)
    if path.is_dir():
        names = [p.name for p in path.glob("*.csv")]
        return {n[:-4]: pd.read_csv(path / n) for n in names if n != INDEX}
    with zipfile.ZipFile(path) as archive:
        return {n[:-4]: pd.read_csv(archive.open(n)) for n in archive.namelist() if n != INDEX}
