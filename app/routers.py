"""Every router of the service, registered the same way (`app.include_router`) in this order.

Each router carries its routes' access declarations itself (see `app.access`); a new module
with routes adds its router here and nothing else.
"""

from __future__ import annotations

from fastapi import APIRouter

from app import health, protocols
from app.api import (
    applications,
    audit,
    audit_checkpoints,
    certificates,
    deliveries,
    directory,
    envelopes,
    evidence,
    grants,
    jobs,
    organizations,
    registration,
    seal_data,
    seal_kinds,
    seals,
    signing,
    statistics,
    templates,
    trust,
    usage_documents,
    usage_requests,
    verify,
)
from app.console import routes as console
from app.public import routes as public_page

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    protocols.router,
    organizations.router,
    certificates.router,
    audit.router,
    audit_checkpoints.router,
    trust.router,
    verify.router,
    public_page.router,
    seals.router,
    seals.public_router,
    seal_data.router,
    seal_data.public_router,
    grants.router,
    usage_requests.router,
    registration.router,
    seal_kinds.router,
    usage_documents.router,
    signing.router,
    templates.router,
    jobs.router,
    envelopes.router,
    evidence.router,
    directory.router,
    statistics.router,
    applications.router,
    deliveries.router,
    deliveries.link_router,
    console.router,
)
