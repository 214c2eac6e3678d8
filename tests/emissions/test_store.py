"""Factor sources and instruments in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil

import pandas as pd
import sqlalchemy as sa

from energy.config import load_config
from energy.emissions import (
    instruments_from_config,
    load_factor_sources,
    load_instruments,
    load_slot_intensity,
    market_based,
    sources_from_config,
)
from energy.setup import initialise
from energy.storage import schema
from tests.helpers import REPO, run_cli

SITE = """\
[site]
name = "Store Test"
timezone = "Europe/Berlin"
latitude = 50.0
longitude = 8.0

[[emissions.factors]]
id = "grid"
method = "location"
file = "grid.csv"
column = "g"
source = "test grid, hourly"

[[emissions.factors]]
id = "rm"
method = "residual_mix"
g_per_kwh = {rm}
valid_from = 2022-01-01
valid_to = 2023-01-01
source = "AIB test"
{instruments}"""

GO = """
[[emissions.instruments]]
id = "go"
kind = "go"
mwh = 0.2
valid_from = 2022-06-01
valid_to = 2022-07-01
source = "registry"
"""


def write_site(folder, rm: float = 600.0, with_go: bool = True):
    hours = pd.date_range("2022-05-31 22:00", periods=48, freq="1h", tz="UTC")
    (folder / "grid.csv").write_text("t,g\n" + "".join(f"{h:%Y-%m-%d %H:%M},{100 + i}\n" for i, h in enumerate(hours)))
    path = folder / "site.toml"
    path.write_text(SITE.format(rm=rm, instruments=GO if with_go else ""), encoding="utf-8")
    return path


def table_rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.select(table).order_by(*table.primary_key.columns)).fetchall()


def test_init_stores_sources_rows_and_instruments_and_rerun_changes_nothing(engine, tmp_path):
    config = load_config(write_site(tmp_path))
    summary = initialise(engine, config)
    assert "2 emission factor source(s) (48 factor rows), 1 instrument(s) stored" in summary
    before = {t.name: table_rows(engine, t) for t in (schema.emission_factors, schema.emission_instruments)}
    initialise(engine, config)
    assert {t.name: table_rows(engine, t) for t in (schema.emission_factors, schema.emission_instruments)} == before
    sources = {r.id: r for r in table_rows(engine, schema.emission_sources)}
    assert sources["grid"].file == "grid.csv" and len(sources["grid"].file_sha256) == 64
    assert sources["rm"].constant_g_per_kwh == 600 and sources["rm"].valid_from_ms == 1640991600000  # 2022-01-01 00:00 Berlin


def test_stored_sources_give_the_same_emissions_as_the_config(engine, tmp_path):
    config = load_config(write_site(tmp_path))
    initialise(engine, config)
    from_config = sources_from_config(config)
    stored = load_factor_sources(engine)
    assert [s.id for s in stored] == ["grid", "rm"]
    pd.testing.assert_frame_equal(stored[0].rows, from_config[0].rows, check_dtype=False)
    assert stored[0].valid_from == from_config[0].valid_from and stored[1].valid_to == from_config[1].valid_to
    assert load_instruments(engine) == instruments_from_config(config)
    energy = pd.Series(50.0, index=pd.date_range("2022-05-31 22:00", periods=192, freq="15min", tz="UTC"))
    expected = market_based(energy, from_config, instruments_from_config(config))
    got = market_based(energy, stored, load_instruments(engine))
    pd.testing.assert_frame_equal(got, expected)
    # A window reads only the rows it needs, and still covers it.
    window = load_factor_sources(engine, pd.Timestamp("2022-06-01 05:00", tz="UTC"), pd.Timestamp("2022-06-01 07:00", tz="UTC"))
    assert len(window[0].rows) == 2


def test_reinit_with_a_changed_config_replaces_what_was_stored(engine, tmp_path):
    initialise(engine, load_config(write_site(tmp_path)))
    initialise(engine, load_config(write_site(tmp_path, rm=550.0, with_go=False)))
    assert load_instruments(engine) == []
    assert {s.id: s.constant_g_per_kwh for s in load_factor_sources(engine)}["rm"] == 550.0
    assert len(table_rows(engine, schema.emission_factors)) == 48


def test_slot_intensity_for_a_planning_day_from_the_database(engine, tmp_path):
    initialise(engine, load_config(write_site(tmp_path)))
    slots = pd.date_range(pd.Timestamp("2022-06-01", tz="Europe/Berlin"), periods=96, freq="15min").tz_convert("UTC")
    intensity = load_slot_intensity(engine, slots)
    assert intensity.method == "location" and intensity.source_ids == ["grid"]
    assert list(intensity.g_per_kwh[:5]) == [100.0] * 4 + [101.0]
    assert intensity.g_per_kwh.iloc[-1] == 123.0


def test_energy_init_loads_the_demo_factors(db_url, tmp_path):
    shutil.copytree(REPO / "data" / "demo", tmp_path / "demo")
    shutil.copytree(REPO / "data" / "reference", tmp_path / "reference")
    code, _, err = run_cli("init", "--config", tmp_path / "demo" / "site.toml", "--db", db_url)
    assert code == 0, err
    # Location (8,759 hours: the UTC file loses its first hour to the local validity) and
    # residual mix; one instrument.
    assert "2 emission factor source(s) (8759 factor rows), 1 instrument(s) stored" in err
