"""``energy ui`` in a real browser: Debian's Chromium (headless, driven by Playwright) visits every
page of the dashboard on the seeded site and finds its title and a drawn chart, and no exception."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PAGES = {"": "Overview", "machines": "Machines", "plan": "Plan", "savings": "Savings", "emissions": "Emissions", "reports": "Reports", "meters": "Meters"}
KEY_TEXT = {  # one thing each page must show on the seeded site besides its title and chart
    "Overview": "Bill so far", "Machines": "Missing intervals", "Plan": "Solver status", "Savings": "Realised savings",
    "Emissions": "Site, market-based", "Reports": "Download PDF report", "Meters": "Failing",
}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"energy ui exited with {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"energy ui did not answer at {url} within {timeout_s} s")


@pytest.fixture
def dashboard_url(seeded_url, tmp_path):
    """``energy ui`` on the seeded database, on a free port of 127.0.0.1."""
    port = free_port()
    command = [sys.executable, "-c", "from energy.cli import main; main()", "ui", "--db", seeded_url, "--port", str(port)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, HOME=str(tmp_path)))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_every_page_renders_in_chromium(dashboard_url, tmp_path):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = browser.new_page()
            for path, title in PAGES.items():
                page.goto(f"{dashboard_url}/{path}")
                page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=30_000)
                page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
                page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
                # The navigation is the app's (so its login gate ran), not a page folder's file list.
                links = page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
                assert [link.split()[-1] for link in links] == list(PAGES.values())  # after the icon's name
                page.screenshot(path=str(tmp_path / f"{title.lower()}.png"), full_page=True)
                assert page.locator("[data-testid='stException']").count() == 0, f"{title}: an exception is shown"
                text = page.locator("body").inner_text()
                assert "Traceback" not in text and "could not be shown" not in text, f"{title}: {text[:500]}"
                assert KEY_TEXT[title] in text, f"{title}: {KEY_TEXT[title]!r} not shown"
        finally:
            browser.close()
    assert len(list(tmp_path.glob("*.png"))) == len(PAGES)
