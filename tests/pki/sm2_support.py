"""Shared by the SM2 PKI tests: a small SM2 hierarchy with an enterprise and a person, and
the openssl helpers that check SM2 signatures with the GM/T 0009 user ID."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session

from pki.authority import Authority, EnterpriseIdentity, PersonIdentity
from pki.hierarchy import HierarchyConfig, ensure_sm2_hierarchy
from pki.keys import KeyAlgorithm
from tests.pki.conftest import FIXED_NOW, PkiFixture, build_pki

SM2_ALL = (
    "sm2-root",
    "sm2-organization",
    "sm2-personal",
    "sm2-tsa",
    "sm2-ocsp-organization",
    "sm2-ocsp-personal",
)
USCC = "91350100M000100Y43"
RESIDENT_ID = "11010519491231002X"


@dataclass(frozen=True)
class Sm2Pki:
    pki: PkiFixture
    enterprise_id: str
    person_id: str

    def session(self) -> Session:
        return self.pki.session()

    @property
    def authority(self) -> Authority:
        return self.pki.authority


def build_sm2_pki(directory: Path) -> Sm2Pki:
    """The EC test PKI plus the SM2 hierarchy, an SM2 enterprise and an SM2 person."""
    pki = build_pki(directory, family="ec")
    with pki.session() as session:
        result = ensure_sm2_hierarchy(session, authority=pki.authority, config=HierarchyConfig())
        assert result.created_cas == SM2_ALL
        enterprise = pki.authority.issue(
            session,
            identity=EnterpriseIdentity(name="示例科技有限公司", uscc=USCC),
            owner_org_id="org-1",
            key_algorithm=KeyAlgorithm.SM2,
            seal_code="3501000000001",
        )
        person = pki.authority.issue(
            session,
            identity=PersonIdentity(name="张三", resident_id=RESIDENT_ID),
            owner_person_id="person-1",
            key_algorithm=KeyAlgorithm.SM2,
        )
        session.commit()
    return Sm2Pki(pki, enterprise.certificate_id, person.certificate_id)


def cert_der(pki: Sm2Pki, certificate_id: str) -> bytes:
    with pki.session() as session:
        return pki.authority.get(session, certificate_id).der


def ca_der(pki: Sm2Pki, name: str) -> bytes:
    with pki.session() as session:
        return pki.authority.ca_certificate(session, name).public_bytes(Encoding.DER)


# --- openssl ----------------------------------------------------------------------------------

DISTID = (
    "-vfyopt",
    "distid:1234567812345678",
    "-attime",
    str(int(FIXED_NOW.timestamp()) + 3600),
)


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("openssl") is None:
        assert os.environ.get("CI") != "true", "openssl is missing"
        pytest.skip("openssl is not installed")
    return subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, check=False, timeout=60
    )


def pem(path: Path, *ders: bytes) -> Path:
    path.write_text(
        "".join(x509.load_der_x509_certificate(d).public_bytes(Encoding.PEM).decode() for d in ders)
    )
    return path


def openssl_signature_ok(
    tmp_path: Path, name: str, signed: bytes, signature: bytes, signer_spki: bytes
) -> bool:
    """openssl dgst -sm3 -verify with the GM/T 0009 ID over exactly the signed bytes."""
    (tmp_path / f"{name}.tbs").write_bytes(signed)
    (tmp_path / f"{name}.sig").write_bytes(signature)
    (tmp_path / f"{name}.pub").write_bytes(signer_spki)
    done = openssl(
        "dgst", "-sm3", "-verify", tmp_path / f"{name}.pub", "-keyform", "DER",
        "-sigopt", "distid:1234567812345678",
        "-signature", tmp_path / f"{name}.sig", tmp_path / f"{name}.tbs",
    )  # fmt: skip
    return done.returncode == 0 and "Verified OK" in done.stdout
