"""Issuance, CSR handling, revocation, renewal and lookups against a real SQLite database."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlmodel import Session, func, select

from pki.authority import (
    Authority,
    EnterpriseIdentity,
    PersonIdentity,
    identity_from_certificate,
)
from pki.errors import (
    AlreadyRevokedError,
    CertificateNotFoundError,
    HierarchyMissingError,
    InvalidIdentifierError,
    InvalidRequestError,
)
from pki.keys import KeyAlgorithm, SoftwareKeyStore
from pki.models import CertificateRecord, CertificateStatus, KeyRecord
from pki.profiles import POLICY_OID
from tests.pki.conftest import BASE_URL, FIXED_NOW, PkiFixture, fixed_clock, new_engine

ACME = EnterpriseIdentity(name="杭州某某科技有限公司", uscc="91330106MA2B3C4D5D")
ZHANG = PersonIdentity(name="张三", resident_id="330106198503121231")


def _spki(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _csr(
    *, common_name: str = "Evil Corp", ca: bool = True
) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRCN-91110000100006147L"),
                ]
            )
        )
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("evil.example")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM), key


def test_enterprise_certificate_content(ec_pki: PkiFixture, db: Session) -> None:
    issued = ec_pki.authority.issue(db, identity=ACME, owner_org_id="org-1")
    cert = issued.certificate
    assert issued.issuer_ca == "organization" and issued.profile == "enterprise-signing"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ACME.name
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ACME.name
    assert (
        cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value
        == "NTRCN-91330106MA2B3C4D5D"
    )
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
    # UTF8String on the wire, and the Chinese name survives DER and the database
    rdns = asn1_x509.Certificate.load(issued.der)["tbs_certificate"]["subject"].chosen
    org = next(a for rdn in rdns for a in rdn if a["type"].native == "organization_name")
    assert org["value"].name == "utf8_string" and org["value"].native == ACME.name
    assert ACME.name in issued.subject
    assert "organizationIdentifier=NTRCN-91330106MA2B3C4D5D" in issued.subject

    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical
    # nonRepudiation alone (EN 319 412-2 NAT-4.3.2-1; see pki/profiles.py)
    assert key_usage.value.content_commitment and not key_usage.value.digital_signature
    assert not key_usage.value.key_cert_sign
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier for p in policies] == [POLICY_OID]
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == f"{BASE_URL}/pki/crl/organization.crl"
    aia = {
        d.access_method: d.access_location.value
        for d in cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    }
    assert aia[x509.AuthorityInformationAccessOID.OCSP] == f"{BASE_URL}/pki/ocsp"
    assert (
        aia[x509.AuthorityInformationAccessOID.CA_ISSUERS] == f"{BASE_URL}/pki/ca/organization.crt"
    )
    issuer = ec_pki.authority.ca_certificate(db, "organization")
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    cert.verify_directly_issued_by(issuer)

    assert 0 < cert.serial_number < 2**159
    assert cert.not_valid_before_utc == FIXED_NOW
    assert cert.not_valid_after_utc == FIXED_NOW + timedelta(days=730)
    assert issued.key_id is not None and issued.owner_org_id == "org-1"
    assert ec_pki.keystore.public_key_info(db, issued.key_id) == _spki(cert.public_key())


def test_personal_certificate_content(ec_pki: PkiFixture, db: Session) -> None:
    issued = ec_pki.authority.issue(
        db,
        identity=ZHANG,
        owner_person_id="p-1",
        key_algorithm=KeyAlgorithm.EC_P384,
        lifetime_days=90,
    )
    cert = issued.certificate
    assert issued.issuer_ca == "personal"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张三"
    assert (
        cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
        == "IDCCN-330106198503121231"
    )
    assert not cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp384r1"  # type: ignore[union-attr]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=90)
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == f"{BASE_URL}/pki/crl/personal.crl"
    assert identity_from_certificate(cert) == ZHANG


def test_invalid_identifier_is_refused_before_any_key_is_made(
    ec_pki: PkiFixture, db: Session
) -> None:
    keys_before = db.exec(select(func.count()).select_from(KeyRecord)).one()
    with pytest.raises(InvalidIdentifierError, match="position 18"):
        ec_pki.authority.issue(db, identity=EnterpriseIdentity(name="X", uscc="91330106MA2B3C4D5E"))
    with pytest.raises(InvalidIdentifierError):
        ec_pki.authority.issue(
            db, identity=PersonIdentity(name="李四", resident_id="330106198503121232")
        )
    with pytest.raises(InvalidRequestError, match="empty"):
        ec_pki.authority.issue(db, identity=EnterpriseIdentity(name="  ", uscc=ACME.uscc))
    with pytest.raises(InvalidRequestError, match="lifetime"):
        ec_pki.authority.issue(db, identity=ACME, lifetime_days=5000)
    assert db.exec(select(func.count()).select_from(KeyRecord)).one() == keys_before


def test_csr_subject_and_extensions_are_replaced(ec_pki: PkiFixture, db: Session) -> None:
    csr_pem, key = _csr()
    issued = ec_pki.authority.issue(db, identity=ACME, csr_pem=csr_pem)
    cert = issued.certificate
    assert issued.key_id is None
    assert _spki(cert.public_key()) == _spki(key.public_key())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ACME.name
    assert (
        cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value
        == "NTRCN-91330106MA2B3C4D5D"
    )
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    # DER works too
    der = x509.load_pem_x509_csr(csr_pem).public_bytes(serialization.Encoding.DER)
    assert ec_pki.authority.issue(db, identity=ZHANG, csr_pem=der).key_id is None


def test_csr_with_broken_signature_is_refused(ec_pki: PkiFixture, db: Session) -> None:
    csr_pem, _ = _csr()
    der = bytearray(x509.load_pem_x509_csr(csr_pem).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature value
    with pytest.raises(InvalidRequestError, match="does not verify"):
        ec_pki.authority.issue(db, identity=ACME, csr_pem=bytes(der))
    with pytest.raises(InvalidRequestError, match="cannot be read"):
        ec_pki.authority.issue(
            db, identity=ACME, csr_pem=b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
        )
    weak = ec.generate_private_key(ec.SECP521R1())
    weak_csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(weak, hashes.SHA512())
        .public_bytes(serialization.Encoding.PEM)
    )
    with pytest.raises(InvalidRequestError, match="secp521r1"):
        ec_pki.authority.issue(db, identity=ACME, csr_pem=weak_csr)


def test_revocation_and_status_lookups(ec_pki: PkiFixture, db: Session) -> None:
    authority = ec_pki.authority
    issued = authority.issue(db, identity=ACME)
    status = authority.lookup_status(db, issuer_ca="organization", serial=issued.serial_number)
    assert status is not None and status.status is CertificateStatus.VALID and status.reason is None

    when = FIXED_NOW - timedelta(hours=1)
    revoked = authority.revoke(
        db, certificate_id=issued.certificate_id, reason=x509.ReasonFlags.key_compromise, when=when
    )
    assert revoked.revoked_at == when and revoked.serial_number == issued.serial_number
    with pytest.raises(AlreadyRevokedError):
        authority.revoke(
            db, certificate_id=issued.certificate_id, reason=x509.ReasonFlags.superseded
        )
    db.commit()

    with Session(ec_pki.engine) as fresh:  # read back from the file, timezone intact
        stored = authority.get(fresh, issued.certificate_id)
        assert stored.status is CertificateStatus.REVOKED
        assert stored.revoked_at == when and stored.revoked_at.tzinfo is not None
        assert stored.revocation_reason is x509.ReasonFlags.key_compromise
        record = fresh.get(CertificateRecord, issued.certificate_id)
        assert record is not None and record.revocation_reason == "keyCompromise"
        status = authority.lookup_status(
            fresh, issuer_ca="organization", serial=issued.serial_number
        )
        assert status is not None and status.status is CertificateStatus.REVOKED
        assert status.reason is x509.ReasonFlags.key_compromise
        assert (
            authority.lookup_status(fresh, issuer_ca="personal", serial=issued.serial_number)
            is None
        )
        assert authority.lookup_status(fresh, issuer_ca="organization", serial=12345) is None
        entries = authority.revoked_entries(fresh, "organization")
        assert issued.serial_number in {e.serial for e in entries}
        assert all(e.revoked_at.tzinfo is not None for e in entries)


def test_revocation_rejects_bad_input(ec_pki: PkiFixture, db: Session) -> None:
    issued = ec_pki.authority.issue(db, identity=ZHANG)
    with pytest.raises(InvalidRequestError, match="future"):
        ec_pki.authority.revoke(
            db,
            certificate_id=issued.certificate_id,
            reason=x509.ReasonFlags.unspecified,
            when=FIXED_NOW + timedelta(days=1),
        )
    with pytest.raises(InvalidRequestError, match="removeFromCRL"):
        ec_pki.authority.revoke(
            db, certificate_id=issued.certificate_id, reason=x509.ReasonFlags.remove_from_crl
        )
    with pytest.raises(CertificateNotFoundError):
        ec_pki.authority.revoke(db, certificate_id="nope", reason=x509.ReasonFlags.superseded)


def test_renewal_keeps_identity_with_a_new_key(ec_pki: PkiFixture, db: Session) -> None:
    authority = ec_pki.authority
    old = authority.issue(db, identity=ACME, owner_org_id="org-9", lifetime_days=365)
    new = authority.renew(db, certificate_id=old.certificate_id)
    assert new.certificate.subject == old.certificate.subject
    assert new.key_id is not None and new.key_id != old.key_id
    assert _spki(new.certificate.public_key()) != _spki(old.certificate.public_key())
    assert new.serial_number != old.serial_number
    assert new.owner_org_id == "org-9"
    assert new.not_after - new.not_before == timedelta(days=365)
    assert authority.get(db, old.certificate_id).replaced_by == new.certificate_id
    assert authority.get(db, old.certificate_id).status is CertificateStatus.VALID
    with pytest.raises(InvalidRequestError, match="already renewed"):
        authority.renew(db, certificate_id=old.certificate_id)

    from_csr = authority.issue(db, identity=ZHANG, csr_pem=_csr()[0])
    with pytest.raises(InvalidRequestError, match="new CSR"):
        authority.renew(db, certificate_id=from_csr.certificate_id)
    renewed = authority.renew(db, certificate_id=from_csr.certificate_id, csr_pem=_csr()[0])
    assert identity_from_certificate(renewed.certificate) == ZHANG

    authority.revoke(db, certificate_id=new.certificate_id, reason=x509.ReasonFlags.superseded)
    with pytest.raises(AlreadyRevokedError):
        authority.renew(db, certificate_id=new.certificate_id)


def test_chain_leaf_to_root(ec_pki: PkiFixture, db: Session) -> None:
    issued = ec_pki.authority.issue(db, identity=ZHANG)
    chain = ec_pki.authority.chain(db, issued.certificate_id)
    assert [c.subject.rfc4514_string() for c in chain[1:]] == [
        "CN=eseal Personal CA,O=eseal,C=CN",
        "CN=eseal Root CA,O=eseal,C=CN",
    ]
    for child, parent in itertools.pairwise(chain):
        child.verify_directly_issued_by(parent)
    chain[-1].verify_directly_issued_by(chain[-1])
    with pytest.raises(CertificateNotFoundError):
        ec_pki.authority.get(db, "0" * 32)


def test_authority_without_hierarchy(tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "empty.sqlite")
    authority = Authority(
        keystore=SoftwareKeyStore(b"k" * 32), base_url=BASE_URL, clock=fixed_clock
    )
    with Session(engine) as session:
        with pytest.raises(HierarchyMissingError):
            authority.issue(session, identity=ACME)
        with pytest.raises(HierarchyMissingError):
            authority.ca_certificate(session, "root")
        assert session.exec(select(func.count()).select_from(KeyRecord)).one() == 0
