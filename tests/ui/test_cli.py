"""``energy ui`` without a browser: access control, options and the environment of the app."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from energy.cli import ui as ui_command
from energy.config import Dashboard
from tests.helpers import run_cli
from tests.ui import seed


@pytest.fixture
def launched(monkeypatch):
    """Capture what ``energy ui`` would exec instead of starting Streamlit."""
    calls = []
    monkeypatch.setattr(ui_command.os, "execve", lambda path, argv, env: calls.append((argv, env)))
    monkeypatch.delenv("ENERGY_UI_PASSWORD", raising=False)
    monkeypatch.delenv("ENERGY_UI_PASSWORD_SHA256", raising=False)
    return calls


def test_loopback_by_default_with_the_database_passed_through(launched, sqlite_url):
    code, _, err = run_cli("ui", "--db", sqlite_url, "--port", "8599")
    assert code == 0, err
    ((argv, env),) = launched
    assert argv[2:4] == ["streamlit", "run"] and argv[4].endswith("ui/app.py")
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1" and argv[argv.index("--server.port") + 1] == "8599"
    assert env["ENERGY_DB_URL"] == sqlite_url and "ENERGY_UI_PASSWORD_SHA256" not in env
    assert "http://127.0.0.1:8599" in err


def test_a_wider_address_needs_a_login(launched, sqlite_url, tmp_path, monkeypatch):
    code, _, err = run_cli("ui", "--db", sqlite_url, "--host", "0.0.0.0")
    assert code == 1 and "without a login" in err and not launched
    digest = hashlib.sha256(b"s3cret").hexdigest()
    config = seed.write_config(tmp_path, pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02", tz="UTC"))
    config.write_text(config.read_text() + f'\n[ui]\nhost = "0.0.0.0"\nport = 8600\npassword_sha256 = "{digest}"\n')
    code, _, err = run_cli("ui", "--db", sqlite_url, "--config", config)
    assert code == 0, err
    ((argv, env),) = launched
    assert argv[argv.index("--server.address") + 1] == "0.0.0.0" and env["ENERGY_UI_PASSWORD_SHA256"] == digest
    monkeypatch.setenv("ENERGY_UI_PASSWORD", "s3cret")
    ui_command.launch(sqlite_url, Dashboard(), host="192.168.1.5", port=8601)
    assert len(launched) == 2


def test_bad_options_name_themselves(launched, tmp_path):
    code, _, err = run_cli("ui", "--db", "nonsense://x", "--port", "8602")
    assert code == 1 and "--db" in err
    code, _, err = run_cli("ui", "--port", "70000")
    assert code == 1 and "--port" in err
    assert not launched
