"""Invitations to join another organization: listed for the signed-in person, who accepts or
declines them with their own session (the only way a membership elsewhere becomes active)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.responses import RedirectResponse, Response

from app.access import signed_in
from app.console.web import CtxDep, check_csrf, console_router, page
from app.services.invitations import answer_invitation, pending_invitations

router = console_router(prefix="/invitations")


@router.get("", dependencies=signed_in("the signed-in person's own invitations"))
def invitations(ctx: CtxDep) -> Response:
    return page(
        ctx, "invitations.html", invitations=pending_invitations(ctx.session, ctx.user.account)
    )


def _answer(ctx: CtxDep, organization_id: str, csrf_token: str, *, accept: bool) -> Response:
    check_csrf(ctx.user, csrf_token)
    answer_invitation(ctx.session, ctx.user.account, organization_id, accept=accept)
    return RedirectResponse("/console/invitations", status_code=303)


@router.post(
    "/{organization_id}/accept", dependencies=signed_in("the signed-in person's own invitations")
)
def accept(
    organization_id: str, ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    return _answer(ctx, organization_id, csrf_token, accept=True)


@router.post(
    "/{organization_id}/decline", dependencies=signed_in("the signed-in person's own invitations")
)
def decline(
    organization_id: str, ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    return _answer(ctx, organization_id, csrf_token, accept=False)
