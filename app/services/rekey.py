"""Moving seals into the PKCS#11 token by re-keying (``eseal keys rekey-seals``).

A key generated in software cannot honestly be called HSM-protected after an import (it
existed in clear once), and tokens commonly refuse the import of sensitive keys. So each seal
whose key is still in the database gets a new key born in the token and a new certificate
(same identity, owners and seal code, validity to the old one's end), the old certificate is
revoked as ``superseded`` and points to its successor, and an audit event records the move:
one seal per transaction, so an interruption leaves every seal either moved or untouched.
Documents sealed earlier stay valid: they were signed while the old certificate was valid
(their time-stamps and embedded revocation data prove it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cryptography import x509
from sqlmodel import Session, col, select

from app.db import unit_of_work
from app.services import audit
from app.wiring import Services
from pki.authority import identity_from_certificate
from pki.keys import algorithm_of
from pki.models import CertificateRecord
from pki.pkcs11_store import Pkcs11KeyStore
from seals.models import Seal

LIVE = ("pending", "active", "suspended")


@dataclass(frozen=True)
class Rekeyed:
    seal_id: str
    seal_code: str
    old_certificate_id: str
    new_certificate_id: str
    new_key_id: str


class RekeyError(Exception):
    """Re-keying into a token was asked for where there is no token."""


def seals_outside_token(session: Session, store: Pkcs11KeyStore) -> list[str]:
    """Ids of live seals whose key is not in the token yet."""
    rows = session.exec(
        select(Seal.id, Seal.key_id).where(col(Seal.status).in_(LIVE)).order_by(col(Seal.code))
    ).all()
    return [seal_id for seal_id, key_id in rows if not store.in_token(session, key_id)]


def rekey_seal(session: Session, services: Services, *, seal_id: str, actor: str) -> Rekeyed:
    """One seal: new key in the token, new certificate, old one revoked as superseded."""
    store = _token_store(services)
    seal = session.exec(select(Seal).where(Seal.id == seal_id).with_for_update()).one()
    authority = services.authority
    old = authority.get(session, seal.certificate_id)
    certificate = old.certificate
    now = authority.clock()
    days = max(1, math.ceil((old.not_after - now).total_seconds() / 86400))
    new = authority.issue(
        session,
        identity=identity_from_certificate(certificate),
        owner_org_id=old.owner_org_id,
        owner_person_id=old.owner_person_id,
        key_algorithm=algorithm_of(certificate.public_key()),  # type: ignore[arg-type]
        lifetime_days=days,
        seal_code=seal.code,
    )
    assert new.key_id is not None and store.in_token(session, new.key_id)
    authority.revoke(session, certificate_id=old.certificate_id, reason=x509.ReasonFlags.superseded)
    _mark_replaced(session, old.certificate_id, new.certificate_id)
    seal.certificate_id, seal.key_id = new.certificate_id, new.key_id
    seal.valid_from, seal.valid_until = new.not_before, new.not_after
    session.add(seal)
    audit.record(
        session,
        actor=actor,
        action="seal.rekey",
        target_type="seal",
        target_id=seal.id,
        organization_id=seal.organization_id,
        details={
            "seal_code": seal.code,
            "old_certificate": old.certificate_id,
            "old_serial": format(old.serial_number, "x"),
            "new_certificate": new.certificate_id,
            "new_serial": format(new.serial_number, "x"),
            "token": store.config.token_label,
            "reason": "superseded",
        },
    )
    session.flush()
    return Rekeyed(seal.id, seal.code, old.certificate_id, new.certificate_id, new.key_id)


def rekey_all(services: Services, *, actor: str) -> list[Rekeyed]:
    """Every live seal still keyed in the database, one transaction each."""
    store = _token_store(services)
    with unit_of_work(services.engine) as session:
        pending = seals_outside_token(session, store)
    done = []
    for seal_id in pending:
        with unit_of_work(services.engine) as session:
            done.append(rekey_seal(session, services, seal_id=seal_id, actor=actor))
    return done


def _mark_replaced(session: Session, old_id: str, new_id: str) -> None:
    record = session.get(CertificateRecord, old_id)
    assert record is not None
    record.replaced_by = new_id
    session.add(record)


def _token_store(services: Services) -> Pkcs11KeyStore:
    store = services.keystore
    if not isinstance(store, Pkcs11KeyStore):
        raise RekeyError("ESEAL_KEY_STORE is not pkcs11: there is no token to move keys into")
    return store
