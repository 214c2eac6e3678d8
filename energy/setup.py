"""Bring a database in line with a site's configuration (``energy init``)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.storage.site import store_site


def initialise(engine: Engine, config: SiteConfig) -> str:
    """Store the site, machines and meters (and, as their issues land, tariff and factors).

    Returns a one-line summary for the operator. Safe to run again: everything is an upsert.
    """
    sid = store_site(engine, config)
    return f"site {sid!r}: {len(config.machines)} machine(s), {len(config.meters)} meter(s) stored"
