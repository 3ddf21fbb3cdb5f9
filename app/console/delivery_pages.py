"""Electronic delivery in the console: what reached the organization (open, acknowledge)
and what it sent, undelivered first with its age. Acts go through `app.services.deliveries`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Form
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from app.access import console_needs
from app.console.web import CtxDep, check_csrf, console_router, page
from app.downloads import attachment
from app.models import Organization
from app.security import Scope
from app.services import deliveries as service

router = console_router(prefix="/deliveries")

SIZE = 50


def age(since: datetime, lang: str) -> str:
    """3 d 4 h / 5 h 12 min / 7 min (rounded down)."""
    minutes = int((datetime.now(UTC) - since).total_seconds() // 60)
    days, hours, mins = minutes // 1440, (minutes % 1440) // 60, minutes % 60
    units = ("d", "h", "min") if lang == "en" else ("天", "小时", "分钟")
    if days:
        return f"{days} {units[0]} {hours} {units[1]}"
    if hours:
        return f"{hours} {units[1]} {mins} {units[2]}"
    return f"{mins} {units[2]}"


@router.get(
    "", dependencies=console_needs(Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use)
)
def deliveries(ctx: CtxDep) -> Response:
    received = service.received(
        ctx.session, principal=ctx.principal, organization_id=ctx.org_id, offset=0, limit=SIZE
    )
    pending = service.sent(
        ctx.session,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        undelivered=True,
        offset=0,
        limit=SIZE,
    )
    senders = {d.organization_id for d in received}
    names = (
        {
            o.id: o.name
            for o in ctx.session.exec(
                select(Organization).where(col(Organization.id).in_(senders))
            ).all()
        }
        if senders
        else {}
    )
    return page(
        ctx,
        "deliveries.html",
        active="deliveries",
        received=received,
        pending=pending,
        names=names,
        age=lambda since: age(since, ctx.lang),
    )


@router.get(
    "/{delivery_id}/document",
    dependencies=console_needs(Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use),
)
def document(delivery_id: str, ctx: CtxDep) -> Response:
    delivery, pdf = service.open_document(
        ctx.session, ctx.services, principal=ctx.principal, delivery_id=delivery_id
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "private, no-store",
            **attachment(f"{delivery.id}.pdf"),
        },
    )


@router.post(
    "/{delivery_id}/acknowledge",
    dependencies=console_needs(Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use),
)
def acknowledge(
    delivery_id: str, ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    check_csrf(ctx.user, csrf_token)
    service.acknowledge(ctx.session, ctx.services, principal=ctx.principal, delivery_id=delivery_id)
    return RedirectResponse("/console/deliveries", status_code=303)
