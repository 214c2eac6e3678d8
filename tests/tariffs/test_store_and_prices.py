"""Storing tariffs (``energy init``) and the prices the planner reads, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from energy.config import load_config
from energy.histories.store import store_intervals
from energy.storage import schema
from energy.tariffs import (
    bill,
    load_tariff,
    peaks_so_far_kw,
    planning_inputs,
    planning_prices,
    problem_demand_charge,
    store_site_tariff,
    stored_bill,
    stored_peaks_so_far_kw,
    stored_tariff,
)
from energy.tariffs.toml import tariff_from_toml_dict
from tests.helpers import REPO, shared_data
from tests.tariffs.loads import flat_kwh

DEMO = REPO / "data" / "demo"
CHARGE = "Leistungspreis (monthly)"


def _site(tmp_path, tariff_section: str):
    path = tmp_path / "site.toml"
    path.write_text(
        '[site]\nname = "Test works"\ntimezone = "Europe/Berlin"\nlatitude = 51.5\nlongitude = 7.5\n\n' + tariff_section
    )
    return load_config(path)


def test_demo_tariff_stored_and_read_back_bills_the_same(engine):
    config = load_config(DEMO / "site.toml")
    assert store_site_tariff(engine, config) == "tariff 'demo-de-mv-industrial-2024' (EUR) stored"
    store_site_tariff(engine, config)  # again: updated in place
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.tariffs)).scalar() == 1
    load = flat_kwh("2024-10-01", "2024-11-01", 180.0, tz="Europe/Berlin")
    load.iloc[::7] *= 1.5
    original = bill(load_tariff(DEMO / "tariff.toml"), load, pd.Timedelta("15min")).summary()
    again = bill(stored_tariff(engine), load, pd.Timedelta("15min")).summary()
    pd.testing.assert_frame_equal(original, again)


def test_urdb_tariff_with_dynamic_prices_in_the_site_zone(engine, tmp_path):
    hours = pd.date_range("2024-05-01", periods=24 * 3, freq="1h", tz="UTC")
    pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%dT%H:%M:%SZ"), "import_per_kwh": 0.05, "export_per_kwh": 0.01}).to_csv(
        tmp_path / "da.csv", index=False
    )
    source = shared_data("tariffs", "urdb_smud_ci_tod3.json")
    config = _site(tmp_path, f'[tariff]\nfile = "{source}"\nprices_file = "da.csv"\n')
    summary = store_site_tariff(engine, config)
    assert summary == "tariff 'urdb-68c0ca32d7afaa668b0dc6fb' (USD, 72 dynamic price(s)) stored"
    store_site_tariff(engine, config)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.prices.c.start_ms, schema.prices.c.export_per_kwh)).fetchall()
    assert len(rows) == 72 and {r[1] for r in rows} == {0.01}
    tariff = stored_tariff(engine, "urdb-68c0ca32d7afaa668b0dc6fb", pd.Timestamp("2024-05-02", tz="UTC"), pd.Timestamp("2024-05-03", tz="UTC"))
    assert tariff.timezone == "Europe/Berlin" and len(tariff.dynamic.frame) == 24
    # Weekday 2 May 2024 at 08:00 Berlin: SMUD period 1 (0.116 + 0.0003) + market 0.05.
    slots = pd.date_range("2024-05-02 08:00", periods=4, freq="15min", tz="Europe/Berlin")
    prices = planning_prices(tariff, slots)
    assert prices["import_eur_per_kwh"].tolist() == pytest.approx([0.1163 + 0.05] * 4)
    assert prices["export_eur_per_kwh"].tolist() == pytest.approx([0.01] * 4)


def test_planning_prices_and_peak_so_far_from_stored_history(engine):
    config = load_config(DEMO / "site.toml")
    store_site_tariff(engine, config)
    tariff = stored_tariff(engine)
    # Site history: 300 kW through 1–9 March, one quarter hour at 520 kW on 4 March and a
    # 900 kW quarter hour in February (another billing period).
    history = flat_kwh("2024-02-20", "2024-03-10", 300.0, tz="Europe/Berlin").to_frame("energy_kwh")
    history["quality"] = "measured"
    history.loc[pd.Timestamp("2024-03-04 11:00", tz="Europe/Berlin"), "energy_kwh"] = 520 * 0.25
    history.loc[pd.Timestamp("2024-02-22 11:00", tz="Europe/Berlin"), "energy_kwh"] = 900 * 0.25
    history.loc[pd.Timestamp("2024-03-05 11:00", tz="Europe/Berlin"), ["energy_kwh", "quality"]] = [np.nan, "missing"]
    store_intervals(engine, "site", "site", history)
    slots = pd.date_range("2024-03-08", "2024-03-09", freq="15min", inclusive="left", tz="Europe/Berlin").tz_convert("UTC")
    assert stored_peaks_so_far_kw(engine, tariff, slots[0]) == {CHARGE: pytest.approx(520.0)}
    frame = planning_inputs(engine, tariff, slots)
    assert len(frame) == 96
    ht = frame.index.tz_convert("Europe/Berlin").hour.isin(range(6, 22))  # 8 March 2024 is a Friday
    levies = 0.00275 + 0.00656 + 0.00643 + 0.0011 + 0.0205
    assert frame.loc[ht, "import_eur_per_kwh"].to_numpy() == pytest.approx(0.1620 + levies)
    assert frame.loc[~ht, "import_eur_per_kwh"].to_numpy() == pytest.approx(0.1290 + levies)
    assert (frame["export_eur_per_kwh"] == 0).all() and (frame["demand_eur_per_kw"] == 11.5).all()
    assert problem_demand_charge(frame) == ({"eur_per_kw": 11.5, "peak_so_far_kw": pytest.approx(520.0)}, [])


def test_ratchet_raises_the_peak_so_far_and_peak_windows_are_noted():
    annual = tariff_from_toml_dict(
        {
            "id": "annual", "name": "annual demand", "currency": "EUR", "timezone": "Europe/Berlin",
            "energy": [{"period": "all", "rate": 0.1}],
            "demand": [
                {"name": "annual", "rate": 10.0, "ratchet": {"percent": 100, "months": 11}},
                {"name": "evening", "rate": 5.0, "when": [{"days": "weekdays", "hours": "17:00-20:00"}]},
            ],
            "taxes": [{"name": "VAT", "percent": 20}],
        }
    )
    history = flat_kwh("2023-12-01", "2024-03-05", 200.0, tz="Europe/Berlin")
    history[pd.Timestamp("2024-01-10 18:00", tz="Europe/Berlin")] = 700 * 0.25
    before = pd.Timestamp("2024-03-05", tz="Europe/Berlin")
    assert peaks_so_far_kw(annual, history, before) == {"annual": pytest.approx(700.0), "evening": pytest.approx(200.0)}
    slots = pd.date_range(before, periods=96, freq="15min")
    frame = planning_prices(annual, slots, peaks_so_far_kw(annual, history, before))
    charge, notes = problem_demand_charge(frame)
    assert charge == {"eur_per_kw": pytest.approx(12.0), "peak_so_far_kw": pytest.approx(700.0)}  # with VAT
    assert notes == ["demand charge 'evening' applies to part of the horizon only; not in the problem's demand_charge"]
    assert frame["demand_eur_per_kw"].max() == pytest.approx(18.0) and frame["demand_eur_per_kw"].min() == pytest.approx(12.0)
    assert frame["import_eur_per_kwh"].to_numpy() == pytest.approx(0.12)


def test_bill_of_the_stored_site_series_sees_earlier_peaks_for_its_ratchet(engine):
    ratcheted = tariff_from_toml_dict(
        {
            "id": "r", "name": "ratchet", "currency": "EUR", "timezone": "Europe/Berlin",
            "energy": [{"period": "all", "rate": 0.1}],
            "demand": [{"name": "peak", "rate": 10.0, "ratchet": {"percent": 75, "months": 11}}],
        }
    )
    history = flat_kwh("2024-01-01", "2024-04-01", 100.0, tz="Europe/Berlin").to_frame("energy_kwh")
    history["quality"] = "measured"
    history.loc[pd.Timestamp("2024-01-20 09:00", tz="Europe/Berlin"), "energy_kwh"] = 800 * 0.25
    store_intervals(engine, "site", "site", history)
    start, end = pd.Timestamp("2024-03-01", tz="Europe/Berlin"), pd.Timestamp("2024-04-01", tz="Europe/Berlin")
    bills = stored_bill(engine, ratcheted, start, end)
    demand = bills.lines[bills.lines["category"] == "demand"].iloc[0]
    # March measured 100 kW; January's 800 kW (before the billed period) sets a 600 kW floor.
    assert (demand["period"], demand["quantity"], demand["measured_kw"]) == ("2024-03", pytest.approx(600.0), pytest.approx(100.0))
    assert bills.usage.loc[("site", "2024-03"), "complete"]
    assert bills.summary().loc[("site", "2024-03"), "energy"] == pytest.approx(0.1 * 100 * 743)
