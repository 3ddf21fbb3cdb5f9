"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import api_docs, checkpoints, envelopes, health, protocols, stat_counters, webhooks
from app.access import ConsoleRefused, public
from app.admission import AdmissionMiddleware, gates_from
from app.api import applications as applications_api
from app.api import audit as audit_api
from app.api import audit_checkpoints as audit_checkpoints_api
from app.api import certificates as certificates_api
from app.api import deliveries as deliveries_api
from app.api import directory as directory_api
from app.api import envelopes as envelopes_api
from app.api import evidence as evidence_api
from app.api import jobs as jobs_api
from app.api import organizations
from app.api import seal_kinds as seal_kinds_api
from app.api import seals as seals_api
from app.api import signing as signing_api
from app.api import statistics as statistics_api
from app.api import templates as templates_api
from app.api import trust as trust_api
from app.api import usage_documents as usage_documents_api
from app.api import verify as verify_api
from app.console import routes as console
from app.console import web as console_web
from app.db import migrate
from app.errors import install_error_handlers
from app.faults import ProblemOnCrashMiddleware, install_fault_handlers
from app.jobs import JobWorker
from app.logs import configure_logging
from app.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from app.pki_fastpath import PkiFastPath
from app.public import routes as public_page
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
        tasks=[envelopes.expiry_task(services), checkpoints.periodic_task(services)],
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
    app.include_router(health.router, dependencies=public("liveness and readiness probes"))
    app.include_router(protocols.router, dependencies=public("CA certificates, CRL, OCSP, TSA"))
    app.include_router(organizations.router)
    app.include_router(certificates_api.router)
    app.include_router(audit_api.router)
    app.include_router(audit_checkpoints_api.router)
    app.include_router(trust_api.router)
    app.include_router(verify_api.router)
    public_page.install(app)  # GET/POST /verify, static under /public-static
    seals_api.install(app)
    app.include_router(seal_kinds_api.router)
    app.include_router(usage_documents_api.router)
    app.include_router(signing_api.router)
    app.include_router(templates_api.router)
    app.include_router(jobs_api.router)
    app.include_router(envelopes_api.router)
    app.include_router(evidence_api.router)
    app.include_router(directory_api.router)
    app.include_router(statistics_api.router)
    app.include_router(applications_api.router)
    app.include_router(deliveries_api.router)
    app.include_router(deliveries_api.link_router)
    app.include_router(console.router)
    app.add_exception_handler(ConsoleRefused, console_web.refused_page)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(ProblemOnCrashMiddleware, retry_after=settings.retry_after_seconds)
    app.add_middleware(PkiFastPath, services=services)  # signed OCSP answers, time-stamps
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
