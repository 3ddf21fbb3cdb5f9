"""Recognised foreign CAs (mutual recognition between provinces), managed by platform admins,
and the trust store that verification uses: our root plus those anchors."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, col, select

from app.errors import Conflict, InvalidInput, NotFound
from app.security import Principal, Scope
from app.services import audit
from app.services.tenancy import require
from app.wiring import Services
from pki.models import CaRecord, TrustAnchorRecord
from pki.profiles import CaName
from pki.trust import NetworkFetching, TrustStore


def parse_ca_certificate(data: bytes) -> x509.Certificate:
    """A CA certificate, or a self-signed end-entity certificate to pin as a signer, from PEM
    or DER; anything else is refused with a reason."""
    try:
        cert = (
            x509.load_pem_x509_certificate(data)
            if data.lstrip().startswith(b"-----BEGIN")
            else x509.load_der_x509_certificate(data)
        )
    except ValueError as exc:
        raise InvalidInput("not an X.509 certificate (PEM or DER)") from exc
    if anchor_kind(cert) == "ca":
        return cert
    if not _self_signed(cert):
        raise InvalidInput(
            "the certificate is neither a CA certificate (basicConstraints cA=true) nor a "
            "self-signed signer certificate"
        )
    return cert


def anchor_kind(cert: x509.Certificate | bytes) -> str:
    """ "ca" for a CA certificate, "pinned_signer" for a (self-signed) end-entity certificate
    trusted directly; derived from the certificate, so nothing extra is stored."""
    if isinstance(cert, bytes):
        cert = x509.load_der_x509_certificate(cert)
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return "pinned_signer"
    return "ca" if constraints.ca else "pinned_signer"


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def add_anchor(
    session: Session, *, principal: Principal, label: str, certificate: bytes
) -> TrustAnchorRecord:
    require(principal, Scope.platform)
    cert = parse_ca_certificate(certificate)
    der = cert.public_bytes(Encoding.DER)
    fingerprint = hashlib.sha256(der).hexdigest()
    if session.exec(
        select(TrustAnchorRecord.id).where(TrustAnchorRecord.fingerprint_sha256 == fingerprint)
    ).first():
        raise Conflict("this CA is already a recognised trust anchor")
    record = TrustAnchorRecord(
        label=label,
        subject=cert.subject.rfc4514_string(),
        fingerprint_sha256=fingerprint,
        der=der,
        not_after=cert.not_valid_after_utc,
        added_by=principal.actor,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="trust_anchor.add",
        target_type="trust_anchor",
        target_id=record.id,
        details={"label": label, "subject": record.subject, "sha256": fingerprint},
    )
    return record


def list_anchors(session: Session) -> list[TrustAnchorRecord]:
    return list(
        session.exec(select(TrustAnchorRecord).order_by(col(TrustAnchorRecord.created_at))).all()
    )


def remove_anchor(session: Session, *, principal: Principal, anchor_id: str) -> None:
    require(principal, Scope.platform)
    record = session.get(TrustAnchorRecord, anchor_id)
    if record is None:
        raise NotFound(f"trust anchor {anchor_id} not found")
    session.delete(record)
    audit.record(
        session,
        actor=principal.actor,
        action="trust_anchor.remove",
        target_type="trust_anchor",
        target_id=anchor_id,
        details={"label": record.label, "sha256": record.fingerprint_sha256},
    )


def _present(session: Session, services: Services, *names: str) -> list[x509.Certificate]:
    """The certificates of those CAs that exist (the SM2 hierarchy is optional)."""
    return [
        services.authority.ca_certificate(session, name)
        for name in names
        if session.get(CaRecord, name) is not None
    ]


def trust_store(session: Session, services: Services) -> TrustStore:
    """Our roots (and the SM2 root beside the main one, when present), our issuing CAs as
    intermediates, and every recognised foreign CA."""
    authority = services.authority
    return TrustStore(
        own_roots=[
            authority.ca_certificate(session, CaName.ROOT),
            *_present(session, services, CaName.SM2_ROOT),
        ],
        recognised=[x509.load_der_x509_certificate(r.der) for r in list_anchors(session)],
        intermediates=[
            authority.ca_certificate(session, CaName.ORGANIZATION),
            authority.ca_certificate(session, CaName.PERSONAL),
            *_present(session, services, CaName.SM2_ORGANIZATION, CaName.SM2_PERSONAL),
        ],
        network=NetworkFetching(
            enabled=services.settings.verify_network_fetching,
            timeout_seconds=services.settings.verify_network_timeout_seconds,
            allowed_hosts=frozenset(services.settings.outbound_allowed_hosts),
        ),
    )
