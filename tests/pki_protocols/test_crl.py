from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pki.crl import RevokedEntry, build_crl
from pki.errors import CrlError
from pki.keys import KeyAlgorithm, MemoryKeySigner, signature_digest
from pki.signatures import sign_bytes, verify_signature

from .conftest import NOW, Hierarchy, Tools


@pytest.fixture(scope="module")
def crl_der(pki: Hierarchy) -> bytes:
    return build_crl(
        issuer_cert=pki.issuing.cert,
        issuer_key=pki.issuing.signer,
        entries=[
            RevokedEntry(
                serial=pki.revoked.cert.serial_number,
                revoked_at=NOW - timedelta(hours=2),
                reason=x509.ReasonFlags.key_compromise,
            ),
            RevokedEntry(serial=12345, revoked_at=NOW - timedelta(hours=1), reason=None),
            RevokedEntry(
                serial=777, revoked_at=NOW - timedelta(hours=3), reason=x509.ReasonFlags.unspecified
            ),
        ],
        number=42,
        this_update=NOW - timedelta(minutes=5),
        next_update=NOW + timedelta(days=1),
    )


@pytest.fixture(scope="module")
def crl_files(pki: Hierarchy, crl_der: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("crl")
    (d / "issuing.crl").write_bytes(crl_der)
    crl = x509.load_der_x509_crl(crl_der)
    (d / "issuing.crl.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return d


def test_structure(pki: Hierarchy, crl_der: bytes) -> None:
    crl = x509.load_der_x509_crl(crl_der)
    assert crl.is_signature_valid(pki.issuing.cert.public_key())  # type: ignore[arg-type]
    assert crl.issuer == pki.issuing.cert.subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = pki.issuing.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    entry = crl.get_revoked_certificate_by_serial_number(pki.revoked.cert.serial_number)
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    for serial in (12345, 777):  # no reason / unspecified: no reason code at all
        other = crl.get_revoked_certificate_by_serial_number(serial)
        assert other is not None and len(other.extensions) == 0
    assert crl.signature_hash_algorithm is not None
    assert crl.signature_hash_algorithm.name == "sha256"  # P-256 issuer


def test_openssl_text(tools: Tools, crl_files: Path) -> None:
    out = tools.run(
        tools.openssl, "crl", "-inform", "DER", "-in", crl_files / "issuing.crl", "-text", "-noout"
    ).stdout
    assert "Version 2" in out
    assert "X509v3 CRL Number" in out and "42" in out
    assert "X509v3 Authority Key Identifier" in out
    assert "Key Compromise" in out
    assert "ecdsa-with-SHA256" in out


def test_openssl_verify_crl_check(pki: Hierarchy, tools: Tools, crl_files: Path) -> None:
    common = ["-crl_check", "-CRLfile", crl_files / "issuing.crl.pem", "-CAfile", pki.chain_pem]
    good = tools.run(tools.openssl, "verify", *common, pki.good.pem)
    assert f"{pki.good.pem}: OK" in good.stdout
    bad = tools.run(tools.openssl, "verify", *common, pki.revoked.pem, check=False)
    assert bad.returncode != 0
    assert "certificate revoked" in bad.stdout + bad.stderr


def test_pkilint_clean(tools: Tools, crl_files: Path) -> None:
    out = tools.run(
        tools.script("lint_crl"),
        "lint",
        "-s",
        "INFO",
        "-t",
        "CRL",
        "-p",
        "PKIX",
        crl_files / "issuing.crl.pem",
    )
    assert out.stdout.strip() == ""


def test_empty_crl_is_valid(pki: Hierarchy) -> None:
    der = build_crl(
        issuer_cert=pki.root.cert,
        issuer_key=pki.root.signer,
        entries=[],
        number=0,
        this_update=NOW,
        next_update=NOW + timedelta(days=7),
    )
    crl = x509.load_der_x509_crl(der)
    assert len(crl) == 0
    assert crl.is_signature_valid(pki.root.cert.public_key())  # type: ignore[arg-type]
    assert crl.signature_hash_algorithm is not None
    assert crl.signature_hash_algorithm.name == "sha384"  # P-384 root


@pytest.mark.parametrize(
    "change",
    [
        {"number": -1},
        {"number": 1 << 159},
        {"next_update": NOW - timedelta(seconds=1)},
        {"this_update": NOW.replace(tzinfo=None)},
        {
            "entries": [
                RevokedEntry(serial=1, revoked_at=NOW),
                RevokedEntry(serial=1, revoked_at=NOW),
            ]
        },
        {"entries": [RevokedEntry(serial=0, revoked_at=NOW)]},
        {
            "entries": [
                RevokedEntry(serial=5, revoked_at=NOW, reason=x509.ReasonFlags.remove_from_crl)
            ]
        },
        {"entries": [RevokedEntry(serial=5, revoked_at=NOW.replace(tzinfo=None))]},
    ],
)
def test_refuses_bad_input(pki: Hierarchy, change: dict[str, object]) -> None:
    kwargs: dict[str, object] = {
        "issuer_cert": pki.issuing.cert,
        "issuer_key": pki.issuing.signer,
        "entries": [],
        "number": 1,
        "this_update": NOW,
        "next_update": NOW + timedelta(days=1),
    }
    kwargs.update(change)
    with pytest.raises(CrlError):
        build_crl(**kwargs)  # type: ignore[arg-type]


def test_refuses_key_not_matching_cert(pki: Hierarchy) -> None:
    with pytest.raises(CrlError):
        build_crl(
            issuer_cert=pki.issuing.cert,
            issuer_key=pki.root.signer,
            entries=[],
            number=1,
            this_update=NOW,
            next_update=NOW + timedelta(days=1),
        )


def test_signature_hash_matches_curve() -> None:
    assert signature_digest(KeyAlgorithm.EC_P256) == "sha256"
    assert signature_digest(KeyAlgorithm.RSA_3072) == "sha256"
    key = ec.generate_private_key(ec.SECP384R1())
    signature, algorithm = sign_bytes(MemoryKeySigner(key), b"data")
    assert algorithm == "sha384_ecdsa"
    key.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA384()))
    assert not verify_signature(key.public_key(), signature, b"other", "sha384")
