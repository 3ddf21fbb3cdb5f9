"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import api_docs
from app.access import ConsoleRefused
from app.admission import AdmissionMiddleware, gates_from
from app.api.seal_refusals import install_refusal_handlers
from app.console import web as console_web
from app.db import migrate
from app.faults import ProblemOnCrashMiddleware, install_fault_handlers
from app.logs import configure_logging
from app.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from app.problem_handlers import install_error_handlers
from app.public.cache import ReportCache
from app.public.routes import STATIC_DIR as PUBLIC_STATIC_DIR
from app.public.routes import STATIC_PREFIX as PUBLIC_STATIC_PREFIX
from app.routers import ROUTERS
from app.services import checkpoints, envelope_expiry, stat_counters, webhooks
from app.services.jobs import JobWorker
from app.settings import Settings
from app.wiring import build_services

STATIC_DIR = Path(__file__).parent / "console" / "static"


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = True) -> FastAPI:
    """Build the service from ``settings`` (read from the environment when not given)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    services = build_services(settings)
    stat_counters.install()  # statistics counters in the transaction of each act

    # webhook delivery and envelope expiry, in process, state in the database
    worker = webhooks.Worker(
        webhooks.Sender(services.engine, settings),
        tasks=[envelope_expiry.expiry_task(services), checkpoints.periodic_task(services)],
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if migrate_on_start:
            migrate(settings.resolved_database_url)
        worker.start()
        services.pdf_pool.open()
        services.seal_pool.open()
        if settings.pdf_workers_prestart:
            services.pdf_pool.prestart()
            services.seal_pool.prestart()
        jobs_worker = JobWorker(services) if settings.jobs_worker else None
        _app.state.job_worker = jobs_worker
        if jobs_worker is not None:
            jobs_worker.start()  # bulk issuance; re-queues records a stopped process left
        yield
        if jobs_worker is not None:
            jobs_worker.stop()
        worker.stop()
        stat_counters.verification_tally.flush(services.engine)
        services.pdf_pool.close()
        services.seal_pool.close()
        services.engine.dispose()

    app = FastAPI(
        title="eseal",
        version="0.1.0",
        description="Electronic seals: certificate authority, seal registry, PAdES sealing "
        "and verification.",
        lifespan=lifespan,
        docs_url=None,  # app.api_docs serves them from local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.webhook_worker = worker
    install_error_handlers(app)
    install_fault_handlers(app, retry_after=settings.retry_after_seconds)
    api_docs.install(app)
    install_refusal_handlers(app)
    app.add_exception_handler(ConsoleRefused, console_web.refused_page)
    for router in ROUTERS:
        app.include_router(router)
    app.state.public_reports = ReportCache()  # the public page's short-lived reports
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(PUBLIC_STATIC_PREFIX, StaticFiles(directory=PUBLIC_STATIC_DIR), name="public-static")
    app.add_middleware(ProblemOnCrashMiddleware, retry_after=settings.retry_after_seconds)
    app.state.admission_gates = gates = gates_from(settings.admission)
    app.add_middleware(
        AdmissionMiddleware,
        gates=gates,
        wait_seconds=settings.admission_wait_seconds,
        retry_after=settings.retry_after_seconds,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


def app_from_environment() -> FastAPI:
    """Entry point for ``uvicorn --factory app.main:app_from_environment``."""
    return create_app()
