"""``energy simulate``: the config's meters as Modbus devices serving realistic load, with faults.

Every enabled meter becomes a pymodbus device answering FC03/FC04 reads on its configured
endpoint, per its register map: ``tcp`` meters on a Modbus TCP server at host:port,
``rtu_over_tcp`` meters on a TCP server speaking RTU frames (a serial gateway), ``rtu`` meters
on their serial port. Meters that share an endpoint answer under their own unit ids; an
unknown unit id gets exception 0x0B (gateway target failed to respond). Registers are
read-only (a write gets exception 0x02) and the gaps between mapped registers read as 0, as on
the real devices, so coalesced reads work.

Load (:func:`meter_loads`): each machine meter follows the real steel plant's 15-minute load
(``data/demo/steel_industry_2018_15min.csv``, UCI data set 851, CC BY 4.0) scaled so that its
peak is the meter's (else its machine's) ``rated_kw``, each meter on a different day of the
year; a ``main`` meter sees every machine meter plus a remainder of 20 % of its rating shaped
the same way; a ``pv`` meter is a production meter (the PV output is its import, the usual
wiring of a generation meter) serving a daylight half-wave (invented) peaking at 80 % of its
array's kWp. A 3 % ripple rides on every level. The import and export counters integrate the
served power exactly (:mod:`energy.metering.load_shape`), from a start value per meter.

Faults (:class:`Fault`, or ``--fault METER:KIND[=ARG][@START[-END]]`` on the command line,
START/END in seconds after the start): ``no_response`` (the request is swallowed),
``exception=CODE`` (a Modbus exception response, default 4 device failure),
``drop_connection`` (every connection to the meter's endpoint is closed, no answer),
``counter_reset`` (the energy counters restart from 0 at START), ``sentinel=Q1+Q2`` (those
quantities, default all, read as the map's "not available" pattern).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from sqlalchemy.engine import Engine

from energy.config import Meter, SiteConfig
from energy.errors import InputError
from energy.metering.decoding import encode_image, plan_requests
from energy.metering.load_shape import LoadModel, SumLoad
from energy.metering.maps import QUANTITIES, RegisterMap, meter_map
from energy.storage import schema

log = logging.getLogger(__name__)

STEEL_LOAD_FILE = Path(__file__).resolve().parents[2] / "data" / "demo" / "steel_industry_2018_15min.csv"
WEEK_S = 7 * 86400
RIPPLE = 0.03
MAIN_REMAINDER_SHARE = 0.2
DEFAULT_RATED_KW = 100.0
POWER_FACTOR = 0.93
PHASE_SHARES = (0.35, 0.33, 0.32)
FAULT_KINDS = ("no_response", "exception", "drop_connection", "counter_reset", "sentinel")
SERVED_LOG = 20_000  # served values kept per meter for checks


@dataclass
class Fault:
    """A fault of one meter, active from ``start_s`` to ``end_s`` seconds after the simulator starts."""

    kind: str
    start_s: float = 0.0
    end_s: float | None = None
    code: int = int(ExcCodes.DEVICE_FAILURE)
    quantities: tuple[str, ...] = ()  # sentinel: these quantities (empty = all)
    applied: bool = False  # counter_reset happens once

    def active(self, elapsed_s: float) -> bool:
        return self.start_s <= elapsed_s and (self.end_s is None or elapsed_s < self.end_s)


def parse_fault(text: str) -> tuple[str, Fault]:
    """``METER:KIND[=ARG][@START[-END]]`` → (meter id, :class:`Fault`)."""
    where = f"--fault {text!r}"
    meter, sep, rest = text.partition(":")
    if not sep or not meter:
        raise InputError(f"{where}: expected METER:KIND[=ARG][@START[-END]] with KIND one of {', '.join(FAULT_KINDS)}")
    spec, _, window = rest.partition("@")
    kind, _, arg = spec.partition("=")
    if kind not in FAULT_KINDS:
        raise InputError(f"{where}: unknown fault {kind!r} (known: {', '.join(FAULT_KINDS)})")
    fault = Fault(kind)
    try:
        if window:
            start, _, end = window.partition("-")
            fault.start_s = float(start)
            fault.end_s = float(end) if end else None
        if kind == "exception" and arg:
            fault.code = int(arg, 0)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from exc
    if kind == "exception" and fault.code not in {int(c) for c in ExcCodes}:
        raise InputError(f"{where}: {fault.code} is not a Modbus exception code")
    if kind == "sentinel" and arg:
        fault.quantities = tuple(arg.split("+"))
        unknown = set(fault.quantities) - set(QUANTITIES)
        if unknown:
            raise InputError(f"{where}: unknown quantities {sorted(unknown)} (known: {', '.join(QUANTITIES)})")
    return meter, fault


# -- load ------------------------------------------------------------------------------------


def steel_levels_kw(path: str | Path = STEEL_LOAD_FILE) -> tuple[np.ndarray, float]:
    """The steel plant's mean power per 15 minutes (kW) and its first interval's start (epoch s)."""
    from energy.histories.imports import read_steel_csv

    frame = read_steel_csv(path)
    return frame["energy_kwh"].to_numpy(dtype=float) * 4.0, frame.index[0].timestamp()


def _daylight(peak_kw: float, longitude: float, now_s: float) -> LoadModel:
    """A clear-day half-wave around solar noon (invented PV shape), 15-minute steps, period one day."""
    noon_h = 12.0 - longitude / 15.0
    hours = (np.arange(96) + 0.5) / 4.0
    offset = (hours - noon_h + 12.0) % 24.0 - 12.0
    levels = peak_kw * np.clip(np.cos(np.pi * offset / 13.0), 0.0, None) ** 1.5
    return LoadModel(levels, 900.0, origin_s=math.floor(now_s / 86400) * 86400, ripple=RIPPLE)


def meter_loads(config: SiteConfig, now_s: float, steel_path: str | Path = STEEL_LOAD_FILE) -> dict[str, tuple[object, int]]:
    """Meter id → (load model, +1 import or −1 export) for every enabled meter (see the module doc)."""
    levels, first_s = steel_levels_kw(steel_path)
    shape = levels / levels.max()
    aligned_s = first_s + math.floor((now_s - first_s) / WEEK_S) * WEEK_S  # weekdays kept

    def rated(meter: Meter) -> float:
        if meter.rated_kw:
            return meter.rated_kw
        machine = next((m for m in config.machines if m.id == meter.machine), None)
        return machine.rated_kw if machine and machine.rated_kw else DEFAULT_RATED_KW

    loads: dict[str, tuple[object, int]] = {}
    machine_loads = []
    for day, meter in enumerate(config.meters, start=1):
        if meter.enabled and meter.role in ("machine", "other"):
            load = LoadModel(shape * rated(meter), 900.0, origin_s=aligned_s - day * 86400, ripple=RIPPLE)
            loads[meter.id] = (load, 1)
            machine_loads.append(load)
    for meter in config.meters:
        if not meter.enabled or meter.id in loads:
            continue
        if meter.role == "pv":
            array = next((a for a in config.pv if a.meter == meter.id), None)
            peak_kw = 0.8 * (array.kwp if array else rated(meter))
            loads[meter.id] = (_daylight(peak_kw, config.site.longitude, now_s), 1)
        else:  # main
            remainder = LoadModel(shape * MAIN_REMAINDER_SHARE * (meter.rated_kw or 1000.0), 900.0, origin_s=aligned_s, ripple=RIPPLE)
            loads[meter.id] = (SumLoad((*machine_loads, remainder)), 1)
    return loads


# -- one meter -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """What one answered request served: instant (epoch s), counters (kWh), power (kW)."""

    at_s: float
    import_kwh: float
    export_kwh: float
    power_kw: float


class SimulatedMeter:
    """One meter's registers, computed from its load at the instant each request arrives."""

    def __init__(self, meter: Meter, regmap: RegisterMap, load, direction: int, started_s: float, start_counter_kwh: float):
        self.meter = meter
        self.regmap = regmap
        self.load = load
        self.direction = direction
        self.started_s = started_s
        self.faults: list[Fault] = []
        self.served: deque[Served] = deque(maxlen=SERVED_LOG)
        self.requests: Counter[int] = Counter()  # function code → requests answered or refused
        self.drop_connections = lambda: None  # set by the simulator: closes its endpoint's connections
        energy_now = load.energy_kwh(started_s)
        # counters = base + integral of the served power since the start
        self._import_base = start_counter_kwh - (energy_now if direction > 0 else 0.0)
        self._export_base = (start_counter_kwh / 10 if direction < 0 else 0.0) - (energy_now if direction < 0 else 0.0)
        self._spans = self._register_spans(regmap)

    @staticmethod
    def _register_spans(regmap: RegisterMap) -> dict[int, tuple[int, int]]:
        """Function code → (first address, count) the device answers: every planned read."""
        spans: dict[int, tuple[int, int]] = {}
        for request in plan_requests(regmap):
            lo, hi = request.address, request.address + request.count
            if request.function_code in spans:
                old_lo, old_count = spans[request.function_code]
                lo, hi = min(lo, old_lo), max(hi, old_lo + old_count)
            spans[request.function_code] = (lo, hi - lo)
        return spans

    def counters_kwh(self, t_s: float) -> tuple[float, float]:
        energy = self.load.energy_kwh(t_s)
        if self.direction > 0:
            return self._import_base + energy, self._export_base
        return self._import_base, self._export_base + energy

    def reset_counters(self, t_s: float) -> None:
        """The meter's energy counters restart from 0 (a replaced or reset meter)."""
        imported, exported = self.counters_kwh(t_s)
        self._import_base -= imported
        self._export_base -= exported

    def values(self, t_s: float) -> dict[str, float]:
        """Every quantity the simulator knows, at ``t_s`` (epoch s)."""
        power_kw = self.direction * self.load.power_kw(t_s)
        imported, exported = self.counters_kwh(t_s)
        values = {"power_kw": power_kw, "import_energy_kwh": imported, "export_energy_kwh": exported}
        values["frequency_hz"] = 50.0 + 0.02 * math.sin(t_s / 30.0)
        for k, share in enumerate(PHASE_SHARES, start=1):
            volts = 230.0 + 2.0 * math.sin(t_s / 60.0 + k)
            values[f"voltage_l{k}_v"] = volts
            values[f"power_l{k}_kw"] = power_kw * share
            values[f"current_l{k}_a"] = abs(power_kw * share) * 1000.0 / (volts * POWER_FACTOR)
        return values

    def simdevice(self) -> SimDevice:
        # pymodbus wants coils and discrete inputs too: one placeholder bit each.
        bits = [SimData(0, values=False, datatype=DataType.BITS, readonly=True)]
        blocks = {}
        for fc in (3, 4):
            if fc in self._spans:
                address, count = self._spans[fc]
                blocks[fc] = [SimData(address, count=count, values=0, datatype=DataType.REGISTERS, readonly=True)]
            else:
                blocks[fc] = [SimData(0, datatype=DataType.INVALID)]
        return SimDevice(self.meter.connection.unit_id, simdata=(bits, list(bits), blocks[3], blocks[4]), action=self.answer)

    async def answer(self, function_code, start_address, address, count, registers, set_values):
        """pymodbus calls this before it answers: fill the registers for now, or fail as told."""
        self.requests[function_code] += 1
        now = time.time()
        elapsed = now - self.started_s
        unavailable: set[str] = set()
        for fault in self.faults:
            if not fault.active(elapsed):
                continue
            if fault.kind == "no_response":
                raise NoSuchIdException("simulated: no response")  # the server then stays silent
            if fault.kind == "drop_connection":
                self.drop_connections()
                raise NoSuchIdException("simulated: connection dropped")
            if fault.kind == "exception":
                return ExcCodes(fault.code)
            if fault.kind == "counter_reset" and not fault.applied:
                fault.applied = True
                self.reset_counters(now)
            if fault.kind == "sentinel":
                unavailable |= set(fault.quantities or QUANTITIES)
        if set_values:
            return ExcCodes.ILLEGAL_ADDRESS
        values = self.values(now)
        for (fc, register_address), word in encode_image(self.regmap, values, unavailable).items():
            if fc == function_code:
                registers[register_address - start_address] = word
        self.served.append(Served(now, values["import_energy_kwh"], values["export_energy_kwh"], values["power_kw"]))
        return None


