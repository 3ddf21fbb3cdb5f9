"""What every benchmark shares: the service on a temporary SQLite folder in a real uvicorn
process, a platform API key, and an operations-per-second meter."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bootstrap import initialise
from app.db import unit_of_work
from app.services.tenancy import create_api_client
from app.settings import Settings
from app.wiring import Services, build_services


def rate(work: Callable[[], object], seconds: float, threads: int = 1) -> float:
    """Operations per second of `work` over `seconds`, from `threads` threads."""
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def loop(i: int) -> None:
        while time.perf_counter() < deadline:
            work()
            counts[i] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def paired_rates(
    ours: Callable[[], object],
    baseline: Callable[[], object],
    seconds: float,
    *,
    threads: int = 1,
    slices: int = 8,
) -> tuple[float, float]:
    """Rates of `ours` and `baseline` measured in alternating slices of `seconds / slices`
    each, so both see the same background load on a shared machine (the ratio is what
    counts; absolute figures move with whatever else runs)."""
    done = [0.0, 0.0]
    for _ in range(slices):
        for i, work in enumerate((ours, baseline)):
            done[i] += rate(work, seconds / slices, threads if i == 0 else 1)
    return done[0] / slices, done[1] / slices


def settle(pid: int, *, longest: float = 30.0) -> None:
    """Wait until the service and its worker processes have finished starting (less than
    5% of a core used over half a second), so no measurement pays for their imports."""
    from profiling import cpu_seconds

    deadline = time.monotonic() + longest
    before, quiet = cpu_seconds(pid), 0
    while time.monotonic() < deadline and quiet < 2:
        time.sleep(0.5)
        after = cpu_seconds(pid)
        quiet = quiet + 1 if after - before < 0.025 else 0
        before = after


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BenchService:
    base: str
    http: httpx.Client
    platform_key: str
    services: Services
    settings: Settings
    pid: int

    @property
    def platform_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.platform_key}"}


@contextmanager
def running_service(
    *,
    prefix: str,
    env: dict[str, str] | None = None,
    workers: int = 1,
    database_url: str | None = None,
) -> Iterator[BenchService]:
    """`eseal init` in a fresh folder (and database, when given), then uvicorn with `workers`
    processes on a free port."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    base = f"http://127.0.0.1:{free_port()}"
    settings = Settings(
        data_dir=folder, public_base_url=base, log_level="WARNING", database_url=database_url
    )
    initialise(settings)
    services = build_services(settings)
    with unit_of_work(services.engine) as session:
        _, platform = create_api_client(
            session, principal=None, organization_id=None, name="bench", scopes=["platform"]
        )
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "app.main:app_from_environment",
         "--port", base.rsplit(":", 1)[1], "--log-level", "warning", "--no-access-log",
         "--workers", str(workers)],
        env={
            **os.environ,
            "ESEAL_DATA_DIR": str(folder),
            "ESEAL_PUBLIC_BASE_URL": base,
            "ESEAL_LOG_LEVEL": "WARNING",
            "ESEAL_JOBS_WORKER": "false",
            **({"ESEAL_DATABASE_URL": database_url} if database_url else {}),
            **(env or {}),
        },
    )  # fmt: skip
    try:
        http = httpx.Client(base_url=base, timeout=120)
        for _ in range(300):
            try:
                if http.get("/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        settle(server.pid)
        yield BenchService(base, http, platform.key, services, settings, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


class Connections:
    """One keep-alive HTTP/1.1 connection per client thread (http.client: the load generator
    shares the cores with the service, so it should cost as little as possible)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._local = threading.local()

    def post(self, path: str, body: bytes, content_type: str, headers: dict[str, str]) -> bytes:
        """POST and return the body; asserts a 200 or 201 answer."""
        return self.request("POST", path, body, {"content-type": content_type, **headers})

    def get(self, path: str, headers: dict[str, str]) -> bytes:
        """GET and return the body; asserts a 200 answer."""
        return self.request("GET", path, None, headers)

    def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
        """One request on this thread's connection (reconnecting once); the answer's body."""
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                conn.close()  # the server closed an idle keep-alive connection: reconnect once
                self._local.conn = None
                if attempt == 2:
                    raise
        assert response.status in (200, 201), (response.status, data[:300])
        return data


def multipart(fields: dict[str, str], file: bytes, filename: str = "d.pdf") -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` and one PDF file, and its content type."""
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + file
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
