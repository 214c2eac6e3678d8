"""The site's losses per kW of sub-metered load, estimated from 1-minute readings of a twin day."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from energy import storage
from energy.config import load_config
from energy.planning.jobs import read_jobs
from energy.planning.savings import loss_factor
from energy.readings import store_readings
from energy.twin.params import load_twin_params
from energy.twin.plant import PlantTwin
from tests.helpers import REPO

DAY = dt.date(2026, 3, 4)  # a Wednesday


def twin_day_engine(tmp_path, losses_pct: float, every_minutes: int):
    config = load_config(REPO / "data" / "demo" / "site.toml")
    params = load_twin_params(REPO / "data" / "demo" / "twin.toml", config).model_copy(update={"losses_pct": losses_pct})
    twin = PlantTwin(config, params, DAY, DAY, REPO / "data" / "demo" / "jobs.csv")
    path = twin.write_jobs_file(DAY, tmp_path / "jobs.csv")
    twin.run_day(DAY, read_jobs(path, DAY, config.site.timezone))
    engine = storage.connect(f"sqlite:///{tmp_path / f'losses-{losses_pct}-{every_minutes}.db'}")
    storage.upgrade(engine)
    store_readings(engine, twin.readings(np.arange(0, twin.actual.minutes + 1, every_minutes), 1_000.0))
    return engine, config, twin


@pytest.mark.parametrize("losses_pct", [0.0, 2.0])
def test_losses_are_read_off_the_minute_to_minute_changes(tmp_path, losses_pct):
    engine, config, twin = twin_day_engine(tmp_path, losses_pct, 1)
    # The twin's losses are a share of machines and base; the base's own steps do not follow the
    # machines', so the estimate is the share within half a point.
    assert loss_factor(engine, config, twin.start, twin.end) == pytest.approx(losses_pct / 100, abs=0.005)


def test_no_loss_factor_without_minute_readings(tmp_path):
    engine, config, twin = twin_day_engine(tmp_path, 2.0, 15)
    assert loss_factor(engine, config, twin.start, twin.end) == 0.0
