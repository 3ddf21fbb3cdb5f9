"""Electronic delivery: send a stored document, list what was sent (undelivered first, with
its age) and received, open and acknowledge it, fetch each state's time-stamp; and the
one-time link a person without an account opens.

Scopes: sending needs `envelopes:write`; reading, opening and acknowledging one of
`envelopes:read`, `envelopes:write` or `seals:use`; the link needs no login (its token is
the credential)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app.access import needs
from app.access import public as public_access
from app.console.web import lang_of, render
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.downloads import attachment
from app.errors import AppError
from app.models_agency import Delivery
from app.schemas.deliveries import DeliveryCreate, DeliveryPublic, DeliverySent, ReceiptPublic
from app.security import Scope
from app.services import deliveries as service
from app.services.tenancy import require

router = APIRouter(prefix="/api/v1", tags=["deliveries"])
link_router = APIRouter(prefix="/delivery", include_in_schema=False)
TSR = "application/timestamp-reply"
PDF = "application/pdf"


def public(session: Session, delivery: Delivery) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,
        organization_id=delivery.organization_id,
        document_id=delivery.document_id,
        document_sha256=delivery.document_sha256,
        title=delivery.title,
        recipient_organization_id=delivery.recipient_organization_id,
        recipient_name=delivery.recipient_name,
        status=delivery.status,
        sent_at=delivery.sent_at,
        opened_at=delivery.opened_at,
        acknowledged_at=delivery.acknowledged_at,
        expires_at=delivery.expires_at,
        age_seconds=int((datetime.now(UTC) - delivery.sent_at).total_seconds()),
        receipts=[
            ReceiptPublic(
                event=r.event,
                record=r.record,
                timestamp_url=f"/api/v1/deliveries/{delivery.id}/receipts/{r.event}.tsr",
                created_at=r.created_at,
            )
            for r in service.receipts(session, delivery.id)
        ],
    )


@router.post(
    "/organizations/{organization_id}/deliveries",
    dependencies=needs(Scope.envelopes_write),
    status_code=status.HTTP_201_CREATED,
)
def send(
    organization_id: str,
    body: DeliveryCreate,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> DeliverySent:
    """Send a stored (sealed) document to an organization, or to a person by a one-time
    link (returned only in this answer)."""
    require(principal, Scope.envelopes_write)
    done = service.send(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        document_id=body.document_id,
        title=body.title,
        recipient_organization_id=body.recipient_organization_id,
        recipient_name=body.recipient_name,
        expires_days=body.expires_days,
        webhook_url=body.webhook_url,
        webhook_secret=body.webhook_secret,
    )
    base = services.settings.public_base_url.rstrip("/")
    link = f"{base}/delivery/{done.token}" if done.token else None
    return DeliverySent(**public(session, done.delivery).model_dump(), link=link)


@router.get(
    "/organizations/{organization_id}/deliveries",
    dependencies=needs(Scope.envelopes_read, Scope.envelopes_write),
)
def list_sent(
    organization_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    undelivered: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryPublic]:
    """What the organization sent; `undelivered=true`: not yet acknowledged, oldest first."""
    rows = service.sent(
        session,
        principal=principal,
        organization_id=organization_id,
        undelivered=undelivered,
        offset=offset,
        limit=limit,
    )
    return [public(session, d) for d in rows]


@router.get(
    "/organizations/{organization_id}/deliveries/received",
    dependencies=needs(Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use),
)
def list_received(
    organization_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryPublic]:
    rows = service.received(
        session, principal=principal, organization_id=organization_id, offset=offset, limit=limit
    )
    return [public(session, d) for d in rows]


@router.get(
    "/deliveries/{delivery_id}",
    dependencies=needs(Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use),
)
def get_delivery(
    delivery_id: str, session: SessionDep, principal: CurrentPrincipal
) -> DeliveryPublic:
    return public(session, service.visible(session, principal, delivery_id))


@router.get(
    "/deliveries/{delivery_id}/document",
    dependencies=needs(Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use),
    response_class=Response,
)
def open_document(
    delivery_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> Response:
    """The recipient opens the document (recorded and time-stamped the first time)."""
    _, pdf = service.open_document(session, services, principal=principal, delivery_id=delivery_id)
    return Response(pdf, media_type=PDF, headers={"Cache-Control": "private, no-store"})


@router.post(
    "/deliveries/{delivery_id}/acknowledge",
    dependencies=needs(Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use),
)
def acknowledge(
    delivery_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> DeliveryPublic:
    done = service.acknowledge(session, services, principal=principal, delivery_id=delivery_id)
    return public(session, done)


@router.get(
    "/deliveries/{delivery_id}/receipts/{event}.tsr",
    dependencies=needs(Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use),
    response_class=Response,
)
def receipt_timestamp(
    delivery_id: str, event: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """The RFC 3161 TimeStampResp over the SHA-256 of the state's record."""
    found = service.receipt(session, principal=principal, delivery_id=delivery_id, event=event)
    return Response(found.timestamp_reply, media_type=TSR)


# --- the one-time link --------------------------------------------------------------------


def _link_page(
    request: Request,
    delivery: Delivery | None,
    *,
    token: str,
    error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "delivery_link.html",
        lang=lang_of(request),
        status=status_code,
        delivery=delivery,
        token=token,
        error=error,
    )


@link_router.get(
    "/{token}", dependencies=public_access("a one-time delivery link: the token is the credential")
)
def link_page(token: str, request: Request, session: SessionDep, services: ServicesDep) -> Response:
    try:
        delivery = service.open_by_token(session, services, token)
    except AppError as exc:
        session.rollback()
        return _link_page(request, None, token="", error=exc.detail, status_code=404)
    return _link_page(request, delivery, token=token, error=None)


@link_router.get(
    "/{token}/document",
    dependencies=public_access("a one-time delivery link: the token is the credential"),
)
def link_document(token: str, session: SessionDep, services: ServicesDep) -> Response:
    delivery, pdf = service.document_by_token(session, services, token)
    return Response(
        pdf,
        media_type=PDF,
        headers={
            "Cache-Control": "no-store",
            **attachment(f"{delivery.id}.pdf"),
        },
    )


@link_router.post(
    "/{token}/acknowledge",
    dependencies=public_access("a one-time delivery link: the token is the credential"),
)
def link_acknowledge(
    token: str,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    name: Annotated[str, Form(max_length=100)],
) -> Response:
    try:
        delivery = service.acknowledge_by_token(session, services, token, signed_name=name)
    except AppError as exc:
        session.rollback()
        return _link_page(request, None, token="", error=exc.detail, status_code=404)
    return _link_page(request, delivery, token="", error=None)
