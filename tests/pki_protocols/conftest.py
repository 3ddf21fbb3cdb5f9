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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.pki import Entity, issue, name, write_pem

NOW = datetime.now(UTC).replace(microsecond=0)
"""Real time: openssl checks CRL/OCSP freshness against the wall clock."""


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
    """A certificate of the protocol tests' hierarchy (leaves valid a year), written as PEM."""
    made = issue(
        name(cn),
        issuer=issuer,
        ca=ca,
        curve=curve,
        path_length=path_length,
        eku=eku,
        eku_critical=eku_critical,
        ocsp_nocheck=ocsp_nocheck,
        not_after=NOW + timedelta(days=365 * (10 if ca else 1)),
    )
    return Entity(made.cert, made.key, write_pem(directory / filename, made.cert))


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


def rsa_tsa(pki: Hierarchy) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """An RSA 3072 time-stamping key and its certificate, issued by the test root."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA TSA")]))
        .issuer_name(pki.root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(pki.root.key, hashes.SHA384())
    )
    return key, cert


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