# -- the servers -----------------------------------------------------------------------------


def endpoint_key(meter: Meter) -> tuple:
    connection = meter.connection
    if connection.protocol == "rtu":
        return ("rtu", connection.serial_port)
    return ("tcp", connection.host, connection.port)


class Simulator:
    """Every enabled meter of ``config`` on its endpoint; start with :meth:`start`, end with :meth:`stop`."""

    def __init__(
        self,
        config: SiteConfig,
        faults: list[tuple[str, Fault]] = (),
        steel_path: str | Path = STEEL_LOAD_FILE,
        counters_kwh: dict[str, float] | None = None,
        loads: dict[str, tuple[object, int]] | None = None,
    ):
        """``counters_kwh``: where meters' counters start (default 1000 kWh × position in the
        config; :func:`last_counters_kwh` continues stored histories); ``loads``: meter id →
        (load model, +1 import / −1 export) replacing :func:`meter_loads` for those meters."""
        self.config = config
        self.started_s = time.time()
        loads = {**meter_loads(config, self.started_s, steel_path), **(loads or {})}
        counters_kwh = counters_kwh or {}
        self.meters: dict[str, SimulatedMeter] = {}
        self.endpoints: dict[tuple, list[SimulatedMeter]] = {}
        for i, meter in enumerate(config.meters):
            if not meter.enabled:
                continue
            load, direction = loads[meter.id]
            start_kwh = counters_kwh.get(meter.id, 1000.0 * (1 + i))
            simulated = SimulatedMeter(meter, meter_map(config, i), load, direction, self.started_s, start_kwh)
            self.meters[meter.id] = simulated
            self.endpoints.setdefault(endpoint_key(meter), []).append(simulated)
        for meter_id, fault in faults:
            if meter_id not in self.meters:
                raise InputError(f"--fault: no enabled meter {meter_id!r} in {config.path or 'the config'}")
            self.meters[meter_id].faults.append(fault)
        self._check_endpoints()
        self.received: Counter[tuple] = Counter()  # (endpoint, unit id, function code) → requests
        self._servers: list = []

    def _check_endpoints(self) -> None:
        for key, meters in self.endpoints.items():
            protocols = {m.meter.connection.protocol for m in meters}
            if len(protocols) > 1:
                raise InputError(f"{self.config.path or 'config'}: meters {', '.join(m.meter.id for m in meters)} share {key[1:]} but use protocols {sorted(protocols)}")
            units = [m.meter.connection.unit_id for m in meters]
            if len(set(units)) < len(units):
                raise InputError(f"{self.config.path or 'config'}: two meters on {key[1:]} have the same unit id")

    def _server(self, key: tuple, meters: list[SimulatedMeter]):
        devices = [m.simdevice() for m in meters]
        if 0 not in {m.meter.connection.unit_id for m in meters}:
            devices.append(SimDevice(0, simdata=[SimData(0, count=65536, values=0, datatype=DataType.REGISTERS)], action=_no_such_unit))

        def trace(sending: bool, pdu):
            if not sending:
                self.received[(key, pdu.dev_id, pdu.function_code)] += 1
            return pdu

        connection = meters[0].meter.connection
        if connection.protocol == "rtu":
            return ModbusSerialServer(
                devices, framer=FramerType.RTU, port=connection.serial_port, baudrate=connection.baudrate,
                bytesize=connection.bytesize, parity=connection.parity, stopbits=connection.stopbits,
                ignore_missing_devices=True, trace_pdu=trace,
            )
        framer = FramerType.RTU if connection.protocol == "rtu_over_tcp" else FramerType.SOCKET
        return ModbusTcpServer(devices, framer=framer, address=(connection.host, connection.port), ignore_missing_devices=True, trace_pdu=trace)

    async def start(self) -> None:
        for key, meters in self.endpoints.items():
            server = self._server(key, meters)
            for meter in meters:
                meter.drop_connections = _dropper(server)
            try:
                await server.serve_forever(background=True)
            except (RuntimeError, OSError) as exc:
                await self.stop()
                where = key[1] if key[0] == "rtu" else f"{key[1]}:{key[2]}"
                raise InputError(f"cannot serve meters {', '.join(m.meter.id for m in meters)} on {where}: {exc}") from exc
            self._servers.append(server)
        log.info("simulating %d meter(s) on %d endpoint(s)", len(self.meters), len(self._servers))

    async def stop(self) -> None:
        for server in self._servers:
            await server.shutdown()
        self._servers = []

    def function_codes(self) -> set[int]:
        """Every function code the simulated meters have received."""
        return {fc for (_, _, fc) in self.received}


