"""Evidence packages (存证): a sealed document's package checks offline with `eseal evidence
verify` (no service, no database) and with openssl; one flipped byte in any member is
refused naming that member."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from seals.evidence import MANIFEST, MANIFEST_STAMP, ROOT
from seals.evidence_check import check_package
from tests.conftest import auth
from tests.scenarios.helpers import sign
from tests.seals_registry.util import Org, problem_code
from tests.support.documents import contract_pdf


@pytest.fixture(scope="module")
def package(client: TestClient, platform_key: str) -> tuple[bytes, str, str]:
    """A contract sealed at B-LT and its evidence package: (zip, document id, key)."""
    from tests.conftest import make_uscc

    org_json = client.post(
        "/api/v1/organizations",
        json={"name": "杭州存证科技有限公司", "uscc": make_uscc(), "legal_representative": "张伟"},
        headers=auth(platform_key),
    ).json()
    admin = client.post(
        f"/api/v1/organizations/{org_json['id']}/clients",
        json={"name": "admin", "scopes": ["org:admin"]},
        headers=auth(platform_key),
    ).json()["api_key"]
    org = Org(client, org_json["id"], org_json["name"], org_json["uscc"], admin, platform_key)
    seal = org.seal("contract")
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal["id"], "client", client_id)
    signed = sign(client, key, seal["id"], contract_pdf())
    assert signed.status_code == 200, signed.text
    document_id = signed.headers["x-eseal-document-id"]
    response = client.get(f"/api/v1/documents/{document_id}/evidence", headers=auth(key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return response.content, document_id, key


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_the_package_holds_what_a_court_needs_and_verifies_offline(
    package: tuple[bytes, str, str], tmp_path: Path
) -> None:
    data, document_id, _ = package
    members = _members(data)
    names = set(members)
    assert {
        "manifest.json",
        "manifest.tsr",
        "document.pdf",
        "report.json",
        "report.pdf",
        "audit/events.json",
        "audit/checkpoint.json",
        "audit/checkpoint.tsr",
        "pki/root.crt",
    } <= names
    assert any(n.startswith("pki/ocsp/") for n in names)
    assert any(n.startswith("pki/crls/") for n in names)
    assert members["report.pdf"].startswith(b"%PDF")
    assert b'"seal.use"' in members["audit/events.json"]

    report = check_package(data)
    assert report.valid, report
    assert report.subject["id"] == document_id and report.events >= 1

    # the command line, with no database and no settings at all
    path = tmp_path / "evidence.zip"
    path.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESEAL_")}
    env["ESEAL_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "evidence", "verify", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID evidence for document" in result.stdout


def test_openssl_accepts_the_manifest_time_stamp(
    package: tuple[bytes, str, str], tmp_path: Path
) -> None:
    if shutil.which("openssl") is None:
        assert os.environ.get("CI") != "true", "openssl is missing"
        pytest.skip("openssl not installed")
    members = _members(package[0])
    root = x509.load_der_x509_certificate(members[ROOT])
    from cryptography.hazmat.primitives.serialization import Encoding

    (tmp_path / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    (tmp_path / "manifest.json").write_bytes(members[MANIFEST])
    (tmp_path / "manifest.tsr").write_bytes(members[MANIFEST_STAMP])
    command = [
        "openssl",
        "ts",
        "-verify",
        "-token_in",
        "-in",
        "manifest.tsr",
        "-CAfile",
        "root.pem",
    ]
    ok = subprocess.run(
        [*command, "-data", "manifest.json"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "Verification: OK" in ok.stdout, ok.stdout + ok.stderr
    (tmp_path / "other.json").write_bytes(members[MANIFEST] + b" ")
    bad = subprocess.run(
        [*command, "-data", "other.json"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "Verification: OK" not in bad.stdout


def test_one_flipped_byte_in_any_member_is_named(
    package: tuple[bytes, str, str], tmp_path: Path
) -> None:
    members = _members(package[0])
    assert len(members) >= 12
    for name, content in members.items():
        for position in {len(content) // 2, len(content) - 1, 7}:
            damaged = bytearray(content)
            damaged[position] ^= 0x01
            report = check_package(_rezip({**members, name: bytes(damaged)}))
            assert not report.valid, (name, position)
            assert report.member == name, (name, position, report.member, report.reason)
    # an extra or a missing member is named too
    extra = check_package(_rezip({**members, "pki/certs/extra.crt": b"x"}))
    assert (extra.valid, extra.member) == (False, "pki/certs/extra.crt")
    missing = dict(members)
    del missing["report.pdf"]
    gone = check_package(_rezip(missing))
    assert (gone.valid, gone.member) == (False, "report.pdf")

    # the command line names the member and exits 1
    damaged_pdf = bytearray(members["document.pdf"])
    damaged_pdf[len(damaged_pdf) // 3] ^= 0x20
    path = tmp_path / "damaged.zip"
    path.write_bytes(_rezip({**members, "document.pdf": bytes(damaged_pdf)}))
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "evidence", "verify", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "FAIL  document.pdf: does not match its digest in the manifest" in result.stdout


def _other_root() -> bytes:
    """A self-signed CA with the same name as ours but another key."""
    from datetime import UTC, datetime, timedelta

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name.from_rfc4514_string("CN=eseal Root CA,O=eseal,C=CN")
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.DER)


def test_a_package_under_another_root_is_refused_when_the_root_is_pinned(
    package: tuple[bytes, str, str],
) -> None:
    report = check_package(package[0], trust_root=_other_root())
    assert not report.valid and report.member == MANIFEST_STAMP
    assert report.reason == "the time-stamping authority is not trusted"
    # and the same against the package's own root holds
    assert check_package(package[0], trust_root=_members(package[0])[ROOT]).valid


def test_evidence_is_only_for_those_who_may_read_the_document(
    package: tuple[bytes, str, str], client: TestClient, new_org: Any, org_key: Any
) -> None:
    _, document_id, _ = package
    outsider = org_key(new_org("别的公司")["id"])
    response = client.get(f"/api/v1/documents/{document_id}/evidence", headers=auth(outsider))
    assert response.status_code == 404 and problem_code(response) == "not-found"
    assert client.get(f"/api/v1/documents/{document_id}/evidence").status_code == 401


def test_a_changed_certificate_copy_inside_a_time_stamp_token_is_named(
    package: tuple[bytes, str, str],
) -> None:
    """A token's extra certificates (the root beside the TSA's) are under no signature: a copy
    that differs from the package's own certificate is named, not ignored."""
    members = _members(package[0])
    token = members["manifest.tsr"]
    root = members["pki/root.crt"]
    at = token.find(root)
    assert at > 0, "the token carries the root certificate"
    damaged = bytearray(token)
    damaged[at + len(root) // 2] ^= 0x01
    report = check_package(_rezip({**members, "manifest.tsr": bytes(damaged)}))
    assert (report.valid, report.member) == (False, "manifest.tsr"), report
    assert "carries a certificate the package does not" in (report.reason or "")
