"""`ensure_hierarchy`: what it creates, that it is idempotent, and OCSP/TSA re-issuance."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlmodel import Session, func, select

from pki.authority import Authority
from pki.errors import PkiError
from pki.hierarchy import HierarchyConfig, ensure_hierarchy
from pki.keys import KeyAlgorithm, SoftwareKeyStore
from pki.models import CaRecord, CertificateRecord
from tests.pki.conftest import BASE_URL, FIXED_NOW, PkiFixture, new_engine

ALL = ("root", "organization", "personal", "tsa", "ocsp-organization", "ocsp-personal")


def test_first_run_creates_everything_second_run_nothing(ec_pki: PkiFixture) -> None:
    assert ec_pki.first_run.created and ec_pki.first_run.created_cas == ALL
    with ec_pki.session() as session:
        before = session.exec(select(func.count()).select_from(CertificateRecord)).one()
        again = ensure_hierarchy(session, authority=ec_pki.authority, config=HierarchyConfig())
        after = session.exec(select(func.count()).select_from(CertificateRecord)).one()
    assert not again.created and again.created_cas == () and again.renewed_cas == ()
    assert again.message == "CA hierarchy already present; nothing created"
    assert before == after


def _ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)


def test_ec_hierarchy_shapes(ec_pki: PkiFixture) -> None:
    with ec_pki.session() as session:
        certs = {name: ec_pki.authority.ca_certificate(session, name) for name in ALL}
    root = certs["root"]
    assert root.subject == root.issuer
    assert root.subject.rfc4514_string() == "CN=eseal Root CA,O=eseal,C=CN"
    root.verify_directly_issued_by(root)
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert root.public_key().curve.name == "secp384r1"  # type: ignore[union-attr]
    assert root.not_valid_after_utc - root.not_valid_before_utc == timedelta(days=7305)
    assert _ext(root, x509.BasicConstraints).value.path_length is None
    for name in ("organization", "personal"):
        ca = certs[name]
        ca.verify_directly_issued_by(root)
        bc = _ext(ca, x509.BasicConstraints)
        assert bc.critical and bc.value.ca and bc.value.path_length == 0
        ku = _ext(ca, x509.KeyUsage).value
        assert ku.key_cert_sign and ku.crl_sign and not ku.digital_signature
        assert ca.public_key().curve.name == "secp384r1"  # type: ignore[union-attr]
        cdp = _ext(ca, x509.CRLDistributionPoints).value
        assert cdp[0].full_name[0].value == f"{BASE_URL}/pki/crl/root.crl"
    tsa = certs["tsa"]
    tsa.verify_directly_issued_by(root)
    eku = _ext(tsa, x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    for name, issuer in (("ocsp-organization", "organization"), ("ocsp-personal", "personal")):
        responder = certs[name]
        responder.verify_directly_issued_by(certs[issuer])
        eku = _ext(responder, x509.ExtendedKeyUsage)
        assert list(eku.value) == [ExtendedKeyUsageOID.OCSP_SIGNING]
        assert isinstance(_ext(responder, x509.OCSPNoCheck).value, x509.OCSPNoCheck)
        assert responder.not_valid_after_utc - responder.not_valid_before_utc == timedelta(days=365)
        assert _ext(responder, x509.BasicConstraints).value.ca is False


def test_rsa_family_is_rsa_3072_everywhere(rsa_pki: PkiFixture) -> None:
    with rsa_pki.session() as session:
        for name in ALL:
            key = rsa_pki.authority.ca_certificate(session, name).public_key()
            assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 3072
            signer = rsa_pki.authority.ca_signer(session, name)
            assert signer.algorithm is KeyAlgorithm.RSA_3072


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_expiring_ocsp_certificates_are_reissued(tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "renew.sqlite")
    clock = _Clock(FIXED_NOW)
    authority = Authority(keystore=SoftwareKeyStore(os.urandom(32)), base_url=BASE_URL, clock=clock)
    config = HierarchyConfig(issuing_curve=KeyAlgorithm.EC_P256)
    with Session(engine) as session:
        assert ensure_hierarchy(session, authority=authority, config=config).created
        old = authority.ca_certificate(session, "ocsp-organization")
        assert old.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
        clock.now = FIXED_NOW + timedelta(days=340)
        result = ensure_hierarchy(session, authority=authority, config=config)
        assert not result.created
        assert result.renewed_cas == ("ocsp-organization", "ocsp-personal")
        assert "renewed ocsp-organization, ocsp-personal" in result.message
        new = authority.ca_certificate(session, "ocsp-organization")
        assert new.serial_number != old.serial_number
        assert new.public_key() != old.public_key()
        assert new.not_valid_before_utc == clock.now
        assert ensure_hierarchy(session, authority=authority, config=config).renewed_cas == ()


def test_inconsistent_hierarchy_is_refused(tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "broken.sqlite")
    authority = Authority(keystore=SoftwareKeyStore(os.urandom(32)), base_url=BASE_URL)
    with Session(engine) as session:
        session.add(CaRecord(name="organization", certificate_id="x", key_id="y"))
        session.flush()
        with pytest.raises(PkiError, match="without a root"):
            ensure_hierarchy(session, authority=authority, config=HierarchyConfig())
