"""The approvals inbox (用印审批): pending requests with the document's first page, approve or
reject with a comment; and the signed-in user's own requests."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form, Query
from fastapi.responses import RedirectResponse, Response

from app.access import console_needs
from app.console import queries
from app.console.web import CtxDep, check_csrf, console_router, page, pager
from app.security import Scope
from app.services import seals as seal_service
from app.services import usage_requests
from seals.authorization import ApprovalStatus, Caller, CallerKind

router = console_router(prefix="/approvals")

SIZE = 20


@router.get("", dependencies=console_needs(Scope.approvals_write, Scope.seals_use))
def inbox(ctx: CtxDep, page_number: Annotated[int, Query(alias="page", ge=1)] = 1) -> Response:
    me = seal_service.caller_of(ctx.session, ctx.principal)
    pending: list = []
    pages = None
    if ctx.can.approve:
        rows = usage_requests.list_usage_requests(
            ctx.session,
            ctx.services,
            principal=ctx.principal,
            organization_id=ctx.org_id,
            statuses=[ApprovalStatus.PENDING],
            offset=(page_number - 1) * SIZE,
            limit=SIZE + 1,
        )
        pending, pages = pager(page_number, rows, SIZE)
    mine = [
        r
        for r in queries.my_requests(
            ctx.session,
            principal=ctx.principal,
            organization_id=ctx.org_id,
            me=me,
            offset=0,
            limit=SIZE,
        )
    ]
    seal_ids = {r.seal_id for r in pending} | {r.seal_id for r in mine}
    seals = queries.seals_by_id(
        ctx.session, principal=ctx.principal, organization_id=ctx.org_id, ids=seal_ids
    )
    documents = queries.documents_by_sha(
        ctx.session,
        organization_id=ctx.org_id,
        digests={r.document_sha256 for r in pending} | {r.document_sha256 for r in mine},
    )
    names = queries.names_of(ctx.session, {r.requester for r in pending})
    return page(
        ctx,
        "approvals.html",
        pending=pending,
        pager=pages,
        mine=mine,
        seals=seals,
        documents=documents,
        names=names,
        me=me,
        caller=lambda kind, ident: Caller(CallerKind(kind), ident),
    )


@router.post("/{request_id}/decide", dependencies=console_needs(Scope.approvals_write))
def decide(
    request_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    decision: Annotated[Literal["approve", "reject"], Form()],
    note: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    usage_requests.decide_usage_request(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        request_id=request_id,
        approve=decision == "approve",
        note=(note or "").strip() or None,
    )
    return RedirectResponse("/console/approvals", status_code=303)
