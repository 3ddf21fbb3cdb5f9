from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from asn1crypto import algos, ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pki.errors import OcspConfigError, OcspRequestError
from pki.ocsp import (
    CertStatus,
    OcspIssuer,
    OcspResponseStatus,
    decode_get_request,
    error_response,
    respond,
)

from .conftest import NOW, Hierarchy, Tools

REVOKED_AT = NOW - timedelta(hours=3)
VALIDITY = timedelta(hours=1)


@pytest.fixture(scope="module")
def issuer(pki: Hierarchy) -> OcspIssuer:
    return OcspIssuer(
        issuer_cert=pki.issuing.cert,
        responder_cert=pki.ocsp.cert,
        responder_key=pki.ocsp.signer,
        name="organization",
    )


@pytest.fixture(scope="module")
def lookup(pki: Hierarchy) -> Callable[[str, int], CertStatus]:
    statuses = {
        pki.good.cert.serial_number: CertStatus.good(),
        pki.revoked.cert.serial_number: CertStatus.revoked(
            at=REVOKED_AT, reason=x509.ReasonFlags.key_compromise
        ),
    }

    def _lookup(name: str, serial: int) -> CertStatus:
        assert name == "organization"
        return statuses.get(serial, CertStatus.unknown())

    return _lookup


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ocsp")


def _openssl_request(tools: Tools, pki: Hierarchy, out: Path, *flags: str) -> bytes:
    certs = [a for e in (pki.good, pki.revoked, pki.unknown) for a in ("-cert", str(e.pem))]
    tools.run(tools.openssl, "ocsp", "-issuer", pki.issuing.pem, *flags, *certs, "-reqout", out)
    return out.read_bytes()


def _basic(response_der: bytes) -> ocsp.BasicOCSPResponse:
    response = ocsp.OCSPResponse.load(response_der)
    assert response["response_status"].native == "successful"
    return response["response_bytes"]["response"].parsed


def _status(response_der: bytes) -> str:
    return ocsp.OCSPResponse.load(response_der)["response_status"].native


@pytest.mark.parametrize(
    "flags",
    [(), ("-no_nonce",), ("-sha256",), ("-sha256", "-no_nonce"), ("-sha384",), ("-sha512",)],
    ids=["sha1-nonce", "sha1", "sha256-nonce", "sha256", "sha384-nonce", "sha512-nonce"],
)
def test_openssl_accepts_response(
    pki: Hierarchy,
    tools: Tools,
    issuer: OcspIssuer,
    lookup: Callable[[str, int], CertStatus],
    workdir: Path,
    flags: tuple[str, ...],
) -> None:
    stem = "-".join(f.strip("-") for f in flags) or "default"
    req, resp = workdir / f"{stem}.req", workdir / f"{stem}.resp"
    response = respond(
        _openssl_request(tools, pki, req, *flags),
        issuers=[issuer],
        lookup=lookup,
        now=NOW,
        validity=VALIDITY,
    )
    resp.write_bytes(response)
    common = ["-respin", resp, "-issuer", pki.issuing.pem, "-CAfile", pki.root.pem]

    # 1. Signature, responder delegation and (when sent) the nonce, against the saved request.
    verified = tools.run(tools.openssl, "ocsp", *common, "-reqin", req, "-resp_text")
    assert "Response verify OK" in verified.stderr + verified.stdout
    has_nonce = "-no_nonce" not in flags
    assert ("OCSP Nonce" in verified.stdout) is has_nonce

    # 2. Per-certificate statuses, matched by CertIDs openssl computes itself.
    digest = [f for f in flags if f.startswith("-sha")]
    certs = [a for e in (pki.good, pki.revoked, pki.unknown) for a in ("-cert", str(e.pem))]
    summary = tools.run(tools.openssl, "ocsp", *common, *digest, *certs, "-no_nonce").stdout
    assert f"{pki.good.pem}: good" in summary
    assert f"{pki.revoked.pem}: revoked" in summary
    assert "Reason: keyCompromise" in summary
    assert f"Revocation Time: {REVOKED_AT:%b %e %H:%M:%S %Y} GMT" in summary
    assert f"{pki.unknown.pem}: unknown" in summary

    # 3. pkilint: no findings.
    lint = tools.run(tools.script("lint_ocsp_response"), "lint", "-s", "INFO", resp)
    assert lint.stdout.strip() == ""


