"""The DER-assembled time-stamp token (pki/tsa_der.py) is byte for byte the token the earlier
asn1crypto object-model builder produced, for every variant a TSA answers: with and without
nonce, certificates, a requested policy, accuracy, the TSA name; EC and RSA keys. The oracle
below is that earlier builder, kept here verbatim apart from taking the signature to use."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pki.keys import KeyAlgorithm, MemoryKeySigner, digest_hash, signature_digest
from pki.tsa import TimeStampResp, TsaConfig, _gen_time, respond
from pki.tsa_der import accuracy_of

from .conftest import Hierarchy, rsa_tsa

POLICY = "1.3.6.1.4.1.99999.1.2"
OTHER = "1.3.6.1.4.1.99999.1.3"


def _attribute(kind: str, value: object) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})


def oracle(query_der: bytes, config: TsaConfig, now: datetime, serial: int, sig: bytes) -> bytes:
    """The asn1crypto builder this module replaced, signing with the given signature."""
    query = tsp.TimeStampReq.load(query_der)
    encoded = config._encoded
    policy = query["req_policy"].dotted if query["req_policy"].native else config.policy_oid
    info: dict[str, object] = {
        "version": "v1",
        "policy": policy,
        "message_imprint": tsp.MessageImprint.load(query["message_imprint"].dump()),
        "serial_number": serial,
        "gen_time": core.GeneralizedTime(_gen_time(now, config.accuracy)),
    }
    accuracy = accuracy_of(config.accuracy)
    if accuracy is not None:
        info["accuracy"] = accuracy
    if query["nonce"].native is not None:
        info["nonce"] = query["nonce"].native
    if config.include_tsa_name:
        info["tsa"] = asn1_x509.GeneralName.load(encoded.tsa_name)
    tst_info = tsp.TSTInfo(info).dump()
    digest = digest_hash(signature_digest(config.key.algorithm))
    signed_attrs = cms.CMSAttributes(
        [
            _attribute("content_type", "tst_info"),
            _attribute(
                "signing_time",
                cms.Time(
                    name="utc_time",
                    value=core.UTCTime(now.astimezone(UTC).replace(microsecond=0)),
                ),
            ),
            _attribute("message_digest", hashlib.new(digest.name, tst_info).digest()),
            cms.CMSAttribute.load(encoded.signing_certificate),
        ]
    )
    kind = "rsa" if config.key.algorithm is KeyAlgorithm.RSA_3072 else "ecdsa"
    digest_algorithm = algos.DigestAlgorithm({"algorithm": digest.name})
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier.load(encoded.sid),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm(
                {"algorithm": f"{digest.name}_{kind}"}
            ),
            "signature": sig,
        }
    )
    signed_data: dict[str, object] = {
        "version": "v3",
        "digest_algorithms": [digest_algorithm],
        "encap_content_info": {
            "content_type": "tst_info",
            "content": cms.ParsableOctetString(tst_info),
        },
        "signer_infos": [signer_info],
    }
    if query["cert_req"].native:
        signed_data["certificates"] = [cms.CertificateChoices.load(c) for c in encoded.certificates]
    token = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
    status = tsp.PKIStatusInfo({"status": "granted"})
    return TimeStampResp({"status": status, "time_stamp_token": token}).dump()


def _query(*, nonce: int | None, cert_req: bool, policy: str | None, digest: str) -> bytes:
    req: dict[str, object] = {
        "version": 1,
        "message_imprint": {
            "hash_algorithm": {"algorithm": digest},
            "hashed_message": hashlib.new(digest, b"contract").digest(),
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        req["nonce"] = nonce
    if policy is not None:
        req["req_policy"] = policy
    return tsp.TimeStampReq(req).dump()


def _signature_of(response: bytes) -> bytes:
    token = TimeStampResp.load(response)["time_stamp_token"]
    return bytes(token["content"]["signer_infos"][0]["signature"].native)


def _verify(response: bytes, config: TsaConfig) -> None:
    """The signature really covers the signed attributes (DER SET OF) with the TSA key."""
    token = TimeStampResp.load(response)["time_stamp_token"]
    signer = token["content"]["signer_infos"][0]
    attrs = signer["signed_attrs"].untag().dump(force=True)
    assert attrs[0] == 0x31
    digest = digest_hash(signature_digest(config.key.algorithm))
    public = config.cert.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signer["signature"].native, attrs, ec.ECDSA(digest))
    else:
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(signer["signature"].native, attrs, padding.PKCS1v15(), digest)


def _rsa_config(pki: Hierarchy, accuracy: timedelta) -> TsaConfig:
    key, cert = rsa_tsa(pki)
    return TsaConfig(
        cert=cert, key=MemoryKeySigner(key), chain=[], policy_oid=POLICY, accuracy=accuracy
    )


@pytest.fixture(scope="module")
def configs(pki: Hierarchy) -> dict[str, TsaConfig]:
    ec_config = TsaConfig(
        cert=pki.tsa.cert,
        key=pki.tsa.signer,
        chain=[pki.root.cert],
        policy_oid=POLICY,
        accuracy=timedelta(seconds=1, milliseconds=500),
        accepted_policies=frozenset({OTHER}),
    )
    return {
        "ec": ec_config,
        "ec-no-name-precise": TsaConfig(
            cert=pki.tsa.cert,
            key=pki.tsa.signer,
            chain=(),
            policy_oid=POLICY,
            accuracy=timedelta(microseconds=250),
            include_tsa_name=False,
        ),
        "ec-no-accuracy": TsaConfig(
            cert=pki.tsa.cert,
            key=pki.tsa.signer,
            chain=(),
            policy_oid=POLICY,
            accuracy=timedelta(0),
        ),
        "rsa": _rsa_config(pki, timedelta(milliseconds=10)),
    }


@pytest.mark.parametrize("name", ["ec", "ec-no-name-precise", "ec-no-accuracy", "rsa"])
@pytest.mark.parametrize("cert_req", [True, False])
@pytest.mark.parametrize("nonce", [None, 1, 127, 128, 2**63 + 5, -129, 2**160])
def test_same_bytes_as_the_object_model(
    configs: dict[str, TsaConfig], name: str, cert_req: bool, nonce: int | None
) -> None:
    config = configs[name]
    query = _query(nonce=nonce, cert_req=cert_req, policy=None, digest="sha384")
    now = datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)
    ours = respond(query, config=config, now=now, serial=0x1234_5678_9ABC_DEF0_1234)
    _verify(ours, config)
    assert ours == oracle(query, config, now, 0x1234_5678_9ABC_DEF0_1234, _signature_of(ours))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    serial=st.integers(min_value=1, max_value=(1 << 160) - 1),
    micro=st.integers(min_value=0, max_value=999_999),
    policy=st.sampled_from([None, POLICY, OTHER]),
    digest=st.sampled_from(["sha256", "sha384", "sha512"]),
)
def test_same_bytes_for_any_serial_time_and_policy(
    configs: dict[str, TsaConfig], serial: int, micro: int, policy: str | None, digest: str
) -> None:
    config = configs["ec"]
    query = _query(nonce=42, cert_req=True, policy=policy, digest=digest)
    now = datetime(2027, 1, 31, 23, 59, 59, micro, tzinfo=UTC)
    ours = respond(query, config=config, now=now, serial=serial)
    assert ours == oracle(query, config, now, serial, _signature_of(ours))
