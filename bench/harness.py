"""What every benchmark shares: the service on a temporary SQLite folder in a real uvicorn
process, a platform API key, and an operations-per-second meter."""

from __future__ import annotations

import os
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

    @property
    def platform_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.platform_key}"}


@contextmanager
def running_service(*, prefix: str, env: dict[str, str] | None = None) -> Iterator[BenchService]:
    """`eseal init` in a fresh folder, then uvicorn (one worker) on a free port."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    base = f"http://127.0.0.1:{free_port()}"
    settings = Settings(data_dir=folder, public_base_url=base, log_level="WARNING")
    initialise(settings)
    services = build_services(settings)
    with unit_of_work(services.engine) as session:
        _, platform = create_api_client(
            session, principal=None, organization_id=None, name="bench", scopes=["platform"]
        )
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "app.main:app_from_environment",
         "--port", base.rsplit(":", 1)[1], "--log-level", "warning", "--no-access-log"],
        env={
            **os.environ,
            "ESEAL_DATA_DIR": str(folder),
            "ESEAL_PUBLIC_BASE_URL": base,
            "ESEAL_LOG_LEVEL": "WARNING",
            "ESEAL_JOBS_WORKER": "false",
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
        yield BenchService(base, http, platform.key, services, settings)
    finally:
        server.terminate()
        server.wait(timeout=30)
