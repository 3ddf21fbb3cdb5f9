"""Certificates from the per-issuer DER template (pki/cert_der.py) are the bytes the full
builder (pki/profiles.build_certificate) writes for the same inputs."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session

from pki.authority import (
    EnterpriseIdentity,
    PersonIdentity,
    seal_code_extension,
    seal_code_oid,
    subject_for,
)
from pki.cert_der import CertificateDer
from pki.errors import KeyStoreError
from pki.keys import KeySigner, PublicKey, spki_of
from pki.profiles import POLICY_OID, CertificateProfile, CertificateTemplate, build_certificate
from tests.pki.conftest import PkiFixture

ACME = EnterpriseIdentity(name="杭州某某科技有限公司", uscc="91330106MA2B3C4D5D")
ZHANG = PersonIdentity(name="张三", resident_id="330106198503121231")
KEYS: dict[str, PublicKey] = {
    "p256": ec.generate_private_key(ec.SECP256R1()).public_key(),
    "p384": ec.generate_private_key(ec.SECP384R1()).public_key(),
    "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
}
VALIDITY = {
    "now": (datetime(2025, 6, 1, 8, 0, 0, tzinfo=UTC), timedelta(days=730)),
    "past 2049": (datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC), timedelta(days=2)),
    "sub-second": (datetime(2025, 6, 1, 8, 0, 0, 987654, tzinfo=UTC), timedelta(days=1)),
}
SERIALS = (1, 0x80, 0x7F_FFFF, (1 << 159) - 1, 0xFF << 144)


def _both(
    pki: PkiFixture,
    *,
    profile: CertificateProfile,
    issuer_ca: str,
    subject: x509.Name,
    key: PublicKey,
    serial: int,
    start: datetime,
    length: timedelta,
    extra: tuple[tuple[x509.ExtensionType, bool], ...],
) -> tuple[bytes, bytes, KeySigner, CertificateDer]:
    """(template TBS, full builder's certificate DER) for the same inputs."""
    with Session(pki.engine) as session:
        issuer = pki.authority.issuers.current(session, issuer_ca)
    template = issuer.template(profile, pki.authority.urls)
    assert template is not None, "the template reproduced its probe"
    tbs = template.tbs(
        serial_number=serial,
        not_before=start,
        not_after=start + length,
        subject=subject,
        subject_spki=spki_of(key),
        extra_extensions=extra,
    )
    full = build_certificate(
        profile=profile,
        template=CertificateTemplate(
            subject=subject,
            subject_public_key=key,
            issuer_name=issuer.certificate.subject,
            issuer_public_key=issuer.certificate.public_key(),  # type: ignore[arg-type]
            issuer_ca=issuer_ca,
            serial_number=serial,
            not_before=start,
            not_after=start + length,
            urls=pki.authority.urls,
            extra_extensions=extra,
        ),
        issuer=issuer.signer,
    )
    assert full.tbs_certificate_bytes != b""
    return tbs, full.public_bytes(Encoding.DER), issuer.signer, template


@pytest.mark.parametrize("family", ["ec", "rsa"])
@pytest.mark.parametrize("who", ["enterprise", "personal"])
@pytest.mark.parametrize("key_name", sorted(KEYS))
@pytest.mark.parametrize("when", sorted(VALIDITY))
@pytest.mark.parametrize("sealed", [False, True])
def test_template_writes_the_builders_bytes(
    request: pytest.FixtureRequest, family: str, who: str, key_name: str, when: str, sealed: bool
) -> None:
    pki: PkiFixture = request.getfixturevalue(f"{family}_pki")
    profiles = pki.authority.profiles
    profile, issuer_ca, identity = (
        (profiles.enterprise, "organization", ACME)
        if who == "enterprise"
        else (profiles.personal, "personal", ZHANG)
    )
    extra = ()
    if sealed:
        ext = seal_code_extension("HZ-2025-000042", policy=POLICY_OID)
        extra = ((ext.value, ext.critical),)
    start, length = VALIDITY[when]
    for serial in SERIALS:
        tbs, full_der, _, template = _both(
            pki,
            profile=profile,
            issuer_ca=issuer_ca,
            subject=subject_for(identity),
            key=KEYS[key_name],
            serial=serial,
            start=start,
            length=length,
            extra=extra,
        )
        full = x509.load_der_x509_certificate(full_der)
        assert tbs == full.tbs_certificate_bytes
        ours = template.sign(tbs)
        if family == "rsa":  # PKCS#1 v1.5 is deterministic: the whole certificate agrees
            assert ours == full_der
        else:  # ECDSA signatures differ: the same TBS, algorithm and a verifying signature
            made = x509.load_der_x509_certificate(ours)
            assert made.tbs_certificate_bytes == full.tbs_certificate_bytes
            assert made.signature_algorithm_oid == full.signature_algorithm_oid
            with Session(pki.engine) as session:
                issuer = pki.authority.ca_certificate(session, issuer_ca)
            made.verify_directly_issued_by(issuer)


def test_authority_issues_through_the_template(ec_pki: PkiFixture, db: Session) -> None:
    issued = ec_pki.authority.issue(db, identity=ACME, seal_code="HZ-2025-000043")
    seal = issued.certificate.extensions.get_extension_for_oid(seal_code_oid(POLICY_OID))
    ext = (seal.value, seal.critical)
    kept = ec_pki.authority.issuers.current(db, "organization")
    template = kept.templates.get(ec_pki.authority.profiles.enterprise)
    assert template is not None
    again = template.tbs(
        serial_number=issued.serial_number,
        not_before=issued.certificate.not_valid_before_utc,
        not_after=issued.certificate.not_valid_after_utc,
        subject=issued.certificate.subject,
        subject_spki=spki_of(issued.certificate.public_key()),  # type: ignore[arg-type]
        extra_extensions=(ext,),
    )
    assert again == issued.certificate.tbs_certificate_bytes
    assert ec_pki.authority.seal_code_of(issued.certificate) == "HZ-2025-000043"


class _Faulty:
    """A signer whose signatures do not verify (a faulty token)."""

    def __init__(self, inner: KeySigner) -> None:
        self.inner, self.key_id, self.algorithm = inner, inner.key_id, inner.algorithm

    def public_key_info(self) -> bytes:
        return self.inner.public_key_info()

    def sign(self, data: bytes, digest: str) -> bytes:
        return self.inner.sign(data + b"!", digest)


def test_a_signature_that_does_not_verify_is_refused(ec_pki: PkiFixture, db: Session) -> None:
    kept = ec_pki.authority.issuers.current(db, "organization")
    good = kept.template(ec_pki.authority.profiles.enterprise, ec_pki.authority.urls)
    assert good is not None
    bad = dataclasses.replace(good, signer=_Faulty(kept.signer))
    tbs = good.tbs(
        serial_number=7,
        not_before=VALIDITY["now"][0],
        not_after=VALIDITY["now"][0] + timedelta(days=1),
        subject=subject_for(ACME),
        subject_spki=spki_of(KEYS["p256"]),
    )
    with pytest.raises(KeyStoreError, match="does not verify"):
        bad.sign(tbs)
