"""Production counts: the CSV an energy manager exports from the MES or ERP, one row per day,
machine and product.

Format (UTF-8, header required, extra columns ignored)::

    date,machine,product,units,unit
    2024-05-02,furnace1,billet-80,4.12,t
    2024-05-02,furnace1,billet-120,0.96,t

``date`` is the local production day (YYYY-MM-DD); ``machine`` a machine id of the config;
``product`` any non-empty label; ``units`` the quantity produced, a finite number ≥ 0;
``unit`` (optional column) its unit of measure (``t``, ``pcs`` …), the same on every row of a
product; without the column, or in an empty cell, it is ``unit``. A day without a row for a
product produced none of it. Rows repeating a (date, machine, product) are added up. Every error
names the file, its line (the header is line 1) and the field.

The EnPI (:mod:`energy.reports.enpi`) takes these quantities as relevant variables (ISO 50006);
``energy.twin.production`` writes such a file for the demo plant, as a plant's MES would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from energy.errors import InputError

COLUMNS = ["date", "machine", "product", "units"]
DEFAULT_UNIT = "unit"


def read_production_csv(path: str | Path, machines: list[str]) -> pd.DataFrame:
    """Validated production quantities: columns ``date`` (datetime.date), ``machine``, ``product``,
    ``unit`` and ``units`` (the quantity, float), one row per (date, machine, product)."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: production file not found") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: file is empty (expected header {','.join(COLUMNS)})") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV: {exc}") from exc
    raw.columns = [c.strip().lstrip("\ufeff") for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (expected header {','.join(COLUMNS)})")
    raw = raw[[*COLUMNS, *(["unit"] if "unit" in raw.columns else [])]].apply(lambda column: column.str.strip())
    if "unit" not in raw.columns:
        raw["unit"] = DEFAULT_UNIT

    def fail(mask: pd.Series, problem) -> None:
        if mask.any():
            first = int(np.flatnonzero(mask.to_numpy())[0])
            more = int(mask.sum()) - 1
            tail = f" ({more} more such line(s))" if more else ""
            raise InputError(f"{path}: line {first + 2}: {problem(raw.iloc[first])}{tail}")

    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    fail(dates.isna(), lambda r: f"date {r['date']!r} is not a date (write YYYY-MM-DD)")
    fail(~raw["machine"].isin(machines), lambda r: f"unknown machine {r['machine']!r} (config has: {', '.join(machines)})")
    fail(raw["product"] == "", lambda r: "product is empty")
    units = pd.to_numeric(raw["units"], errors="coerce")
    fail(units.isna() | ~np.isfinite(units) | (units < 0), lambda r: f"units {r['units']!r} is not a number ≥ 0")
    unit = raw["unit"].where(raw["unit"] != "", DEFAULT_UNIT)
    first_unit = unit.groupby(raw["product"]).transform("first")
    first_line = pd.Series(np.arange(len(raw)) + 2, index=raw.index).groupby(raw["product"]).transform("first")
    fail(unit != first_unit, lambda r: f"unit {unit[r.name]!r} differs from unit {first_unit[r.name]!r} of product {r['product']!r} "
         f"on line {first_line[r.name]} (one unit per product)")
    frame = pd.DataFrame({"date": dates.dt.date, "machine": raw["machine"], "product": raw["product"], "unit": unit, "units": units.astype(float)})
    return frame.groupby(["date", "machine", "product", "unit"], as_index=False, sort=True)["units"].sum()
