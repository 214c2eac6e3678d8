"""Load a tariff from a file in either format, as the site config's ``[tariff]`` names it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from energy.errors import InputError
from energy.tariffs.model import DynamicPrices, Tariff
from energy.tariffs.series import read_price_csv
from energy.tariffs.toml import load_toml_tariff
from energy.tariffs.urdb import load_urdb_tariff


def detect_format(path: Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".toml":
        return "toml"
    if suffix == ".json":
        return "urdb"
    raise InputError(f"{path}: cannot tell the tariff format from the extension (use .toml or .json, or give format)")


def load_tariff(
    path: Path,
    format: str = "auto",
    urdb_index: int = 0,
    prices_file: Path | None = None,
    timezone: str | None = None,
) -> Tariff:
    """A tariff from the project's TOML (``format="toml"``) or URDB JSON (``"urdb"``).

    ``timezone`` is the zone to read local times in when the tariff names none (URDB rates do
    not; a site passes its own zone). ``prices_file``: a dynamic price CSV whose prices are
    charged on top of the tariff's energy periods (it replaces a TOML ``[dynamic]`` file).
    """
    path = Path(path)
    kind = detect_format(path) if format == "auto" else format
    if kind == "toml":
        tariff = load_toml_tariff(path, prices_file)
    elif kind == "urdb":
        tariff = load_urdb_tariff(path, urdb_index)
    else:
        raise InputError(f"{path}: unknown tariff format {format!r} (auto, toml or urdb)")
    if tariff.timezone is None and timezone is not None:
        tariff = dataclasses.replace(tariff, timezone=timezone)
    if kind == "urdb" and prices_file is not None:
        frame, resolution = read_price_csv(prices_file, tariff.timezone or "UTC")
        tariff = dataclasses.replace(tariff, dynamic=DynamicPrices(Path(prices_file).name, frame, resolution))
    return tariff
