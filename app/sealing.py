"""What every signing path shares: the request and result of applying a seal, the signer,
time-stamper and validation data from our own CA, the idempotency claim and replay, and
`keep_sealed`, the one ending (store, spend, audit). The path itself, in three stages with
the signature outside any transaction, is `app.sealing_staged`."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PIL import Image
from sqlmodel import Session, col, select

from app.errors import Forbidden, NotFound
from app.models import IdempotencyRecord, StoredDocument, UserAccount, new_id
from app.security import Principal, Scope
from app.services import idempotency
from app.services.seals import record_use
from app.wiring import Services
from pki.models import CertificateRecord, CertificateStatus
from pki.profiles import CaName
from pki.sm2_ca import is_sm2_ca
from seals.authorization import SealUse
from seals.errors import CertificateInvalidError, UnsupportedFormatError
from seals.kinds import SealKind, kind_spec
from seals.models import Seal, SealGrant, SealUsage
from seals.placement import InvisiblePlacement, Placement
from seals.signing import (
    DocMdpPermission,
    PadesLevel,
    SealAppearance,
    SealingSpec,
    SignatureFormat,
    SignedPdf,
    SigningIdentity,
    ValidationMaterial,
)

if TYPE_CHECKING:
    from pki.timestamper import InProcessTimeStamper


def signing_identity(
    session: Session,
    services: Services,
    *,
    certificate_id: str,
    key_id: str,
    eseal: bytes | None = None,
) -> SigningIdentity:
    """The seal's certificate, its issuing chain and the key store's signer for its key (and,
    for the gbt38540 format, the seal's GB/T 38540 seal data)."""
    chain = services.authority.chain(session, certificate_id)
    return SigningIdentity(
        certificate=chain[0],
        chain=tuple(chain[1:]),
        signer=services.keystore.signer(session, key_id),
        eseal=eseal,
    )


SM2_FORMATS = frozenset({SignatureFormat.SM2_CMS, SignatureFormat.GBT38540})


def certificate_for(session: Session, use: SealUse, fmt: SignatureFormat) -> tuple[str, str]:
    """(certificate id, key id) the format signs with: the seal's SM2 certificate for the SM2
    formats (unsupported-signature-format when it has none; seal-certificate-invalid when it
    is revoked or out of its validity: the use policies judged the main one), else the main."""
    if fmt not in SM2_FORMATS:
        return use.certificate_id, use.key_id
    seal = use.seal
    if seal.sm2_certificate_id is None or seal.sm2_key_id is None:
        raise UnsupportedFormatError(
            f"The {fmt.value} format needs an SM2 certificate; this seal has none.",
            format=fmt.value,
        )
    record = session.get(CertificateRecord, seal.sm2_certificate_id)
    now = datetime.now(UTC)
    if (
        record is None
        or record.status == CertificateStatus.REVOKED.value
        or not record.not_before <= now < record.not_after
    ):
        raise CertificateInvalidError(
            f"the SM2 certificate of seal {seal.code} is revoked or outside its validity"
        )
    return seal.sm2_certificate_id, seal.sm2_key_id


def timestamper(session: Session, services: Services, *, sm2: bool = False) -> InProcessTimeStamper:
    """Our TSA in process (`sm2`: the SM2 TSA, for the SM2 formats)."""
    from pki.timestamper import InProcessTimeStamper  # pyhanko: only when sealing

    return InProcessTimeStamper(
        config=services.publisher.tsa_config(session, sm2=sm2), clock=services.authority.clock
    )


def validation_material(
    session: Session,
    services: Services,
    *,
    identity: SigningIdentity,
    issuer_ca: str,
    epoch: int | None = None,
) -> ValidationMaterial:
    """OCSP for the seal's certificate and the root CRL, from our own CA without HTTP.
    `epoch`: the status epoch read before `session` began (the OCSP answer may be kept)."""
    data = services.publisher.revocation_data(
        session, certificate=identity.certificate, issuer_ca=issuer_ca, epoch=epoch
    )
    root = CaName.SM2_ROOT if is_sm2_ca(issuer_ca) else CaName.ROOT
    return ValidationMaterial(
        trust_roots=(services.authority.ca_certificate(session, root),),
        certificates=data.certificates,
        ocsp_responses=data.ocsp_responses,
        crls=data.crls,
    )


@dataclass(frozen=True)
class SealRequest:
    """One seal to apply to one PDF, as the caller asked for it."""

    seal_id: str
    pdf: bytes
    filename: str
    placement: Placement
    level: PadesLevel
    document_type: str | None = None
    pin: str | None = None
    certify: DocMdpPermission | None = None
    reason: str | None = None
    location: str | None = None
    idempotency_key: str | None = None
    document_id: str | None = None
    """The id to store the sealed document under, when the caller chose it before rendering
    (generated documents print their own verification link); default: a new id."""
    document_type_established: bool = False
    """True when the service knows the type (templates, envelopes); else it is 'declared'."""
    format: SignatureFormat = SignatureFormat.PADES
    """The signature format; `seals.signing.sign_document` picks its module."""

    def spec(self, appearance: SealAppearance | None, *, vri: bool) -> SealingSpec:
        """The format-independent description of this seal for `seals.signing`."""
        return SealingSpec(
            placement=self.placement,
            level=self.level,
            appearance=None if isinstance(self.placement, InvisiblePlacement) else appearance,
            certify=self.certify,
            reason=self.reason,
            location=self.location,
            vri=vri,
            format=self.format,
        )

    def fingerprint(self) -> str:
        """What makes two requests 'the same' for an Idempotency-Key (the PIN is not part)."""
        summary = json.dumps(
            {
                "seal": self.seal_id,
                "pdf": hashlib.sha256(self.pdf).hexdigest(),
                "placement": repr(self.placement),
                "level": self.level.value,
                "format": self.format.value,
                "type": self.document_type,
                "certify": self.certify.value if self.certify else None,
                "reason": self.reason,
                "location": self.location,
            },
            sort_keys=True,
        )
        return hashlib.sha256(summary.encode()).hexdigest()


@dataclass(frozen=True)
class SealedDocument:
    document_id: str
    pdf: bytes
    sha256: str
    field_name: str | None
    replayed: bool


def seal_appearance(seal: Seal) -> SealAppearance:
    """The seal image at its physical size: from its dpi when rendered, else (an uploaded
    signature) at the kind's height with the image's own aspect ratio."""
    with Image.open(io.BytesIO(seal.image_png)) as image:
        width_px, height_px = image.size
    if seal.image_dpi:
        return SealAppearance(
            image=seal.image_png,
            width_mm=width_px / seal.image_dpi * 25.4,
            height_mm=height_px / seal.image_dpi * 25.4,
        )
    height_mm = kind_spec(SealKind(seal.kind)).height_mm
    return SealAppearance(
        image=seal.image_png, width_mm=height_mm * width_px / height_px, height_mm=height_mm
    )


def replay(
    session: Session, services: Services, record: IdempotencyRecord, fingerprint: str
) -> SealedDocument:
    """The first result again, or a conflict when the key was used for another request."""
    document = session.get(StoredDocument, idempotency.first_document(record, fingerprint))
    assert document is not None
    return SealedDocument(
        document_id=document.id,
        pdf=services.blobs.get(document.sha256),
        sha256=document.sha256,
        field_name=None,
        replayed=True,
    )


def store_document(
    session: Session,
    *,
    principal: Principal,
    request: SealRequest,
    use: SealUse,
    signed: SignedPdf,
    stored_sha256: str,
) -> str:
    """The signed document's row (its bytes are already in the blob store), one Core insert
    on the session's connection: the id it was stored under."""
    document_id = request.document_id or new_id()
    session.flush()  # the caller's pending rows first
    session.connection().execute(
        _STORE,
        {
            "id": document_id,
            "organization_id": use.seal.organization_id,
            "sha256": stored_sha256,
            "size": len(signed.pdf),
            "filename": request.filename[:255] or "document.pdf",
            "source_sha256": use.document_sha256,
            "created_by": principal.actor,
            "created_at": datetime.now(UTC),
        },
    )
    return document_id


def unstore_document(session: Session, document_id: str) -> None:
    """Take back the row `store_document` wrote in this transaction (its Idempotency-Key
    turned out to be another request's)."""
    session.connection().execute(_DOCUMENTS.delete().where(_DOCUMENTS.c.id == document_id))


_DOCUMENTS = StoredDocument.__table__  # type: ignore[attr-defined]
_STORE = _DOCUMENTS.insert()


def keep_sealed(
    session: Session,
    *,
    principal: Principal,
    request: SealRequest,
    use: SealUse,
    signed: SignedPdf,
    document_id: str,
    division: str | None = None,
) -> SealedDocument:
    """Spend the use for the stored document `document_id`, with its statistics and audit
    event: the one ending of every signing path. `division`: the organization's statistics
    division when the authorising read has it."""
    record_use(
        session,
        principal=principal,
        use=use,
        details={
            "document_id": document_id,
            "signed_sha256": signed.sha256,
            "level": request.level.value,
            "field": signed.field_name,
            "certify": request.certify.value if request.certify else None,
        },
        division=division,
    )
    return SealedDocument(
        document_id=document_id,
        pdf=signed.pdf,
        sha256=signed.sha256,
        field_name=signed.field_name,
        replayed=False,
    )


def visible_document(
    session: Session, services: Services, *, principal: Principal, document_id: str
) -> tuple[StoredDocument, bytes]:
    """A stored document for a caller of its organization holding documents:read, or for
    the one who made it, or for a holder of a live grant on a seal used on it (issue 10:
    seals:read or audit:read alone no longer fetch sealed PDFs)."""
    document = session.get(StoredDocument, document_id)
    if document is None or not principal.may_act_for(document.organization_id):
        raise NotFound(f"document {document_id} not found")
    if not (
        principal.has(Scope.documents_read)
        or document.created_by == principal.actor
        or granted_on(session, principal, document)
    ):
        raise Forbidden(
            "reading this document needs the scope 'documents:read' or a grant on its seal"
        )
    return document, services.blobs.get(document.sha256)


def granted_on(session: Session, principal: Principal, document: StoredDocument) -> bool:
    hashes = [h for h in (document.sha256, document.source_sha256) if h]
    seals_used = select(SealUsage.seal_id).where(
        SealUsage.organization_id == document.organization_id,
        col(SealUsage.document_sha256).in_(hashes),
    )
    kind = "person" if principal.kind == "user" else "client"
    grantee_id = principal.id
    if principal.kind == "user":
        account = session.get(UserAccount, principal.id)
        grantee_id = account.person_id if account else ""
    grant = session.exec(
        select(SealGrant.id).where(
            col(SealGrant.seal_id).in_(seals_used),
            SealGrant.grantee_kind == kind,
            SealGrant.grantee_id == grantee_id,
            col(SealGrant.revoked_at).is_(None),
        )
    ).first()
    return grant is not None
