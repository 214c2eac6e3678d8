"""Tariffs: what a kWh and a kW cost, when; exact bills; prices for planning.

- ``model``: the tariff dataclasses; ``toml`` / ``urdb``: the two file formats; ``loading``:
  :func:`load_tariff` for either; ``series``: load and dynamic price CSVs;
- ``bill``: the bill engine (:func:`bill` for many meters at once, :func:`bill_load` for the
  ``energy bill`` JSON);
- ``prices``: per-slot import/export prices, demand rates and the billing period's peak so far
  for the optimiser (:func:`planning_prices`, :func:`problem_demand_charge`);
- ``history``: the same from the stored site history (:func:`planning_inputs`,
  :func:`stored_peaks_so_far_kw`) and bills of stored series (:func:`stored_bill`);
- ``store``: the ``tariffs`` and ``prices`` tables (:func:`stored_tariff`).

See ``docs/tariffs.md``.
"""

from energy.tariffs.bill import Bills, bill, bill_load
from energy.tariffs.loading import load_tariff
from energy.tariffs.model import Tariff
from energy.tariffs.history import planning_inputs, stored_bill, stored_peaks_so_far_kw
from energy.tariffs.prices import peaks_so_far_kw, planning_prices, problem_demand_charge
from energy.tariffs.store import store_site_tariff, store_tariff, stored_tariff

__all__ = [
    "Bills",
    "Tariff",
    "bill",
    "bill_load",
    "load_tariff",
    "peaks_so_far_kw",
    "planning_inputs",
    "planning_prices",
    "problem_demand_charge",
    "store_site_tariff",
    "store_tariff",
    "stored_bill",
    "stored_peaks_so_far_kw",
    "stored_tariff",
]
