"""The child side of the PDF worker pool: one long-lived process that parses, verifies and
renders documents under hard limits, so the service process never loads PDFium or holds a
whole-document parse.

Limits: the address space (RLIMIT_AS) is set once at start; before each task the CPU limit
(RLIMIT_CPU, soft) is moved to "CPU used so far + the task's allowance", so SIGXCPU interrupts a
task that computes too long. The wall-clock limit is the parent's: it kills the process (also
one stuck in C code, where the signal handler cannot run). After a memory or CPU overrun the worker
exits rather than serve on with a fragmented heap; the pool starts a fresh one.

The garbage collector: what the worker keeps (modules, services, caches) is frozen out of its
sight after the first tasks, and a collection waits for 10,000 new container objects instead
of 700 - a verification allocates tens of thousands that die with it, and each collection
of the young generations traversed them again (with the whole heap in every third, 9% of a
verification; issue 12).
"""

from __future__ import annotations

import contextlib
import gc
import resource
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from app.settings import Settings
from seals.pdflimits import DocumentTooComplexError, PdfLimits, check_structure

GC_THRESHOLDS = (10_000, 20, 10)
FREEZE_AFTER_TASKS = frozenset({1, 2, 10, 50})
"""After these task counts (warming is the first) what survived is frozen: the first
verification imports pyhanko's validation stack, later ones fill the caches."""


class CpuLimitExceeded(Exception):
    """Raised from the SIGXCPU handler inside a task."""


def _on_sigxcpu(_signum: int, _frame: object) -> None:
    raise CpuLimitExceeded


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _set_cpu_allowance(seconds: int) -> None:
    """Move the soft limit only: a lowered hard limit could never be raised again, and the
    parent's wall-clock limit already kills a task stuck in C code."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(_cpu_used()) + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


class _Context:
    """What tasks share inside one worker: settings, limits and (lazily) the services."""

    def __init__(self, settings: Settings, limits: PdfLimits) -> None:
        self.settings = settings
        self.limits = limits
        self._services: Any = None

    @property
    def services(self) -> Any:
        if self._services is None:
            from app.wiring import build_services

            self._services = build_services(self.settings)
        return self._services


def _verify(ctx: _Context, pdf: bytes) -> Any:
    from app.verification.verify import verification_session, verify_document

    check_structure(pdf, ctx.limits)
    with verification_session(ctx.services) as session:
        return verify_document(session, ctx.services, pdf=pdf)


def _page_sizes(ctx: _Context, pdf: bytes) -> Any:
    from app.pdfpages import page_sizes

    check_structure(pdf, ctx.limits)
    return page_sizes(pdf)


def _page_png(ctx: _Context, payload: tuple[bytes, str, int]) -> bytes:
    from app.pdfpages import page_png

    pdf, sha256, number = payload
    check_structure(pdf, ctx.limits)
    return page_png(pdf, sha256=sha256, number=number)


def _sign(ctx: _Context, job: Any) -> Any:
    from app.sealing_staged import sign_job

    return sign_job(ctx.services, job)


def _warm(ctx: _Context, _payload: None) -> None:
    ctx.services.engine.dispose()  # builds the services (engine, key store) once, up front


TASKS: dict[str, Callable[[_Context, Any], Any]] = {
    "warm": _warm,
    "verify": _verify,
    "page_sizes": _page_sizes,
    "page_png": _page_png,
    "sign": _sign,
}


def worker_main(conn: Connection, settings: Settings, limits: PdfLimits) -> None:
    """Serve tasks from `conn` until it closes: each answer is ("ok", value),
    ("too-complex", (detail, extra)), ("limit", name) or ("error", (class, args, attributes)):
    exceptions travel as their parts, so domain errors keep `detail` and `extra` (plain
    pickling would call `__init__` with `args` only and lose them)."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the service, which stops us
    gc.set_threshold(*GC_THRESHOLDS)
    ctx = _Context(settings, limits)
    served = 0
    while True:
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        _set_cpu_allowance(limits.cpu_seconds)
        try:
            _serve_one(conn, ctx, kind, payload)
        except (BrokenPipeError, EOFError):  # the service went away mid-task
            return
        del kind, payload
        served += 1
        if served in FREEZE_AFTER_TASKS:  # after the answer went out: nobody waits for it
            gc.collect()
            gc.freeze()


def _serve_one(conn: Connection, ctx: _Context, kind: str, payload: Any) -> None:
    """Run one task and send its answer (exits the process after a memory or CPU overrun)."""
    try:
        answer: tuple[str, Any] = ("ok", TASKS[kind](ctx, payload))
    except DocumentTooComplexError as exc:
        answer = ("too-complex", (exc.detail, exc.extra))
    except MemoryError:
        _last_word(conn, "memory_bytes")
        sys.exit(3)
    except CpuLimitExceeded:
        _last_word(conn, "cpu_seconds")
        sys.exit(3)
    except Exception as exc:  # the caller re-raises it (domain errors keep their meaning)
        answer = ("error", (type(exc), exc.args, dict(getattr(exc, "__dict__", {}))))
    try:
        conn.send(answer)
    except (BrokenPipeError, EOFError):
        raise
    except Exception as exc:  # an answer that does not pickle
        conn.send(("error", (RuntimeError, (f"unpicklable answer: {exc}",), {})))


def _last_word(conn: Connection, limit: str) -> None:
    with contextlib.suppress(OSError, MemoryError):
        conn.send(("limit", limit))
