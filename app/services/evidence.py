"""Evidence packages (存证) for a sealed document or a completed envelope: gather what
`seals.evidence` lays out — the final PDF, its verification report (JSON and PDF), every
audit event about it with its inclusion path into a fresh checkpoint, the certificates,
CRLs and OCSP responses the verification used — and time-stamp the manifest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from app import sealing
from app.errors import Conflict
from app.models import AuditEvent
from app.models_policy import AuditCheckpoint
from app.security import Principal
from app.services import audit, checkpoints, envelopes
from app.services.trust_anchors import trust_store
from app.verification.report_pdf import render_report_pdf
from app.verification.verify import seal_info
from app.wiring import Services
from pki.publication import OCSP_RESPONDERS
from pki.timestamp_tokens import stamp
from seals import evidence
from seals.envelopes import EnvelopeStatus, effective_status, revisions
from seals.reports import SealInfo, VerificationReport


@dataclass(frozen=True)
class Package:
    filename: str
    data: bytes
    sha256: str


@dataclass
class _Used:
    """What verification asked our CA for, kept for the package."""

    certificates: dict[str, bytes]
    crls: dict[str, bytes]
    ocsp: dict[str, bytes]

    def add_certificate(self, certificate: x509.Certificate) -> None:
        der = certificate.public_bytes(Encoding.DER)
        self.certificates[hashlib.sha256(der).hexdigest()[:16]] = der

    def add_revocation(self, der: bytes) -> None:
        name = hashlib.sha256(der).hexdigest()[:16]
        try:
            x509.load_der_x509_crl(der)
        except ValueError:
            self.ocsp[name] = der
        else:
            self.crls[name] = der


def _verify(session: Session, services: Services, pdf: bytes, used: _Used) -> VerificationReport:
    from seals.verification import verify_pdf  # pyhanko's validation stack: on first use

    publisher = services.publisher

    def revocation(issuer: x509.Certificate, certificate: x509.Certificate) -> bytes | None:
        found = publisher.revocation_for(session, issuer=issuer, certificate=certificate)
        if found is not None:
            used.add_revocation(found)
            used.add_certificate(certificate)
        return found

    def lookup(certificate: x509.Certificate) -> SealInfo | None:
        used.add_certificate(certificate)
        return seal_info(session, services, certificate)

    return verify_pdf(
        pdf=pdf,
        trust=trust_store(session, services),
        now=datetime.now(UTC),
        seal_lookup=lookup,
        revocation_lookup=revocation,
        max_seconds=services.settings.verify_max_seconds,
    )


def _events(session: Session, subject_ids: Iterable[str]) -> list[AuditEvent]:
    """Events whose target is the subject or whose details name it."""
    clauses: list[ColumnElement[bool]] = []
    for subject in subject_ids:
        clauses += [col(AuditEvent.target_id) == subject, col(AuditEvent.details).contains(subject)]
    return list(session.exec(select(AuditEvent).where(or_(*clauses)).order_by(col(AuditEvent.seq))))


def _event_json(event: AuditEvent, path: list[str]) -> dict[str, object]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor,
        "organization_id": event.organization_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "inclusion_path": path,
    }


def _checkpoint_json(checkpoint: AuditCheckpoint) -> dict[str, object]:
    return {
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "merkle_root": checkpoint.merkle_root,
        "created_at": checkpoint.created_at.isoformat(),
        "tree": "RFC 9162 Merkle tree over the event hashes 1..seq (leaf = 32-byte hash)",
    }


def build(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    subject: dict[str, str],
    subject_ids: list[str],
    pdf: bytes,
) -> Package:
    """The package for one PDF; a fresh checkpoint covers every event about it."""
    used = _Used(certificates={}, crls={}, ocsp={})
    report = _verify(session, services, pdf, used)
    for ca in services.publisher.crl_issuers(session):  # no SM2 CAs when SM2 is off
        used.add_certificate(services.authority.ca_certificate(session, ca))
        used.add_revocation(services.publisher.current_crl(session, ca))
    for responder in OCSP_RESPONDERS.values():
        used.add_certificate(services.authority.ca_certificate(session, responder))
    used.add_certificate(services.authority.ca_certificate(session, "tsa"))
    checkpoint = checkpoints.create(session, services, actor=principal.actor)
    events = _events(session, subject_ids)
    paths = checkpoints.inclusion_paths(session, checkpoint, [e.seq for e in events])
    root = services.authority.ca_certificate(session, "root").public_bytes(Encoding.DER)
    members: dict[str, bytes] = {
        evidence.DOCUMENT: pdf,
        evidence.REPORT_JSON: evidence.canonical_json(report.to_json()),
        evidence.REPORT_PDF: render_report_pdf(services, report),
        evidence.EVENTS: evidence.canonical_json(
            [_event_json(e, paths[e.seq]) for e in events if e.seq in paths]
        ),
        evidence.CHECKPOINT: evidence.canonical_json(_checkpoint_json(checkpoint)),
        evidence.CHECKPOINT_STAMP: checkpoint.timestamp_token,
        evidence.ROOT: root,
    }
    members.update({f"pki/certs/{n}.crt": d for n, d in used.certificates.items()})
    members.update({f"pki/crls/{n}.crl": d for n, d in used.crls.items()})
    members.update({f"pki/ocsp/{n}.ocsp": d for n, d in used.ocsp.items()})
    config = services.publisher.tsa_config(session)
    now = services.authority.clock()
    data = evidence.build_package(
        subject=subject,
        members=members,
        created_at=now,
        stamp=lambda manifest: stamp(manifest, config=config, now=now),
    )
    digest = hashlib.sha256(data).hexdigest()
    audit.record(
        session,
        actor=principal.actor,
        action="evidence.export",
        target_type=subject["type"],
        target_id=subject["id"],
        organization_id=principal.organization_id,
        details={"package_sha256": digest, "checkpoint_seq": checkpoint.seq},
    )
    return Package(
        filename=f"evidence-{subject['type']}-{subject['id']}.zip", data=data, sha256=digest
    )


def for_document(
    session: Session, services: Services, *, principal: Principal, document_id: str
) -> Package:
    document, pdf = sealing.visible_document(
        session, services, principal=principal, document_id=document_id
    )
    subject = {
        "type": "document",
        "id": document.id,
        "filename": document.filename,
        "sha256": document.sha256,
    }
    return build(
        session, services, principal=principal, subject=subject, subject_ids=[document.id], pdf=pdf
    )


def for_envelope(
    session: Session, services: Services, *, principal: Principal, envelope_id: str
) -> Package:
    envelope, revision, pdf = envelopes.revision_pdf(
        session, services, principal=principal, envelope_id=envelope_id, number=None
    )
    if effective_status(envelope, services.authority.clock()) != EnvelopeStatus.COMPLETED:
        raise Conflict("an envelope has evidence once it is completed")
    subject = {
        "type": "envelope",
        "id": envelope.id,
        "title": envelope.title,
        "sha256": revision.sha256,
    }
    documents = [r.document_id for r in revisions(session, envelope.id)]
    return build(
        session,
        services,
        principal=principal,
        subject=subject,
        subject_ids=[envelope.id, *documents],
        pdf=pdf,
    )
