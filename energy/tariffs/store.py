"""The ``tariffs`` and ``prices`` tables: storing a loaded tariff and reading it back.

``tariffs.body_json`` holds the normalised model (:func:`energy.tariffs.model.to_json_dict`), so a
stored tariff bills the same whichever format it came from; its dynamic prices, if any, are rows
of ``prices`` (currency per kWh by UTC start). Storing again updates in place (upsert by id and
by start), so re-running ``energy init`` never duplicates.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.errors import InputError
from energy.storage import bulk, schema
from energy.tariffs.loading import detect_format, load_tariff
from energy.tariffs.model import Tariff, from_json_dict, to_json_dict
from energy.timeutil import from_epoch_ms, now_ms, timestamp_to_ms, to_epoch_ms


def store_tariff(engine: Engine, tariff: Tariff, source_format: str) -> int:
    """Upsert the tariff and its dynamic prices; returns the number of price rows stored."""
    row = pd.DataFrame(
        [
            {
                "id": tariff.id,
                "name": tariff.name,
                "currency": tariff.currency,
                "source_format": source_format,
                "body_json": json.dumps(to_json_dict(tariff), sort_keys=True),
                "loaded_ms": now_ms(),
            }
        ]
    )
    with engine.begin() as conn:
        bulk.upsert(conn, schema.tariffs, row)
        if tariff.dynamic is None:
            return 0
        frame = tariff.dynamic.frame
        prices = pd.DataFrame(
            {
                "tariff_id": tariff.id,
                "start_ms": to_epoch_ms(frame.index),
                "import_per_kwh": frame["import_per_kwh"].to_numpy(dtype=float),
                "export_per_kwh": frame["export_per_kwh"].astype(object).where(frame["export_per_kwh"].notna(), None).to_numpy(),
            }
        )
        return bulk.upsert(conn, schema.prices, prices)


def stored_tariff(
    engine: Engine,
    tariff_id: str | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> Tariff:
    """A stored tariff (the most recently loaded one without ``tariff_id``), with its dynamic
    prices from ``start`` (the price in effect then included) to ``end`` when given, else all."""
    table = schema.tariffs
    query = sa.select(table.c.id, table.c.body_json)
    query = query.where(table.c.id == tariff_id) if tariff_id else query.order_by(table.c.loaded_ms.desc()).limit(1)
    prices = schema.prices
    with engine.connect() as conn:
        found = conn.execute(query).first()
        if found is None:
            raise InputError(
                f"no tariff {tariff_id!r} stored" if tariff_id else "no tariff stored: run 'energy init --config SITE.toml' with a [tariff] section first"
            )
        body = json.loads(found.body_json)
        if "energy_schedule" not in body:
            raise InputError(f"tariff {found.id!r} is stored in an older format: run 'energy init --config SITE.toml' again")
        frame = None
        if body.get("dynamic") is not None:
            conditions = [prices.c.tariff_id == found.id]
            if start is not None:
                since = conn.execute(
                    sa.select(sa.func.max(prices.c.start_ms)).where(prices.c.tariff_id == found.id, prices.c.start_ms <= timestamp_to_ms(start))
                ).scalar()
                conditions.append(prices.c.start_ms >= (since if since is not None else timestamp_to_ms(start)))
            if end is not None:
                conditions.append(prices.c.start_ms < timestamp_to_ms(end))
            rows = conn.execute(
                sa.select(prices.c.start_ms, prices.c.import_per_kwh, prices.c.export_per_kwh).where(*conditions).order_by(prices.c.start_ms)
            ).fetchall()
            frame = pd.DataFrame(
                {
                    "import_per_kwh": np.asarray([r[1] for r in rows], dtype=float),
                    "export_per_kwh": np.asarray([np.nan if r[2] is None else r[2] for r in rows], dtype=float),
                },
                index=from_epoch_ms([r[0] for r in rows]).as_unit("ns"),
            )
            if frame.empty:
                raise InputError(f"tariff {found.id!r}: no dynamic prices stored for the period asked")
    return from_json_dict(body, frame)


def store_site_tariff(engine: Engine, config: SiteConfig) -> str:
    """Load the site config's ``[tariff]`` (local times in the site's zone when the tariff names
    none) and store it; returns a summary for ``energy init`` ("" without a tariff)."""
    ref = config.tariff
    if ref is None:
        return ""
    path = config.resolve(ref.file)
    tariff = load_tariff(path, ref.format, ref.urdb_index, config.resolve(ref.prices_file), timezone=config.site.timezone)
    stored = store_tariff(engine, tariff, detect_format(path) if ref.format == "auto" else ref.format)
    prices = f", {stored} dynamic price(s)" if tariff.dynamic is not None else ""
    return f"tariff {tariff.id!r} ({tariff.currency}{prices}) stored"
