"""Emission factors and scope 2 emissions (location- and market-based), marginal valuation.

See ``docs/emissions.md``. Modules: ``sources`` (factor files, constants, instruments,
citations), ``intensity`` (factors per interval), ``scope2`` (location/market per interval,
instrument allocation, dual reporting), ``quality`` (the Scope 2 Guidance's quality checks of
factors and instruments against the activity they value), ``marginal`` (avoided emissions of
load shifts), ``planning`` (carbon intensity per optimiser slot), ``store`` (database).
"""

from energy.emissions.marginal import avoided_emissions
from energy.emissions.planning import SlotIntensity, slot_intensity
from energy.emissions.scope2 import (
    allocate_instruments,
    allocation_start,
    dual_report,
    instrument_usage,
    location_based,
    market_based,
    summarise,
)
from energy.emissions.sources import (
    FactorSource,
    Instrument,
    factor_table,
    instruments_from_config,
    read_factor_file,
    sources_from_config,
)
from energy.emissions.store import load_factor_sources, load_instruments, load_slot_intensity, store_emissions

__all__ = [
    "FactorSource", "Instrument", "SlotIntensity", "allocate_instruments", "allocation_start", "avoided_emissions",
    "dual_report", "factor_table", "instrument_usage", "instruments_from_config", "load_factor_sources",
    "load_instruments", "load_slot_intensity", "location_based", "market_based", "read_factor_file", "slot_intensity",
    "sources_from_config", "store_emissions", "summarise",
]
