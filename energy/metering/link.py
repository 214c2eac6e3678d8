"""A read-only Modbus connection shared, in turn, by every unit id behind it.

:class:`ReadOnlyLink` owns the pymodbus client and exposes one operation, :meth:`ReadOnlyLink.read`,
for function codes 3 and 4 only: the collector has no way to send a write function code.

One link per endpoint: a Modbus TCP device or gateway (host, port, framing) or a serial port
(RTU). Meters behind it take turns under a lock, one request at a time, each bounded by its own
timeout; the lock is released between a meter's retries so a dead unit delays the others by at
most one timeout per attempt. A failed connect backs off (0.5 s doubling to 30 s) before the
next attempt; a dropped connection is reopened on the next read.
"""

from __future__ import annotations

import asyncio
import time

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from energy.config import Connection

_READS = {3: "read_holding_registers", 4: "read_input_registers"}
_EXCEPTIONS = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0


class MeterError(Exception):
    """A failed read; the message is what ``energy meters`` shows as the last error."""


class ExceptionResponse(MeterError):
    def __init__(self, code: int, what: str):
        self.code = code
        super().__init__(f"exception {code} ({_EXCEPTIONS.get(code, 'unknown')}) {what}")


def link_key(connection: Connection) -> tuple:
    """Meters with equal keys share one link."""
    if connection.protocol == "rtu":
        return ("rtu", connection.serial_port)
    return (connection.protocol, connection.host, connection.port)


def describe(connection: Connection) -> str:
    where = connection.serial_port if connection.protocol == "rtu" else f"{connection.host}:{connection.port}"
    return f"{connection.protocol} {where} unit {connection.unit_id}"


class ReadOnlyLink:
    """One connection; only FC03/FC04 reads leave it."""

    def __init__(self, connection: Connection, response_timeout_s: float):
        # pymodbus's own timeout and retries stay out of the way: each read is bounded by the
        # meter's timeout here, and retries and reconnects are the collector's.
        backstop_s = response_timeout_s + 5.0
        if connection.protocol == "rtu":
            self._client = AsyncModbusSerialClient(
                connection.serial_port,
                framer=FramerType.RTU,
                baudrate=connection.baudrate,
                bytesize=connection.bytesize,
                parity=connection.parity,
                stopbits=connection.stopbits,
                timeout=backstop_s,
                retries=0,
                reconnect_delay=0,
            )
        else:
            framer = FramerType.RTU if connection.protocol == "rtu_over_tcp" else FramerType.SOCKET
            self._client = AsyncModbusTcpClient(
                connection.host, port=connection.port, framer=framer, timeout=backstop_s, retries=0, reconnect_delay=0
            )
        self._unframed = connection.protocol in ("rtu", "rtu_over_tcp")
        self._lock = asyncio.Lock()
        self._retry_at = 0.0
        self._backoff_s = BACKOFF_FIRST_S
        self.name = describe(connection).rsplit(" unit ", 1)[0]

    async def _ensure_connected(self, timeout_s: float) -> None:
        if self._client.connected:
            return
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            raise MeterError(f"cannot connect to {self.name} (next attempt in {wait:.1f} s)")
        try:
            connected = await asyncio.wait_for(self._client.connect(), timeout_s)
        except (asyncio.TimeoutError, OSError):
            connected = False
        if not connected:
            self._client.close()
            self._retry_at = time.monotonic() + self._backoff_s
            self._backoff_s = min(self._backoff_s * 2, BACKOFF_MAX_S)
            raise MeterError(f"cannot connect to {self.name}")
        self._backoff_s = BACKOFF_FIRST_S

    async def read(self, function_code: int, address: int, count: int, unit_id: int, timeout_s: float) -> list[int]:
        """``count`` registers from ``address`` (0-based) with FC03 or FC04, within ``timeout_s``."""
        if function_code not in _READS:
            raise ValueError(f"function code {function_code} is not a read of registers: this link only sends FC03/FC04")
        method = getattr(self._client, _READS[function_code])
        what = f"reading FC{function_code:02d} {address}+{count} from unit {unit_id}"
        async with self._lock:
            await self._ensure_connected(timeout_s)
            try:
                response = await asyncio.wait_for(method(address, count=count, device_id=unit_id), timeout_s)
            except asyncio.TimeoutError as exc:
                if self._unframed:
                    # RTU frames carry no transaction id: a late answer would pass for the next one.
                    self._client.close()
                raise MeterError(f"no response within {timeout_s:g} s {what}") from exc
            except ModbusException as exc:
                self._client.close()  # the stream may be out of step: start afresh
                raise MeterError(f"{exc} {what}") from exc
        if response.isError():
            raise ExceptionResponse(response.exception_code, what)
        if len(response.registers) != count:
            raise MeterError(f"short answer ({len(response.registers)} registers) {what}")
        return list(response.registers)

    def close(self) -> None:
        self._client.close()
