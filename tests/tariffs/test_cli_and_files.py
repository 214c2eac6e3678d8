"""``energy bill`` and the tariff and CSV files: results and clear errors."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from energy.errors import InputError
from energy.tariffs import load_tariff
from energy.tariffs.toml import tariff_from_toml_dict
from tests.helpers import REPO, run_cli, shared_data

DEMO_TARIFF = REPO / "data" / "demo" / "tariff.toml"


def _csv(path, index: pd.DatetimeIndex, column: str, values, fmt: str = "%Y-%m-%dT%H:%M:%S%z"):
    pd.DataFrame({"timestamp": index.strftime(fmt), column: values}).to_csv(path, index=False)
    return path


def test_bill_kw_csv_under_the_demo_tariff(tmp_path):
    index = pd.date_range("2024-06-01", "2024-07-01", freq="15min", inclusive="left", tz="Europe/Berlin")
    load = _csv(tmp_path / "load.csv", index, "kw", 250.0)
    code, out, err = run_cli("bill", "--tariff", DEMO_TARIFF, "--load", load)
    assert code == 0, err
    result = json.loads(out)
    assert result["currency"] == "EUR" and result["tariff"] == "demo-de-mv-industrial-2024"
    [june] = result["periods"]
    assert june["period"] == "2024-06" and june["complete"] is True
    assert june["import_kwh"] == pytest.approx(30 * 24 * 250)
    assert june["demand"] == pytest.approx(250 * 11.5) and june["fixed"] == pytest.approx(135.0)
    assert june["tax"] == 0.0
    assert june["total"] == pytest.approx(june["energy"] + june["levy"] + june["export"] + june["demand"] + june["fixed"] + june["minimum"])
    assert sum(c["amount"] for c in june["components"]) == pytest.approx(june["total"])
    assert {c["tou_period"] for c in june["components"] if c["category"] == "energy"} == {"HT", "NT"}
    assert result["total"] == pytest.approx(june["total"])


def test_bill_kwh_csv_naive_local_times_across_dst_under_urdb(tmp_path):
    # Naive timestamps in the zone given; the repeated hour of 3 November 2024 is told apart by order.
    index = pd.date_range("2024-11-01", "2024-12-01", freq="1h", inclusive="left", tz="America/Los_Angeles")
    load = _csv(tmp_path / "load.csv", index, "kwh", 100.0, fmt="%Y-%m-%d %H:%M")
    tariff = shared_data("tariffs", "urdb_sce_tou8_option_d.json")
    code, out, err = run_cli("bill", "--tariff", tariff, "--load", load, "--timezone", "America/Los_Angeles")
    assert code == 0, err
    result = json.loads(out)
    [november] = result["periods"]
    assert november["import_kwh"] == pytest.approx(721 * 100)  # 30 days + the extra hour
    assert result["not_billed"] == ["reactive power charge 0.66 per kVAR (needs kVAR data)"]
    assert result["currency"] == "USD"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("timestamp,power\n2024-01-01T00:00Z,1\n", r"load.csv: need exactly one of the columns 'kw' or 'kwh'"),
        ("timestamp,kw\n2024-01-01T00:00Z,1\n2024-01-01T00:15Z,x\n", r"load.csv: line 3: kw 'x' is not a number"),
        ("timestamp,kw\n2024-01-01T00:00Z,1\nyesterday,2\n", r"load.csv: line 3: timestamp 'yesterday' is not ISO 8601"),
        ("timestamp,kw\n2024-01-01T00:00Z,1\n2024-01-01T00:00Z,2\n", r"load.csv: line 3: duplicate timestamp"),
    ],
)
def test_bad_load_csv_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "load.csv"
    path.write_text(content)
    code, out, err = run_cli("bill", "--tariff", DEMO_TARIFF, "--load", path)
    assert code == 1 and out == ""
    assert err.startswith("energy: error: ") and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_unsupported_urdb_feature_through_the_cli(tmp_path):
    item = json.loads(shared_data("tariffs", "urdb_smud_ci_tod3.json").read_text())["items"][0]
    item["coincidentratestructure"] = [[{"rate": 3.0}]]
    tariff = tmp_path / "coincident.json"
    tariff.write_text(json.dumps({"items": [item]}))
    load = tmp_path / "load.csv"
    load.write_text("timestamp,kw\n2024-01-01T00:00Z,1\n2024-01-01T00:15Z,1\n")
    code, _, err = run_cli("bill", "--tariff", tariff, "--load", load)
    assert code == 1
    assert "coincident.json: URDB field 'coincidentratestructure': coincident demand charges are not supported yet" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"energy": [{"period": "HT", "rate": 0.2, "when": [{"hours": "06:00-22:00"}]}]}, r"t.toml: energy: no period covers month 1, weekdays, 00:00"),
        ({"energy": [{"period": "x", "rate": 0.2, "colour": "red"}]}, r"t.toml: energy\[0\].colour: unknown field \(check the spelling against docs/tariffs.md\)"),
        ({"energy": [{"period": "x", "rate": 0.2, "when": [{"hours": "06:10-22:00"}]}]}, r"energy\[0\].when\[0\].hours: times must be quarter hours"),
        ({"energy": [{"period": "x", "tiers": [{"rate": 0.1}, {"up_to": 5, "rate": 0.2}]}]}, r"energy\[0\]: tiers need ascending up_to"),
        ({"energy": []}, r"t.toml: a tariff needs \[\[energy\]\] periods or a \[dynamic\] price file"),
        ({"demand_interval_minutes": 7}, r"demand_interval_minutes: must divide 60"),
        ({"timezone": "Mars/Olympus"}, r"timezone: unknown time zone 'Mars/Olympus'"),
        ({"holidays": {"country": "DE", "subdivision": "XX"}}, r"holidays: no public holiday calendar for 'DE' / 'XX'"),
        ({"demand": [{"name": "a", "rate": 1}, {"name": "a", "rate": 2}]}, r"demand: charge names must be unique"),
    ],
)
def test_toml_errors_name_the_field(tmp_path, change, message):
    data = {"id": "t", "name": "t", "currency": "EUR", "energy": [{"period": "all", "rate": 0.1}], **change}
    with pytest.raises(InputError, match=message):
        tariff_from_toml_dict(data, tmp_path / "t.toml")


def test_tariff_file_errors(tmp_path):
    with pytest.raises(InputError, match="nothing.toml: tariff file not found"):
        load_tariff(tmp_path / "nothing.toml")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="bad.json: not valid JSON"):
        load_tariff(tmp_path / "bad.json")
    with pytest.raises(InputError, match="urdb_index 3 is out of range \\(1 item"):
        load_tariff(shared_data("tariffs", "urdb_smud_ci_tod3.json"), urdb_index=3)
    with pytest.raises(InputError, match="cannot tell the tariff format"):
        load_tariff(tmp_path / "tariff.txt")


def test_load_csv_with_offsets_across_dst_and_partial_month(tmp_path):
    # ISO timestamps whose offset changes (+01:00 → +02:00) on 31 March 2024.
    index = pd.date_range("2024-03-30", "2024-04-01", freq="15min", inclusive="left", tz="Europe/Berlin")
    load = _csv(tmp_path / "load.csv", index, "kw", 40.0, fmt="%Y-%m-%dT%H:%M:%S%z")
    code, out, err = run_cli("bill", "--tariff", DEMO_TARIFF, "--load", load)
    assert code == 0, err
    [march] = json.loads(out)["periods"]
    assert march["import_kwh"] == pytest.approx(47 * 40)  # 24 h + 23 h
    assert march["complete"] is False  # two days of the month: fixed charges are still monthly
    assert march["fixed"] == pytest.approx(135.0)


def test_bill_with_dynamic_prices_on_top_of_a_urdb_rate(tmp_path):
    hours = pd.date_range("2025-03-03", periods=24, freq="1h", tz="UTC")
    prices = _csv(tmp_path / "da.csv", hours, "price_per_mwh", [100.0] * 12 + [-20.0] * 12, fmt="%Y-%m-%dT%H:%MZ")
    quarter_hours = pd.date_range("2025-03-03", periods=96, freq="15min", tz="UTC")
    load = _csv(tmp_path / "load.csv", quarter_hours, "kw", 10.0)
    code, out, err = run_cli("bill", "--tariff", shared_data("tariffs", "urdb_smud_ci_tod3.json"), "--load", load, "--prices", prices)
    assert code == 0, err
    [march] = json.loads(out)["periods"]
    dynamic = [c for c in march["components"] if c["component"] == "dynamic prices (da.csv)"]
    assert dynamic[0]["amount"] == pytest.approx(12 * 10 * 0.1 - 12 * 10 * 0.02)
    assert dynamic[0]["quantity"] == pytest.approx(240.0)
