"""Helpers for the metering tests: free ports, site configs around meters, a pty pair."""

from __future__ import annotations

import os
import select
import socket
import threading
from pathlib import Path

from energy.config import parse_config

SITE = {"name": "Test works", "timezone": "Europe/Berlin", "latitude": 51.5, "longitude": 7.5}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tcp_meter(meter_id: str, model: str, port: int, unit_id: int = 1, protocol: str = "tcp", poll_seconds: float = 0.5, timeout_s: float = 0.5, retries: int = 1, **extra) -> dict:
    return {
        "id": meter_id,
        "model": model,
        "role": "other",
        "poll_seconds": poll_seconds,
        **extra,
        "connection": {"protocol": protocol, "host": "127.0.0.1", "port": port, "unit_id": unit_id, "timeout_s": timeout_s, "retries": retries},
    }


def site_config(tmp_path: Path, meters: list[dict], batch_seconds: float = 0.5, **sections):
    """A validated config (file ``tmp_path/site.toml``, spool in ``tmp_path/spool``)."""
    data = {"site": SITE, "meters": meters, "collector": {"batch_seconds": batch_seconds, "spool_dir": "spool"}, **sections}
    return parse_config(data, tmp_path / "site.toml")


def write_site_toml(tmp_path: Path, meters: list[dict], batch_seconds: float = 0.5) -> Path:
    """The same as :func:`site_config`, written as TOML for the CLI."""
    lines = ['[site]', 'name = "Test works"', 'timezone = "Europe/Berlin"', "latitude = 51.5", "longitude = 7.5", ""]
    for meter in meters:
        lines.append("[[meters]]")
        for key, value in meter.items():
            if key == "connection":
                inner = ", ".join(f"{k} = {_toml(v)}" for k, v in value.items())
                lines.append(f"connection = {{ {inner} }}")
            else:
                lines.append(f"{key} = {_toml(value)}")
        lines.append("")
    lines += ["[collector]", f"batch_seconds = {batch_seconds}", 'spool_dir = "spool"', ""]
    path = tmp_path / "site.toml"
    path.write_text("\n".join(lines))
    return path


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


class PtyBridge:
    """Two pseudo-terminals whose master sides are joined: a null-modem cable in software.

    What is written to ``ports[0]`` comes out of ``ports[1]`` and back (socat's job, without socat).
    """

    def __init__(self):
        self._pairs = [os.openpty() for _ in range(2)]
        self.ports = [os.ttyname(slave) for _, slave in self._pairs]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        (a, _), (b, _) = self._pairs
        peer = {a: b, b: a}
        while not self._stop.is_set():
            ready, _, _ = select.select([a, b], [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:  # the far side is not open yet
                    continue
                os.write(peer[fd], data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for master, slave in self._pairs:
            os.close(master)
            os.close(slave)


class TcpProxy:
    """A TCP relay to ``upstream`` on a local port that can be cut (every connection dropped,
    new ones refused) and restored: a database "going away" under a running client."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
