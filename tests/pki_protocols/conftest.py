"""A small, real test PKI built with `cryptography` directly (no eseal issuance code).

root CA (P-384)
├── issuing CA (P-256)
│   ├── good leaf, revoked leaf, unknown-to-lookup leaf
│   └── delegated OCSP responder (EKU OCSPSigning, id-pkix-ocsp-nocheck)
└── TSA (EKU timeStamping, critical)
plus an unrelated "foreign" CA with one leaf.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki.keys import MemoryKeySigner

NOW = datetime.now(UTC).replace(microsecond=0)
"""Real time: openssl checks CRL/OCSP freshness against the wall clock."""


@dataclass(frozen=True)
class Entity:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    pem: Path

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def signer(self) -> MemoryKeySigner:
        """The key as a `KeySigner`, the way the protocol builders sign."""
        return MemoryKeySigner(self.key)


@dataclass(frozen=True)
class Hierarchy:
    dir: Path
    root: Entity
    issuing: Entity
    ocsp: Entity
    tsa: Entity
    good: Entity
    revoked: Entity
    unknown: Entity
    foreign_ca: Entity
    foreign_leaf: Entity
    chain_pem: Path  # issuing + root


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eseal test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(
    *,
    directory: Path,
    filename: str,
    cn: str,
    curve: ec.EllipticCurve,
    issuer: Entity | None,
    ca: bool,
    path_length: int | None = None,
    eku: Sequence[x509.ObjectIdentifier] = (),
    eku_critical: bool = False,
    ocsp_nocheck: bool = False,
) -> Entity:
    key = ec.generate_private_key(curve)
    subject = _name(cn)
    issuer_name = issuer.cert.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365 * (10 if ca else 1)))
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                (issuer.key if issuer else key).public_key()
            ),
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=path_length), critical=True
        ).add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=not eku,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
    if ocsp_nocheck:
        builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    algorithm = hashes.SHA384() if isinstance(signing_key.curve, ec.SECP384R1) else hashes.SHA256()
    cert = builder.sign(signing_key, algorithm)
    pem = directory / filename
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Entity(cert=cert, key=key, pem=pem)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Hierarchy:
    d = tmp_path_factory.mktemp("pki")
    root = _issue(
        directory=d,
        filename="root.pem",
        cn="Test Root CA",
        curve=ec.SECP384R1(),
        issuer=None,
        ca=True,
    )
    issuing = _issue(
        directory=d,
        filename="issuing.pem",
        cn="Test Issuing CA",
        curve=ec.SECP256R1(),
        issuer=root,
        ca=True,
        path_length=0,
    )
    leaf = dict(directory=d, curve=ec.SECP256R1(), issuer=issuing, ca=False)
    ocsp_responder = _issue(
        filename="ocsp.pem",
        cn="Test OCSP Responder",
        eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
        ocsp_nocheck=True,
        **leaf,  # type: ignore[arg-type]
    )
    tsa = _issue(
        directory=d,
        filename="tsa.pem",
        cn="Test TSA",
        curve=ec.SECP256R1(),
        issuer=root,
        ca=False,
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
        eku_critical=True,
    )
    good = _issue(filename="good.pem", cn="good leaf", **leaf)  # type: ignore[arg-type]
    revoked = _issue(filename="revoked.pem", cn="revoked leaf", **leaf)  # type: ignore[arg-type]
    unknown = _issue(filename="unknown.pem", cn="unknown leaf", **leaf)  # type: ignore[arg-type]
    foreign_ca = _issue(
        directory=d,
        filename="foreign-ca.pem",
        cn="Foreign CA",
        curve=ec.SECP256R1(),
        issuer=None,
        ca=True,
    )
    foreign_leaf = _issue(
        directory=d,
        filename="foreign-leaf.pem",
        cn="foreign leaf",
        curve=ec.SECP256R1(),
        issuer=foreign_ca,
        ca=False,
    )
    chain = d / "chain.pem"
    chain.write_bytes(issuing.pem.read_bytes() + root.pem.read_bytes())
    return Hierarchy(
        dir=d,
        root=root,
        issuing=issuing,
        ocsp=ocsp_responder,
        tsa=tsa,
        good=good,
        revoked=revoked,
        unknown=unknown,
        foreign_ca=foreign_ca,
        foreign_leaf=foreign_leaf,
        chain_pem=chain,
    )


class Tools:
    """Independent tools: openssl and the pkilint console scripts."""

    def __init__(self) -> None:
        found = shutil.which("openssl")
        if found is None:
            pytest.skip("openssl is not installed")
        self.openssl = found

    @staticmethod
    def script(name: str) -> str:
        """A console script next to the running interpreter (the venv), else on PATH."""
        candidate = Path(sys.executable).parent / name
        if candidate.exists():
            return str(candidate)
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed")
        return found

    @staticmethod
    def run(*args: object, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a tool and capture its text; fail the test with the output when `check`."""
        proc = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False
        )
        if check and proc.returncode != 0:
            pytest.fail(f"{args[0]} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc


@pytest.fixture(scope="session")
def tools() -> Tools:
    return Tools()
