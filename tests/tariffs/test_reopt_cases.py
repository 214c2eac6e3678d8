"""The closed-form bills of NREL REopt.jl's test scenarios (shared/data/tariffs/reopt_cases)."""

from __future__ import annotations

import json

import pytest

from energy.tariffs.toml import tariff_from_toml_dict
from energy.tariffs.urdb import load_urdb_tariff
from tests.helpers import shared_data
from tests.tariffs.loads import bill_of, flat_kwh

# REopt's flat load: the same power in each of the 8760 hours of a non-leap year.
YEAR = ("2017-01-01", "2018-01-01")
DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def test_no_techs_blended_rates():
    scenario = json.loads(shared_data("tariffs", "reopt_cases", "no_techs.json").read_text())
    annual_kwh = scenario["ElectricLoad"]["annual_kwh"]
    rates = scenario["ElectricTariff"]
    tariff = tariff_from_toml_dict(
        {
            "id": "reopt-blended",
            "name": "blended",
            "currency": "USD",
            "energy": [{"period": "all", "rate": rates["blended_annual_energy_rate"]}],
            "demand": [{"name": "monthly", "rate": rates["blended_annual_demand_rate"]}],
        }
    )
    summary, _ = bill_of(tariff, flat_kwh(*YEAR, annual_kwh / 8760, freq="1h"), "1h")
    assert round(summary["energy"].sum(), 2) == 1000.00
    assert round(summary["demand"].sum(), 2) == 136.99
    assert round(summary["total"].sum(), 2) == 1136.99


def test_tiered_energy_and_tiered_demand():
    path = shared_data("tariffs", "reopt_cases", "tiered_tou_demand.json")
    annual_kwh = json.loads(path.read_text())["ElectricLoad"]["annual_kwh"]
    kw = annual_kwh / 8760
    summary, lines = bill_of(load_urdb_tariff(path), flat_kwh(*YEAR, kw, freq="1h"), "1h")
    # REopt's closed form: first 50 kW free, 12 $/kW above, every month.
    assert round(summary["demand"].sum(), 2) == round(12 * 12 * (kw - 50), 2)
    # Energy by hand: 0.10 $/kWh for the first 40,000 kWh of each month, 0.12 above.
    expected = sum(0.10 * 40_000 + 0.12 * (days * 24 * kw - 40_000) for days in DAYS)
    assert round(summary["energy"].sum(), 2) == round(expected, 2)
    january = lines[(lines["period"] == "2017-01") & (lines["category"] == "energy")]
    assert list(january["tier"]) == [0, 1]
    assert january["quantity"].iloc[0] == pytest.approx(40_000)


def test_multi_tier_urdb_response_with_daily_fixed_charge():
    path = shared_data("tariffs", "reopt_cases", "multi_tier_urdb_response.json")
    kw = 150.0
    summary, lines = bill_of(load_urdb_tariff(path), flat_kwh(*YEAR, kw, freq="1h"), "1h")
    for month, days in enumerate(DAYS, start=1):
        kwh = kw * 24 * days
        if 5 <= month <= 10:  # period 1: 0.078891 $/kWh up to 20,000 kWh, 0.06 above
            energy = 0.078891 * 20_000 + 0.06 * (kwh - 20_000)
        else:  # period 2: 0.061731 $/kWh
            energy = 0.061731 * kwh
        # Demand period 1 (every hour but January weekdays): 24.368 $/kW up to 100 kW, 17.031 above;
        # January's weekend hours carry the flat 150 kW as well.
        demand = 24.368 * 100 + 17.031 * 50
        row = summary.loc[f"2017-{month:02d}"]
        assert round(row["energy"], 2) == round(energy, 2)
        assert round(row["demand"], 2) == round(demand, 2)
        assert round(row["fixed"], 2) == round(3.298 * days, 2)
        assert round(row["total"], 2) == round(energy + demand + 3.298 * days, 2)
    fixed = lines[(lines["period"] == "2017-02") & (lines["category"] == "fixed")].iloc[0]
    assert (fixed["quantity"], fixed["unit"], fixed["rate"]) == (28, "day", 3.298)
