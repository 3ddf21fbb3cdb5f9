"""A light load generator for the throughput benches: one asyncio thread, raw sockets,
request bytes built before the clock starts.

The load generator shares the machine's cores with the service, so what it spends is taken
from the service: http.client threads cost tens of microseconds per request in Python and
contend for the GIL. Here each keep-alive connection is an asyncio protocol that writes a
pre-built request and parses only the status line and the body's length of the answer, so a
request costs the client a few microseconds, and `Load.client_cpu` says how much it was.

`drive` keeps its connections open from the warm-up through the measurement, so every web
worker that accepted a connection has served (and warmed its caches for) requests before the
clock starts; `on_start` / `on_stop` run at the measurement's edges (read the service's CPU
there).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import cast

try:  # uvicorn[standard] brings uvloop: a cheaper event loop for the client as well
    import uvloop

    _new_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
except ImportError:  # pragma: no cover - plain asyncio works the same, a little slower
    _new_loop = asyncio.new_event_loop


def http_request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes of one HTTP/1.1 POST on a keep-alive connection."""
    lines = [f"POST {path} HTTP/1.1", f"host: {host}", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Load:
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0
    """CPU seconds (user + system) this process spent during the measurement."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from writing each request to its whole answer."""

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


class _Conn(asyncio.Protocol):
    """One keep-alive connection: one request in flight, the next written on each answer."""

    def __init__(self, requests: Iterator[bytes], load: list[Load], done: asyncio.Future[None]):
        self.requests, self.load, self.done = requests, load, done
        self.buffer = bytearray()
        self.transport: asyncio.WriteTransport | None = None
        self.stopping = False
        self.sent = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)  # uvloop's is its own class
        self.sent = time.perf_counter()
        self.transport.write(next(self.requests))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"the service closed a connection: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            size, status = _answer_size(self.buffer)
            if size is None:
                return
            del self.buffer[:size]
            current = self.load[-1]
            now = time.perf_counter()
            current.latencies.append(now - self.sent)
            if status in (200, 201):
                current.ok += 1
            else:
                current.failed += 1
            if self.stopping:
                assert self.transport is not None
                self.transport.close()
                return
            assert self.transport is not None
            self.sent = now
            self.transport.write(next(self.requests))


def _answer_size(buffer: bytearray) -> tuple[int | None, int]:
    """(length of the first complete answer in `buffer`, its status), or (None, 0)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None, 0
    head = bytes(buffer[:end]).lower()
    status = int(head[9:12])
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        return (total, status) if len(buffer) >= total else (None, 0)
    if b"\r\ntransfer-encoding: chunked" in head:
        return _chunked_size(buffer, end + 4), status
    return end + 4, status  # no body (204, 304)


def _chunked_size(buffer: bytearray, at: int) -> int | None:
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        at = line_end + 2 + size + 2
        if len(buffer) < at:
            return None
        if size == 0:
            return at


def drive(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int,
    warm: float,
    seconds: float,
    on_start: Callable[[], None] = lambda: None,
    on_stop: Callable[[], None] = lambda: None,
) -> Load:
    """`connections` keep-alive connections cycling through `requests` (each connection from
    its own offset) for `warm` seconds, then `seconds` measured; the measured load."""
    loop = _new_loop()
    try:
        return loop.run_until_complete(
            _drive(host, port, requests, connections, warm, seconds, on_start, on_stop)
        )
    finally:
        loop.close()


async def _drive(
    host: str,
    port: int,
    requests: Sequence[bytes],
    connections: int,
    warm: float,
    seconds: float,
    on_start: Callable[[], None],
    on_stop: Callable[[], None],
) -> Load:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    phases = [Load()]  # the warm-up's counts, then the measurement's
    conns: list[_Conn] = []
    for i in range(connections):
        start = i * len(requests) // connections
        cycle = itertools.islice(itertools.cycle(requests), start, None)
        conn = _Conn(cycle, phases, done)
        await loop.create_connection(lambda conn=conn: conn, host, port)  # type: ignore[misc]
        conns.append(conn)
    await _wait(done, warm)
    on_start()
    cpu, wall = time.process_time(), time.perf_counter()
    phases.append(Load())
    await _wait(done, seconds)
    measured = phases[-1]
    measured.seconds = time.perf_counter() - wall
    measured.client_cpu = time.process_time() - cpu
    phases.append(Load())  # answers still in flight are not counted
    on_stop()
    for conn in conns:
        conn.stopping = True
    await asyncio.sleep(0)
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    if not done.done():
        done.set_result(None)
    return measured


async def _wait(done: asyncio.Future[None], seconds: float) -> None:
    """Sleep `seconds`, raising at once if a connection was lost."""
    try:
        await asyncio.wait_for(asyncio.shield(done), seconds)
    except TimeoutError:
        return
