"""Marginal (avoided-emission) factors: valuing a load shift, kept apart from the inventory.

Marginal rates such as US EPA AVERT's estimate how much a grid's emissions change when a load
changes. They value what moving or cutting load avoids; the GHG Protocol's scope 2 inventory
uses average factors instead (see ``energy.emissions.scope2``), so nothing here feeds it and
every column says ``marginal``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from energy.emissions.intensity import check_load, factor_per_interval, interval_length, missing_factor_error
from energy.emissions.sources import FactorSource, of_methods

VALUATION = "marginal: avoided-emission valuation, not part of the scope 2 inventory"


def avoided_emissions(
    baseline_kwh: pd.Series,
    actual_kwh: pd.Series,
    sources: Sequence[FactorSource],
    *,
    interval: pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Emissions avoided by running ``actual_kwh`` instead of ``baseline_kwh``, at marginal rates.

    Both series are indexed by the same interval starts. Columns: ``baseline_kwh``,
    ``actual_kwh``, ``shifted_kwh`` (baseline − actual), ``marginal_g_per_kwh``,
    ``avoided_emissions_kg`` (shifted × marginal rate; negative where load was added),
    ``marginal_source_id``, ``valuation``. A missing marginal rate where the load changed raises
    :class:`InputError`.
    """
    index = check_load(baseline_kwh, "baseline_kwh")
    if not actual_kwh.index.equals(baseline_kwh.index):
        raise ValueError("baseline_kwh and actual_kwh must have the same interval starts")
    check_load(actual_kwh, "actual_kwh")
    shifted = pd.Series(baseline_kwh.to_numpy(float) - actual_kwh.to_numpy(float), index=index)
    marginal = of_methods(sources, "marginal")
    factors = factor_per_interval(marginal, index, interval_length(index, interval))
    g = factors["g_per_kwh"]
    missing = g.isna() & (shifted != 0)
    if missing.any():
        raise missing_factor_error("avoided emissions", index[missing.to_numpy()], "marginal", marginal)
    return pd.DataFrame({
        "baseline_kwh": baseline_kwh.to_numpy(float),
        "actual_kwh": actual_kwh.to_numpy(float),
        "shifted_kwh": shifted,
        "marginal_g_per_kwh": g,
        "avoided_emissions_kg": (shifted * g / 1000.0).where(shifted != 0, 0.0),
        "marginal_source_id": factors["source_id"],
        "valuation": VALUATION,
    }, index=index)
