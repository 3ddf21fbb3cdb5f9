"""Certificates: list with status and expiry, issue, download, revoke after a confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import Form, Query
from fastapi.responses import RedirectResponse, Response

from app.access import console_needs
from app.console.web import CtxDep, check_csrf, console_router, failed, page, pager
from app.downloads import attachment
from app.security import Scope
from app.services import certificates, tenancy
from pki.keys import KeyAlgorithm

router = console_router(prefix="/certificates")

EXPIRING_DAYS = 30
REVOCATION_REASONS = (
    x509.ReasonFlags.unspecified,
    x509.ReasonFlags.key_compromise,
    x509.ReasonFlags.affiliation_changed,
    x509.ReasonFlags.superseded,
    x509.ReasonFlags.cessation_of_operation,
)


@router.get("", dependencies=console_needs(Scope.certificates_read))
def list_certificates(
    ctx: CtxDep, page_number: Annotated[int, Query(alias="page", ge=1)] = 1
) -> Response:
    size = 25
    rows = certificates.list_certificates(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        offset=(page_number - 1) * size,
        limit=size + 1,
    )
    shown, pages = pager(page_number, rows, size)
    soon = datetime.now(UTC) + timedelta(days=EXPIRING_DAYS)
    holders = (
        [
            m
            for m in tenancy.list_members(
                ctx.session, principal=ctx.principal, organization_id=ctx.org_id
            )
            if m.person.resident_id
        ]
        if ctx.can.certificates_write
        else []
    )
    return page(
        ctx,
        "certificates.html",
        certificates=shown,
        pager=pages,
        soon=soon,
        holders=holders,
        serial=lambda c: format(c.serial_number, "x"),
    )


@router.post("/issue", dependencies=console_needs(Scope.certificates_write))
def issue(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    lifetime_days: Annotated[int | None, Form(ge=1, le=3650)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    certificates.issue_enterprise(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        csr_pem=None,
        key_algorithm=KeyAlgorithm.EC_P256,
        lifetime_days=lifetime_days,
    )
    return RedirectResponse("/console/certificates", status_code=303)


@router.post("/issue-personal", dependencies=console_needs(Scope.certificates_write))
def issue_personal(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    person_id: Annotated[str, Form(max_length=32)],
    lifetime_days: Annotated[int | None, Form(ge=1, le=3650)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    certificates.issue_personal(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        person_id=person_id,
        csr_pem=None,
        key_algorithm=KeyAlgorithm.EC_P256,
        lifetime_days=lifetime_days,
    )
    return RedirectResponse("/console/certificates", status_code=303)


@router.get("/{certificate_id}/download", dependencies=console_needs(Scope.certificates_read))
def download(
    certificate_id: str, ctx: CtxDep, format: Literal["pem", "der", "chain"] = "pem"
) -> Response:
    issued = certificates.visible_certificate(
        ctx.session, ctx.services, ctx.principal, certificate_id
    )
    name = format_serial(issued.serial_number)
    if format == "der":
        return Response(
            issued.der,
            media_type="application/pkix-cert",
            headers=attachment(f"{name}.cer"),
        )
    if format == "chain":
        chain = ctx.services.authority.chain(ctx.session, certificate_id)
        body = b"".join(c.public_bytes(Encoding.PEM) for c in chain)
        filename = f"{name}-chain.pem"
    else:
        body, filename = issued.pem, f"{name}.pem"
    return Response(
        body,
        media_type="application/x-pem-file",
        headers=attachment(filename),
    )


def format_serial(serial: int) -> str:
    return format(serial, "x")


@router.get("/{certificate_id}/revoke", dependencies=console_needs(Scope.certificates_write))
def confirm_revoke(certificate_id: str, ctx: CtxDep) -> Response:
    """The confirmation step: what will happen, and a reason to choose."""
    issued = certificates.visible_certificate(
        ctx.session, ctx.services, ctx.principal, certificate_id
    )
    return page(
        ctx,
        "certificate_revoke.html",
        certificate=issued,
        serial=format_serial(issued.serial_number),
        reasons=REVOCATION_REASONS,
    )


@router.post("/{certificate_id}/revoke", dependencies=console_needs(Scope.certificates_write))
def revoke(
    certificate_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=40)],
    confirm: Annotated[str, Form(max_length=10)],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    try:
        flag = x509.ReasonFlags(reason)
        if flag not in REVOCATION_REASONS or confirm != "yes":
            raise ValueError(reason)
    except ValueError:
        from app.errors import InvalidInput

        return failed(ctx, InvalidInput("choose a revocation reason and confirm"))
    certificates.revoke(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        certificate_id=certificate_id,
        reason=flag,
    )
    return RedirectResponse("/console/certificates", status_code=303)
