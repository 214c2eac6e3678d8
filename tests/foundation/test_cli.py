"""The energy command: init, import readings, export readings; clean errors."""


import pytest

from tests.helpers import run_cli
from tests.foundation.test_config import EXAMPLE

CSV = (
    "timestamp,meter,energy_kwh,power_kw\n"
    "2024-03-31T00:45:00Z,m1,1000.5,12.25\n"
    "2024-03-31T01:00:00Z,m1,1003.5,\n"
    "2024-03-31T01:00:00.250Z,m1,,11.75\n"
    "2024-03-31T01:15:00Z,m1,1006.125,0.0\n"
)


def test_import_then_export_round_trips_exactly(db_url, tmp_path):
    code, _, err = run_cli("init", "--config", EXAMPLE, "--db", db_url)
    assert code == 0, err
    source = tmp_path / "readings.csv"
    source.write_text(CSV)
    assert run_cli("import", "readings", source, "--db", db_url)[0] == 0
    assert run_cli("import", "readings", source, "--db", db_url)[0] == 0  # a re-run stores nothing twice
    code, out, err = run_cli("export", "readings", "--meter", "m1", "--db", db_url)
    assert code == 0, err
    assert out == CSV


def test_import_converts_offsets_to_utc(sqlite_url, tmp_path):
    run_cli("init", "--config", EXAMPLE, "--db", sqlite_url)
    source = tmp_path / "local.csv"
    source.write_text("timestamp,meter,energy_kwh,power_kw\n2024-07-01T14:00:00+02:00,m9,5,\n")
    run_cli("import", "readings", source, "--db", sqlite_url)
    code, out, _ = run_cli("export", "readings", "--meter", "m9", "--from", "2024-07-01T12:00:00Z", "--db", sqlite_url)
    assert out.splitlines()[1] == "2024-07-01T12:00:00Z,m9,5.0,"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("timestamp,meter,energy_kwh\n", "missing column(s) power_kw"),
        ("timestamp,meter,energy_kwh,power_kw\n2024-01-01T00:00:00Z,m1,1,2\n2024-01-01 00:15,m1,2,2\n", "line 3: timestamp '2024-01-01 00:15' has no UTC offset"),
        ("timestamp,meter,energy_kwh,power_kw\n2024-13-01T00:00:00Z,m1,1,2\n", "line 2: timestamp '2024-13-01T00:00:00Z' is not ISO 8601"),
        ("timestamp,meter,energy_kwh,power_kw\n2024-01-01T00:00:00Z,m1,1,2\n2024-01-01T00:15:00Z,m1,abc,2\n", "line 3: energy_kwh 'abc' is not a number"),
        ("timestamp,meter,energy_kwh,power_kw\n2024-01-01T00:00:00Z,m 1,1,2\n", "line 2: meter 'm 1' is not a valid id"),
        ("timestamp,meter,energy_kwh,power_kw\n2024-01-01T00:00:00Z,m1,,\n", "line 2: both energy_kwh and power_kw are empty"),
        ("timestamp,meter,energy_kwh,power_kw\n2024-01-01T00:00:00Z,m1,1,2\n2024-01-01T01:00:00+01:00,m1,3,2\n", "lines 2, 3: meter 'm1' has different values"),
        ("", "file is empty"),
    ],
)
def test_malformed_csv_gives_one_line_naming_the_problem(sqlite_url, tmp_path, body, message):
    run_cli("init", "--config", EXAMPLE, "--db", sqlite_url)
    source = tmp_path / "bad.csv"
    source.write_text(body)
    code, out, err = run_cli("import", "readings", source, "--db", sqlite_url)
    assert code == 1
    assert err.count("\n") == 1 and str(source) in err and message in err
    assert "Traceback" not in err


def test_malformed_config_gives_one_line(tmp_path, sqlite_url):
    config = tmp_path / "site.toml"
    config.write_text(EXAMPLE.read_text().replace("port = 5021, unit_id = 3", "port = 0, unit_id = 3"))
    code, _, err = run_cli("init", "--config", config, "--db", sqlite_url)
    assert code == 1
    assert err.strip() == f"energy: error: {config}: meters[3].connection.port: must be 1–65535"


def test_uninitialised_database_and_usage_errors(tmp_path):
    code, _, err = run_cli("export", "readings", "--meter", "m1", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 1 and "run 'energy init --config SITE.toml' first" in err
    code, _, err = run_cli("export", "readings", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 1 and "--meter" in err
    code, _, err = run_cli("export", "readings", "--meter", "m1", "--from", "yesterday-ish", "--db", "sqlite://")
    assert code == 1 and "--from: 'yesterday-ish' is not an ISO 8601" in err


def test_contract_subcommands_all_exist():
    for command in ["demo", "init", "simulate", "collect", "import", "export", "forecast", "bill", "optimize", "plan", "report", "ui"]:
        code, out, _ = run_cli(command, "--help")
        assert code == 0 and "Usage" in out, command
