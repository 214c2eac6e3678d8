"""Bring a database in line with a site's configuration (``energy init``)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.emissions.store import store_emissions
from energy.storage.site import store_site
from energy.tariffs.store import store_site_tariff


def initialise(engine: Engine, config: SiteConfig) -> str:
    """Store the site, machines and meters (and, as their issues land, tariff and factors).

    Returns a one-line summary for the operator. Safe to run again: everything is an upsert.
    """
    sid = store_site(engine, config)
    summary = f"site {sid!r}: {len(config.machines)} machine(s), {len(config.meters)} meter(s) stored"
    tariff = store_site_tariff(engine, config)
    summary = f"{summary}; {tariff}" if tariff else summary
    # The database's emission factors and instruments become exactly the config's.
    return f"{summary}; {store_emissions(engine, config)}"
