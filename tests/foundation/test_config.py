"""Site configuration: the shipped example loads; every kind of mistake names file and field."""

from pathlib import Path

import pytest

from energy.config import load_config, parse_config
from energy.errors import InputError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "data" / "demo" / "site.toml"


def minimal(**overrides) -> dict:
    data = {
        "site": {"name": "Plant", "timezone": "Europe/Berlin", "latitude": 50.0, "longitude": 8.0},
        "machines": [{"id": "press", "name": "Press"}],
        "meters": [
            {"id": f"m{i}", "model": "eastron_sdm630", "machine": "press",
             "connection": {"host": "10.0.0.5", "port": 502, "unit_id": i + 1}}
            for i in range(4)
        ],
    }
    data.update(overrides)
    return data


def test_example_config_loads_with_defaults_and_paths():
    config = load_config(EXAMPLE)
    assert config.site.timezone == "Europe/Berlin"
    assert config.site.interval_minutes == 15
    assert {m.role for m in config.meters} >= {"main", "pv", "machine"}
    assert config.resolve(config.tariff.file) == EXAMPLE.parent / "tariff.toml"


def test_port_out_of_range_names_file_and_field_path(tmp_path):
    data = minimal()
    data["meters"][3]["connection"]["port"] = 70000
    with pytest.raises(InputError, match=r"^site\.toml: meters\[3\]\.connection\.port: must be 1–65535$"):
        parse_config(data, Path("site.toml"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["site"].update(timezone="Mars/Olympus"), r"site\.timezone: unknown time zone 'Mars/Olympus'"),
        (lambda d: d["site"].update(interval_minutes=7), r"site\.interval_minutes: must divide 60"),
        (lambda d: d["site"].update(latitude=91), r"site\.latitude: must be ≤ 90"),
        (lambda d: d["machines"][0].update(idle_kw=-1), r"machines\[0\]\.idle_kw: must be ≥ 0"),
        (lambda d: d["meters"][1].update(pol_seconds=3), r"meters\[1\]\.pol_seconds: unknown field"),
        (lambda d: d["meters"][2]["connection"].pop("host"), r"meters\[2\]\.connection: .*needs host and port"),
        (lambda d: d["meters"][0].update(machine="lathe"), r"meters\[0\]\.machine: unknown machine 'lathe'"),
        (lambda d: d["meters"][1].update(id="m0"), r"meters\[1\]\.id: duplicate id 'm0'"),
        (lambda d: d.pop("site"), r"^cfg\.toml: site: required field is missing$"),
    ],
)
def test_mistakes_are_named(change, message):
    data = minimal()
    change(data)
    with pytest.raises(InputError, match=message) as info:
        parse_config(data, Path("cfg.toml"))
    assert str(info.value).startswith("cfg.toml: ")
    assert "\n" not in str(info.value)


def test_invalid_toml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[site\nname = 'x'\n")
    with pytest.raises(InputError, match=r"broken\.toml: not valid TOML"):
        load_config(broken)
    with pytest.raises(InputError, match=r"nowhere\.toml: config file not found"):
        load_config(tmp_path / "nowhere.toml")
