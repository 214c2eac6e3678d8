"""The twin's MES file (``energy.twin.production``): tonnes per day and product from the runs that
ran, in the production CSV the product reads (``energy.reports.production``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from energy.reports.production import read_production_csv
from energy.twin.production import PRODUCTS, YIELD_SPREAD, daily_production, write_production_csv
from tests.twin.test_twin import MONDAY, build_demo, config  # noqa: F401 (a fixture)

KINDS = {"f1": "induction_furnace", "oven": "oven", "blast": "shot_blaster", "air": "compressor"}
END = pd.Timestamp("2026-03-02T16:00Z")


def runs(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["day", "machine", "status", "end", "energy_kwh"])


def test_tonnes_follow_the_energy_of_runs_that_ran():
    day = dt.date(2026, 3, 2)
    frame = daily_production(runs(
        (day, "f1", "ran", END, 420.0), (day, "f1", "ran", END, 180.0),  # two melts: 1 t in all
        (day, "f1", "aborted", END, 300.0), (day, "oven", "dropped", None, 0.0),  # scrap and nothing
        (day, "oven", "ran", END, 250.0), (day, "blast", "ran", END + pd.Timedelta(hours=5), 30.0),
        (day, "air", "ran", END, 800.0),  # compressed air is no product
    ), KINDS, seed=1)
    tonnes = frame.set_index("product")["units"]
    assert set(frame["unit"]) == {"t"} and set(tonnes.index) == {"melted steel", "heat-treated castings", "blasted castings"}
    for product, kwh in (("melted steel", 600.0), ("heat-treated castings", 250.0), ("blasted castings", 30.0)):
        per_t = dict(PRODUCTS.values())[product]
        assert tonnes[product] == pytest.approx(kwh / per_t, rel=4 * YIELD_SPREAD) and tonnes[product] != kwh / per_t  # a seeded yield
    # What the MES has booked by a time: runs that ended by then.
    assert set(daily_production(runs((day, "blast", "ran", END + pd.Timedelta(hours=5), 30.0)), KINDS, 1, until=END)["product"]) == set()
    again = daily_production(runs((day, "f1", "ran", END, 420.0)), KINDS, seed=1)
    assert again.equals(daily_production(runs((day, "f1", "ran", END, 420.0)), KINDS, seed=1))
    assert not again.equals(daily_production(runs((day, "f1", "ran", END, 420.0)), KINDS, seed=2))


def test_the_twins_file_is_what_the_product_reads(config, tmp_path):
    """A disturbed week of the demo twin: the file parses with the product's own reader, and each
    furnace's tonnes are its melts' energy at 600 kWh/t."""
    twin = build_demo(config, tmp_path, seed=5, days=3)
    truth = twin.ground_truth()
    kinds = {machine: behaviour.kind for machine, behaviour in twin.machines.items()}
    path = write_production_csv(daily_production(truth.runs, kinds, twin.params.seed), tmp_path / "production.csv")
    read = read_production_csv(path, [m.id for m in config.machines])
    melted = read[read["product"] == "melted steel"].groupby(["date", "machine"])["units"].sum()
    ran = truth.runs[(truth.runs["status"] == "ran") & truth.runs["machine"].str.startswith("furnace")]
    energy = ran.assign(date=pd.to_datetime(ran["day"]).dt.date).groupby(["date", "machine"])["energy_kwh"].sum()
    assert len(melted) >= 4 and melted.index.equals(energy.index)
    assert (melted / (energy / 600.0)).between(1 - 3 * YIELD_SPREAD, 1 + 3 * YIELD_SPREAD).all()
    assert set(read["unit"]) == {"t"} and read["date"].min() >= MONDAY
