"""Console pages for what used to be API-only: registering an enterprise (platform
administrators), generating documents from templates — one, or many as a bulk job whose
progress shows as a bar — and the webhook deliveries of the organization's envelopes."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from app import problem_texts
from app import sealing_staged as staged
from app.access import console_needs
from app.console import seal_choice
from app.console.web import CtxDep, check_csrf, console_router, failed, page
from app.errors import Forbidden, InvalidInput
from app.models_webhooks import WebhookDelivery
from app.security import Scope
from app.services import generation, jobs, registration
from app.services import seals as seal_service
from pki.keys import KeyAlgorithm
from seals.models_envelopes import Envelope
from seals.templates import TEMPLATES

router = console_router()

MAX_DATA_BYTES = 1024 * 1024
SAMPLES: dict[str, dict[str, Any]] = {
    "two-party-contract": {
        "title": "政府采购合同",
        "contract_number": "ZC-2026-0001",
        "party_a": {"name": "杭州市某采购中心"},
        "party_b": {"name": "杭州青禾科技有限公司"},
        "clauses": ["乙方按甲方要求提供运维服务。", "服务期限一年。"],
        "signed_on": "2026-04-01",
        "amount": "120000.00",
    },
    "bid-guarantee": {
        "guarantee_number": "BH-2026-0001",
        "applicant": {"name": "杭州青禾科技有限公司", "uscc": "91330106MA2B3C4D5D"},
        "beneficiary": {"name": "杭州市某建设管理中心", "uscc": "123301000024938516"},
        "project_name": "杭州市某道路改造工程施工",
        "amount": "500000.00",
        "issued_on": "2026-03-01",
        "valid_days": 90,
    },
    "business-licence": {
        "name": "杭州青禾科技有限公司",
        "uscc": "91330106MA2B3C4D5D",
        "entity_type": "有限责任公司",
        "legal_representative": "张伟",
        "address": "浙江省杭州市西湖区文三路100号",
        "business_scope": "技术服务、技术开发。",
        "registration_authority": "杭州市西湖区市场监督管理局",
        "established_on": "2026-03-01",
        "issued_on": "2026-03-01",
    },
}


def _usable_seals(ctx: CtxDep) -> list[Any]:
    seals = seal_service.list_seals(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        kind=None,
        offset=0,
        limit=200,
    )
    me = seal_service.caller_of(ctx.session, ctx.principal)
    return seal_choice.choices(ctx.session, me, seals).usable


# --- enterprise registration (platform) -------------------------------------------------------


@router.get("/enterprises/new", dependencies=console_needs(Scope.enterprises_register))
def enterprise_form(ctx: CtxDep) -> Response:
    if not ctx.can.platform:
        return failed(ctx, Forbidden("registering enterprises is for platform administrators"))
    return page(ctx, "enterprise_new.html")


@router.post("/enterprises", dependencies=console_needs(Scope.enterprises_register))
def register_enterprise(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    uscc: Annotated[str, Form(min_length=18, max_length=18)],
    legal_representative: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    done = registration.register_enterprise(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        name=name.strip(),
        uscc=uscc.strip().upper(),
        legal_representative=legal_representative.strip(),
        lifetime_days=None,
        key_algorithm=KeyAlgorithm.EC_P256,
    )
    return page(
        ctx, "enterprise_done.html", organization=done.organization,
        seals=done.seals,
    )  # fmt: skip


# --- templates: one document, or many as a bulk job -----------------------------------------


@router.get("/templates", dependencies=console_needs(Scope.seals_read, Scope.seals_use))
def templates_page(ctx: CtxDep, name: str = "two-party-contract") -> Response:
    chosen = name if name in TEMPLATES else "two-party-contract"
    return page(
        ctx,
        "templates.html",
        templates=list(TEMPLATES.values()),
        chosen=chosen,
        seals=_usable_seals(ctx) if ctx.can.sign else [],
        sample=json.dumps(SAMPLES.get(chosen, {}), ensure_ascii=False, indent=2),
        sample_many=json.dumps(
            [SAMPLES.get(chosen, {})] if chosen in SAMPLES else [], ensure_ascii=False, indent=2
        ),
    )


def _data(text: str) -> Any:
    if len(text.encode()) > MAX_DATA_BYTES:
        raise InvalidInput("the data is larger than 1 MiB")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the data is not valid JSON: {exc}") from exc


@router.post("/templates/generate", dependencies=console_needs(Scope.seals_use))
def generate(
    request: Request,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    template: Annotated[str, Form(max_length=40)],
    seal_id: Annotated[str, Form(max_length=32)],
    data: Annotated[str, Form(max_length=MAX_DATA_BYTES)],
) -> Response:
    """A JSON object makes one sealed document; a JSON array of objects starts a bulk job."""
    check_csrf(ctx.user, csrf_token)
    parsed = _data(data)
    if isinstance(parsed, list):
        if not parsed or not all(isinstance(r, dict) for r in parsed):
            raise InvalidInput("a bulk job's data is a non-empty array of objects")
        job, _ = jobs.create_job(
            ctx.session,
            ctx.services,
            principal=ctx.principal,
            new=jobs.NewJob(
                template=template,
                seal_id=seal_id,
                records=parsed,
                options=jobs.JobOptions(
                    placement=None, level="B-LT", certify=None, reason=None, location=None
                ),
            ),
            idempotency_key=None,
        )
        ctx.session.commit()
        worker = getattr(request.app.state, "job_worker", None)
        if worker is not None:
            worker.notify()
        return RedirectResponse(f"/console/jobs/{job.id}", status_code=303)
    if not isinstance(parsed, dict):
        raise InvalidInput("the data is a JSON object (one document) or array (many)")
    staged.release(ctx.session)
    issued = generation.issue(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        request=generation.GenerationRequest(template=template, data=parsed, seal_id=seal_id),
    )
    return RedirectResponse(f"/console/documents/{issued.document_id}", status_code=303)


@router.get("/jobs/{job_id}", dependencies=console_needs(Scope.seals_read, Scope.seals_use))
def job_page(job_id: str, ctx: CtxDep) -> Response:
    progress = jobs.progress(ctx.session, principal=ctx.principal, job_id=job_id)
    records = jobs.records(
        ctx.session, principal=ctx.principal, job_id=job_id, status=None, offset=0, limit=200
    )
    counts = {status.value: n for status, n in progress.counts.items()}
    lang: problem_texts.Lang = "en" if ctx.lang == "en" else "zh-CN"
    problems = {}
    for record in records:
        if record.problem:
            said = json.loads(record.problem)
            code = str(said.get("type", "")).removeprefix("urn:eseal:problem:")
            problems[record.position] = problem_texts.localise(
                code, int(said.get("status", 422)), lang
            ).detail
    finished = counts.get("done", 0) + counts.get("failed", 0)
    return page(
        ctx,
        "job.html",
        job=progress.job,
        job_status=progress.status,
        counts=counts,
        finished=finished,
        records=records,
        problems=problems,
    )


# --- webhooks ---------------------------------------------------------------------------------


@router.get("/webhooks", dependencies=console_needs(Scope.envelopes_read, Scope.envelopes_write))
def webhooks_page(ctx: CtxDep) -> Response:
    """The latest webhook deliveries of this organization's envelopes and their outcome."""
    if not ctx.can.envelopes:
        return failed(ctx, Forbidden("reading envelopes needs the scope 'envelopes:read'"))
    rows = ctx.session.exec(
        select(WebhookDelivery, Envelope)
        .join(Envelope, col(Envelope.id) == col(WebhookDelivery.envelope_id))
        .where(Envelope.organization_id == ctx.org_id)
        .order_by(col(WebhookDelivery.created_at).desc())
        .limit(100)
    ).all()
    return page(ctx, "webhooks.html", deliveries=rows)
