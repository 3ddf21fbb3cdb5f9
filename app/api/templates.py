"""Scenario document templates: list them with their data schema, and generate a sealed
document from one."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from app.access import authenticated, needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.downloads import attachment
from app.schemas.templates import DATA_MODELS, GenerateIn, TemplatePublic
from app.security import Scope
from app.services import generation
from seals.placement import Placement
from seals.templates import TEMPLATES

router = APIRouter(prefix="/api/v1", tags=["templates"])


def placement_json(placement: Placement) -> dict[str, Any]:
    """A domain placement in the API's JSON form (the ``type`` tag of the sign endpoint)."""
    tags = {
        "CoordinatePlacement": "coordinates",
        "KeywordPlacement": "keyword",
        "CrossPagePlacement": "cross_page",
        "InvisiblePlacement": "invisible",
    }
    fields = dataclasses.asdict(placement) if dataclasses.is_dataclass(placement) else {}
    return {"type": tags[type(placement).__name__], **fields}


@router.get(
    "/templates",
    dependencies=authenticated("the template catalogue is the same for every organization"),
    response_model=list[TemplatePublic],
)
def list_templates(principal: CurrentPrincipal) -> list[TemplatePublic]:
    """The built-in templates, each with the JSON schema of its data and its sealing
    defaults (placement, certification)."""
    return [
        TemplatePublic(
            name=spec.name,
            title=spec.title,
            description=spec.description,
            document_type=spec.name,
            unique_reference=spec.reference_label if spec.unique_reference else None,
            default_placement=placement_json(spec.default_placement),
            default_certify=spec.default_certify,
            data_schema=DATA_MODELS[spec.name].model_json_schema(),
        )
        for spec in TEMPLATES.values()
    ]


@router.post(
    "/templates/{name}/documents",
    dependencies=needs(Scope.seals_use),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the sealed PDF"}},
)
def generate_document(
    name: str,
    body: GenerateIn,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Render the template with `data`, then seal it as `POST /api/v1/seals/{id}/sign` does
    (same headers). The document carries a QR code to `/verify?d=<document id>`; the
    document type checked against the caller's grant is the template's name."""
    issued = generation.issue(
        session,
        services,
        principal=principal,
        request=generation.GenerationRequest(
            template=name,
            data=body.data,
            seal_id=body.seal_id,
            placement=body.placement.to_domain() if body.placement else None,
            level=body.level,
            certify=body.certify,
            reason=body.reason,
            location=body.location,
            pin=body.pin,
            idempotency_key=idempotency_key,
        ),
    )
    headers = {
        **attachment(issued.filename),
        "X-Eseal-Document-Id": issued.document_id,
        "X-Eseal-Document-Sha256": issued.sha256,
        "X-Eseal-Verify-Url": generation.verify_url(services, issued.document_id),
        "Location": f"/api/v1/documents/{issued.document_id}",
    }
    if issued.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(issued.pdf, media_type="application/pdf", headers=headers)
