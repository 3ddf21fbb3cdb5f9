"""Applying seals to PDFs, and fetching the stored results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from pydantic import ValidationError

from app import sealing
from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.downloads import attachment
from app.errors import InvalidInput
from app.schemas.signing import PLACEMENT
from app.sealing_staged import seal_document
from app.security import Scope
from seals.signing import DocMdpPermission, PadesLevel, SignatureFormat, signature_format

router = APIRouter(prefix="/api/v1", tags=["signing"])


def _pdf_response(pdf: bytes, *, filename: str, headers: dict[str, str]) -> Response:
    return Response(pdf, media_type="application/pdf", headers={**attachment(filename), **headers})


@router.post(
    "/seals/{seal_id}/sign",
    dependencies=needs(Scope.seals_use),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the sealed PDF"}},
)
def sign_document(
    seal_id: str,
    file: Annotated[UploadFile, File(description="the PDF to seal")],
    placement: Annotated[
        str,
        Form(
            description='JSON: {"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 240} | '
            '{"type": "keyword", "keyword": "甲方（盖章）", "occurrence": "first"} | '
            '{"type": "cross_page"} | {"type": "invisible"}'
        ),
    ],
    services: ServicesDep,
    principal: CurrentPrincipal,
    level: Annotated[PadesLevel, Form()] = PadesLevel.B_LT,
    document_type: Annotated[str | None, Form(max_length=64)] = None,
    pin: Annotated[str | None, Form(max_length=64)] = None,
    certify: Annotated[DocMdpPermission | None, Form()] = None,
    reason: Annotated[str | None, Form(max_length=200)] = None,
    location: Annotated[str | None, Form(max_length=200)] = None,
    format: Annotated[
        str,
        Form(
            max_length=32,
            description="the signature format: pades, sm2-cms or gbt38540 (the SM2 formats "
            "need an SM2 certificate)",
        ),
    ] = SignatureFormat.PADES.value,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Seal a PDF: a PAdES signature by the seal's own certificate, visible where asked.

    Retries with the same `Idempotency-Key` return the first result; nothing is signed or
    spent twice.
    """
    try:
        where = PLACEMENT.validate_json(placement).to_domain()
    except ValidationError as exc:
        raise InvalidInput(
            "the placement is not valid",
            errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()],
        ) from exc
    chosen = signature_format(format)  # unsupported-signature-format (422) before any work
    filename = file.filename or "document.pdf"
    result = seal_document(
        services,
        principal=principal,
        request=sealing.SealRequest(
            seal_id=seal_id,
            pdf=file.file.read(),
            filename=filename,
            placement=where,
            level=level,
            document_type=document_type,
            pin=pin,
            certify=certify,
            reason=reason,
            location=location,
            idempotency_key=idempotency_key,
            format=chosen,
        ),
    )
    headers = {
        "X-Eseal-Document-Id": result.document_id,
        "X-Eseal-Document-Sha256": result.sha256,
        "Location": f"/api/v1/documents/{result.document_id}",
    }
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _pdf_response(result.pdf, filename=filename, headers=headers)


@router.get(
    "/documents/{document_id}",
    dependencies=needs(Scope.documents_read, Scope.seals_use),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def get_document(
    document_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> Response:
    document, pdf = sealing.visible_document(
        session, services, principal=principal, document_id=document_id
    )
    return _pdf_response(
        pdf, filename=document.filename, headers={"X-Eseal-Document-Sha256": document.sha256}
    )