def last_counters_kwh(engine: Engine) -> dict[str, float]:
    """Each meter's latest stored energy counter (kWh), for a simulation that continues a history."""
    table = schema.readings
    latest = (
        sa.select(table.c.meter_id, sa.func.max(table.c.epoch_ms).label("epoch_ms"))
        .where(table.c.energy_kwh.is_not(None))
        .group_by(table.c.meter_id)
        .subquery()
    )
    query = sa.select(table.c.meter_id, table.c.energy_kwh).join(
        latest, (table.c.meter_id == latest.c.meter_id) & (table.c.epoch_ms == latest.c.epoch_ms)
    )
    with engine.connect() as conn:
        return {meter_id: float(kwh) for meter_id, kwh in conn.execute(query)}


async def _no_such_unit(*_args):
    return ExcCodes.GATEWAY_NO_RESPONSE


def _dropper(server):
    def drop() -> None:
        for connection in list(server.active_connections.values()):
            connection.close()

    return drop


@contextlib.asynccontextmanager
async def serving(config: SiteConfig, **options):
    """``async with serving(config) as simulator:`` the meters answer inside the block."""
    simulator = Simulator(config, **options)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@contextlib.contextmanager
def serve_in_background(config: SiteConfig, **options):
    """``with serve_in_background(config) as simulator:`` the meters answer from a background
    thread (its own event loop) inside the block; for synchronous callers such as ``energy demo``."""
    ready = threading.Event()
    holder: dict = {}
    loop = asyncio.new_event_loop()

    async def main() -> None:
        stop = asyncio.Event()
        holder["stop"] = stop
        try:
            async with serving(config, **options) as simulator:
                holder["simulator"] = simulator
                ready.set()
                await stop.wait()
        except BaseException as exc:  # reported to the caller below
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="energy-simulate", daemon=True)
    thread.start()
    ready.wait()
    if "error" in holder:
        thread.join()
        loop.close()
        raise holder["error"]
    try:
        yield holder["simulator"]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join()
        loop.close()


def run(config: SiteConfig, duration_s: float | None = None, **options) -> Simulator:
    """Serve until ``duration_s`` has passed or SIGINT/SIGTERM (blocking); returns the simulator."""

    async def main() -> Simulator:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        in_main_thread = threading.current_thread() is threading.main_thread()
        if in_main_thread:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
        if duration_s is not None:
            loop.call_later(duration_s, stop.set)
        async with serving(config, **options) as simulator:
            await stop.wait()
        return simulator

    return asyncio.run(main())
