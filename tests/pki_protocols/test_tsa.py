from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos, cms, core, tsp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pki.errors import TsaConfigError
from pki.keys import MemoryKeySigner
from pki.tsa import TsaConfig, new_serial, respond

from .conftest import NOW, Hierarchy, Tools, rsa_tsa

POLICY = "1.3.6.1.4.1.99999.1.2"
OTHER_POLICY = "1.3.6.1.4.1.99999.1.3"
GEN_TIME = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def config(pki: Hierarchy) -> TsaConfig:
    return TsaConfig(
        cert=pki.tsa.cert,
        key=pki.tsa.signer,
        chain=[pki.root.cert],
        policy_oid=POLICY,
        accuracy=timedelta(seconds=1, milliseconds=500),
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tsa")
    (d / "data.bin").write_bytes(b"contract text " * 1000)
    (d / "other.bin").write_bytes(b"contract text " * 999 + b"contract TEXT ")
    return d


def _query(
    *,
    digest: str = "sha256",
    imprint: bytes | None = None,
    nonce: int | None = 0x1234567890ABCDEF,
    cert_req: bool = True,
    policy: str | None = None,
    version: int = 1,
    extensions: list[dict[str, object]] | None = None,
) -> bytes:
    req: dict[str, object] = {
        "version": version,
        "message_imprint": {
            "hash_algorithm": {"algorithm": digest},
            "hashed_message": imprint
            if imprint is not None
            else hashlib.new(digest, b"hello").digest(),
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        req["nonce"] = nonce
    if policy is not None:
        req["req_policy"] = policy
    if extensions is not None:
        req["extensions"] = extensions
    return tsp.TimeStampReq(req).dump()


class TimeStampResp(core.Sequence):
    """RFC 3161 TimeStampResp with the token OPTIONAL (asn1crypto 1.5 has it mandatory)."""

    _fields = [  # noqa: RUF012
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _status(response: bytes) -> tuple[str, set[str]]:
    status = TimeStampResp.load(response)["status"]
    return status["status"].native, set(status["fail_info"].native or ())


def _tst_info(response: bytes) -> tsp.TSTInfo:
    token = TimeStampResp.load(response)["time_stamp_token"]
    return token["content"]["encap_content_info"]["content"].parsed


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_openssl_verifies_token(
    pki: Hierarchy, tools: Tools, config: TsaConfig, workdir: Path, digest: str
) -> None:
    query, reply = workdir / f"{digest}.tsq", workdir / f"{digest}.tsr"
    data = workdir / "data.bin"
    tools.run(tools.openssl, "ts", "-query", "-data", data, f"-{digest}", "-cert", "-out", query)
    reply.write_bytes(
        respond(query.read_bytes(), config=config, now=datetime.now(UTC), serial=new_serial())
    )
    trust = ["-CAfile", pki.root.pem, "-untrusted", pki.tsa.pem]
    ok = tools.run(tools.openssl, "ts", "-verify", "-data", data, "-in", reply, *trust)
    assert "Verification: OK" in ok.stdout
    ok = tools.run(tools.openssl, "ts", "-verify", "-queryfile", query, "-in", reply, *trust)
    assert "Verification: OK" in ok.stdout

    changed = tools.run(
        tools.openssl, "ts", "-verify", "-data", workdir / "other.bin", "-in", reply, *trust,
        check=False,
    )  # fmt: skip
    assert changed.returncode != 0
    assert "Verification: FAILED" in changed.stdout + changed.stderr
    assert "message imprint mismatch" in changed.stderr


def test_openssl_checks_the_nonce(
    pki: Hierarchy, tools: Tools, config: TsaConfig, workdir: Path
) -> None:
    data = workdir / "data.bin"
    first, second = workdir / "n1.tsq", workdir / "n2.tsq"
    for query in (first, second):  # openssl picks a fresh random nonce for each
        tools.run(tools.openssl, "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
    reply = workdir / "n1.tsr"
    reply.write_bytes(respond(first.read_bytes(), config=config, now=NOW, serial=new_serial()))
    trust = ["-CAfile", pki.root.pem, "-untrusted", pki.tsa.pem]
    wrong = tools.run(
        tools.openssl, "ts", "-verify", "-queryfile", second, "-in", reply, *trust, check=False
    )
    assert wrong.returncode != 0
    assert "nonce mismatch" in wrong.stderr


def test_openssl_reply_text(tools: Tools, config: TsaConfig, workdir: Path) -> None:
    query, reply = workdir / "text.tsq", workdir / "text.tsr"
    tools.run(
        tools.openssl, "ts", "-query", "-data", workdir / "data.bin", "-sha256", "-cert",
        "-out", query,
    )  # fmt: skip
    reply.write_bytes(respond(query.read_bytes(), config=config, now=GEN_TIME, serial=0xABCDEF))
    text = tools.run(tools.openssl, "ts", "-reply", "-in", reply, "-text").stdout
    assert "Status: Granted." in text
    assert f"Policy OID: {POLICY}" in text
    assert "Accuracy: 0x01 seconds, 0x01F4 millis, unspecified micros" in text
    assert "Serial number: 0xABCDEF" in text
    assert "Time stamp: Mar  1 08:30:15 2026 GMT" in text
    assert "Nonce: 0x" in text and "Nonce: unspecified" not in text
    assert "TSA: DirName:/C=CN/O=eseal test/CN=Test TSA" in text
    assert "Hash Algorithm: sha256" in text


def test_token_structure(pki: Hierarchy, config: TsaConfig) -> None:
    response = respond(_query(), config=config, now=GEN_TIME, serial=77)
    assert _status(response) == ("granted", set())
    token = TimeStampResp.load(response)["time_stamp_token"]
    signed_data = token["content"]
    assert signed_data["encap_content_info"]["content_type"].native == "tst_info"
    info = signed_data["encap_content_info"]["content"].parsed
    assert (
        info["message_imprint"].dump() == tsp.TimeStampReq.load(_query())["message_imprint"].dump()
    )
    assert info["policy"].dotted == POLICY
    assert info["serial_number"].native == 77
    assert info["nonce"].native == 0x1234567890ABCDEF
    assert info["gen_time"].native == GEN_TIME.replace(microsecond=0)  # accuracy >= 1 s
    assert info["accuracy"].native == {"seconds": 1, "millis": 500, "micros": None}
    assert [c.chosen.dump() for c in signed_data["certificates"]] == [pki.tsa.der, pki.root.der]

    (signer,) = signed_data["signer_infos"]
    attrs = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    assert set(attrs) == {
        "content_type",
        "signing_time",
        "message_digest",
        "signing_certificate_v2",
    }
    assert attrs["content_type"].native == "tst_info"
    assert attrs["signing_time"].native == GEN_TIME.replace(microsecond=0)
    tst_der = signed_data["encap_content_info"]["content"].contents
    assert attrs["message_digest"].native == hashlib.sha256(tst_der).digest()
    (ess,) = attrs["signing_certificate_v2"]["certs"]
    assert ess["hash_algorithm"]["algorithm"].native == "sha256"
    assert ess["cert_hash"].native == hashlib.sha256(pki.tsa.der).digest()
    assert ess["issuer_serial"]["serial_number"].native == pki.tsa.cert.serial_number
    assert signer["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
    pki.tsa.key.public_key().verify(
        signer["signature"].native,
        signer["signed_attrs"].untag().dump(),  # signed as a SET, not as [0] IMPLICIT
        ec.ECDSA(hashes.SHA256()),
    )


def test_certificates_only_on_request(config: TsaConfig) -> None:
    response = respond(_query(cert_req=False, nonce=None), config=config, now=NOW, serial=1)
    token = TimeStampResp.load(response)["time_stamp_token"]
    assert token["content"]["certificates"].native is None
    assert _tst_info(response)["nonce"].native is None


def test_requested_policy(config: TsaConfig) -> None:
    assert (
        _tst_info(respond(_query(policy=POLICY), config=config, now=NOW, serial=1))["policy"].dotted
        == POLICY
    )
    assert _status(respond(_query(policy=OTHER_POLICY), config=config, now=NOW, serial=1)) == (
        "rejection",
        {"unaccepted_policy"},
    )
    wider = TsaConfig(
        cert=config.cert,
        key=config.key,
        chain=config.chain,
        policy_oid=POLICY,
        accuracy=timedelta(0),
        accepted_policies=frozenset({OTHER_POLICY}),
        include_tsa_name=False,
    )
    info = _tst_info(respond(_query(policy=OTHER_POLICY), config=wider, now=GEN_TIME, serial=1))
    assert info["policy"].dotted == OTHER_POLICY
    assert info["accuracy"].native is None and info["tsa"].native is None
    assert info["gen_time"].native == GEN_TIME.replace(microsecond=0)


@pytest.mark.parametrize(
    ("accuracy", "microsecond"),
    [
        (timedelta(seconds=2), 0),
        (timedelta(milliseconds=10), 123000),
        (timedelta(microseconds=100), 123456),
    ],
)
def test_gen_time_precision_follows_accuracy(
    config: TsaConfig, accuracy: timedelta, microsecond: int
) -> None:
    precise = TsaConfig(
        cert=config.cert, key=config.key, chain=(), policy_oid=POLICY, accuracy=accuracy
    )
    info = _tst_info(respond(_query(), config=precise, now=GEN_TIME, serial=1))
    assert info["gen_time"].native == GEN_TIME.replace(microsecond=microsecond)


@pytest.mark.parametrize(
    ("query", "failure"),
    [
        pytest.param(b"", "bad_request", id="empty"),
        pytest.param(b"\x30\x03\x02\x01\x01", "bad_request", id="no-imprint"),
        pytest.param(b"garbage", "bad_request", id="garbage"),
        pytest.param(_query() + b"\x00", "bad_request", id="trailing-data"),
        pytest.param(_query(version=2), "bad_request", id="version-2"),
        pytest.param(_query(digest="sha1"), "bad_alg", id="sha1"),
        pytest.param(_query(digest="md5"), "bad_alg", id="md5"),
        pytest.param(_query(digest="sha3_256"), "bad_alg", id="sha3"),
        pytest.param(_query(imprint=b"\x00" * 31), "bad_data_format", id="short-imprint"),
        pytest.param(
            _query(digest="sha384", imprint=b"\x00" * 32), "bad_data_format", id="sha384-32-bytes"
        ),
        pytest.param(
            _query(
                extensions=[{"extn_id": "1.2.3.4", "critical": False, "extn_value": b"\x05\x00"}]
            ),
            "unaccepted_extensions",
            id="extension",
        ),
    ],
)
def test_rejections(query: bytes, failure: str, config: TsaConfig) -> None:
    response = respond(query, config=config, now=NOW, serial=1)
    parsed = TimeStampResp.load(response, strict=True)
    assert parsed["status"]["status"].native == "rejection"
    assert set(parsed["status"]["fail_info"].native) == {failure}
    assert parsed["status"]["status_string"].native
    assert parsed["time_stamp_token"].native is None


def test_openssl_reads_rejection(tools: Tools, config: TsaConfig, workdir: Path) -> None:
    reply = workdir / "rejected.tsr"
    reply.write_bytes(respond(_query(digest="sha1"), config=config, now=NOW, serial=1))
    text = tools.run(tools.openssl, "ts", "-reply", "-in", reply, "-text").stdout
    assert "Status: Rejected." in text
    assert "unrecognized or unsupported algorithm identifier" in text


class _LooseAlgorithm(core.Sequence):
    """AlgorithmIdentifier that, unlike asn1crypto's, lets sha256 carry any parameters."""

    _fields = [("algorithm", algos.DigestAlgorithmId), ("parameters", core.Any, {"optional": True})]  # noqa: RUF012


class _LooseImprint(core.Sequence):
    _fields = [("hash_algorithm", _LooseAlgorithm), ("hashed_message", core.OctetString)]  # noqa: RUF012


class _LooseRequest(core.Sequence):
    _fields = [("version", core.Integer), ("message_imprint", _LooseImprint)]  # noqa: RUF012


def test_bad_imprint_algorithm_parameters(config: TsaConfig) -> None:
    query = _LooseRequest(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256", "parameters": core.Boolean(False)},
                "hashed_message": hashlib.sha256(b"x").digest(),
            },
        }
    ).dump()
    # asn1crypto's decoder already refuses non-NULL parameters for SHA-2: a bad request.
    assert _status(respond(query, config=config, now=NOW, serial=1)) == (
        "rejection",
        {"bad_request"},
    )


def test_serials() -> None:
    serials = {new_serial() for _ in range(200)}
    assert len(serials) == 200
    assert all(0 < s < 1 << 159 for s in serials)
    assert max(serials).bit_length() > 150


def test_refuses_bad_arguments(config: TsaConfig) -> None:
    for serial in (0, -1, 1 << 160):
        with pytest.raises(ValueError):
            respond(_query(), config=config, now=NOW, serial=serial)
    with pytest.raises(ValueError):
        respond(_query(), config=config, now=NOW.replace(tzinfo=None), serial=1)


def test_config_is_checked(pki: Hierarchy) -> None:
    base = {
        "cert": pki.tsa.cert,
        "key": pki.tsa.signer,
        "chain": [],
        "policy_oid": POLICY,
        "accuracy": timedelta(seconds=1),
    }
    bad: list[dict[str, object]] = [
        {"key": pki.root.signer},
        {"cert": pki.good.cert, "key": pki.good.signer},  # no timeStamping EKU
        {"cert": pki.ocsp.cert, "key": pki.ocsp.signer},  # wrong EKU
        {"policy_oid": "not an oid"},
        {"accepted_policies": frozenset({"x.y"})},
        {"accuracy": timedelta(seconds=-1)},
    ]
    for change in bad:
        with pytest.raises(TsaConfigError):
            TsaConfig(**{**base, **change})  # type: ignore[arg-type]


# --- fuzzing: never raises, always a TimeStampResp -------------------------------------------

_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_VALID = _query(nonce=int.from_bytes(os.urandom(8)), policy=POLICY)


def _assert_response(response: bytes) -> None:
    parsed = TimeStampResp.load(response, strict=True)
    status = parsed["status"].native["status"]
    assert status in {"granted", "rejection"}
    if status == "granted":  # (asn1crypto's .native on certificates is slow: skip them)
        parsed["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed.native  # noqa: B018
        parsed["time_stamp_token"]["content"]["signer_infos"].native  # noqa: B018


@_FUZZ
@given(data=st.binary(max_size=512))
def test_fuzz_random_bytes(data: bytes, config: TsaConfig) -> None:
    _assert_response(respond(data, config=config, now=NOW, serial=1))


@_FUZZ
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_fuzz_truncations(cut: int, config: TsaConfig) -> None:
    response = respond(_VALID[: cut % len(_VALID)], config=config, now=NOW, serial=1)
    _assert_response(response)
    assert _status(response) == ("rejection", {"bad_request"})


@_FUZZ
@given(flips=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=4))
def test_fuzz_bit_flips(flips: list[int], config: TsaConfig) -> None:
    data = bytearray(_VALID)
    for flip in flips:
        data[(flip // 8) % len(data)] ^= 1 << (flip % 8)
    _assert_response(respond(bytes(data), config=config, now=NOW, serial=1))


def test_rsa_tsa_key(pki: Hierarchy, tools: Tools, workdir: Path) -> None:
    """RSA keys sign with PKCS#1 v1.5 + SHA-256; openssl verifies the token."""
    key, cert = rsa_tsa(pki)
    pem = workdir / "rsa-tsa.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    config = TsaConfig(
        cert=cert, key=MemoryKeySigner(key), chain=[], policy_oid=POLICY, accuracy=timedelta(0)
    )
    query, reply = workdir / "rsa.tsq", workdir / "rsa.tsr"
    tools.run(
        tools.openssl, "ts", "-query", "-data", workdir / "data.bin", "-sha512", "-cert",
        "-out", query,
    )  # fmt: skip
    reply.write_bytes(respond(query.read_bytes(), config=config, now=NOW, serial=new_serial()))
    out = tools.run(
        tools.openssl, "ts", "-verify", "-queryfile", query, "-in", reply,
        "-CAfile", pki.root.pem, "-untrusted", pem,
    )  # fmt: skip
    assert "Verification: OK" in out.stdout
    (signer,) = TimeStampResp.load(reply.read_bytes())["time_stamp_token"]["content"][
        "signer_infos"
    ]
    assert signer["signature_algorithm"]["algorithm"].native == "sha256_rsa"
