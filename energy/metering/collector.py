"""The collector: polls every configured meter on asyncio and stores its readings in batches.

Each enabled meter has its own task, polling at multiples of its ``poll_seconds`` on the wall
clock. A poll reads the map's coalesced requests (see :func:`energy.metering.decoding.plan_requests`)
through the meter's shared :class:`~energy.metering.link.ReadOnlyLink`; each request gets the
meter's ``timeout_s`` and up to ``retries`` more attempts (backing off 0.1 s, 0.2 s, …). A poll
that overran into its next slot is followed at once; slots a whole period or more behind are
skipped, not caught up. The reading is stamped with the
midpoint of its poll (UTC epoch ms) and holds the import energy counter (kWh) and total active
power (kW); a value the meter reports as not available is stored as NULL, and a poll with
neither is an error.

Every ``collector.batch_seconds`` the readings gathered so far are written in one transaction
(``ON CONFLICT DO NOTHING`` on meter + instant) together with the meters' health. When the
database cannot be reached the batch goes to the durable :class:`~energy.metering.spool.Spool`
and is replayed, oldest first, before anything newer once the database answers again. A killed
collector loses at most the readings of the current batch window (a stop by SIGINT/SIGTERM or
the end of ``duration_s`` writes them first).
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import threading
import time
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from energy.config import Meter, SiteConfig
from energy.errors import InputError
from energy.metering.decoding import ReadRequest, decode_blocks, plan_requests
from energy.metering.health import MeterHealth, store_health
from energy.metering.link import ExceptionResponse, MeterError, ReadOnlyLink, describe, link_key
from energy.metering.maps import RegisterMap, meter_map
from energy.metering.spool import COLUMNS, Spool
from energy.storage import bulk, schema

log = logging.getLogger(__name__)
RETRY_BACKOFF_S = 0.1
# Answers that retrying cannot change: the map does not fit the device.
_CONFIGURATION_ERRORS = {1: "the device does not support this function code", 2: "the device has no such registers"}


@dataclass(frozen=True)
class MeterPlan:
    meter: Meter
    regmap: RegisterMap
    requests: tuple[ReadRequest, ...]


def plan_meters(config: SiteConfig) -> list[MeterPlan]:
    """The enabled meters with their register maps and coalesced requests (InputError if a map is wrong)."""
    plans = []
    for i, meter in enumerate(config.meters):
        if meter.enabled:
            regmap = meter_map(config, i)
            plans.append(MeterPlan(meter, regmap, tuple(plan_requests(regmap))))
    return plans


@dataclass
class CollectStats:
    polls: int = 0
    readings: int = 0
    errors: int = 0
    skipped_polls: int = 0  # slots passed over because the previous poll overran
    max_lag_s: float = 0.0  # latest start of a poll after its slot
    rows_written: int = 0
    batches_spooled: int = 0


def _is_missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


class Collector:
    """Polls ``config``'s meters into ``engine``; see the module doc."""

    def __init__(self, config: SiteConfig, engine: Engine, *, batch_seconds: float | None = None, spool_dir=None):
        self.config = config
        self.engine = engine
        self.plans = plan_meters(config)
        if not self.plans:
            raise InputError(f"{config.path or 'config'}: meters: no enabled meter to collect")
        self.batch_seconds = batch_seconds or config.collector.batch_seconds
        self.spool = Spool(spool_dir or config.resolve(config.collector.spool_dir))
        self.health = {p.meter.id: MeterHealth(p.meter.id) for p in self.plans}
        self.stats = CollectStats()
        self._buffer: list[tuple] = []
        self._last_ms: dict[str, int] = {}
        self._links: dict[tuple, ReadOnlyLink] = {}
        for plan in self.plans:
            key = link_key(plan.meter.connection)
            if key not in self._links:
                slowest = max(p.meter.connection.timeout_s for p in self.plans if link_key(p.meter.connection) == key)
                self._links[key] = ReadOnlyLink(plan.meter.connection, slowest)

    # -- polling -----------------------------------------------------------------------------

    async def _read(self, link: ReadOnlyLink, request: ReadRequest, meter: Meter) -> list[int]:
        connection = meter.connection
        for attempt in range(connection.retries + 1):
            try:
                return await link.read(request.function_code, request.address, request.count, connection.unit_id, connection.timeout_s)
            except ExceptionResponse as exc:
                if exc.code in _CONFIGURATION_ERRORS:
                    raise MeterError(f"{exc}: {_CONFIGURATION_ERRORS[exc.code]} — is model {meter.model!r} right?") from exc
                error = exc
            except MeterError as exc:
                error = exc
            if attempt < connection.retries:
                await asyncio.sleep(RETRY_BACKOFF_S * 2**attempt)
        raise error

    async def poll_once(self, plan: MeterPlan) -> None:
        """Read one meter once; the reading goes to the batch, the outcome to its health."""
        meter = plan.meter
        link = self._links[link_key(meter.connection)]
        health = self.health[meter.id]
        started = time.time()
        self.stats.polls += 1
        try:
            blocks = {request: await self._read(link, request, meter) for request in plan.requests}
            values = decode_blocks(plan.regmap, blocks)
            energy_kwh = values.get("import_energy_kwh", math.nan)
            power_kw = values.get("power_kw", math.nan)
            if _is_missing(energy_kwh) and _is_missing(power_kw):
                raise MeterError("the meter reports neither import energy nor power as available")
        except MeterError as exc:
            self.stats.errors += 1
            if not health.consecutive_errors:
                log.warning("meter %s (%s): %s", meter.id, describe(meter.connection), exc)
            health.failed(int(time.time() * 1000), str(exc))
            return
        at_ms = int((started + time.time()) * 500)
        at_ms = max(at_ms, self._last_ms.get(meter.id, -1) + 1)  # one reading per instant
        self._last_ms[meter.id] = at_ms
        self._buffer.append((meter.id, at_ms, energy_kwh, power_kw, "ok"))
        self.stats.readings += 1
        health.good(at_ms)

    async def _poll_forever(self, plan: MeterPlan, stop: asyncio.Event) -> None:
        period = plan.meter.poll_seconds
        due = math.ceil(time.time() / period) * period
        while not stop.is_set():
            delay = due - time.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    return
                except asyncio.TimeoutError:
                    pass
            lag = max(0.0, time.time() - due)
            self.stats.max_lag_s = max(self.stats.max_lag_s, lag)
            await self.poll_once(plan)
            due += period
            # A poll that overran into the next slot is followed at once (late); slots a whole
            # period or more behind are skipped, not caught up.
            skipped = math.floor((time.time() - due) / period)
            if skipped > 0:
                self.stats.skipped_polls += skipped
                due += skipped * period

    # -- storing -----------------------------------------------------------------------------

    def _write_rows(self, rows: pd.DataFrame) -> None:
        with self.engine.begin() as conn:
            bulk.upsert(conn, schema.readings, rows, on_conflict="ignore")

    def _write(self, rows: pd.DataFrame, health_rows: list[dict]) -> bool:
        """Store a batch (through the spool when it holds older ones); False if the database is away."""
        spooled = False
        try:
            if len(self.spool):
                if not rows.empty:  # behind the older batches, to keep the order
                    self.spool.append(rows)
                    self.stats.batches_spooled += 1
                    spooled = True
                self.stats.rows_written += self.spool.drain(self._write_rows)
            elif not rows.empty:
                self._write_rows(rows)
                self.stats.rows_written += len(rows)
            with self.engine.begin() as conn:
                store_health(conn, health_rows)
            return True
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            if not rows.empty and not spooled:
                self.spool.append(rows)
                self.stats.batches_spooled += 1
            log.warning("database unreachable (%s): %d batch(es) waiting in %s", type(exc).__name__, len(self.spool), self.spool.folder)
            self.engine.dispose()  # its pooled connections may be dead
            return False

    async def flush(self) -> None:
        """Write the readings gathered so far and the meters' health (see :meth:`_write`)."""
        rows = pd.DataFrame(self._buffer, columns=COLUMNS)
        self._buffer = []
        health_rows = [h.row() for h in self.health.values() if h.last_attempt_ms is not None]
        if await asyncio.to_thread(self._write, rows, health_rows):
            for row in health_rows:
                self.health[row["meter_id"]].written(row)

    async def _flush_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.batch_seconds)
            except asyncio.TimeoutError:
                await self.flush()

    # -- running -----------------------------------------------------------------------------

    async def run(self, duration_s: float | None = None, once: bool = False, stop: asyncio.Event | None = None, handle_signals: bool = False) -> CollectStats:
        """Poll until ``stop`` is set, ``duration_s`` has passed or, with ``once``, one round is done."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
        try:
            if once:
                await asyncio.gather(*(self.poll_once(plan) for plan in self.plans))
            else:
                if duration_s is not None:
                    loop.call_later(duration_s, stop.set)
                tasks = [asyncio.create_task(self._poll_forever(plan, stop)) for plan in self.plans]
                await asyncio.gather(self._flush_forever(stop), *tasks)
            await self.flush()
        finally:
            for link in self._links.values():
                link.close()
            if handle_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
        return self.stats


def collect(config: SiteConfig, engine: Engine, duration_s: float | None = None, once: bool = False, **options) -> CollectStats:
    """Run a :class:`Collector` to completion (blocking); ``options`` go to its constructor."""
    # Signals can only be caught on the main thread (``energy demo`` runs this in another one).
    in_main_thread = threading.current_thread() is threading.main_thread()

    async def main() -> CollectStats:
        collector = Collector(config, engine, **options)  # pymodbus clients need the running loop
        return await collector.run(duration_s, once=once, handle_signals=in_main_thread)

    return asyncio.run(main())
