"""Forecast runs and their rows in the database (``forecast_runs``, ``forecasts``).

A run is one issued forecast of one series: ``kind`` (``site``, ``machine`` or ``pv``),
``series_id`` (``site``, a machine id or a PV array id), the target period, when it was issued,
the model, its backtest MASE and the whole backtest (JSON). Its rows are power in kW per interval,
labelled by interval start, with 80 % and 95 % bounds. Every issue is kept (that history is what
accuracy tracking looks back on); readers take the newest run covering their period
(``energy.planning.inputs``). A run and its rows are written in one transaction, so a crash
leaves either the whole run or nothing; issuing again with the same ``issued_ms`` replaces it.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.storage import bulk, schema
from energy.timeutil import from_epoch_ms, timestamp_to_ms, to_epoch_ms

KINDS = ("site", "machine", "pv")
ROW_COLUMNS = ["power_kw", "lo80_kw", "hi80_kw", "lo95_kw", "hi95_kw"]


def store_forecast(
    engine: Engine,
    kind: str,
    series_id: str,
    forecast: pd.DataFrame,
    model: str,
    mase: float | None,
    backtest: dict,
    issued_ms: int,
) -> int:
    """Store one run (``forecast``: ``power_kw`` and optionally the interval bounds, kW, indexed
    by UTC interval start on a regular grid); returns its id."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if forecast.empty or forecast["power_kw"].isna().any():
        raise ValueError(f"{kind}:{series_id}: a forecast needs a power_kw value in every interval")
    step = forecast.index[1] - forecast.index[0] if len(forecast) > 1 else pd.Timedelta(minutes=15)
    runs, rows = schema.forecast_runs, schema.forecasts
    key = {
        "kind": kind,
        "series_id": series_id,
        "target_start_ms": timestamp_to_ms(forecast.index[0]),
        "issued_ms": int(issued_ms),
    }
    with engine.begin() as conn:
        old = conn.execute(sa.select(runs.c.id).where(*(runs.c[k] == v for k, v in key.items()))).scalar()
        if old is not None:
            conn.execute(rows.delete().where(rows.c.run_id == old))
            conn.execute(runs.delete().where(runs.c.id == old))
        run_id = conn.execute(
            runs.insert().values(
                **key,
                target_end_ms=timestamp_to_ms(forecast.index[-1] + step),
                model=model,
                mase=None if mase is None or not math.isfinite(mase) else float(mase),
                backtest_json=json.dumps(backtest, sort_keys=True, default=str),
            )
        ).inserted_primary_key[0]
        frame = pd.DataFrame({"run_id": run_id, "start_ms": to_epoch_ms(forecast.index)})
        for column in ROW_COLUMNS:
            frame[column] = forecast[column].to_numpy(dtype=float) if column in forecast else np.nan
        bulk.upsert(conn, rows, frame)
    return int(run_id)


def latest_run(engine: Engine, kind: str, series_id: str) -> dict | None:
    """The newest run of a series: ``id``, ``model``, ``mase``, ``issued_ms``, ``target_start_ms``,
    ``target_end_ms`` and ``backtest`` (dict); None when there is none."""
    runs = schema.forecast_runs
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(runs)
            .where(runs.c.kind == kind, runs.c.series_id == series_id)
            .order_by(runs.c.issued_ms.desc(), runs.c.id.desc())
            .limit(1)
        ).mappings().first()
    if row is None:
        return None
    run = dict(row)
    run["backtest"] = json.loads(run.pop("backtest_json"))
    return run


def load_forecast(engine: Engine, run_id: int) -> pd.DataFrame:
    """A run's rows: ``power_kw`` and the bounds (kW), indexed by UTC interval start."""
    rows = schema.forecasts
    with engine.connect() as conn:
        data = conn.execute(
            sa.select(rows.c.start_ms, *(rows.c[c] for c in ROW_COLUMNS)).where(rows.c.run_id == run_id).order_by(rows.c.start_ms)
        ).fetchall()
    frame = pd.DataFrame(data, columns=["start_ms", *ROW_COLUMNS])
    frame.index = pd.DatetimeIndex(from_epoch_ms(frame.pop("start_ms").to_numpy()), name="interval_start")
    return frame.astype(float)
