"""Production counts: the CSV an energy manager exports from the MES or ERP, one row per day,
machine and product.

Format (UTF-8, header required, extra columns ignored)::

    date,machine,product,units
    2024-05-02,furnace1,billet-80,412
    2024-05-02,furnace1,billet-120,96

``date`` is the local production day (YYYY-MM-DD); ``machine`` a machine id of the config;
``product`` any non-empty label; ``units`` a finite number ≥ 0 (pieces, tonnes… one unit per
product). Rows repeating a (date, machine, product) are added up. Every error names the file and
its line (the header is line 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from energy.errors import InputError

COLUMNS = ["date", "machine", "product", "units"]


def read_production_csv(path: str | Path, machines: list[str]) -> pd.DataFrame:
    """Validated production counts: columns ``date`` (datetime.date), ``machine``, ``product``, ``units``."""
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
    raw = raw[COLUMNS].apply(lambda column: column.str.strip())

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
    frame = pd.DataFrame({"date": dates.dt.date, "machine": raw["machine"], "product": raw["product"], "units": units.astype(float)})
    return frame.groupby(["date", "machine", "product"], as_index=False, sort=True)["units"].sum()
