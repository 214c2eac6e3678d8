"""``energy ui``: the Streamlit dashboard (``ui/app.py``) on the database."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from energy.cli.app import DbOption, OptionalConfigOption, app
from energy.config import Dashboard, load_config
from energy.errors import InputError
from energy.storage import connect
from energy.storage.db import database_url

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the dashboard."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]


def dashboard_environment(url: str, settings: Dashboard) -> dict[str, str]:
    """The environment ``ui/app.py`` reads: the database URL and the access control."""
    env = dict(os.environ, ENERGY_DB_URL=url)
    if settings.password_sha256:
        env["ENERGY_UI_PASSWORD_SHA256"] = settings.password_sha256
    if settings.oidc:
        env["ENERGY_UI_AUTH"] = "oidc"
    return env


def launch(db_url: str | None = None, settings: Dashboard | None = None, host: str | None = None, port: int | None = None) -> None:
    """Replace this process with the dashboard on ``db_url`` (``energy demo`` calls this too).

    ``host``/``port`` override ``settings`` (the config's ``[ui]``). Raises ``InputError`` for a
    bad port or URL, or a non-loopback host without a password or OIDC login.
    """
    settings = settings or Dashboard()
    host = host or settings.host
    port = port or settings.port
    if not 1 <= port <= 65535:
        raise InputError(f"--port: {port} is not a port (1–65535)")
    url = database_url(db_url)
    engine = connect(url)  # a malformed URL or a missing driver fails here, with its name
    shown = engine.url.render_as_string(hide_password=True)
    engine.dispose()
    env = dashboard_environment(url, settings)
    protected = env.get("ENERGY_UI_PASSWORD_SHA256") or env.get("ENERGY_UI_PASSWORD") or env.get("ENERGY_UI_AUTH") == "oidc"
    if not _loopback(host) and not protected:
        raise InputError(
            f"--host {host}: the dashboard would be reachable from other machines without a login; "
            "set [ui] password_sha256 (or ENERGY_UI_PASSWORD) or [ui] oidc = true, or bind 127.0.0.1"
        )
    print(f"energy ui: http://{host}:{port} on {shown} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    os.execve(sys.executable, streamlit_command(host, port), env)


@app.command()
def ui(
    db: DbOption = None,
    config: OptionalConfigOption = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="Port to listen on [default: the config's ui.port, else 8501].")] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind [default: the config's ui.host, else 127.0.0.1]; wider needs a password or OIDC.")
    ] = None,
) -> None:
    """Start the dashboard on the database (http://127.0.0.1:8501 by default)."""
    launch(db, load_config(config).ui if config else None, host, port)
