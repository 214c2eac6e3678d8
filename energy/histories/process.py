"""Incremental, idempotent processing: stored readings → stored interval series (the I/O edge).

For each configured meter, ``processing_state.processed_to_ms`` is the end of the last interval
written. A run reads the meter's readings from just before that point (the last three readings
before it, so boundary interpolation, spike, reset and rollover checks see exactly what a full
run would) and writes the intervals from that point to the last boundary before the meter's
third-newest reading: the two newest readings are held back until a later one confirms they
are not spikes. Writes are upserts on (kind, series, interval start), so running again, or
re-processing a period with ``start``/``end``, gives the same rows and never duplicates.

Then the machine, virtual-meter and site series are rebuilt over the span of intervals just
written, from the stored meter series (imported meter histories included).

Readings that arrive late for a period already processed are picked up only by re-processing
that period (``energy process --from T``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.histories.intervals import BRACKET_S, meter_intervals
from energy.histories.series import interval_grid
from energy.histories.site import derived_series, meter_rated_kw
from energy.histories.store import load_intervals, store_intervals
from energy.readings import load_readings
from energy.storage import bulk, schema
from energy.timeutil import from_epoch_ms, now_ms, timestamp_to_ms, to_epoch_ms

CONTEXT_READINGS = 3


@dataclass
class ProcessSummary:
    """What a processing run wrote: intervals per meter, and the span of the derived series."""

    meters: dict[str, int] = field(default_factory=dict)
    derived_start: pd.Timestamp | None = None
    derived_end: pd.Timestamp | None = None

    def __str__(self) -> str:
        written = sum(self.meters.values())
        if self.derived_start is None:
            return f"no new intervals ({len(self.meters)} meter(s) checked)"
        return (
            f"{written} meter intervals written for {sum(1 for v in self.meters.values() if v)} meter(s); "
            f"machines, virtual meters and site rebuilt from {self.derived_start.isoformat()} to {self.derived_end.isoformat()}"
        )


def _instant(epoch_ms: int | None) -> pd.Timestamp | None:
    return None if epoch_ms is None else from_epoch_ms([epoch_ms])[0]


def _processed_to(conn, meter_id: str) -> int | None:
    table = schema.processing_state
    return conn.execute(sa.select(table.c.processed_to_ms).where(table.c.meter_id == meter_id)).scalar()


def _nth_reading(conn, meter_id: str, at_ms: int, before: bool) -> int | None:
    """The epoch ms of the CONTEXT_READINGS-th reading before (or from) ``at_ms``, or the farthest there is."""
    table = schema.readings
    column = table.c.epoch_ms
    query = sa.select(column).where(table.c.meter_id == meter_id)
    query = query.where(column < at_ms).order_by(column.desc()) if before else query.where(column >= at_ms).order_by(column)
    found = conn.execute(query.limit(CONTEXT_READINGS)).scalars().all()
    return found[-1] if found else None


def process_meter(
    engine: Engine,
    config: SiteConfig,
    meter_id: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    bracket_s: float = BRACKET_S,
) -> tuple[int, int] | None:
    """Turn one meter's new readings into stored intervals; returns the span written (ms) or None.

    ``start``/``end`` re-process a period instead of continuing from the processing state.
    """
    meter = next(m for m in config.meters if m.id == meter_id)
    interval_ms = config.site.interval_minutes * 60_000
    with engine.connect() as conn:
        state = _processed_to(conn, meter_id)
        begin = timestamp_to_ms(start) // interval_ms * interval_ms if start is not None else state
        context_from = _nth_reading(conn, meter_id, begin, before=True) if begin is not None else None
        stop = -(-timestamp_to_ms(end) // interval_ms) * interval_ms if end is not None else None
        context_to = _nth_reading(conn, meter_id, stop, before=False) if stop is not None else None
    low = context_from if context_from is not None else begin
    high = context_to + 1 if context_to is not None else stop
    readings = load_readings(engine, meter_id, _instant(low), _instant(high))
    if len(readings) <= CONTEXT_READINGS:
        return None
    stamps = to_epoch_ms(readings["timestamp"])
    held_back = int(stamps[-CONTEXT_READINGS]) // interval_ms * interval_ms
    begin = int(stamps[0]) // interval_ms * interval_ms if begin is None else begin
    finish = held_back if stop is None else min(stop, held_back)
    if finish <= begin:
        return None
    frame = meter_intervals(
        readings,
        config.site.interval_minutes,
        meter_rated_kw(config, meter),
        start=_instant(begin),
        end=_instant(finish),
        bracket_s=bracket_s,
    )
    state_row = pd.DataFrame(
        {"meter_id": [meter_id], "processed_to_ms": [max(finish, state or finish)], "updated_ms": [now_ms()]}
    )
    with engine.begin() as conn:
        store_intervals(conn, "meter", meter_id, frame)
        bulk.upsert(conn, schema.processing_state, state_row)
    return begin, finish


def derive(engine: Engine, config: SiteConfig, start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Rebuild and store the machine, virtual-meter and site series over ``[start, end)``; returns rows."""
    index = interval_grid(start, end, config.site.interval_minutes)
    meters = {m.id: load_intervals(engine, "meter", m.id, index[0], end) for m in config.meters}
    written = 0
    with engine.begin() as conn:
        for (kind, series_id), frame in derived_series(config, meters, index).items():
            written += store_intervals(conn, kind, series_id, frame)
    return written


def process(
    engine: Engine,
    config: SiteConfig,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    bracket_s: float = BRACKET_S,
) -> ProcessSummary:
    """Process every configured meter (incrementally, or ``[start, end)`` again), then the derived series."""
    summary = ProcessSummary()
    spans = []
    interval_ms = config.site.interval_minutes * 60_000
    for meter in config.meters:
        span = process_meter(engine, config, meter.id, start, end, bracket_s)
        summary.meters[meter.id] = 0 if span is None else (span[1] - span[0]) // interval_ms
        if span is not None:
            spans.append(span)
    if spans:
        lo, hi = from_epoch_ms([min(s[0] for s in spans), max(s[1] for s in spans)])
        derive(engine, config, lo, hi)
        summary.derived_start, summary.derived_end = lo, hi
    return summary


def processing_state(engine: Engine) -> pd.DataFrame:
    """How far each meter is processed: columns ``meter_id``, ``processed_to`` (UTC)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.processing_state.c.meter_id, schema.processing_state.c.processed_to_ms)).fetchall()
    frame = pd.DataFrame(rows, columns=["meter_id", "processed_to_ms"])
    frame["processed_to"] = from_epoch_ms(np.asarray(frame.pop("processed_to_ms"), dtype="int64"))
    return frame
