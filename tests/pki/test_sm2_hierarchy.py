"""The SM2 hierarchy beside the ECDSA one: shapes, GM/T 0015 extensions, CRLs, and what
independent verifiers (openssl with distid, gmssl) say about our SM2 certificates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import core
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from gmssl import sm2 as gm_sm2
from sqlmodel import func, select

from pki import sm2
from pki.authority import EnterpriseIdentity
from pki.errors import InvalidRequestError, KeyStoreError
from pki.hierarchy import HierarchyConfig, ensure_hierarchy, ensure_sm2_hierarchy
from pki.keys import KeyAlgorithm
from pki.models import CaRecord, CertificateRecord
from pki.profiles import ROOT_CA, CertificateTemplate, PublicationUrls
from pki.publication import Publisher
from pki.sm2_ca import (
    OID_IC_REGISTRATION_NUMBER,
    OID_IDENTIFY_CODE,
    OID_ORGANIZATION_CODE,
    build_sm2_certificate,
    build_sm2_crl,
    certificate_spki,
    verify_certificate_signature,
)
from tests.pki.conftest import FIXED_NOW, build_pki
from tests.pki.sm2_support import (
    DISTID,
    RESIDENT_ID,
    SM2_ALL,
    USCC,
    Sm2Pki,
    build_sm2_pki,
    ca_der,
    cert_der,
    openssl,
    openssl_signature_ok,
    pem,
)


@pytest.fixture(scope="module")
def sm2_pki(tmp_path_factory: pytest.TempPathFactory) -> Sm2Pki:
    return build_sm2_pki(tmp_path_factory.mktemp("sm2-pki"))


def test_added_beside_the_existing_hierarchy_and_idempotent(sm2_pki: Sm2Pki) -> None:
    with sm2_pki.session() as session:
        names = set(session.exec(select(CaRecord.name)).all())
        assert set(SM2_ALL) | {"root", "organization", "personal", "tsa"} <= names
        before = session.exec(select(func.count()).select_from(CertificateRecord)).one()
        again = ensure_sm2_hierarchy(session, authority=sm2_pki.authority, config=HierarchyConfig())
        main = ensure_hierarchy(session, authority=sm2_pki.authority, config=HierarchyConfig())
        after = session.exec(select(func.count()).select_from(CertificateRecord)).one()
    assert not again.created and not main.created and before == after


def test_every_sm2_certificate_is_sm2_with_sm3_and_chains(sm2_pki: Sm2Pki) -> None:
    issuer_of = {
        "sm2-root": "sm2-root",
        "sm2-organization": "sm2-root",
        "sm2-personal": "sm2-root",
        "sm2-tsa": "sm2-root",
        "sm2-ocsp-organization": "sm2-organization",
        "sm2-ocsp-personal": "sm2-personal",
    }
    for name, issuer in issuer_of.items():
        der = ca_der(sm2_pki, name)
        cert = asn1_x509.Certificate.load(der)
        algorithm = cert["signature_algorithm"]
        assert algorithm["algorithm"].dotted == sm2.OID_SM2_WITH_SM3
        assert algorithm["parameters"].native is None
        assert cert["tbs_certificate"]["signature"].dump() == algorithm.dump()
        assert sm2.is_sm2_public_key_info(certificate_spki(der))
        issuer_spki = certificate_spki(ca_der(sm2_pki, issuer))
        assert verify_certificate_signature(der, issuer_spki), name
        if name != issuer:
            assert not verify_certificate_signature(der, certificate_spki(der))
    root = x509.load_der_x509_certificate(ca_der(sm2_pki, "sm2-root"))
    assert root.subject.rfc4514_string() == "CN=eseal SM2 Root CA,O=eseal,C=CN"


def test_gm_t_0015_identity_extensions(sm2_pki: Sm2Pki) -> None:
    enterprise = x509.load_der_x509_certificate(cert_der(sm2_pki, sm2_pki.enterprise_id))
    exts = {e.oid.dotted_string: e for e in enterprise.extensions}
    assert core.PrintableString.load(exts[OID_IC_REGISTRATION_NUMBER].value.value).native == USCC
    assert core.PrintableString.load(exts[OID_ORGANIZATION_CODE].value.value).native == USCC[8:17]
    assert not exts[OID_IC_REGISTRATION_NUMBER].critical
    usage = enterprise.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert sm2_pki.authority.seal_code_of(enterprise) == "3501000000001"
    assert "1.3.6.1.5.5.7.1.3" not in exts  # no EU QCStatements in the GM profile
    person = x509.load_der_x509_certificate(cert_der(sm2_pki, sm2_pki.person_id))
    code = person.extensions.get_extension_for_oid(x509.ObjectIdentifier(OID_IDENTIFY_CODE))
    # IdentifyCode CHOICE residenterCardNumber [0] IMPLICIT PrintableString
    assert code.value.value == b"\x80\x12" + RESIDENT_ID.encode()  # type: ignore[attr-defined]
    with sm2_pki.session() as session:
        record = session.get(CertificateRecord, sm2_pki.person_id)
        assert record is not None and record.issuer_ca == "sm2-personal"
        assert record.owner_person_id == "person-1" and record.key_id
        signer = sm2_pki.pki.keystore.sm2_signer(session, record.key_id)
        assert signer.public_key_info() == certificate_spki(record.der)


def test_gmssl_verifies_a_certificate_signature(sm2_pki: Sm2Pki) -> None:
    cert = asn1_x509.Certificate.load(cert_der(sm2_pki, sm2_pki.enterprise_id))
    issuer_point = sm2.point_from_spki(certificate_spki(ca_der(sm2_pki, "sm2-organization")))
    checker = gm_sm2.CryptSM2(private_key=None, public_key="00" * 64)
    checker.public_key = issuer_point[1:].hex()
    raw = sm2.raw_signature(bytes(cert["signature_value"]))
    assert checker.verify_with_sm3(raw.hex(), cert["tbs_certificate"].dump())


def test_csr_and_foreign_issuer_refused(sm2_pki: Sm2Pki) -> None:
    with sm2_pki.session() as session, pytest.raises(InvalidRequestError, match="SM2"):
        sm2_pki.authority.issue(
            session,
            identity=EnterpriseIdentity(name="x", uscc=USCC),
            csr_pem=b"-----BEGIN CERTIFICATE REQUEST-----",
            key_algorithm=KeyAlgorithm.SM2,
        )


def test_renewal_stays_in_the_sm2_hierarchy(tmp_path: Path) -> None:
    pki = build_pki(tmp_path, family="ec")
    with pki.session() as session:
        ensure_sm2_hierarchy(session, authority=pki.authority, config=HierarchyConfig())
        old = pki.authority.issue(
            session,
            identity=EnterpriseIdentity(name="续期公司", uscc=USCC),
            key_algorithm=KeyAlgorithm.SM2,
        )
        new = pki.authority.renew(session, certificate_id=old.certificate_id)
        assert new.issuer_ca == "sm2-organization" and new.key_id != old.key_id
        assert sm2.is_sm2_public_key_info(certificate_spki(new.der))


def test_sm2_crl_lists_revocations_and_verifies(sm2_pki: Sm2Pki, tmp_path: Path) -> None:
    with sm2_pki.session() as session:
        revoked = sm2_pki.authority.issue(
            session,
            identity=EnterpriseIdentity(name="吊销公司", uscc=USCC),
            key_algorithm=KeyAlgorithm.SM2,
        )
        sm2_pki.authority.revoke(
            session, certificate_id=revoked.certificate_id, reason=x509.ReasonFlags.key_compromise
        )
        publisher = Publisher(authority=sm2_pki.authority)
        der = publisher.refresh_crl(session, "sm2-organization")
        session.commit()
    crl = asn1_crl.CertificateList.load(der)
    assert crl["signature_algorithm"]["algorithm"].dotted == sm2.OID_SM2_WITH_SM3
    entries = crl["tbs_cert_list"]["revoked_certificates"]
    assert [e["user_certificate"].native for e in entries] == [revoked.serial_number]
    assert entries[0]["crl_entry_extensions"][0]["extn_value"].native == "key_compromise"
    issuer_spki = certificate_spki(ca_der(sm2_pki, "sm2-organization"))
    assert sm2.verify(issuer_spki, crl["tbs_cert_list"].dump(), bytes(crl["signature"]))
    loaded = x509.load_der_x509_crl(der)
    assert loaded.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None
    _openssl_crl_checks(sm2_pki, tmp_path, der, revoked.der)


@pytest.mark.interop
@pytest.mark.parametrize(
    ("leaf", "issuing"),
    [("enterprise", "sm2-organization"), ("person", "sm2-personal")],
)
def test_openssl_verify_with_distid_accepts_our_chains(
    sm2_pki: Sm2Pki, tmp_path: Path, leaf: str, issuing: str
) -> None:
    """Link by link: OpenSSL 3.0 applies -vfyopt distid to the target certificate only and
    checks intermediates (and -check_ss_sig roots) with an empty ID, so a three-level GM
    chain cannot pass in one call; each signature is checked as a target under its issuer."""
    leaf_id = sm2_pki.enterprise_id if leaf == "enterprise" else sm2_pki.person_id
    root = pem(tmp_path / "root.pem", ca_der(sm2_pki, "sm2-root"))
    ca = pem(tmp_path / "ca.pem", ca_der(sm2_pki, issuing))
    cert = pem(tmp_path / "leaf.pem", cert_der(sm2_pki, leaf_id))
    ok = openssl("verify", "-CAfile", root, *DISTID, ca)
    assert ok.returncode == 0 and f"{ca}: OK" in ok.stdout, ok.stdout + ok.stderr
    ok = openssl("verify", "-partial_chain", "-CAfile", ca, *DISTID, cert)
    assert ok.returncode == 0 and f"{cert}: OK" in ok.stdout, ok.stdout + ok.stderr
    # without the GM/T 0009 user ID it fails: the ID really is in our signatures
    bad = openssl("verify", "-partial_chain", "-CAfile", ca, *DISTID[2:], cert)
    assert bad.returncode != 0 and "signature failure" in bad.stdout + bad.stderr
    # the root's self-signature, which `verify` never checks with an ID
    root_cert = asn1_x509.Certificate.load(ca_der(sm2_pki, "sm2-root"))
    assert openssl_signature_ok(
        tmp_path,
        "root",
        root_cert["tbs_certificate"].dump(),
        bytes(root_cert["signature_value"]),
        certificate_spki(root_cert.dump()),
    )
    text = openssl("x509", "-in", cert, "-noout", "-text").stdout
    assert "SM2-with-SM3" in text, text


@pytest.mark.interop
def test_openssl_verify_accepts_service_certificates(sm2_pki: Sm2Pki, tmp_path: Path) -> None:
    root = pem(tmp_path / "root.pem", ca_der(sm2_pki, "sm2-root"))
    tsa = pem(tmp_path / "tsa.pem", ca_der(sm2_pki, "sm2-tsa"))
    ok = openssl("verify", "-CAfile", root, *DISTID, "-purpose", "timestampsign", tsa)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for responder, issuing in (
        ("sm2-ocsp-organization", "sm2-organization"),
        ("sm2-ocsp-personal", "sm2-personal"),
    ):
        ca = pem(tmp_path / f"{issuing}.pem", ca_der(sm2_pki, issuing))
        cert = pem(tmp_path / f"{responder}.pem", ca_der(sm2_pki, responder))
        ok = openssl("verify", "-partial_chain", "-CAfile", ca, *DISTID, "-purpose",
                      "ocsphelper", cert)  # fmt: skip
        assert ok.returncode == 0, ok.stdout + ok.stderr


def _openssl_crl_checks(sm2_pki: Sm2Pki, tmp_path: Path, crl_der: bytes, leaf_der: bytes) -> None:
    (tmp_path / "crl.der").write_bytes(crl_der)
    listed = openssl("crl", "-inform", "DER", "-in", tmp_path / "crl.der", "-noout", "-text")
    assert listed.returncode == 0 and "Key Compromise" in listed.stdout, listed.stderr
    crl = asn1_crl.CertificateList.load(crl_der)
    issuer_spki = certificate_spki(ca_der(sm2_pki, "sm2-organization"))
    assert openssl_signature_ok(
        tmp_path, "crl", crl["tbs_cert_list"].dump(), bytes(crl["signature"]), issuer_spki
    )


class _LyingSigner:
    """Holds one key, signs with another: what a faulty signing device could do."""

    def __init__(self, shown: sm2.Sm2PrivateKey, used: sm2.Sm2PrivateKey) -> None:
        self._shown, self._used = shown, used

    def public_key_info(self) -> bytes:
        return self._shown.public_key_info()

    def sign(self, data: bytes, digest: str) -> bytes:
        return sm2.sign(self._used, data)


def test_a_signature_that_does_not_verify_is_never_published() -> None:
    shown, used = sm2.generate_private_key(), sm2.generate_private_key()
    with pytest.raises(KeyStoreError, match="does not verify"):
        build_sm2_crl(
            issuer_der=_self_signed(shown),
            signer=_LyingSigner(shown, used),
            entries=[],
            number=1,
            this_update=FIXED_NOW,
            next_update=FIXED_NOW + timedelta(days=1),
        )


def _self_signed(key: sm2.Sm2PrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "t")])
    template = CertificateTemplate(
        subject=name,
        subject_public_key=key.public_key_info(),
        issuer_name=name,
        issuer_public_key=key.public_key_info(),
        issuer_ca="t",
        serial_number=1,
        not_before=FIXED_NOW,
        not_after=FIXED_NOW + timedelta(days=1),
        urls=PublicationUrls("http://t.example"),
        self_signed=True,
    )
    signer = _LyingSigner(key, key)
    return build_sm2_certificate(profile=ROOT_CA, template=template, signer=signer)
