"""Site configurations for the histories tests: a Berlin works with whatever machines and meters
a test needs."""

from __future__ import annotations

import textwrap

SITE_HEADER = """
[site]
name = "Test works"
timezone = "Europe/Berlin"
latitude = 51.5
longitude = 7.5
"""


def write_site(tmp_path, body: str):
    """``site.toml`` in ``tmp_path``: the Berlin site header followed by ``body`` (TOML)."""
    path = tmp_path / "site.toml"
    path.write_text(SITE_HEADER + textwrap.dedent(body), encoding="utf-8")
    return path
