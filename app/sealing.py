"""Applying a seal to a PDF: authorise the use, assemble the signer, time-stamper and
validation data from our own CA (in process), sign, store, consume, audit — one transaction."""

from __future__ import annotations

from sqlmodel import Session

from app.wiring import Services
from pki.timestamper import InProcessTimeStamper
from seals.signing import PadesLevel, SigningIdentity, ValidationMaterial

NEEDS_TIMESTAMP = {PadesLevel.B_T, PadesLevel.B_LT, PadesLevel.B_LTA}
NEEDS_VALIDATION = {PadesLevel.B_LT, PadesLevel.B_LTA}


def signing_identity(
    session: Session, services: Services, *, certificate_id: str, key_id: str
) -> SigningIdentity:
    """The seal's certificate, its issuing chain and its key (unlocked in memory only)."""
    chain = services.authority.chain(session, certificate_id)
    return SigningIdentity(
        certificate=chain[0],
        chain=tuple(chain[1:]),
        private_key=services.keystore.private_key(session, key_id),
    )


def timestamper(session: Session, services: Services) -> InProcessTimeStamper:
    return InProcessTimeStamper(
        config=services.publisher.tsa_config(session), clock=services.authority.clock
    )


def validation_material(
    session: Session, services: Services, *, identity: SigningIdentity, issuer_ca: str
) -> ValidationMaterial:
    """OCSP for the seal's certificate and the root CRL, from our own CA without HTTP."""
    data = services.publisher.revocation_data(
        session, certificate=identity.certificate, issuer_ca=issuer_ca
    )
    return ValidationMaterial(
        trust_roots=(services.authority.ca_certificate(session, "root"),),
        certificates=data.certificates,
        ocsp_responses=data.ocsp_responses,
        crls=data.crls,
    )
