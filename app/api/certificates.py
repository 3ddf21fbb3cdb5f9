"""Enterprise and personal certificates: issue, list, download, renew, revoke."""

from __future__ import annotations

from typing import Annotated, Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Query, Response, status

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.downloads import attachment
from app.schemas.certificates import (
    CertificateCreate,
    CertificatePublic,
    CertificateRenew,
    CertificateRevoke,
)
from app.security import Scope
from app.services import certificates
from pki.authority import IssuedCertificate

router = APIRouter(prefix="/api/v1", tags=["certificates"])


def _public(issued: IssuedCertificate) -> CertificatePublic:
    return CertificatePublic(
        id=issued.certificate_id,
        serial_number=format(issued.serial_number, "x"),
        subject=issued.subject,
        issuer=issued.issuer_ca,
        profile=issued.profile,
        not_before=issued.not_before,
        not_after=issued.not_after,
        status=issued.status,
        revoked_at=issued.revoked_at,
        revocation_reason=issued.revocation_reason.value if issued.revocation_reason else None,
        key="service-held" if issued.key_id else "holder",
        organization_id=issued.owner_org_id,
        person_id=issued.owner_person_id,
        replaced_by=issued.replaced_by,
        fingerprint_sha256=issued.fingerprint_sha256,
        pem=issued.pem.decode(),
    )


def _csr(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


@router.post(
    "/organizations/{organization_id}/certificates",
    dependencies=needs(Scope.certificates_write),
    status_code=status.HTTP_201_CREATED,
)
def issue_enterprise_certificate(
    organization_id: str,
    body: CertificateCreate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> CertificatePublic:
    """An enterprise certificate for the organization's verified name and credit code."""
    issued = certificates.issue_enterprise(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        csr_pem=_csr(body.csr_pem),
        key_algorithm=body.key_algorithm,
        lifetime_days=body.lifetime_days,
    )
    return _public(issued)


@router.post(
    "/organizations/{organization_id}/members/{person_id}/certificates",
    dependencies=needs(Scope.certificates_write),
    status_code=status.HTTP_201_CREATED,
)
def issue_personal_certificate(
    organization_id: str,
    person_id: str,
    body: CertificateCreate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> CertificatePublic:
    """A personal certificate for a member's verified name and resident ID number."""
    issued = certificates.issue_personal(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        person_id=person_id,
        csr_pem=_csr(body.csr_pem),
        key_algorithm=body.key_algorithm,
        lifetime_days=body.lifetime_days,
    )
    return _public(issued)


@router.get(
    "/organizations/{organization_id}/certificates", dependencies=needs(Scope.certificates_read)
)
def list_certificates(
    organization_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CertificatePublic]:
    found = certificates.list_certificates(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        offset=offset,
        limit=limit,
    )
    return [_public(c) for c in found]


@router.get("/certificates/{certificate_id}", dependencies=needs(Scope.certificates_read))
def get_certificate(
    certificate_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> CertificatePublic:
    return _public(certificates.visible_certificate(session, services, principal, certificate_id))


@router.get(
    "/certificates/{certificate_id}/download",
    dependencies=needs(Scope.certificates_read),
    response_class=Response,
)
def download_certificate(
    certificate_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    format: Literal["pem", "der", "chain"] = "pem",
) -> Response:
    """PEM, DER, or the full chain (leaf to root) as concatenated PEM."""
    issued = certificates.visible_certificate(session, services, principal, certificate_id)
    name = f"{format_serial(issued.certificate)}"
    if format == "der":
        return Response(
            issued.der,
            media_type="application/pkix-cert",
            headers=attachment(f"{name}.cer"),
        )
    if format == "chain":
        chain = services.authority.chain(session, certificate_id)
        body = b"".join(c.public_bytes(Encoding.PEM) for c in chain)
        filename = f"{name}-chain.pem"
    else:
        body, filename = issued.pem, f"{name}.pem"
    return Response(
        body,
        media_type="application/x-pem-file",
        headers=attachment(filename),
    )


def format_serial(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "x")


@router.post("/certificates/{certificate_id}/revoke", dependencies=needs(Scope.certificates_write))
def revoke_certificate(
    certificate_id: str,
    body: CertificateRevoke,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> CertificatePublic:
    """Revoke now: OCSP and the CRL say so from this response on."""
    issued = certificates.revoke(
        session,
        services,
        principal=principal,
        certificate_id=certificate_id,
        reason=x509.ReasonFlags(body.reason.value),
    )
    return _public(issued)


@router.post(
    "/certificates/{certificate_id}/renew",
    dependencies=needs(Scope.certificates_write),
    status_code=status.HTTP_201_CREATED,
)
def renew_certificate(
    certificate_id: str,
    body: CertificateRenew,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> CertificatePublic:
    """A new certificate (new key) for the same identity; the old one is marked replaced."""
    issued = certificates.renew(
        session,
        services,
        principal=principal,
        certificate_id=certificate_id,
        csr_pem=_csr(body.csr_pem),
    )
    return _public(issued)
