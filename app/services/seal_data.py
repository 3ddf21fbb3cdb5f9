"""GB/T 38540 seal data (印章数据) per seal, made by the platform's seal-making key.

Every seal with an SM2 certificate gets an SESeal (v4) the first time it is needed (the
``/eseal`` download or a ``gbt38540`` signature) and keeps it: esID = the seal code, type,
name, the seal's SM2 certificate, the seal picture at its physical size, the seal's validity
and the time it was made, signed by the seal maker. The seal maker is a service identity of
the SM2 hierarchy (`pki_ca` row ``sm2-seal-maker``): an SM2 key created in the key store and a
certificate from the SM2 organization CA, made on first use (`ensure_seal_maker`).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from sqlmodel import Session

from app.errors import NotFound
from app.sealing import seal_appearance
from app.security import Principal, Scope
from app.services import audit
from app.services.seals import registry, visible_seal
from app.services.tenancy import require
from app.wiring import Services
from pki.keys import KeyAlgorithm
from pki.models import CaRecord
from pki.profiles import CaName
from pki.sm2_ca import gm_profiles
from seals.errors import SealDataNotFoundError
from seals.gbt38540 import build_seal
from seals.gbt38540.making import seal_content
from seals.lifecycle import SealStatus
from seals.models import Seal
from seals.models_eseal import SealData

SEAL_MAKER = "sm2-seal-maker"
"""The `pki_ca` name of the platform's seal-making identity (制章者)."""


def _maker_subject(issuer: x509.Certificate) -> x509.Name:
    """The organization CA's country and organization, CN 'SM2 Seal Maker'."""
    keep = [a for a in issuer.subject if a.oid in (NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME)]
    return x509.Name([*keep, x509.NameAttribute(NameOID.COMMON_NAME, "SM2 Seal Maker")])


def ensure_seal_maker(session: Session, services: Services) -> CaRecord:
    """The platform's seal-making SM2 key and certificate, created (key in the key store,
    certificate from the SM2 organization CA) when missing, in the caller's transaction."""
    record = session.get(CaRecord, SEAL_MAKER)
    if record is not None:
        return record
    authority = services.authority
    issuer = authority.ca_certificate(session, CaName.SM2_ORGANIZATION)
    key_id = services.keystore.create_key(
        session, algorithm=KeyAlgorithm.SM2, label=f"ca {SEAL_MAKER}"
    )
    issued = authority.issue_with_profile(
        session,
        profile=gm_profiles(authority.profiles).enterprise,
        subject=_maker_subject(issuer),
        issuer_ca=CaName.SM2_ORGANIZATION,
        key_id=key_id,
    )
    record = CaRecord(name=SEAL_MAKER, certificate_id=issued.certificate_id, key_id=key_id)
    session.add(record)
    audit.record(
        session,
        actor="system",
        action="pki.seal_maker.created",
        target_type="certificate",
        target_id=issued.certificate_id,
        organization_id=None,
        details={"ca": SEAL_MAKER, "issuer": CaName.SM2_ORGANIZATION.value},
    )
    return record


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def seal_data(session: Session, services: Services, seal: Seal, *, actor: str) -> bytes:
    """The seal's DER SESeal: the stored one, or a new one made and stored now (a write)."""
    certificate_id = seal.sm2_certificate_id
    if certificate_id is None:
        raise SealDataNotFoundError(
            "the seal has no SM2 certificate, so no GB/T 38540 seal data", seal_id=seal.id
        )
    stored = session.get(SealData, seal.id)
    if stored is not None and stored.sm2_certificate_id == certificate_id:
        return stored.der
    if seal.status == SealStatus.REVOKED.value:  # its certificates are revoked: no new data
        raise SealDataNotFoundError("a revoked seal gets no new seal data", seal_id=seal.id)
    maker = ensure_seal_maker(session, services)
    authority = services.authority
    appearance = seal_appearance(seal)
    content = seal_content(
        code=seal.code,
        name=seal.name,
        personal=seal.person_id is not None,
        certificates=(_der(authority.get(session, certificate_id).certificate),),
        image_png=seal.image_png,
        width_mm=appearance.width_mm,
        height_mm=appearance.height_mm,
        valid_from=seal.valid_from,
        valid_until=seal.valid_until,
        created=authority.clock().replace(microsecond=0),
    )
    der = build_seal(
        content,
        maker=services.keystore.signer(session, maker.key_id),
        maker_certificate=_der(authority.get(session, maker.certificate_id).certificate),
    )
    if stored is not None:
        session.delete(stored)
        session.flush()
    session.add(
        SealData(
            seal_id=seal.id,
            der=der,
            sha256=hashlib.sha256(der).hexdigest(),
            sm2_certificate_id=certificate_id,
            maker_certificate_id=maker.certificate_id,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="seal.eseal_made",
        target_type="seal",
        target_id=seal.id,
        organization_id=seal.organization_id,
        details={"code": seal.code, "sm2_certificate_id": certificate_id},
    )
    return der


def seal_data_for(
    session: Session, services: Services, *, principal: Principal, seal_id: str
) -> tuple[str, bytes]:
    """(seal code, DER SESeal) of a seal the caller may read (made on first request)."""
    require(principal, Scope.seals_read)
    seal = visible_seal(session, services, principal, seal_id)
    return seal.code, seal_data(session, services, seal, actor=principal.actor)


def public_seal_data(session: Session, services: Services, *, code: str) -> tuple[str, bytes]:
    """(seal code, DER SESeal) by seal code, for anyone: what the seal's signatures embed."""
    seal = registry(services).find_by_code(session, code)
    if seal is None:
        raise NotFound(f"no seal with code {code.strip()}")
    row = registry(services).row(session, seal.id)
    return row.code, seal_data(session, services, row, actor="public")
