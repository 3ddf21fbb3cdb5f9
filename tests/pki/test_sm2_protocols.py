"""OCSP answers and RFC 3161 time-stamps from the SM2 responders, checked by our SM2 code, by
gmssl-independent openssl dgst (with the GM/T 0009 ID) and, where it can, by openssl ocsp/ts."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import pytest
from asn1crypto import ocsp, tsp
from cryptography import x509

from pki import sm2
from pki.authority import EnterpriseIdentity
from pki.keys import KeyAlgorithm
from pki.publication import Publisher
from pki.sm2_ca import certificate_spki, ocsp_request
from pki.tsa import TimeStampResp
from tests.pki.conftest import run_tool
from tests.pki.sm2_support import (
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
    return build_sm2_pki(tmp_path_factory.mktemp("sm2-protocols"))


def _basic(response_der: bytes) -> ocsp.BasicOCSPResponse:
    response = ocsp.OCSPResponse.load(response_der)
    assert response["response_status"].native == "successful"
    return response["response_bytes"]["response"].parsed


def test_sm2_ocsp_good_then_revoked(sm2_pki: Sm2Pki, tmp_path: Path) -> None:
    with sm2_pki.session() as session:
        issued = sm2_pki.authority.issue(
            session,
            identity=EnterpriseIdentity(name="应答公司", uscc=USCC),
            key_algorithm=KeyAlgorithm.SM2,
        )
        publisher = Publisher(authority=sm2_pki.authority)
        good = publisher.ocsp_for(
            session, certificate=issued.certificate, issuer_ca="sm2-organization"
        )
        sm2_pki.authority.revoke(
            session, certificate_id=issued.certificate_id, reason=x509.ReasonFlags.superseded
        )
        revoked = Publisher(authority=sm2_pki.authority).ocsp_for(
            session, certificate=issued.certificate, issuer_ca="sm2-organization"
        )
        session.commit()
    responder_der = ca_der(sm2_pki, "sm2-ocsp-organization")
    for der, status in ((good, "good"), (revoked, "revoked")):
        basic = _basic(der)
        assert basic["signature_algorithm"]["algorithm"].dotted == sm2.OID_SM2_WITH_SM3
        single = basic["tbs_response_data"]["responses"][0]
        assert single["cert_status"].name == status
        assert single["cert_id"]["serial_number"].native == issued.serial_number
        assert basic["certs"][0].dump() == responder_der
        tbs = basic["tbs_response_data"].dump()
        signature = bytes(basic["signature"])
        assert sm2.verify(certificate_spki(responder_der), tbs, signature)
        assert openssl_signature_ok(
            tmp_path, status, tbs, signature, certificate_spki(responder_der)
        )
    # openssl ocsp reads the answer but cannot check an SM2 signature with the GM/T 0009 ID
    # (OCSP_basic_verify has no distid): -noverify prints the status only
    (tmp_path / "resp.der").write_bytes(revoked)
    text = openssl("ocsp", "-respin", tmp_path / "resp.der", "-resp_text", "-noverify")
    assert text.returncode == 0 and "Cert Status: revoked" in text.stdout, text.stderr
    issuer = pem(tmp_path / "issuer.pem", ca_der(sm2_pki, "sm2-organization"))
    root = pem(tmp_path / "root.pem", ca_der(sm2_pki, "sm2-root"))
    checked = openssl(
        "ocsp", "-respin", tmp_path / "resp.der", "-issuer", issuer, "-CAfile", root,
        "-no_cert_checks",
    )  # fmt: skip
    print("openssl ocsp verification of an SM2 response:", checked.stdout, checked.stderr)


def test_ecdsa_answers_are_unchanged_beside_sm2(sm2_pki: Sm2Pki) -> None:
    with sm2_pki.session() as session:
        issued = sm2_pki.authority.issue(
            session, identity=EnterpriseIdentity(name="椭圆公司", uscc=USCC)
        )
        answer = Publisher(authority=sm2_pki.authority).ocsp_for(
            session, certificate=issued.certificate, issuer_ca="organization"
        )
    basic = _basic(answer)
    assert basic["signature_algorithm"]["algorithm"].native.endswith("_ecdsa")
    assert basic["tbs_response_data"]["responses"][0]["cert_status"].name == "good"


def test_unknown_issuer_is_unauthorized(sm2_pki: Sm2Pki) -> None:
    other = cert_der(sm2_pki, sm2_pki.person_id)
    with sm2_pki.session() as session:
        wrong = ocsp_request(other, ca_der(sm2_pki, "sm2-root"))
        answer = Publisher(authority=sm2_pki.authority).ocsp_response(session, wrong)
    assert ocsp.OCSPResponse.load(answer)["response_status"].native == "unauthorized"


def test_sm2_tsa_token(sm2_pki: Sm2Pki, tmp_path: Path) -> None:
    data = b"signature value to time-stamp"
    query = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sm3"},
                "hashed_message": sm2.sm3(data),
            },
            "nonce": secrets.randbits(63),
            "cert_req": True,
        }
    )
    with sm2_pki.session() as session:
        reply = Publisher(authority=sm2_pki.authority).timestamp_response(
            session, query.dump(), sm2=True
        )
    response = TimeStampResp.load(reply)
    assert response["status"]["status"].native == "granted"
    token = response["time_stamp_token"]
    signed = token["content"]
    signer = signed["signer_infos"][0]
    assert signer["digest_algorithm"]["algorithm"].dotted == sm2.OID_SM3
    assert signer["signature_algorithm"]["algorithm"].dotted == sm2.OID_SM2_WITH_SM3
    tst_info = signed["encap_content_info"]["content"].contents
    digest = next(a for a in signer["signed_attrs"] if a["type"].native == "message_digest")
    assert digest["values"][0].native == sm2.sm3(tst_info)
    info = tsp.TSTInfo.load(tst_info)
    assert info["message_imprint"]["hashed_message"].native == sm2.sm3(data)
    tsa_der = ca_der(sm2_pki, "sm2-tsa")
    certs = [c.chosen.dump() for c in signed["certificates"]]
    assert sorted(certs) == sorted([tsa_der, ca_der(sm2_pki, "sm2-root")])
    attrs = b"\x31" + signer["signed_attrs"].dump()[1:]  # as a SET, as CMS signs it
    signature = bytes(signer["signature"])
    assert sm2.verify(certificate_spki(tsa_der), attrs, signature)
    assert openssl_signature_ok(tmp_path, "tst", attrs, signature, certificate_spki(tsa_der))
    (tmp_path / "reply.der").write_bytes(reply)
    text = openssl("ts", "-reply", "-in", tmp_path / "reply.der", "-text")
    assert text.returncode == 0 and "Status: Granted" in text.stdout, text.stderr
    assert "SM3" in text.stdout.upper()


def test_ecdsa_tsa_still_refuses_nothing_new(sm2_pki: Sm2Pki) -> None:
    """The main TSA keeps answering SHA-256 queries with ECDSA tokens."""
    query = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(b"x").digest(),
            },
            "cert_req": False,
        }
    )
    with sm2_pki.session() as session:
        reply = Publisher(authority=sm2_pki.authority).timestamp_response(session, query.dump())
    signer = TimeStampResp.load(reply)["time_stamp_token"]["content"]["signer_infos"][0]
    assert signer["signature_algorithm"]["algorithm"].native.endswith("_ecdsa")


@pytest.mark.interop
def test_pkilint_on_sm2_certificates_crl_and_ocsp(sm2_pki: Sm2Pki, tmp_path: Path) -> None:
    """pkilint's PKIX rules hold for our SM2 certificates, CRL and OCSP answer (pkilint cannot
    check SM2 signatures: its chain linter says pkix.unsupported_algorithm, so that is not run)."""
    files = {
        "leaf": pem(tmp_path / "leaf.pem", cert_der(sm2_pki, sm2_pki.enterprise_id)),
        "person": pem(tmp_path / "person.pem", cert_der(sm2_pki, sm2_pki.person_id)),
        "ca": pem(tmp_path / "ca.pem", ca_der(sm2_pki, "sm2-organization")),
        "root": pem(tmp_path / "root.pem", ca_der(sm2_pki, "sm2-root")),
        "tsa": pem(tmp_path / "tsa.pem", ca_der(sm2_pki, "sm2-tsa")),
        "responder": pem(tmp_path / "ocsp.pem", ca_der(sm2_pki, "sm2-ocsp-organization")),
    }
    for name, path in files.items():
        result = run_tool("lint_pkix_cert", "lint", "-s", "WARNING", path)
        assert result.returncode == 0 and result.stdout.strip() == "", (name, result.stdout)
    with sm2_pki.session() as session:
        publisher = Publisher(authority=sm2_pki.authority)
        crl = publisher.refresh_crl(session, "sm2-organization")
        leaf = sm2_pki.authority.get(session, sm2_pki.enterprise_id).certificate
        answer = publisher.ocsp_for(session, certificate=leaf, issuer_ca="sm2-organization")
        session.commit()
    (tmp_path / "crl.der").write_bytes(crl)
    result = run_tool(
        "lint_crl", "lint", "-s", "WARNING", "-t", "CRL", "-p", "PKIX", tmp_path / "crl.der"
    )
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout
    (tmp_path / "ocsp.der").write_bytes(answer)
    result = run_tool("lint_ocsp_response", "lint", tmp_path / "ocsp.der")
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout
