"""Scenario documents: validate a template's data, choose the document id, render the PDF
(with the QR code of its own verification link) and seal it through `app.sealing`.

Three steps, so a bulk worker can render outside any database transaction:

* `prepare` (reads only): template, data, the seal the caller may see, the issuing
  organization, the document id, and a first check that the document's number is free;
* `render` (no database): the PDF bytes;
* `sign_prepared` (reads, then no transaction): the staged signing path's authorisation and
  signature in a seal worker (`app.sealing_staged`);
* `record` (the caller's short write transaction): the seal's use (store, consume, audit),
  then the `GeneratedDocument` row, whose unique constraint settles races on a guarantee
  number, and the ``document.generate`` audit event.

`issue` runs them for the HTTP path and records in the request's unit of work.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import sealing
from app import sealing_staged as staged
from app.db import reading, unit_of_work
from app.errors import Conflict, InvalidInput, NotFound
from app.models import Organization, new_id
from app.models_jobs import GeneratedDocument
from app.schemas.policy_templates import EnforcementRecordIn, SettlementFormIn
from app.schemas.templates import DATA_MODELS, BidGuaranteeIn, BusinessLicenceIn
from app.security import Principal, Scope
from app.services import audit
from app.services.licence_holder import check_holder
from app.services.seals import visible_seal
from app.services.tenancy import require
from app.wiring import Services
from seals.placement import Placement
from seals.signing import DocMdpPermission, PadesLevel
from seals.templates import TEMPLATES, Party, RenderContext, TemplateSpec, document_font

# fontTools logs every font subset at INFO (and dropped bitmap tables as warnings)
logging.getLogger("fontTools").setLevel(logging.ERROR)


class DocumentNumberTaken(Conflict):
    """The template's number (a guarantee number) was already issued by this organization."""

    code = "document-number-taken"


@dataclass(frozen=True)
class GenerationRequest:
    template: str
    data: Mapping[str, Any]
    seal_id: str
    placement: Placement | None = None
    level: PadesLevel = PadesLevel.B_LT
    certify: DocMdpPermission | None = None
    reason: str | None = None
    location: str | None = None
    pin: str | None = None
    idempotency_key: str | None = None
    document_id: str | None = None
    """Chosen by the caller (a bulk record's deterministic id); default: derived from the
    Idempotency-Key when there is one (a retry renders the same bytes), else random."""
    job_id: str | None = None


@dataclass(frozen=True)
class Prepared:
    spec: TemplateSpec
    request: GenerationRequest
    organization_id: str
    data: object
    data_sha256: str
    reference: str | None
    document_id: str
    verify_url: str
    filename: str


@dataclass(frozen=True)
class IssuedDocument:
    document_id: str
    pdf: bytes
    sha256: str
    filename: str
    reference: str | None
    replayed: bool


def template_spec(name: str) -> TemplateSpec:
    spec = TEMPLATES.get(name)
    if spec is None:
        raise NotFound(f"no template named {name!r}")
    return spec


def verify_url(services: Services, document_id: str) -> str:
    """The public verification page of a document: what its QR code carries."""
    return f"{services.settings.public_base_url.rstrip('/')}/verify?d={document_id}"


def parse_data(template: str, data: Mapping[str, Any]) -> BaseModel:
    """The template's data validated, or `InvalidInput` listing every error."""
    model = DATA_MODELS[template]
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(
            f"the data does not fit the template {template!r}",
            errors=[
                {"loc": ["data", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors()
            ],
        ) from exc


def check_data(session: Session, model: BaseModel) -> None:
    """Checks of a template's data against the registry (a licence's holder)."""
    if isinstance(model, BusinessLicenceIn):
        check_holder(session, name=model.name, uscc=model.uscc)


def data_reference(spec: TemplateSpec, data: BaseModel) -> str | None:
    """The document's number straight from validated data (before it becomes a domain
    object)."""
    if spec.reference_label is None:
        return None
    value = getattr(data, spec.reference_label, None)
    return str(value).strip() if value is not None else None


def _guarantor(model: BidGuaranteeIn, org: Organization) -> Party:
    """The guarantor is the organization whose seal is applied; the data may only repeat it."""
    given = model.guarantor
    if given is None:
        return Party(name=org.name, uscc=org.uscc)
    if given.name != org.name or (given.uscc is not None and given.uscc.upper() != org.uscc):
        raise InvalidInput(
            "the guarantor must be the organization whose seal is applied "
            f"({org.name}, {org.uscc})",
            errors=[{"loc": ["data", "guarantor"], "msg": "not the sealing organization"}],
        )
    return given.to_domain()


def _domain(spec: TemplateSpec, model: BaseModel, org: Organization) -> object:
    if isinstance(model, BidGuaranteeIn):
        return model.to_domain(guarantor=_guarantor(model, org))
    if isinstance(model, EnforcementRecordIn):
        return model.to_domain(agency=org.name)  # the agency whose seal is applied
    if isinstance(model, SettlementFormIn):
        return model.to_domain(hospital=org.name)
    to_domain = getattr(model, "to_domain")  # noqa: B009 - every data model has one
    return to_domain()


def _document_id(principal: Principal, request: GenerationRequest) -> str:
    if request.document_id:
        return request.document_id
    if request.idempotency_key:
        seed = f"{principal.actor}\n{request.idempotency_key}".encode()
        return hashlib.sha256(seed).hexdigest()[:32]
    return new_id()


def _filename(spec: TemplateSpec, reference: str | None, document_id: str) -> str:
    label = re.sub(r"[^\w.-]+", "_", reference) if reference else document_id
    return f"{spec.title}-{label}.pdf"[:255]


def _number_holder(
    session: Session, *, organization_id: str, spec: TemplateSpec, reference: str
) -> str | None:
    return session.exec(
        select(GeneratedDocument.id).where(
            GeneratedDocument.organization_id == organization_id,
            GeneratedDocument.template == spec.name,
            GeneratedDocument.unique_reference == reference,
        )
    ).first()


def prepare(
    session: Session, services: Services, *, principal: Principal, request: GenerationRequest
) -> Prepared:
    spec = template_spec(request.template)
    model = parse_data(spec.name, request.data)
    require(principal, Scope.seals_use)
    check_data(session, model)
    seal = visible_seal(session, services, principal, request.seal_id)
    org = session.get(Organization, seal.organization_id)
    if org is None:
        raise NotFound(f"seal {request.seal_id} not found")
    data = _domain(spec, model, org)
    reference = data_reference(spec, model)
    document_id = _document_id(principal, request)
    if spec.unique_reference and reference is not None:
        holder = _number_holder(session, organization_id=org.id, spec=spec, reference=reference)
        if holder is not None and holder != document_id:
            raise DocumentNumberTaken(
                f"{spec.reference_label} {reference} was already issued by {org.name}",
                document_id=holder,
            )
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return Prepared(
        spec=spec,
        request=request,
        organization_id=org.id,
        data=data,
        data_sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        reference=reference,
        document_id=document_id,
        verify_url=verify_url(services, document_id),
        filename=_filename(spec, reference, document_id),
    )


def render(services: Services, prepared: Prepared) -> bytes:
    """The PDF, deterministic for the same data and document id (no database)."""
    ctx = RenderContext(
        font=document_font(services.settings.document_font),
        document_id=prepared.document_id,
        verify_url=prepared.verify_url,
    )
    return prepared.spec.render_checked(prepared.data, ctx)


def _seal_request(prepared: Prepared, pdf: bytes) -> sealing.SealRequest:
    spec, request = prepared.spec, prepared.request
    return sealing.SealRequest(
        seal_id=request.seal_id,
        pdf=pdf,
        filename=prepared.filename,
        placement=request.placement or spec.default_placement,
        level=request.level,
        document_type=spec.name,
        document_type_established=True,  # the service rendered it from its template
        pin=request.pin,
        certify=request.certify or spec.default_certify,
        reason=request.reason,
        location=request.location,
        idempotency_key=request.idempotency_key,
        document_id=prepared.document_id,
    )


@dataclass(frozen=True)
class Pending:
    """A rendered document, authorised and signed (or the earlier result of its
    Idempotency-Key), waiting to be recorded by `record`."""

    prepared: Prepared
    request: sealing.SealRequest
    signing: tuple[staged.Authorised, staged.Signed] | sealing.SealedDocument


def sign_prepared(
    services: Services,
    *,
    principal: Principal,
    prepared: Prepared,
    pdf: bytes,
    wait_seconds: float | None = None,
) -> Pending:
    """Authorise (reads), then sign in a seal worker with no transaction open."""
    request = _seal_request(prepared, pdf)
    with unit_of_work(reading(services.engine)) as session:
        earlier = staged.replayed(session, services, principal=principal, request=request)
        if earlier is not None:
            return Pending(prepared=prepared, request=request, signing=earlier)
        authorised = staged.authorise(session, services, principal=principal, request=request)
    signed = staged.sign(services, authorised, wait_seconds=wait_seconds)
    return Pending(prepared=prepared, request=request, signing=(authorised, signed))


def record(
    session: Session, services: Services, *, principal: Principal, pending: Pending
) -> IssuedDocument:
    """In the caller's short write transaction: the seal's use, the `GeneratedDocument` row
    (whose unique constraint settles races on a guarantee number) and its audit event."""
    prepared, request = pending.prepared, pending.prepared.request
    spec = prepared.spec
    if isinstance(pending.signing, sealing.SealedDocument):
        sealed = pending.signing
    else:
        authorised, signed = pending.signing
        sealed = staged.record(
            session,
            services,
            principal=principal,
            request=pending.request,
            authorised=authorised,
            signed=signed,
        )
    if not sealed.replayed:
        row = GeneratedDocument(
            id=sealed.document_id,
            organization_id=prepared.organization_id,
            template=spec.name,
            reference=prepared.reference,
            unique_reference=prepared.reference if spec.unique_reference else None,
            data_sha256=prepared.data_sha256,
            job_id=request.job_id,
            created_by=principal.actor,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError as exc:
            raise DocumentNumberTaken(
                f"{spec.reference_label} {prepared.reference} was already issued "
                "by this organization"
            ) from exc
        audit.record(
            session,
            actor=principal.actor,
            action="document.generate",
            target_type="document",
            target_id=sealed.document_id,
            organization_id=prepared.organization_id,
            details={
                "template": spec.name,
                "reference": prepared.reference,
                "seal_id": request.seal_id,
                "data_sha256": prepared.data_sha256,
                "signed_sha256": sealed.sha256,
                "job_id": request.job_id,
            },
        )
    return IssuedDocument(
        document_id=sealed.document_id,
        pdf=sealed.pdf,
        sha256=sealed.sha256,
        filename=prepared.filename,
        reference=prepared.reference,
        replayed=sealed.replayed,
    )


def sign_generated(
    services: Services, *, principal: Principal, request: GenerationRequest
) -> Pending:
    """Prepare (reads), render and sign (no transaction open): all but the recording."""
    with unit_of_work(reading(services.engine)) as session:
        prepared = prepare(session, services, principal=principal, request=request)
    return sign_prepared(
        services, principal=principal, prepared=prepared, pdf=render(services, prepared)
    )


def issue(
    session: Session, services: Services, *, principal: Principal, request: GenerationRequest
) -> IssuedDocument:
    """Prepare, render and sign through the staged path, then record in ``session`` (the
    HTTP path's unit of work, which must not have begun: nothing waits on a lock meanwhile)."""
    staged.outside_transaction(session)
    pending = sign_generated(services, principal=principal, request=request)
    return record(session, services, principal=principal, pending=pending)
