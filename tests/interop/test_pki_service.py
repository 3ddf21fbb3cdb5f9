"""The running service checked by openssl and pkilint over real HTTP: CRL, OCSP, TSA."""

from __future__ import annotations

import base64
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient

from pki.tsa import TimeStampResp
from tests.conftest import auth, make_resident_id

pytestmark = pytest.mark.interop


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, timeout=60
    )


def der_to_pem(der_path: Path, kind: str) -> Path:
    pem = der_path.with_suffix(".pem")
    result = run("openssl", kind, "-inform", "DER", "-in", der_path, "-out", pem)
    assert result.returncode == 0, result.stderr
    return pem


@pytest.fixture(scope="module")
def ca_files(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("ca")
    files = {}
    for ca in ("root", "organization", "personal"):
        response = httpx.get(f"{live_server}/pki/ca/{ca}.crt")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pkix-cert"
        cert = x509.load_der_x509_certificate(response.content)
        path = directory / f"{ca}.pem"
        path.write_bytes(cert.public_bytes(Encoding.PEM))
        files[ca] = path
    files["chain"] = directory / "chain.pem"
    files["chain"].write_bytes(files["organization"].read_bytes() + files["root"].read_bytes())
    return files


def _issue(client: TestClient, key: str, org_id: str, directory: Path, name: str) -> dict[str, Any]:
    body = client.post(
        f"/api/v1/organizations/{org_id}/certificates", json={}, headers=auth(key)
    ).json()
    path = directory / f"{name}.pem"
    path.write_text(body["pem"])
    return {**body, "path": path}


def _fetch_crl(live_server: str, directory: Path, ca: str, name: str) -> Path:
    response = httpx.get(f"{live_server}/pki/crl/{ca}.crl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    path = directory / f"{name}.crl"
    path.write_bytes(response.content)
    return der_to_pem(path, "crl")


def test_crl_check_and_revocation(
    client: TestClient,
    live_server: str,
    ca_files: dict[str, Path],
    new_org: Any,
    org_key: Any,
    tmp_path: Path,
) -> None:
    org = new_org("吊销测试有限公司")
    key = org_key(org["id"])
    good = _issue(client, key, org["id"], tmp_path, "good")
    bad = _issue(client, key, org["id"], tmp_path, "bad")

    crl = _fetch_crl(live_server, tmp_path, "organization", "before")
    ok = run(
        "openssl",
        "verify",
        "-crl_check",
        "-CRLfile",
        crl,
        "-CAfile",
        ca_files["chain"],
        bad["path"],
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr

    revoked = client.post(
        f"/api/v1/certificates/{bad['id']}/revoke",
        json={"reason": "keyCompromise"},
        headers=auth(key),
    )
    assert revoked.status_code == 200
    crl = _fetch_crl(live_server, tmp_path, "organization", "after")
    refused = run(
        "openssl",
        "verify",
        "-crl_check",
        "-CRLfile",
        crl,
        "-CAfile",
        ca_files["chain"],
        bad["path"],
    )
    assert refused.returncode != 0
    assert "certificate revoked" in refused.stdout + refused.stderr
    still = run(
        "openssl",
        "verify",
        "-crl_check",
        "-CRLfile",
        crl,
        "-CAfile",
        ca_files["chain"],
        good["path"],
    )
    assert still.returncode == 0, still.stdout + still.stderr

    text = run("openssl", "crl", "-in", crl, "-noout", "-text").stdout
    assert "X509v3 CRL Number" in text and "Next Update" in text
    assert "X509v3 Authority Key Identifier" in text and "Key Compromise" in text
    lint = run(".venv/bin/lint_crl", "lint", "-t", "CRL", "-p", "PKIX", crl)
    assert lint.returncode == 0 and lint.stdout.strip() == "", lint.stdout + lint.stderr
    root_crl = _fetch_crl(live_server, tmp_path, "root", "root")
    lint_root = run(".venv/bin/lint_crl", "lint", "-t", "CRL", "-p", "PKIX", root_crl)
    assert lint_root.stdout.strip() == "", lint_root.stdout


def _ocsp_status(live_server: str, ca_files: dict[str, Path], cert: Path, *extra: str) -> str:
    result = run(
        "openssl",
        "ocsp",
        "-issuer",
        ca_files["organization"],
        *extra,
        "-cert",
        cert,
        "-url",
        f"{live_server}/pki/ocsp",
        "-CAfile",
        ca_files["root"],
    )
    assert "Response verify OK" in result.stderr + result.stdout, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "digest",
    [[], ["-sha256"], ["-no_nonce"], ["-sha256", "-no_nonce"]],
    ids=["sha1-certid", "sha256-certid", "sha1-pre-produced", "sha256-pre-produced"],
)
def test_openssl_ocsp_good_then_revoked(
    client: TestClient,
    live_server: str,
    ca_files: dict[str, Path],
    new_org: Any,
    org_key: Any,
    tmp_path: Path,
    digest: list[str],
) -> None:
    org = new_org("在线状态测试有限公司")
    key = org_key(org["id"])
    cert = _issue(client, key, org["id"], tmp_path, "leaf")
    before = _ocsp_status(live_server, ca_files, cert["path"], *digest)
    assert f"{cert['path']}: good" in before
    # without a nonce the live server answers from its pre-produced response the second time;
    # the revocation below happens in ANOTHER process (the TestClient's), and must be seen
    # by the very next request all the same
    assert f"{cert['path']}: good" in _ocsp_status(live_server, ca_files, cert["path"], *digest)
    client.post(
        f"/api/v1/certificates/{cert['id']}/revoke",
        json={"reason": "cessationOfOperation"},
        headers=auth(key),
    )
    after = _ocsp_status(live_server, ca_files, cert["path"], *digest)
    assert f"{cert['path']}: revoked" in after
    assert "Reason: cessationOfOperation" in after and "Revocation Time" in after


def test_ocsp_for_personal_certificates_and_get_requests(
    client: TestClient,
    live_server: str,
    ca_files: dict[str, Path],
    new_org: Any,
    org_key: Any,
    tmp_path: Path,
) -> None:
    org = new_org()
    key = org_key(org["id"])
    member = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={"name": "王芳", "resident_id": make_resident_id(), "roles": ["signer"]},
        headers=auth(key),
    ).json()
    body = client.post(
        f"/api/v1/organizations/{org['id']}/members/{member['person_id']}/certificates",
        json={},
        headers=auth(key),
    ).json()
    leaf = tmp_path / "person.pem"
    leaf.write_text(body["pem"])
    request = tmp_path / "req.der"
    made = run(
        "openssl",
        "ocsp",
        "-issuer",
        ca_files["personal"],
        "-sha256",
        "-cert",
        leaf,
        "-reqout",
        request,
    )
    assert made.returncode == 0, made.stderr
    encoded = urllib.parse.quote(base64.b64encode(request.read_bytes()).decode(), safe="")
    response = httpx.get(f"{live_server}/pki/ocsp/{encoded}")
    assert response.headers["content-type"] == "application/ocsp-response"
    answer = asn1_ocsp.OCSPResponse.load(response.content)
    assert answer["response_status"].native == "successful"
    single = answer.basic_ocsp_response["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == "good"
    saved = tmp_path / "resp.der"
    saved.write_bytes(response.content)
    lint = run(".venv/bin/lint_ocsp_response", "lint", saved)
    assert lint.returncode == 0 and lint.stdout.strip() == "", lint.stdout + lint.stderr


@pytest.mark.parametrize("body", [b"", b"garbage", b"\x30\x03\x02\x01"])
def test_malformed_ocsp_requests_get_malformed_request(live_server: str, body: bytes) -> None:
    response = httpx.post(
        f"{live_server}/pki/ocsp",
        content=body,
        headers={"content-type": "application/ocsp-request"},
    )
    assert response.status_code == 200
    assert asn1_ocsp.OCSPResponse.load(response.content)["response_status"].native == (
        "malformed_request"
    )
    bad_get = httpx.get(f"{live_server}/pki/ocsp/%%%not-base64%%%")
    assert bad_get.status_code == 200
    assert asn1_ocsp.OCSPResponse.load(bad_get.content)["response_status"].native == (
        "malformed_request"
    )


def test_openssl_time_stamp_round_trip(live_server: str, tmp_path: Path) -> None:
    data = tmp_path / "contract.pdf"
    data.write_bytes("合同正文 eseal time-stamp test".encode() * 50)
    query = tmp_path / "req.tsq"
    made = run("openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
    assert made.returncode == 0, made.stderr
    response = httpx.post(
        f"{live_server}/pki/tsa",
        content=query.read_bytes(),
        headers={"content-type": "application/timestamp-query"},
    )
    assert response.headers["content-type"] == "application/timestamp-reply"
    reply = tmp_path / "resp.tsr"
    reply.write_bytes(response.content)
    root = tmp_path / "root.pem"
    root.write_bytes(
        x509.load_der_x509_certificate(
            httpx.get(f"{live_server}/pki/ca/root.crt").content
        ).public_bytes(Encoding.PEM)
    )
    text = run("openssl", "ts", "-reply", "-in", reply, "-text").stdout
    assert "Status: Granted." in text and "Accuracy:" in text and "Nonce:" in text
    ok = run("openssl", "ts", "-verify", "-data", data, "-in", reply, "-CAfile", root)
    assert "Verification: OK" in ok.stdout, ok.stdout + ok.stderr
    with_nonce = run("openssl", "ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", root)
    assert "Verification: OK" in with_nonce.stdout, with_nonce.stdout + with_nonce.stderr
    data.write_bytes(data.read_bytes() + b"!")
    changed = run("openssl", "ts", "-verify", "-data", data, "-in", reply, "-CAfile", root)
    assert "Verification: OK" not in changed.stdout


def test_bad_time_stamp_queries_get_a_rejection(live_server: str) -> None:
    for body in (b"", b"not DER at all", b"\x30\x00"):
        response = httpx.post(
            f"{live_server}/pki/tsa",
            content=body,
            headers={"content-type": "application/timestamp-query"},
        )
        assert response.status_code == 200
        status = TimeStampResp.load(response.content)["status"]
        assert status["status"].native == "rejection"
        assert "bad_request" in status["fail_info"].native


def test_unknown_ca_paths_are_404_problems(live_server: str) -> None:
    for path in ("/pki/ca/tsa.crt", "/pki/crl/nothing.crl", "/pki/ca/ROOT.crt"):
        response = httpx.get(f"{live_server}{path}")
        assert response.status_code in (404, 422), path
        assert response.headers["content-type"] == "application/problem+json"


def test_pkilint_on_certificates_the_service_issues(
    client: TestClient, ca_files: dict[str, Path], new_org: Any, org_key: Any, tmp_path: Path
) -> None:
    org = new_org("杭州青禾科技有限公司")
    key = org_key(org["id"])
    enterprise = _issue(client, key, org["id"], tmp_path, "enterprise")
    member = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={"name": "张伟", "resident_id": make_resident_id(), "roles": ["signer"]},
        headers=auth(key),
    ).json()
    personal = tmp_path / "personal.pem"
    personal.write_text(
        client.post(
            f"/api/v1/organizations/{org['id']}/members/{member['person_id']}/certificates",
            json={},
            headers=auth(key),
        ).json()["pem"]
    )
    for path in (
        ca_files["root"],
        ca_files["organization"],
        ca_files["personal"],
        enterprise["path"],
        personal,
    ):
        lint = run(".venv/bin/lint_pkix_cert", "lint", "-s", "WARNING", path)
        assert lint.returncode == 0 and lint.stdout.strip() == "", (path, lint.stdout)
    for issuer, subject in (
        (ca_files["organization"], enterprise["path"]),
        (ca_files["personal"], personal),
    ):
        chain = run(".venv/bin/lint_pkix_signer_signee_cert_chain", "lint", issuer, subject)
        assert chain.stdout.strip() == "", chain.stdout
