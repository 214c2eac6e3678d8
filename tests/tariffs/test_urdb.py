"""A flat-load month under each shipped URDB tariff, computed by hand; unsupported features."""

from __future__ import annotations

import json

import pytest

from energy.errors import InputError
from energy.tariffs import load_tariff
from energy.tariffs.urdb import load_urdb_tariff, tariff_from_urdb_item
from tests.helpers import shared_data
from tests.tariffs.loads import bill_of, flat_kwh


def test_smud_ci_tod3_july():
    tariff = load_tariff(shared_data("tariffs", "urdb_smud_ci_tod3.json"), timezone="America/Los_Angeles")
    kw = 600.0
    summary, _ = bill_of(tariff, flat_kwh("2025-07-01", "2025-08-01", kw, tz="America/Los_Angeles"))
    july = summary.loc["2025-07"]
    # July 2025: 23 weekdays, 8 weekend days. Summer weekdays 16:00–21:00 are period 3
    # (0.2294 + 0.0003 $/kWh); every other hour is period 4 (0.1118 + 0.0003).
    on_peak_h, other_h = 23 * 5, 23 * 19 + 8 * 24
    assert july["energy"] == pytest.approx(kw * (on_peak_h * 0.2297 + other_h * 0.1121), abs=0.005)
    # TOU demand 11.609 $/kW on the summer weekday peak window plus flat demand 5.539 $/kW.
    assert july["demand"] == pytest.approx(kw * (11.609 + 5.539), abs=0.005)
    assert july["fixed"] == 2339.50
    assert july["total"] == pytest.approx(kw * (on_peak_h * 0.2297 + other_h * 0.1121) + kw * 17.148 + 2339.50, abs=0.005)


def test_sdge_al_tou_january():
    tariff = load_urdb_tariff(shared_data("tariffs", "urdb_sdge_al_tou.json"))
    kw = 400.0
    summary, lines = bill_of(tariff, flat_kwh("2025-01-01", "2025-02-01", kw))
    january = summary.loc["2025-01"]
    # January 2025: 23 weekdays, 8 weekend days. Rate = 0.01874 + adj per period:
    # p5 (0.09599) weekdays 0–6 h, weekends 0–14 h; p4 (0.12425) weekdays 6–16 and 21–24 h,
    # weekends 14–16 and 21–24 h; p3 (0.22118) 16–21 h every day.
    p5_h, p4_h, p3_h = 23 * 6 + 8 * 14, 23 * 13 + 8 * 5, 31 * 5
    energy = kw * (p5_h * (0.01874 + 0.09599) + p4_h * (0.01874 + 0.12425) + p3_h * (0.01874 + 0.22118))
    assert january["energy"] == pytest.approx(energy, abs=0.005)
    # Flat demand 30.63 $/kW plus winter on-peak (16–21 h, every day) 32.93 $/kW.
    assert january["demand"] == pytest.approx(kw * (30.63 + 32.93), abs=0.005)
    assert january["fixed"] == 766.91
    assert january["total"] == pytest.approx(energy + kw * 63.56 + 766.91, abs=0.005)
    assert set(lines.loc[lines["category"] == "energy", "tou_period"]) == {"period 3", "period 4", "period 5"}
    assert tariff.not_billed == ("reactive power charge 0.25 per kVAR (needs kVAR data)",)


def test_sce_tou8_option_d_august():
    tariff = load_urdb_tariff(shared_data("tariffs", "urdb_sce_tou8_option_d.json"))
    kw = 800.0
    summary, _ = bill_of(tariff, flat_kwh("2025-08-01", "2025-09-01", kw))
    august = summary.loc["2025-08"]
    # August 2025: 21 weekdays, 10 weekend days; every rate + 0.00114 adj.
    # p3 (0.11229) all hours but 16–21; p5 (0.15072) weekdays 16–21; p4 (0.14085) weekends 16–21.
    energy = kw * ((31 * 19) * 0.11343 + 21 * 5 * 0.15186 + 10 * 5 * 0.14199)
    assert august["energy"] == pytest.approx(energy, abs=0.005)
    # Flat 25.36 $/kW plus summer weekday 16–21 h on-peak 29.54 $/kW.
    assert august["demand"] == pytest.approx(kw * (25.36 + 29.54), abs=0.005)
    assert august["fixed"] == 447.44


def _smud_item() -> dict:
    return json.loads(shared_data("tariffs", "urdb_smud_ci_tod3.json").read_text())["items"][0]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"coincidentratestructure": [[{"rate": 4.5}]]}, "coincidentratestructure", "coincident demand charges are not supported"),
        ({"demandratchetpercentage": [0.5] * 12}, "demandratchetpercentage", "ratchet percentages"),
        ({"energyratestructure": [[{"unit": "kWh daily", "rate": 0.1, "max": 10}, {"rate": 0.2}]] * 5}, "energyratestructure", "'kWh daily' is not supported"),
        ({"demandrateunit": "kVA"}, "demandrateunit", "'kVA' is not supported"),
        ({"fixedchargeunits": "$/year"}, "fixedchargeunits", "'$/year' is not supported"),
        ({"mincharge": 100, "minchargeunits": "$/day"}, "minchargeunits", "'$/day' is not supported"),
        ({"fueladjustmentsmonthly": [0.01] * 12}, "fueladjustmentsmonthly", "monthly fuel adjustments are not supported"),
        ({"seasonalEnergyCredits": 3}, "seasonalEnergyCredits", "unknown field"),
    ],
)
def test_unsupported_feature_is_a_clear_error(change, field, words):
    item = {**_smud_item(), **change}
    with pytest.raises(InputError, match=rf"smud\.json: URDB field '{field}': .*{words}".replace("$", r"\$")):
        tariff_from_urdb_item(item, "smud.json")


def test_zero_valued_unsupported_fields_are_accepted():
    tariff = tariff_from_urdb_item({**_smud_item(), "demandratchetpercentage": [0] * 12, "coincidentratestructure": []})
    assert [c.name for c in tariff.demand_charges] == ["tou period 1", "flat"]


def test_net_metering_exports_are_refused():
    tariff = tariff_from_urdb_item(_smud_item(), "smud.json")
    assert tariff.net_metering
    load = flat_kwh("2025-03-01", "2025-03-02", 10.0)
    load.iloc[40:48] = -5.0
    with pytest.raises(InputError, match="net metering rules are not supported"):
        bill_of(tariff, load)


def test_urdb_lookback_fields_become_a_ratchet():
    item = {**_smud_item(), "lookbackPercent": 0.8, "lookbackRange": 11, "lookbackMonths": [0] * 5 + [1] * 4 + [0] * 3}
    flat = [c for c in tariff_from_urdb_item(item).demand_charges if c.name == "flat"][0]
    assert (flat.ratchet.percent, flat.ratchet.months, flat.ratchet.counted_months) == (80.0, 11, (6, 7, 8, 9))
