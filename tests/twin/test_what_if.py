"""``energy twin``: the site's twin run against the product on a scratch database."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from energy import storage
from energy.demo import prepare_workdir
from energy.storage import schema
from energy.twin.truth import read_truth
from tests.helpers import REPO, run_cli


def demo_dated_site(tmp_path, days: int):
    """The demo site with its emission factors moved onto the simulated days (as the demo does)."""
    now = pd.Timestamp.now(tz="UTC").floor("15min")
    site = prepare_workdir(tmp_path / "site-copy", now, now.date() - dt.timedelta(days=days + 1))
    return site.config_path, site.config_path.parent / "twin.toml"


def test_what_if_plans_the_last_days_and_compares_with_the_truth(tmp_path):
    config, twin = demo_dated_site(tmp_path, days=12)
    workdir = tmp_path / "run"
    today = pd.Timestamp.now(tz="Europe/Berlin").date()
    code, out, err = run_cli("twin", "--config", config, "--twin", twin, "--days", "12", "--go-live-days", "3", "--dir", workdir, "--time-limit", "1")
    assert code == 0, err[-3000:]
    assert "expected" in out and "realised by the product" in out and "true" in out, out

    engine = storage.connect(f"sqlite:///{workdir / 'energy.db'}")
    with engine.connect() as conn:
        planned = {row[0] for row in conn.execute(sa.select(schema.plan_runs.c.plan_date).where(schema.plan_runs.c.is_current))}
        realised = conn.execute(sa.select(sa.func.count()).select_from(schema.realised_savings)).scalar()
    engine.dispose()
    truth = read_truth(workdir / "twin-truth")
    go_live = today - dt.timedelta(days=3)
    # Only the days from the go-live on were planned, each day with orders among them.
    with_orders = set(truth.days.loc[(truth.days["jobs"] > 0) & (truth.days["day"] >= go_live.isoformat()), "day"])
    assert planned == with_orders and planned
    assert (truth.days.loc[truth.days["day"] < go_live.isoformat(), "given"].isin(["baseline", "none"])).all()
    # Each planned day that is over has its realised savings, beside the truth's, in the output.
    over = {day for day in planned if day < today.isoformat()}
    assert realised == len(over)
    for day in over:
        assert day in out
    # The site's own export folder was not touched: the plans went to the scratch folder.
    assert not (config.parent / "plans").exists() and any((workdir / "plans").iterdir())


def test_what_if_names_what_is_wrong(tmp_path):
    # The shipped site's emission factors are for 2022: planning today's days needs newer ones.
    code, _, err = run_cli(
        "twin", "--config", REPO / "data" / "demo" / "site.toml", "--twin", REPO / "data" / "demo" / "twin.toml",
        "--days", "9", "--go-live-days", "1", "--dir", tmp_path / "run", "--time-limit", "1",
    )
    last = err.strip().splitlines()[-1]
    assert code == 1 and last.startswith("energy: error: carbon intensity"), err

    code, _, err = run_cli("twin", "--config", REPO / "data" / "demo" / "site.toml", "--twin", REPO / "data" / "demo" / "twin.toml",
                           "--days", "5", "--go-live-days", "5", "--dir", tmp_path / "run")
    assert code == 1 and "go_live_days" in err, err
