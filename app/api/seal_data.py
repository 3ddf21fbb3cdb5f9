"""A seal's GB/T 38540 seal data (印章数据, DER SESeal, ``.esl``): for its organization and,
by seal code, for anyone who verifies its electronic seals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.access import needs, public
from app.deps import CurrentPrincipal, ServicesDep, WritingSessionDep
from app.downloads import attachment
from app.security import Scope
from app.services import seal_data as service

router = APIRouter(prefix="/api/v1", tags=["seals"])
public_router = APIRouter(
    prefix="/api/v1/public",
    tags=["public"],
    dependencies=public(
        "a seal's GB/T 38540 seal data is what each of its electronic seals embeds: "
        "as public as the seal's certificate"
    ),
)

_ESL: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "DER SESeal (.esl)"}
}


def _esl(code: str, der: bytes) -> Response:
    return Response(
        content=der,
        media_type="application/octet-stream",
        headers=attachment(f"{code}.esl"),
    )


@router.get(
    "/seals/{seal_id}/eseal",
    dependencies=needs(Scope.seals_read),
    response_class=Response,
    responses=_ESL,
)
def seal_eseal(
    seal_id: str, session: WritingSessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> Response:
    """The seal's GB/T 38540 seal data (made by the platform's seal maker on first request);
    404 `seal-data-not-found` when the seal has no SM2 certificate."""
    code, der = service.seal_data_for(session, services, principal=principal, seal_id=seal_id)
    return _esl(code, der)


@public_router.get("/seals/{code}/eseal", response_class=Response, responses=_ESL)
def public_seal_eseal(code: str, session: WritingSessionDep, services: ServicesDep) -> Response:
    """The seal data of the seal with this code, for verifiers of its electronic seals."""
    found_code, der = service.public_seal_data(session, services, code=code)
    return _esl(found_code, der)
