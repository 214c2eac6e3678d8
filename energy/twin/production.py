"""What the plant twin produced, as its MES would report it: tonnes per day, machine and product.

A real plant's MES knows the tonnes it made; the twin knows the runs it executed (its truth,
:mod:`energy.twin.truth`). :func:`daily_production` derives the one from the other, and
:func:`write_production_csv` writes it in the product's production CSV format
(:mod:`energy.reports.production`: ``date,machine,product,units,unit``). ``energy demo`` writes
the demo plant's file beside its site config, which names it (``[enpi] production_file``). The
product reads that file as MES data, never the truth.

Each machine kind makes one product, at a specific energy per tonne (the run's own energy, above
idle; the invented figures are sized on the demo's A jobs):

============================  ========================  ==========  =====================================
kind                          product                   kWh per t   why this figure
============================  ========================  ==========  =====================================
``induction_furnace``         ``melted steel``          600         coreless induction melting of steel
                                                                    takes about 550–650 kWh/t
``oven``                      ``heat-treated castings`` 250         invented: heat-A (360 kWh) treats what
                                                                    melt-A1 and melt-A2 melt (1.4 t)
``shot_blaster``              ``blasted castings``      30          invented: blast-A (45 kWh) cleans 1.4 t
============================  ========================  ==========  =====================================

Compressors and generic machines make no product. A run's tonnes are its energy over the specific
energy, times 1 + ε with ε ~ N(0, :data:`YIELD_SPREAD`) drawn from the twin's seed per day (yield
varies from melt to melt). Only runs that ran to the end count, on their day: an aborted melt is
scrap and a dropped job made nothing; with ``until``, only runs that ended by then (what the MES
has booked).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from energy.twin.disturbances import day_rng

#: machine kind → (product, kWh per tonne); see the module docstring.
PRODUCTS = {
    "induction_furnace": ("melted steel", 600.0),
    "oven": ("heat-treated castings", 250.0),
    "shot_blaster": ("blasted castings", 30.0),
}
#: Run-to-run spread of tonnes per kWh (1 σ, a fraction).
YIELD_SPREAD = 0.03
#: The random stream of the yields (beside ``energy.twin.plant``'s orders 1 and disturbances 2).
PRODUCTION_STREAM = 3
COLUMNS = ["date", "machine", "product", "units", "unit"]


def daily_production(runs: pd.DataFrame, kinds: dict[str, str], seed: int, until: pd.Timestamp | None = None) -> pd.DataFrame:
    """Tonnes per day, machine and product (columns :data:`COLUMNS`, ``unit`` ``t``) of the runs
    (``energy.twin.truth``'s ``runs``: day, machine, status, end, energy_kwh) of machines whose
    ``kinds`` make a product (module docstring)."""
    done = runs[(runs["status"] == "ran") & runs["machine"].map(kinds).isin(list(PRODUCTS))]
    if until is not None:
        done = done[pd.to_datetime(done["end"], utc=True) <= until]
    rows = []
    for day, day_runs in done.groupby("day", sort=True):
        yields = 1 + day_rng(seed, pd.Timestamp(day).date(), PRODUCTION_STREAM).normal(0, YIELD_SPREAD, len(day_runs))
        for run, factor in zip(day_runs.itertuples(), yields):
            product, kwh_per_t = PRODUCTS[kinds[run.machine]]
            rows.append((pd.Timestamp(day).date().isoformat(), run.machine, product, run.energy_kwh / kwh_per_t * factor))
    frame = pd.DataFrame(rows, columns=COLUMNS[:4])
    frame = frame.groupby(["date", "machine", "product"], as_index=False, sort=True)["units"].sum()
    return frame.assign(units=frame["units"].round(3), unit="t")[COLUMNS]


def write_production_csv(production: pd.DataFrame, path: Path) -> Path:
    """Write :func:`daily_production`'s frame as the production CSV at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    production.to_csv(path, index=False, encoding="utf-8")
    return path
