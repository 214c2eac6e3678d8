"""The plant twin served live: ``energy simulate --twin`` (docs/metering.md).

:func:`twin_loads` runs a :class:`~energy.twin.plant.PlantTwin` over the site's local days
yesterday, today and tomorrow (relative to ``now``), each day with the site's own plan of that
day's orders, and turns every enabled meter's minute power into a simulator load
(:class:`~energy.metering.load_shape.LoadModel`: one level per minute from the twin's start, no
ripple), so the simulated meters serve what the twin's meters see and their counters integrate it
exactly.

A ``LoadModel`` is periodic: after the three days the same three days repeat (a simulation that
runs past tomorrow's local midnight serves yesterday again; the counters keep counting up).

A meter whose power goes negative (a main meter while PV exports) serves its net power, but its
import counter stands still while it exports, like a real meter's and the twin's own
(:mod:`energy.twin.meters`); that export is not counted (the simulator has one counter direction
per meter).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from energy.config import SiteConfig
from energy.metering.load_shape import LoadModel
from energy.planning.jobs import read_jobs
from energy.twin.params import TwinParams
from energy.twin.plant import PlantTwin

STEP_S = 60.0  # the twin's resolution: one level per minute


@dataclass(frozen=True)
class ImportCounted:
    """A net load (negative: export) whose energy counter only counts import."""

    net: LoadModel
    imported: LoadModel

    def power_kw(self, t_s: float) -> float:
        return self.net.power_kw(t_s)

    def energy_kwh(self, t_s: float) -> float:
        return self.imported.energy_kwh(t_s)


def live_twin(config: SiteConfig, params: TwinParams, now: pd.Timestamp, jobs_template: Path, workdir: Path | None = None) -> PlantTwin:
    """The twin over the site's local [yesterday, tomorrow] around ``now`` (tz-aware), every day
    executed with the site's own plan of its orders (``now`` naive: UTC; the day's jobs files
    are written to ``workdir``, default a temporary folder)."""
    now = now.tz_localize("UTC") if now.tzinfo is None else now
    today = now.tz_convert(config.site.timezone).date()
    one = dt.timedelta(days=1)
    twin = PlantTwin(config, params, today - one, today + one, jobs_template)
    with tempfile.TemporaryDirectory(prefix="energy-twin-") as scratch:
        folder = Path(workdir) if workdir is not None else Path(scratch)
        for day in (today - one, today, today + one):
            path = twin.write_jobs_file(day, folder / f"jobs-{day.isoformat()}.csv")
            twin.run_day(day, read_jobs(path, day, config.site.timezone) if path else [])
    return twin


def meter_loads(twin: PlantTwin) -> dict[str, tuple[LoadModel | ImportCounted, int]]:
    """Meter id → (load, +1) serving each enabled meter's minute power of an executed ``twin``."""
    origin_s = twin.start.timestamp()
    loads: dict[str, tuple[LoadModel | ImportCounted, int]] = {}
    for meter, power in twin.meter_power_kw().items():
        load = LoadModel(power, STEP_S, origin_s=origin_s, ripple=0.0)
        if (power < 0).any():
            load = ImportCounted(load, LoadModel(np.clip(power, 0.0, None), STEP_S, origin_s=origin_s, ripple=0.0))
        loads[meter] = (load, 1)
    return loads


def twin_loads(config: SiteConfig, params: TwinParams, now: pd.Timestamp, jobs_template: Path, workdir: Path | None = None) -> dict[str, tuple[LoadModel | ImportCounted, int]]:
    """Meter id → (load, +1) for ``energy simulate --twin`` (see the module docstring)."""
    return meter_loads(live_twin(config, params, now, jobs_template, workdir))
