"""Bill engine: demand intervals, ratchets, DST, dynamic prices, levies, tiers, exports, minimums."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy.errors import InputError
from energy.tariffs import bill, load_tariff
from energy.tariffs.toml import tariff_from_toml_dict
from tests.helpers import REPO
from tests.tariffs.loads import bill_of, flat_kwh

BASE = {"id": "t", "name": "test", "currency": "EUR", "timezone": "Europe/Berlin"}


def tariff(**fields):
    return tariff_from_toml_dict({**BASE, **fields})


def test_one_minute_spike_counts_only_by_its_quarter_hour_average():
    monthly = tariff(energy=[{"period": "all", "rate": 0.2}], demand=[{"name": "peak", "rate": 10.0}])
    load = flat_kwh("2024-05-01", "2024-06-01", 100.0, freq="1min", tz="Europe/Berlin")
    spike = pd.Timestamp("2024-05-14 10:07", tz="Europe/Berlin").tz_convert("UTC")
    load[spike] = 1000.0 / 60  # one minute at 1,000 kW
    summary, lines = bill_of(monthly, load, "1min")
    demand = lines[lines["category"] == "demand"].iloc[0]
    # The 10:00–10:15 average: (14 × 100 + 1000) / 15 = 160 kW, not the 1,000 kW of the minute.
    assert demand["quantity"] == pytest.approx(160.0)
    assert summary.loc["2024-05", "demand"] == pytest.approx(1600.0)
    assert summary.loc["2024-05", "energy"] == pytest.approx(0.2 * (100 * 744 + 900 / 60))


def test_demand_interval_of_the_tariff_is_used():
    hourly = tariff(energy=[{"period": "all", "rate": 0.2}], demand=[{"name": "peak", "rate": 10.0}], demand_interval_minutes=60)
    load = flat_kwh("2024-05-01", "2024-05-02", 100.0, freq="15min", tz="Europe/Berlin")
    load.iloc[40] = 400.0 * 0.25  # one quarter hour at 400 kW: the hour averages 175 kW
    _, lines = bill_of(hourly, load)
    assert lines.loc[lines["category"] == "demand", "quantity"].iloc[0] == pytest.approx(175.0)


def test_lookback_ratchet():
    ratcheted = tariff(
        energy=[{"period": "all", "rate": 0.1}],
        demand=[{"name": "peak", "rate": 10.0, "ratchet": {"percent": 80, "months": 2}}],
    )
    january = flat_kwh("2024-01-01", "2024-02-01", 500.0, tz="Europe/Berlin")
    rest = flat_kwh("2024-02-01", "2024-05-01", 100.0, tz="Europe/Berlin")
    summary, lines = bill_of(ratcheted, pd.concat([january, rest]))
    demand = lines[lines["category"] == "demand"].set_index("period")
    # February and March look back at January's 500 kW (80 % = 400 kW); April looks back two
    # months (February, March: 100 kW → 80 kW floor) and pays its own 100 kW.
    assert list(demand["quantity"]) == pytest.approx([500.0, 400.0, 400.0, 100.0])
    assert list(demand["measured_kw"]) == pytest.approx([500.0, 100.0, 100.0, 100.0])
    assert list(summary["demand"]) == pytest.approx([5000.0, 4000.0, 4000.0, 1000.0])


def test_ratchet_counts_only_its_months_and_earlier_peaks():
    summer_only = tariff(
        energy=[{"period": "all", "rate": 0.1}],
        demand=[{"name": "peak", "rate": 10.0, "ratchet": {"percent": 50, "months": 11, "counted_months": [7, 8]}}],
    )
    load = pd.concat(
        [flat_kwh("2024-06-01", "2024-07-01", 900.0, tz="Europe/Berlin"), flat_kwh("2024-07-01", "2024-10-01", 100.0, tz="Europe/Berlin")]
    )
    august_2023 = 2023 * 12 + 7
    prior = {"peak": pd.DataFrame({"load": [600.0]}, index=[august_2023])}  # from history
    bills = bill(summer_only, load, pd.Timedelta("15min"), prior_peaks=prior)
    demand = bills.lines[bills.lines["category"] == "demand"].set_index("period")["quantity"]
    # June 2024's 900 kW never counts (not a counted month). August 2023's 600 kW sets a 300 kW
    # floor for July 2024 (11 months back) but not for August 2024 (12 months back), whose
    # floor is 50 % of July 2024's 100 kW.
    assert list(demand) == pytest.approx([900.0, 300.0, 100.0, 100.0])


def test_dst_months_use_local_time():
    demo = load_tariff(REPO / "data" / "demo" / "tariff.toml")
    # October 2024 in Berlin has 745 hours; HT (weekdays 06–22) on 22 working days: 23 weekdays
    # minus 3 October (Tag der Deutschen Einheit, billed like a Sunday).
    summary, lines = bill_of(demo, flat_kwh("2024-10-01", "2024-11-01", 100.0, tz="Europe/Berlin"))
    energy = lines[lines["category"] == "energy"].set_index("tou_period")["quantity"]
    assert energy["HT"] == pytest.approx(22 * 16 * 100)
    assert energy["NT"] == pytest.approx(745 * 100 - 22 * 16 * 100)
    assert list(summary.index) == ["2024-10"]
    # March 2024 has 743 hours; the month starts at local midnight (23:00 UTC the day before).
    spring = flat_kwh("2024-02-29 23:00", "2024-04-01", 100.0, tz="Europe/Berlin")
    summary, lines = bill_of(demo, spring)
    assert list(summary.index) == ["2024-02", "2024-03"]
    march = lines[(lines["period"] == "2024-03") & (lines["category"] == "levy")]
    assert march["quantity"].iloc[0] == pytest.approx(743 * 100)


def test_demo_tariff_by_hand():
    demo = load_tariff(REPO / "data" / "demo" / "tariff.toml")
    # June 2024: 20 weekdays minus none (no NW holiday on a weekday: Corpus Christi is 30 May).
    summary, _ = bill_of(demo, flat_kwh("2024-06-01", "2024-07-01", 250.0, tz="Europe/Berlin"))
    june = summary.loc["2024-06"]
    ht_kwh = 20 * 16 * 250
    nt_kwh = 30 * 24 * 250 - ht_kwh
    levies = 0.00275 + 0.00656 + 0.00643 + 0.0011 + 0.0205
    assert june["energy"] == pytest.approx(ht_kwh * 0.1620 + nt_kwh * 0.1290)
    assert june["levy"] == pytest.approx((ht_kwh + nt_kwh) * levies)
    assert june["demand"] == pytest.approx(250 * 11.50)
    assert june["fixed"] == pytest.approx(95.0 + 40.0)


def test_tiers_exports_and_minimum():
    tiered = tariff(
        energy=[{"period": "all", "tiers": [{"up_to": 1000, "rate": 0.1}, {"rate": 0.2}], "export_rate": 0.05}],
        demand=[{"name": "peak", "tiers": [{"up_to": 20, "rate": 0.0}, {"rate": 8.0}]}],
        minimum_monthly=5000.0,
    )
    load = flat_kwh("2024-04-01", "2024-04-02", 50.0, tz="Europe/Berlin")  # 1,200 kWh in the day
    load.iloc[:8] = -10 * 0.25  # two hours exporting 10 kW
    summary, lines = bill_of(tiered, load)
    april = summary.loc["2024-04"]
    imported = 1200 - 2 * 50
    assert april["energy"] == pytest.approx(1000 * 0.1 + (imported - 1000) * 0.2)
    assert april["export"] == pytest.approx(-20 * 0.05)
    assert april["demand"] == pytest.approx((50 - 20) * 8.0)
    assert april["total"] == pytest.approx(5000.0)
    assert april["minimum"] == pytest.approx(5000.0 - (april["energy"] + april["export"] + april["demand"]))


def test_dynamic_prices(tmp_path):
    hours = pd.date_range("2024-01-15", periods=48, freq="1h", tz="Europe/Berlin")
    prices = np.round(np.linspace(40.0, 180.0, 48), 2)  # EUR/MWh
    csv = tmp_path / "prices.csv"
    pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%dT%H:%M:%S%z"), "price_per_mwh": prices}).to_csv(csv, index=False)
    dynamic = tariff_from_toml_dict(
        {**BASE, "dynamic": {"file": "prices.csv"}, "levies": [{"name": "tax", "rate": 0.02}]}, tmp_path / "tariff.toml"
    )
    load = flat_kwh("2024-01-15", "2024-01-17", 40.0, tz="Europe/Berlin")
    summary, lines = bill_of(dynamic, load)
    assert summary.loc["2024-01", "energy"] == pytest.approx(sum(p / 1000 * 40 for p in prices))
    assert summary.loc["2024-01", "levy"] == pytest.approx(48 * 40 * 0.02)
    assert lines.loc[lines["category"] == "energy", "component"].iloc[0] == "dynamic prices (prices.csv)"
    with pytest.raises(InputError, match=r"prices.csv\) have no price for 2024-01-16T23:00:00\+00:00 \(4 interval"):
        bill_of(dynamic, flat_kwh("2024-01-15", "2024-01-17 01:00", 40.0, tz="Europe/Berlin"))


def test_many_meters_at_once_match_one_by_one():
    demo = load_tariff(REPO / "data" / "demo" / "tariff.toml")
    rng = np.random.default_rng(7)
    index = flat_kwh("2024-01-01", "2024-03-01", 1.0, tz="Europe/Berlin").index
    frame = pd.DataFrame(rng.uniform(0, 50, (len(index), 3)), index=index, columns=["a", "b", "c"])
    together = bill(demo, frame, pd.Timedelta("15min")).summary()
    for meter in frame.columns:
        alone = bill(demo, frame[meter], pd.Timedelta("15min")).summary().loc[meter]
        pd.testing.assert_frame_equal(together.loc[meter], alone)


def test_interval_lengths_that_cannot_bill_exactly_are_refused():
    demo = load_tariff(REPO / "data" / "demo" / "tariff.toml")
    with pytest.raises(InputError, match=r"intervals of 1 days 00:00:00 are too coarse for tariff 'demo-de-mv-industrial-2024'"):
        bill_of(demo, flat_kwh("2024-01-01", "2024-02-01", 10.0, freq="1D", tz="Europe/Berlin"), "1D")
    with pytest.raises(InputError, match=r"intervals of 0 days 00:10:00 do not divide the tariff's 15-minute demand interval"):
        bill_of(demo, flat_kwh("2024-01-01", "2024-01-02", 10.0, freq="10min"), "10min")
    flat_rate = tariff(energy=[{"period": "all", "rate": 0.1}])
    summary, _ = bill_of(flat_rate, flat_kwh("2024-01-01", "2024-02-01", 10.0, freq="1D", tz="Europe/Berlin"), "1D")
    assert summary.loc["2024-01", "energy"] == pytest.approx(0.1 * 10 * 744)


def test_missing_values_are_refused():
    load = flat_kwh("2024-01-01", "2024-01-02", 10.0)
    load.iloc[5] = np.nan
    with pytest.raises(InputError, match=r"1 missing value\(s\), first for 'load' at 2024-01-01T01:15:00\+00:00"):
        bill_of(tariff(energy=[{"period": "all", "rate": 0.1}]), load)


def test_every_line_is_quantity_times_rate():
    tiered = tariff(
        energy=[
            {"period": "day", "tiers": [{"up_to": 500, "rate": 0.1}, {"rate": 0.2}], "export_rate": 0.05, "when": [{"hours": "08:00-20:00"}]},
            {"period": "night", "rate": 0.08},
        ],
        demand=[{"name": "peak", "rate": 9.0, "ratchet": {"percent": 90, "months": 3}}],
        levies=[{"name": "levy", "rate": 0.01}],
        fixed=[{"name": "meter", "amount": 2.0, "per": "day"}],
        minimum_monthly=20_000.0,
        taxes=[{"name": "VAT", "percent": 19}],
    )
    rng = np.random.default_rng(3)
    load = flat_kwh("2024-01-01", "2024-04-01", 1.0, tz="Europe/Berlin")
    load *= rng.uniform(-5, 60, len(load))
    bills = bill(tiered, load, pd.Timedelta("15min"))
    lines = bills.lines
    assert set(lines["category"]) == {"energy", "export", "levy", "demand", "fixed", "minimum", "tax"}
    np.testing.assert_allclose(lines["quantity"] * lines["rate"], lines["amount"], rtol=1e-12, atol=1e-9)
    charges = lines[~lines["category"].isin(["minimum", "tax"])].groupby("period")["amount"].sum().to_numpy()
    assert bills.summary()["total"].to_numpy() == pytest.approx(1.19 * np.maximum(20_000.0, charges))
