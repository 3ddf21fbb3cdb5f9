"""Finding seals: by id (within an organization), by code, by certificate; the read half of
`seals.registry.SealRegistry`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, col, or_, select

from pki.models import CertificateRecord
from seals.authorization import SealFacts
from seals.codes import validate_seal_code
from seals.errors import SealNotFoundError
from seals.kinds import SealKind
from seals.models import Seal

Clock = Callable[[], datetime]


class SealLookups:
    """Reads of seal rows; `SealRegistry` provides the clock."""

    clock: Clock

    def row(self, session: Session, seal_id: str, *, organization_id: str | None = None) -> Seal:
        """The seal row; `SealNotFoundError` when missing or (given `organization_id`) not
        that organization's."""
        seal = session.get(Seal, seal_id)
        if seal is None or (
            organization_id is not None and seal.organization_id != organization_id
        ):
            raise SealNotFoundError(f"seal {seal_id} not found")
        return seal

    def get(
        self, session: Session, seal_id: str, *, organization_id: str | None = None
    ) -> SealFacts:
        return SealFacts.of(
            self.row(session, seal_id, organization_id=organization_id), now=self.clock()
        )

    def image(self, session: Session, seal_id: str, *, organization_id: str | None = None) -> bytes:
        return self.row(session, seal_id, organization_id=organization_id).image_png

    def list_seals(
        self,
        session: Session,
        *,
        organization_id: str,
        kind: SealKind | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[SealFacts]:
        query = select(Seal).where(Seal.organization_id == organization_id)
        if kind is not None:
            query = query.where(Seal.kind == kind.value)
        rows = session.exec(
            query.order_by(col(Seal.created_at), col(Seal.id)).offset(offset).limit(limit)
        ).all()
        now = self.clock()
        return [SealFacts.of(s, now=now) for s in rows]

    def find_by_code(self, session: Session, code: str) -> SealFacts | None:
        """The seal with this code (`SealInputError` for a malformed or mistyped code)."""
        value = validate_seal_code(code)
        seal = session.exec(select(Seal).where(Seal.code == value)).first()
        return SealFacts.of(seal, now=self.clock()) if seal else None

    def find_by_certificate(
        self, session: Session, certificate: x509.Certificate | bytes
    ) -> SealFacts | None:
        """The seal whose certificate (main or SM2) this is (exact match by fingerprint, so a
        foreign certificate claiming one of our seal codes in its extension finds nothing)."""
        der = (
            certificate
            if isinstance(certificate, bytes)
            else certificate.public_bytes(Encoding.DER)
        )
        fingerprint = hashlib.sha256(der).hexdigest()
        seal = session.exec(
            select(Seal)
            .join(
                CertificateRecord,
                or_(
                    col(CertificateRecord.id) == col(Seal.certificate_id),
                    col(CertificateRecord.id) == col(Seal.sm2_certificate_id),
                ),
            )
            .where(CertificateRecord.fingerprint_sha256 == fingerprint)
        ).first()
        return SealFacts.of(seal, now=self.clock()) if seal else None
