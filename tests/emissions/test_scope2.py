"""Scope 2 per interval, both methods, checked against totals computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy.config import parse_config
from energy.emissions import (
    allocate_instruments,
    allocation_start,
    avoided_emissions,
    dual_report,
    instrument_usage,
    instruments_from_config,
    location_based,
    market_based,
    slot_intensity,
    sources_from_config,
    summarise,
)
from energy.errors import InputError
from tests.helpers import shared_data

TZ = "Europe/Berlin"
EM_COLUMN = "Carbon Intensity gCO₂eq/kWh (direct)"


def config(tmp_path, factors, instruments=()):
    data = {
        "site": {"name": "T", "timezone": TZ, "latitude": 50.0, "longitude": 8.0},
        "emissions": {"factors": factors, "instruments": list(instruments)},
    }
    c = parse_config(data, tmp_path / "site.toml")
    return sources_from_config(c), instruments_from_config(c)


def quarter_hours(start: str, periods: int, tz: str = "UTC") -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start, tz=tz), periods=periods, freq="15min").tz_convert("UTC")


def hourly_file(tmp_path, start: str, values) -> str:
    hours = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=len(values), freq="1h")
    (tmp_path / "grid.csv").write_text("t,g\n" + "".join(f"{h:%Y-%m-%d %H:%M},{v}\n" for h, v in zip(hours, values)))
    return "grid.csv"


def location_source(tmp_path, start="2022-06-01 00:00", values=(100, 200, 300)):
    return {"id": "grid", "method": "location", "file": hourly_file(tmp_path, start, values), "column": "g", "source": "test grid"}


def test_an_hourly_factor_applies_to_each_of_its_four_quarter_hours(tmp_path):
    sources, _ = config(tmp_path, [location_source(tmp_path)])
    energy = pd.Series([1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0, 0.5, 0.5, 0.5, 0.5], index=quarter_hours("2022-06-01 00:00", 12))
    result = location_based(energy, sources)
    assert list(result["location_g_per_kwh"]) == [100.0] * 4 + [200.0] * 4 + [300.0] * 4
    # (1+2+3+4)·100 + 40·200 + 2·300 g = 1000 + 8000 + 600 g = 9.6 kg
    assert result["location_emissions_kg"].sum() == pytest.approx(9.6)
    assert set(result["location_source_id"]) == {"grid"}
    assert not result["location_missing"].any()


def test_hourly_load_on_quarter_hour_factors_takes_the_time_weighted_mean(tmp_path):
    starts = pd.date_range("2022-06-01", periods=8, freq="15min", tz="UTC")
    (tmp_path / "q.csv").write_text("t,g\n" + "".join(f"{t:%Y-%m-%d %H:%M},{100 * (i + 1)}\n" for i, t in enumerate(starts)))
    sources, _ = config(tmp_path, [{"id": "q", "method": "location", "file": "q.csv", "source": "x"}])
    result = location_based(pd.Series([4.0, 8.0], index=pd.date_range("2022-06-01", periods=2, freq="1h", tz="UTC")), sources)
    assert list(result["location_g_per_kwh"]) == pytest.approx([250.0, 650.0])


def test_a_missing_factor_hour_is_an_error_or_reported_never_zero(tmp_path):
    sources, _ = config(tmp_path, [location_source(tmp_path, values=(100, 200))])
    energy = pd.Series(1.0, index=quarter_hours("2022-06-01 00:00", 12))
    with pytest.raises(InputError, match=r"no location emission factor for 2022-06-01T02:00:00\+00:00 \(4 interval\(s\) without one; location sources: grid\)"):
        location_based(energy, sources)
    result = location_based(energy, sources, on_missing="report")
    assert result["location_emissions_kg"].isna().sum() == 4 and result["location_missing"].sum() == 4
    assert result["location_emissions_kg"].sum() == pytest.approx(4 * 0.1 + 4 * 0.2)
    # No energy, nothing emitted: a missing factor does not matter there.
    assert location_based(energy.where(energy.index < pd.Timestamp("2022-06-01 02:00", tz="UTC"), 0.0), sources)["location_emissions_kg"].sum() == pytest.approx(1.2)


def test_dst_days_use_each_utc_hour_of_the_real_german_series():
    path = shared_data("emissions", "electricitymaps_DE_2022_hourly.csv")
    data = {
        "site": {"name": "T", "timezone": TZ, "latitude": 50.0, "longitude": 8.0},
        "emissions": {"factors": [{"id": "de", "method": "location", "file": str(path), "column": EM_COLUMN, "source": "Electricity Maps DE 2022"}]},
    }
    sources = sources_from_config(parse_config(data))
    raw = pd.read_csv(path)
    by_hour = pd.Series(raw[EM_COLUMN].to_numpy(), index=pd.to_datetime(raw["Datetime (UTC)"]).dt.tz_localize("UTC"))
    for day, intervals in (("2022-03-27", 92), ("2022-10-30", 100)):
        slots = pd.date_range(pd.Timestamp(day, tz=TZ).tz_convert("UTC"), (pd.Timestamp(day, tz=TZ) + pd.DateOffset(days=1)).tz_convert("UTC"), freq="15min", inclusive="left")
        assert len(slots) == intervals
        energy = pd.Series(2.5, index=slots)
        result = location_based(energy, sources)
        hours = slots.floor("1h").unique()
        expected_kg = sum(4 * 2.5 * by_hour[h] for h in hours) / 1000.0
        assert result["location_emissions_kg"].sum() == pytest.approx(expected_kg, rel=1e-12)
        intensity = slot_intensity(sources, slots)
        assert intensity.method == "location" and intensity.source_ids == ["de"]
        assert list(intensity.g_per_kwh) == [by_hour[t.floor("1h")] for t in slots]


def test_validity_edges_are_local_midnights(tmp_path):
    sources, _ = config(tmp_path, [
        {"id": "rm21", "method": "residual_mix", "g_per_kwh": 500, "valid_from": "2021-01-01", "valid_to": "2022-01-01", "source": "x"},
        {"id": "rm22", "method": "residual_mix", "g_per_kwh": 400, "valid_from": "2022-01-01", "valid_to": "2023-01-01", "source": "x"},
    ])
    # Local midnight of 1 January 2022 in Berlin is 23:00 UTC on 31 December.
    energy = pd.Series(1.0, index=quarter_hours("2021-12-31 22:45", 2))
    result = market_based(energy, sources)
    assert list(result["market_remaining_source_id"]) == ["rm21", "rm22"]
    assert list(result["market_emissions_kg"]) == [0.5, 0.4]
    # valid_to is exclusive: the first interval of 2023 has no factor.
    late = pd.Series(1.0, index=quarter_hours("2022-12-31 22:45", 2))
    with pytest.raises(InputError, match=r"no supplier, residual_mix or location emission factor for 2022-12-31T23:00:00\+00:00 \(1 interval"):
        market_based(late, sources)


def test_instruments_cover_energy_in_time_order_and_never_more_than_they_hold(tmp_path):
    sources, instruments = config(
        tmp_path,
        [{"id": "rm", "method": "residual_mix", "g_per_kwh": 600, "source": "AIB"}],
        [
            {"id": "go_late", "kind": "go", "mwh": 0.25, "valid_from": "2022-06-02", "valid_to": "2022-07-01", "source": "registry B"},
            {"id": "go", "kind": "go", "mwh": 0.3, "valid_from": "2022-06-01", "valid_to": "2022-06-02", "source": "registry A"},
            {"id": "ppa", "kind": "ppa", "mwh": 0.05, "valid_from": "2022-06-01", "valid_to": "2022-07-01", "g_per_kwh": 20, "source": "contract"},
        ],
    )
    # 100 kWh in each of 8 quarter hours on 1 June (local), then 8 on 2 June.
    index = quarter_hours("2022-06-01 00:00", 8, TZ).append(quarter_hours("2022-06-02 00:00", 8, TZ))
    energy = pd.Series(100.0, index=index)
    allocations = allocate_instruments(energy, instruments)
    per = allocations.pivot_table(index="start", columns="instrument_id", values="kwh", aggfunc="sum").reindex(index).fillna(0.0)
    # 'go' (valid from 1 June, first in order) takes the first 300 kWh of 1 June; 'ppa' (also
    # from 1 June, valid longer) the next 50; 'go_late' starts on 2 June and takes 250.
    assert list(per["go"]) == [100, 100, 100] + [0] * 13
    assert list(per["ppa"]) == [0, 0, 0, 50] + [0] * 12
    assert list(per["go_late"]) == [0] * 8 + [100, 100, 50] + [0] * 5
    usage = instrument_usage(allocations, instruments).set_index("instrument_id")
    assert usage.loc["go", "allocated_mwh"] == pytest.approx(0.3) and usage.loc["go", "unused_mwh"] == 0
    assert (usage["allocated_mwh"] <= usage["mwh"] + 1e-12).all()

    result = market_based(energy, sources, instruments)
    covered = 300 + 50 + 250
    # 600 g/kWh on the 1,000 kWh not covered, 20 g/kWh on the PPA's 50, 0 on the GOs.
    assert result["market_emissions_kg"].sum() == pytest.approx((1600 - covered) * 0.6 + 50 * 0.02)
    assert result["market_instrument_kwh"].sum() == pytest.approx(covered)
    assert result.loc[index[3], "market_instrument_ids"] == "ppa"
    assert result.loc[index[3], "market_emissions_kg"] == pytest.approx(50 * 0.02 + 50 * 0.6)


def test_an_instrument_can_hold_more_than_the_load_and_is_left_unused(tmp_path):
    sources, instruments = config(
        tmp_path, [], [{"id": "go", "kind": "go", "mwh": 10, "valid_from": "2022-01-01", "valid_to": "2023-01-01", "source": "r"}]
    )
    energy = pd.Series(100.0, index=quarter_hours("2022-06-01 00:00", 4))
    result = market_based(energy, sources, instruments)
    assert result["market_emissions_kg"].sum() == 0 and (result["market_remaining_kwh"] == 0).all()
    usage = instrument_usage(allocate_instruments(energy, instruments), instruments)
    assert usage["unused_mwh"].iloc[0] == pytest.approx(9.6)


def test_allocation_start_reaches_back_to_the_validity_of_instruments_in_force():
    from energy.emissions import Instrument

    start = pd.Timestamp("2022-06-01", tz="UTC")
    go = Instrument("go", "go", 1.0, pd.Timestamp("2022-01-01", tz="UTC"), pd.Timestamp("2023-01-01", tz="UTC"), 0.0, "r")
    old = Instrument("old", "go", 1.0, pd.Timestamp("2021-01-01", tz="UTC"), pd.Timestamp("2022-01-01", tz="UTC"), 0.0, "r")
    assert allocation_start([go, old], start) == pd.Timestamp("2022-01-01", tz="UTC")
    assert allocation_start([old], start) == start


def test_market_hierarchy_supplier_then_residual_mix_then_disclosed_grid_average(tmp_path):
    sources, _ = config(tmp_path, [
        location_source(tmp_path, "2022-06-01 00:00", (100, 200, 300)),
        {"id": "supplier", "method": "supplier", "g_per_kwh": 250, "valid_from": "2022-06-01", "valid_to": "2022-06-02", "source": "utility disclosure"},
        {"id": "rm", "method": "residual_mix", "g_per_kwh": 600, "valid_from": "2022-06-02", "valid_to": "2022-06-03", "source": "AIB"},
    ])
    # 31 May 22:00 UTC is local midnight of 1 June: supplier; 1 June 22:00 UTC starts 2 June:
    # residual mix; the location file covers 1 June 00:00–03:00 UTC only.
    index = pd.DatetimeIndex([pd.Timestamp(t, tz="UTC") for t in ("2022-05-31 22:00", "2022-06-01 22:00", "2022-06-02 22:00")])
    with pytest.raises(InputError, match="2022-06-02T22:00:00"):
        market_based(pd.Series(1.0, index=index), sources, interval=pd.Timedelta(minutes=15))
    index = pd.DatetimeIndex([pd.Timestamp(t, tz="UTC") for t in ("2022-05-31 22:00", "2022-06-01 22:00")])
    result = market_based(pd.Series(2.0, index=index), sources, interval=pd.Timedelta(minutes=15))
    assert list(result["market_remaining_basis"]) == ["supplier", "residual_mix"]
    assert list(result["market_emissions_kg"]) == [0.5, 1.2]
    # Where no market factor is valid, the grid average stands in, labelled as such.
    only_grid, _ = config(tmp_path, [location_source(tmp_path)])
    fallback = market_based(pd.Series(1.0, index=quarter_hours("2022-06-01 01:00", 1)), only_grid, interval=pd.Timedelta(minutes=15))
    assert fallback["market_remaining_basis"].iloc[0] == "grid_average" and fallback["market_emissions_kg"].iloc[0] == 0.2


def test_negative_energy_is_refused_and_missing_energy_stays_missing(tmp_path):
    sources, instruments = config(
        tmp_path, [location_source(tmp_path), {"id": "rm", "method": "residual_mix", "g_per_kwh": 600, "source": "AIB"}],
        [{"id": "go", "kind": "go", "mwh": 0.001, "valid_from": "2022-01-01", "valid_to": "2023-01-01", "source": "r"}],
    )
    index = quarter_hours("2022-06-01 00:00", 3)
    with pytest.raises(InputError, match=r"2022-06-01T00:15:00\+00:00: -1.0 kWh < 0; scope 2 counts grid import only"):
        location_based(pd.Series([1.0, -1.0, 1.0], index=index), sources)
    energy = pd.Series([np.nan, 2.0, 0.0], index=index)
    location = location_based(energy, sources)
    market = market_based(energy, sources, instruments)
    assert np.isnan(location["location_emissions_kg"].iloc[0]) and np.isnan(market["market_emissions_kg"].iloc[0])
    # The GO's 1 kWh goes to the first interval with energy, not to the missing one.
    assert list(market["market_instrument_kwh"]) == [0.0, 1.0, 0.0]
    assert market["market_emissions_kg"].iloc[1] == pytest.approx(1.0 * 0.6)


def test_dual_report_by_machine_and_month_reconciles_with_hand_totals(tmp_path):
    # June and July (local months), two machines; constant factors make the hand sums short.
    sources, instruments = config(
        tmp_path,
        [
            {"id": "grid_jun", "method": "location", "g_per_kwh": 400, "valid_from": "2022-06-01", "valid_to": "2022-07-01", "source": "grid June"},
            {"id": "grid_jul", "method": "location", "g_per_kwh": 300, "valid_from": "2022-07-01", "valid_to": "2022-08-01", "source": "grid July"},
            {"id": "rm", "method": "residual_mix", "g_per_kwh": 600, "source": "AIB"},
        ],
        [{"id": "go", "kind": "go", "mwh": 1.5, "valid_from": "2022-06-01", "valid_to": "2023-01-01", "source": "registry"}],
    )
    index = quarter_hours("2022-06-30 23:00", 8, TZ)  # 4 intervals in June, 4 in July (local)
    energy = pd.DataFrame({"press": [100.0] * 8, "oven": [300.0] * 8}, index=index)
    intervals, allocations = dual_report(energy, sources, instruments)
    summary = summarise(intervals, TZ).set_index(["period_start", "series_id"])
    june, july = pd.Timestamp("2022-06-01", tz=TZ), pd.Timestamp("2022-07-01", tz=TZ)

    # Location: June 400 kWh (press) and 1200 (oven) at 400 g; July the same at 300 g.
    assert summary.loc[(june, "press"), "location_emissions_tco2e"] == pytest.approx(400 * 400 / 1e6)
    assert summary.loc[(june, "oven"), "location_emissions_tco2e"] == pytest.approx(1200 * 400 / 1e6)
    assert summary.loc[(july, "oven"), "location_emissions_tco2e"] == pytest.approx(1200 * 300 / 1e6)
    # Market: the site draws 400 kWh per interval; the GO's 1,500 kWh cover June's 1,600 kWh but
    # 100; every machine takes its share. June: 100 kWh × 600 g; July: all 1,600 kWh × 600 g.
    assert summary.loc[(june, "press"), "market_emissions_tco2e"] + summary.loc[(june, "oven"), "market_emissions_tco2e"] == pytest.approx(100 * 600 / 1e6)
    assert summary.loc[(june, "press"), "market_emissions_tco2e"] == pytest.approx(25 * 600 / 1e6)
    assert summary.loc[(july, "press"), "market_emissions_tco2e"] == pytest.approx(400 * 600 / 1e6)
    assert summary.loc[(july, "oven"), "market_emissions_tco2e"] == pytest.approx(1200 * 600 / 1e6)
    assert summary.loc[(june, "oven"), "location_source_ids"] == "grid_jun"
    assert summary.loc[(june, "oven"), "market_source_ids"] == "go;rm"
    assert summary.loc[(july, "oven"), "market_source_ids"] == "rm"
    assert summary.loc[(june, "press"), "energy_kwh"] == 400 and summary.loc[(june, "press"), "grid_kwh"] == 400
    assert (summary[["missing_location_intervals", "missing_market_intervals", "missing_energy_intervals"]] == 0).all().all()
    # The series add up to the site computed on its own.
    site = market_based(energy.sum(axis=1), sources, instruments)
    assert intervals["market_emissions_kg"].sum() == pytest.approx(site["market_emissions_kg"].sum())
    assert allocations["kwh"].sum() == pytest.approx(1500)


def test_dual_report_allocates_on_the_grid_import_when_given(tmp_path):
    sources, instruments = config(
        tmp_path,
        [{"id": "rm", "method": "residual_mix", "g_per_kwh": 500, "source": "AIB"},
         {"id": "grid", "method": "location", "g_per_kwh": 400, "source": "grid"}],
        [{"id": "go", "kind": "go", "mwh": 0.1, "valid_from": "2022-01-01", "valid_to": "2023-01-01", "source": "r"}],
    )
    index = quarter_hours("2022-06-01 00:00", 2)
    # Machines draw 150 kWh per interval, PV supplies 50, the grid 100.
    machines = pd.DataFrame({"a": [75.0, 75.0], "b": [75.0, 75.0]}, index=index)
    intervals, _ = dual_report(machines, sources, instruments, grid_import_kwh=pd.Series([100.0, 100.0], index=index))
    # Each machine is charged 50 kWh of import per interval: location 50 × 400 g = 20 kg.
    assert list(intervals["grid_kwh"]) == [50.0] * 4
    assert intervals["location_emissions_kg"].sum() == pytest.approx(200 * 0.4)
    # The GO covers the first interval's import; the second is 100 kWh × 500 g = 50 kg: 25 each.
    second = intervals[intervals["start"] == index[1]].set_index("series_id")
    assert second.loc["a", "market_emissions_kg"] == pytest.approx(25.0)
    assert intervals.loc[intervals["start"] == index[0], "market_emissions_kg"].sum() == 0
    with pytest.raises(InputError, match="import without consumption in any series"):
        dual_report(machines * 0.0, sources, instruments, grid_import_kwh=pd.Series([100.0, 100.0], index=index))


def test_marginal_factors_value_shifts_and_stay_out_of_the_inventory(tmp_path):
    (tmp_path / "m.csv").write_text("t,g\n2022-06-01 00:00,900\n2022-06-01 01:00,300\n")
    sources, _ = config(tmp_path, [{"id": "avert", "method": "marginal", "file": "m.csv", "source": "marginal test"}])
    index = quarter_hours("2022-06-01 00:00", 8)
    baseline = pd.Series([10.0] * 4 + [0.0] * 4, index=index)
    shifted = pd.Series([0.0] * 4 + [10.0] * 4, index=index)
    result = avoided_emissions(baseline, shifted, sources)
    # 40 kWh moved from 900 g to 300 g: 36 kg − 12 kg = 24 kg avoided.
    assert result["avoided_emissions_kg"].sum() == pytest.approx(24.0)
    assert result["valuation"].str.startswith("marginal").all()
    with pytest.raises(InputError, match="no location emission factor"):
        location_based(baseline, sources)
    assert slot_intensity(sources, index).method == "marginal"
    with pytest.raises(InputError, match="location: none|no location factor sources"):
        slot_intensity(sources, index, methods=("location",))


def test_monthly_supplier_rates_apply_to_their_local_months_across_the_dst_change(tmp_path):
    (tmp_path / "supplier.csv").write_text("month,g\n2022-03,310\n2022-04,290\n")
    sources, _ = config(tmp_path, [
        {"id": "utility", "method": "supplier", "file": "supplier.csv", "timezone": TZ, "source": "utility's 2022 disclosure"},
    ])
    # The last quarter hour of March and the first of April, local time (summer time since 27 March).
    index = pd.DatetimeIndex([pd.Timestamp("2022-03-31 23:45", tz=TZ), pd.Timestamp("2022-04-01 00:00", tz=TZ)]).tz_convert("UTC")
    result = market_based(pd.Series([10.0, 10.0], index=index), sources, interval=pd.Timedelta(minutes=15))
    assert list(result["market_remaining_g_per_kwh"]) == [310.0, 290.0]
    assert list(result["market_remaining_basis"]) == ["supplier", "supplier"]
    assert result["market_emissions_kg"].sum() == pytest.approx(3.1 + 2.9)
