"""A pool of PDF worker processes with hard limits (see app.pdfworker).

Each worker is a long-lived process started from a forkserver that has already imported
pyhanko and pypdfium2, so a replacement costs a fork, not an interpreter start. A task goes to
one idle worker over its own pipe; when the worker overruns the wall-clock limit it is killed,
when it dies (memory, CPU) or exits after an overrun it is reaped; either way its slot is
freed and the next task starts a fresh worker. Only the task that overran fails. At most
`size` workers exist at any time: the pool never leaks processes.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

from app.pdfworker import worker_main
from app.settings import Settings
from seals.pdflimits import DocumentTooComplexError, PdfLimits

log = logging.getLogger("eseal.pdfpool")
STARTING_WAIT_SECONDS = 120.0
"""How long a task may wait for workers that are still starting (a loaded machine needs many
seconds to import pyhanko in the forkserver), as opposed to workers that are busy."""


class PoolBusy(Exception):
    """Every worker stayed busy for the whole wait: the caller answers 503."""


class LimitExceeded(DocumentTooComplexError):
    """The worker overran a resource limit (memory, CPU or wall time) on this document."""


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    tasks: int = 0


def _context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(
        [
            "app.pdfworker",
            "app.verification.verify",
            "seals.verification",  # pyhanko's validation stack: 0.45 s of CPU per new worker
            "app.sealing_staged",
            "seals.signing",
            "pypdfium2",
        ]
    )
    return ctx


class PdfWorkerPool:
    """Bounded, self-healing pool; `call` blocks the calling thread (use a thread pool)."""

    def __init__(
        self, settings: Settings, limits: PdfLimits, *, size: int, max_tasks: int = 500
    ) -> None:
        self.settings = settings
        self.limits = limits
        self.size = max(1, size)
        self.max_tasks = max_tasks
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._live = 0
        self._starting = 0
        self._closed = False
        self._users = 0
        self._ctx = _context()

    @property
    def live(self) -> int:
        """How many worker processes exist now (at most `size`)."""
        return self._live

    def open(self) -> None:
        """Accept tasks (counted: an app whose lifespan is entered twice, as tests and some
        servers do, keeps its workers until the last `close`)."""
        with self._lock:
            self._users += 1
            self._closed = False

    def prestart(self) -> None:
        """Start every worker now, in the background, so the first requests after start-up
        (or after a restart) do not each wait for a process to come up."""

        def fill() -> None:
            for _ in range(self.size):
                with self._lock:
                    if self._closed or self._live >= self.size:
                        return
                    self._live += 1
                    self._starting += 1
                try:
                    worker = self._spawn()
                except Exception:
                    with self._lock:
                        self._live -= 1
                        self._starting -= 1
                    log.exception("could not start a PDF worker")
                    return
                self._checkin_warm(worker)
                with self._lock:
                    self._starting -= 1

        threading.Thread(target=fill, name="pdf-pool-prestart", daemon=True).start()

    def _checkin_warm(self, worker: _Worker) -> None:
        """Let the new worker build its services (engine, key store) before its first task."""
        try:
            worker.conn.send(("warm", None))
            healthy = worker.conn.poll(60) and worker.conn.recv()[0] == "ok"
        except (EOFError, OSError):
            healthy = False
        worker.tasks -= 1  # warming is not a task
        self._checkin(worker, bool(healthy))

    def call(self, kind: str, payload: Any, *, wait_seconds: float) -> Any:
        """Run task `kind` on `payload` in a worker; raises `PoolBusy` when no worker frees up
        within `wait_seconds`, `DocumentTooComplexError` (or `LimitExceeded`) for a document
        over a limit, or the task's own exception."""
        for _attempt in range(2):  # a worker found dead before its task is replaced once
            worker = self._checkout(wait_seconds)
            healthy = False
            try:
                status, value = self._exchange(worker, kind, payload)
                healthy = status in ("ok", "too-complex", "error")
            finally:
                self._checkin(worker, healthy)
            if status != "dead":
                break
        if status == "ok":
            return value
        if status == "too-complex":
            detail, extra = value
            raise DocumentTooComplexError(detail, **extra)
        if status == "dead":
            raise PoolBusy("the PDF workers keep dying; retry shortly")
        if status == "limit":
            raise LimitExceeded(
                f"the document exceeds the limit '{value}' of the PDF worker", limit=value
            )
        cls, args, attributes = value
        error = cls.__new__(cls)
        error.args = args
        error.__dict__.update(attributes)
        raise error

    def _exchange(self, worker: _Worker, kind: str, payload: Any) -> tuple[str, Any]:
        if not worker.process.is_alive():
            return "dead", None
        try:
            worker.conn.send((kind, payload))
        except OSError:
            return "dead", None
        try:
            if not worker.conn.poll(self.limits.wall_seconds):
                return "limit", "wall_seconds"
            result: tuple[str, Any] = worker.conn.recv()
            return result
        except (EOFError, OSError):  # the worker died: the kernel enforced a limit
            worker.process.join(2)
            code = worker.process.exitcode
            return "limit", "cpu_seconds" if code == -signal.SIGXCPU else "memory_bytes"

    def _checkout(self, wait_seconds: float) -> _Worker:
        with self._lock:
            if self._closed:
                raise PoolBusy("the PDF worker pool is shut down")
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            if self._live < self.size:
                self._live += 1
                spawn = True
            else:
                spawn = False
        if spawn:
            try:
                return self._spawn()
            except BaseException:
                with self._lock:
                    self._live -= 1
                raise
        deadline = time.monotonic() + STARTING_WAIT_SECONDS
        while True:
            try:
                return self._idle.get(timeout=wait_seconds)
            except queue.Empty:
                # busy workers mean overload; workers still starting up are worth the wait
                if self._starting == 0 or time.monotonic() > deadline:
                    raise PoolBusy("every PDF worker is busy") from None

    def _checkin(self, worker: _Worker, healthy: bool) -> None:
        worker.tasks += 1
        if healthy and worker.tasks < self.max_tasks and not self._closed:
            self._idle.put(worker)
            return
        self._stop(worker)
        with self._lock:
            self._live -= 1

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=worker_main,
            args=(child, self.settings, self.limits),
            name="eseal-pdf-worker",
            daemon=True,
        )
        process.start()
        child.close()
        return _Worker(process=process, conn=parent)

    @staticmethod
    def _stop(worker: _Worker) -> None:
        worker.conn.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.process.close()

    def close(self) -> None:
        """At the last user's close, stop every idle worker; busy ones stop when their task
        returns."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users:
                return
            self._closed = True
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            self._stop(worker)
            with self._lock:
                self._live -= 1


def limits_from(settings: Settings) -> PdfLimits:
    return PdfLimits(
        max_objects_per_revision=settings.pdf_max_objects_per_revision,
        max_decompressed_bytes=settings.pdf_max_decompressed_bytes,
        max_pages=settings.pdf_max_pages,
        max_page_side_pt=settings.pdf_max_page_side_pt,
        memory_bytes=settings.pdf_worker_memory_bytes,
        cpu_seconds=settings.pdf_worker_cpu_seconds,
        wall_seconds=settings.pdf_worker_wall_seconds,
    )