def test_openssl_detects_nonce_mismatch(
    pki: Hierarchy,
    tools: Tools,
    issuer: OcspIssuer,
    lookup: Callable[[str, int], CertStatus],
    workdir: Path,
) -> None:
    first = _openssl_request(tools, pki, workdir / "n1.req")
    _openssl_request(tools, pki, workdir / "n2.req")
    (workdir / "n1.resp").write_bytes(
        respond(first, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
    )
    out = tools.run(
        tools.openssl,
        "ocsp",
        "-respin",
        workdir / "n1.resp",
        "-reqin",
        workdir / "n2.req",
        "-issuer",
        pki.issuing.pem,
        "-CAfile",
        pki.root.pem,
        check=False,
    )
    assert out.returncode != 0
    assert "Nonce Verify error" in out.stderr


def test_response_structure(
    pki: Hierarchy,
    tools: Tools,
    issuer: OcspIssuer,
    lookup: Callable[[str, int], CertStatus],
    workdir: Path,
) -> None:
    request_der = _openssl_request(tools, pki, workdir / "structure.req", "-sha256")
    request = ocsp.OCSPRequest.load(request_der)
    basic = _basic(
        respond(request_der, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
    )
    data = basic["tbs_response_data"]
    spki = asn1_x509.Certificate.load(pki.ocsp.der).public_key
    assert data["responder_id"].name == "by_key"
    assert data["responder_id"].native == hashlib.sha1(spki["public_key"].contents[1:]).digest()
    assert data["produced_at"].native == NOW
    assert [c.dump() for c in basic["certs"]] == [pki.ocsp.der]
    assert basic["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
    nonce = request["tbs_request"]["request_extensions"][0]
    assert data["response_extensions"][0]["extn_value"].native == nonce["extn_value"].native
    responses = data["responses"]
    assert len(responses) == 3
    for single, req in zip(responses, request["tbs_request"]["request_list"], strict=True):
        assert single["cert_id"].dump() == req["req_cert"].dump()
        assert single["this_update"].native == NOW
        assert single["next_update"].native == NOW + VALIDITY
    assert [r["cert_status"].name for r in responses] == ["good", "revoked", "unknown"]
    # the signature verifies with the responder key
    pki.ocsp.key.public_key().verify(
        basic["signature"].native, data.dump(), ec.ECDSA(hashes.SHA256())
    )


def test_ca_may_answer_itself(
    pki: Hierarchy, tools: Tools, lookup: Callable[[str, int], CertStatus], workdir: Path
) -> None:
    ca_itself = OcspIssuer(
        issuer_cert=pki.issuing.cert,
        responder_cert=pki.issuing.cert,
        responder_key=pki.issuing.signer,
        name="organization",
    )
    req = workdir / "self.req"
    (workdir / "self.resp").write_bytes(
        respond(
            _openssl_request(tools, pki, req),
            issuers=[ca_itself],
            lookup=lookup,
            now=NOW,
            validity=VALIDITY,
        )
    )
    out = tools.run(
        tools.openssl,
        "ocsp",
        "-respin",
        workdir / "self.resp",
        "-reqin",
        req,
        "-issuer",
        pki.issuing.pem,
        "-CAfile",
        pki.root.pem,
    )
    assert "Response verify OK" in out.stderr + out.stdout


def _request(*cert_ids: ocsp.CertId, extensions: list[dict[str, object]] | None = None) -> bytes:
    tbs: dict[str, object] = {"request_list": [{"req_cert": c} for c in cert_ids]}
    if extensions is not None:
        tbs["request_extensions"] = extensions
    return ocsp.OCSPRequest({"tbs_request": tbs}).dump()


def _cert_id(issuer_cert: x509.Certificate, serial: int, algorithm: str = "sha1") -> ocsp.CertId:
    cert = asn1_x509.Certificate.load(issuer_cert.public_bytes(serialization.Encoding.DER))
    name_hash = hashlib.new(algorithm, cert.subject.dump()).digest()
    key_hash = hashlib.new(algorithm, cert.public_key["public_key"].contents[1:]).digest()
    return ocsp.CertId(
        {
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
            "issuer_name_hash": name_hash,
            "issuer_key_hash": key_hash,
            "serial_number": serial,
        }
    )


def test_foreign_issuer_is_unauthorized(
    pki: Hierarchy, issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    foreign = _cert_id(pki.foreign_ca.cert, pki.foreign_leaf.cert.serial_number)
    ours = _cert_id(pki.issuing.cert, pki.good.cert.serial_number)
    for request in (_request(foreign), _request(ours, foreign)):
        response = respond(request, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
        assert _status(response) == "unauthorized"
        assert ocsp.OCSPResponse.load(response)["response_bytes"].native is None


def test_requests_spanning_two_of_our_cas_are_unauthorized(
    pki: Hierarchy, issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    root_issuer = OcspIssuer(
        issuer_cert=pki.root.cert,
        responder_cert=pki.root.cert,
        responder_key=pki.root.signer,
        name="root",
    )
    request = _request(
        _cert_id(pki.issuing.cert, pki.good.cert.serial_number),
        _cert_id(pki.root.cert, pki.issuing.cert.serial_number),
    )
    response = respond(
        request, issuers=[issuer, root_issuer], lookup=lookup, now=NOW, validity=VALIDITY
    )
    assert _status(response) == "unauthorized"


def test_picks_the_right_issuer(pki: Hierarchy, issuer: OcspIssuer) -> None:
    root_issuer = OcspIssuer(
        issuer_cert=pki.root.cert,
        responder_cert=pki.root.cert,
        responder_key=pki.root.signer,
        name="root",
    )
    seen: list[tuple[str, int]] = []

    def record(name: str, serial: int) -> CertStatus:
        seen.append((name, serial))
        return CertStatus.good()

    request = _request(_cert_id(pki.root.cert, pki.issuing.cert.serial_number, "sha512"))
    basic = _basic(
        respond(request, issuers=[issuer, root_issuer], lookup=record, now=NOW, validity=VALIDITY)
    )
    assert seen == [("root", pki.issuing.cert.serial_number)]
    assert basic["signature_algorithm"]["algorithm"].native == "sha384_ecdsa"  # P-384 root


def test_unsupported_cert_id_hash_is_unauthorized(
    pki: Hierarchy, issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    request = _request(_cert_id(pki.issuing.cert, pki.good.cert.serial_number, "md5"))
    response = respond(request, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
    assert _status(response) == "unauthorized"


def _nonce_ext(value: bytes, *, critical: bool = False) -> dict[str, object]:
    return {"extn_id": "nonce", "critical": critical, "extn_value": value}


@pytest.mark.parametrize(
    "request_der",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x30\x00", id="empty-sequence"),
        pytest.param(b"not der at all", id="garbage"),
        pytest.param(
            ocsp.OCSPRequest({"tbs_request": {"request_list": []}}).dump(), id="no-requests"
        ),
    ],
)
def test_malformed(
    request_der: bytes, issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    response = respond(request_der, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
    assert _status(response) == "malformed_request"
    assert response == error_response(OcspResponseStatus.MALFORMED_REQUEST)


def test_malformed_extensions_and_trailing_data(
    pki: Hierarchy, issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    cid = _cert_id(pki.issuing.cert, pki.good.cert.serial_number)
    cases = [
        _request(cid, extensions=[_nonce_ext(os.urandom(33))]),
        _request(cid, extensions=[_nonce_ext(b"")]),
        ocsp.OCSPRequest(
            {
                "tbs_request": {
                    "request_list": [{"req_cert": cid}],
                    "request_extensions": [
                        ocsp.TBSRequestExtension(
                            {"extn_id": "1.2.3.4", "critical": True, "extn_value": b"\x05\x00"}
                        )
                    ],
                }
            }
        ).dump(),
        _request(cid) + b"\x00",
        _request(*[cid] * 101),
    ]
    for request_der in cases:
        response = respond(request_der, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
        assert _status(response) == "malformed_request"
    ok = _request(cid, extensions=[_nonce_ext(os.urandom(32))])
    assert _status(respond(ok, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)) == (
        "successful"
    )


def test_lookup_failure_is_internal_error(pki: Hierarchy, issuer: OcspIssuer) -> None:
    def broken(name: str, serial: int) -> CertStatus:
        raise RuntimeError("database down")

    request = _request(_cert_id(pki.issuing.cert, pki.good.cert.serial_number))
    response = respond(request, issuers=[issuer], lookup=broken, now=NOW, validity=VALIDITY)
    assert _status(response) == "internal_error"


def test_refuses_bad_arguments(
    issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    with pytest.raises(ValueError):
        respond(
            b"", issuers=[issuer], lookup=lookup, now=NOW.replace(tzinfo=None), validity=VALIDITY
        )
    with pytest.raises(ValueError):
        respond(b"", issuers=[issuer], lookup=lookup, now=NOW, validity=timedelta(0))
    with pytest.raises(ValueError):
        error_response(OcspResponseStatus.SUCCESSFUL)
    with pytest.raises(ValueError):
        CertStatus.revoked(at=NOW.replace(tzinfo=None))


def test_issuer_configuration_is_checked(pki: Hierarchy) -> None:
    with pytest.raises(OcspConfigError, match="does not match"):
        OcspIssuer(
            issuer_cert=pki.issuing.cert,
            responder_cert=pki.ocsp.cert,
            responder_key=pki.good.signer,
            name="x",
        )
    with pytest.raises(OcspConfigError, match="not issued by"):
        OcspIssuer(
            issuer_cert=pki.root.cert,
            responder_cert=pki.ocsp.cert,
            responder_key=pki.ocsp.signer,
            name="x",
        )
    with pytest.raises(OcspConfigError, match="OCSPSigning"):
        OcspIssuer(
            issuer_cert=pki.issuing.cert,
            responder_cert=pki.good.cert,
            responder_key=pki.good.signer,
            name="x",
        )
    with pytest.raises(OcspConfigError):
        OcspIssuer(
            issuer_cert=pki.issuing.cert,
            responder_cert=pki.ocsp.cert,
            responder_key=pki.ocsp.signer,
            name="",
        )


def test_decode_get_request(pki: Hierarchy) -> None:
    # pick a request whose base64 has '+', '/' and '=' so every variant is exercised
    der = b""
    for serial in range(1, 5000):
        der = _request(_cert_id(pki.issuing.cert, serial))
        std = base64.b64encode(der).decode()
        if "+" in std and "/" in std and std.endswith("="):
            break
    std = base64.b64encode(der).decode()
    urlsafe = base64.urlsafe_b64encode(der).decode()
    variants = [
        std,
        std.rstrip("="),
        urlsafe,
        urlsafe.rstrip("="),
        quote(std, safe=""),
        quote(quote(std, safe=""), safe=""),
    ]
    for variant in variants:
        assert decode_get_request(variant) == der, variant
    for bad in ["", "%%%", "abc*def", "é"]:
        with pytest.raises(OcspRequestError):
            decode_get_request(bad)


def test_get_request_roundtrip_with_openssl_request(
    pki: Hierarchy,
    tools: Tools,
    issuer: OcspIssuer,
    lookup: Callable[[str, int], CertStatus],
    workdir: Path,
) -> None:
    der = _openssl_request(tools, pki, workdir / "get.req")
    path = quote(base64.b64encode(der).decode(), safe="")
    response = respond(
        decode_get_request(path), issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY
    )
    assert _status(response) == "successful"


# --- fuzzing: never raises, always an OCSPResponse -------------------------------------------


def _assert_ocsp_response(response: bytes) -> None:
    parsed = ocsp.OCSPResponse.load(response, strict=True)
    assert parsed["response_status"].native in {
        "successful",
        "malformed_request",
        "unauthorized",
    }
    if parsed["response_status"].native == "successful":
        parsed["response_bytes"]["response"].parsed.native  # noqa: B018


_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def valid_request(pki: Hierarchy) -> bytes:
    return _request(
        _cert_id(pki.issuing.cert, pki.good.cert.serial_number),
        _cert_id(pki.issuing.cert, pki.revoked.cert.serial_number, "sha256"),
        extensions=[_nonce_ext(os.urandom(16))],
    )


@_FUZZ
@given(data=st.binary(max_size=512))
def test_fuzz_random_bytes(
    data: bytes, issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    _assert_ocsp_response(
        respond(data, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
    )


@_FUZZ
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_fuzz_truncations(
    cut: int, valid_request: bytes, issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    data = valid_request[: cut % len(valid_request)]
    response = respond(data, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
    _assert_ocsp_response(response)
    assert _status(response) == "malformed_request"


@_FUZZ
@given(flips=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=4))
def test_fuzz_bit_flips(
    flips: list[int],
    valid_request: bytes,
    issuer: OcspIssuer,
    lookup: Callable[[str, int], CertStatus],
) -> None:
    data = bytearray(valid_request)
    for flip in flips:
        data[(flip // 8) % len(data)] ^= 1 << (flip % 8)
    _assert_ocsp_response(
        respond(bytes(data), issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY)
    )


def test_cert_id_is_echoed_byte_for_byte(
    pki: Hierarchy, issuer: OcspIssuer, lookup: Callable[[str, int], CertStatus]
) -> None:
    """A CertID whose hash AlgorithmIdentifier omits parameters (no NULL) comes back as sent."""
    cert_id = _cert_id(pki.issuing.cert, pki.good.cert.serial_number)
    sha1_no_params = algos.DigestAlgorithm.load(bytes.fromhex("300706052b0e03021a"))
    cert_id["hash_algorithm"] = sha1_no_params
    request = _request(cert_id)
    sent = ocsp.OCSPRequest.load(request)["tbs_request"]["request_list"][0]["req_cert"]
    assert b"\x05\x00" not in sent["hash_algorithm"].dump()
    basic = _basic(respond(request, issuers=[issuer], lookup=lookup, now=NOW, validity=VALIDITY))
    assert basic["tbs_response_data"]["responses"][0]["cert_id"].dump() == sent.dump()
