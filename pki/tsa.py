"""RFC 3161 time-stamping authority: a pure builder.

TimeStampReq DER + TSA material + a time and a serial -> TimeStampResp DER. `respond` never
raises on client input: a request it will not honour gets status `rejection` with a failInfo.

Message imprints are accepted with SHA-256, SHA-384 and SHA-512 only. SHA-1 is refused with
`badAlg`: a time-stamp on a SHA-1 imprint is only as strong as SHA-1 collision resistance,
which is broken (chosen-prefix collisions since 2020), so a token could be moved to a second,
colliding document; ETSI TS 119 312 and the CA/B Forum no longer allow SHA-1 for signatures.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki.errors import TsaConfigError
from pki.keys import KeySigner, digest_hash, signature_digest
from pki.signatures import same_public_key, sign_bytes

__all__ = ["TimeStampResp", "TsaConfig", "TsaFailure", "new_serial", "respond"]

logger = logging.getLogger(__name__)

# Accepted message imprint algorithms and their digest lengths.
IMPRINT_ALGORITHMS = {"sha256": 32, "sha384": 48, "sha512": 64, "sm3": 32}
# RFC 3161 §2.4.2: serialNumber up to 160 bits.
_MAX_SERIAL = (1 << 160) - 1


class TsaFailure:
    """PKIFailureInfo names (RFC 3161 §2.4.2) as asn1crypto spells them."""

    BAD_ALG = "bad_alg"
    BAD_REQUEST = "bad_request"
    BAD_DATA_FORMAT = "bad_data_format"
    TIME_NOT_AVAILABLE = "time_not_available"
    UNACCEPTED_POLICY = "unaccepted_policy"
    UNACCEPTED_EXTENSION = "unaccepted_extensions"
    SYSTEM_FAILURE = "system_failure"


def new_serial() -> int:
    """A fresh random positive time-stamp serial of up to 159 bits (fits 20 DER octets)."""
    while True:
        serial = secrets.randbits(159)
        if serial:
            return serial


@dataclass(frozen=True, slots=True)
class _Encoded:
    """Per-certificate DER pieces, encoded once: re-encoding names per token is slow."""

    tsa_name: bytes  # GeneralName directoryName of the TSA subject
    sid: bytes  # SignerIdentifier issuerAndSerialNumber
    signing_certificate: bytes  # CMSAttribute signingCertificateV2 (ESSCertIDv2, SHA-256)
    certificates: tuple[bytes, ...]  # CertificateChoices: the TSA certificate, then the chain

    @classmethod
    def of(cls, cert: x509.Certificate, chain: Sequence[x509.Certificate]) -> _Encoded:
        der = serialization.Encoding.DER
        tsa = asn1_x509.Certificate.load(cert.public_bytes(der))
        ess_cert_id = tsp.ESSCertIDv2(
            {
                # hashAlgorithm left at its DEFAULT, SHA-256
                "cert_hash": hashlib.sha256(tsa.dump()).digest(),
                "issuer_serial": {
                    "issuer": [asn1_x509.GeneralName(name="directory_name", value=tsa.issuer)],
                    "serial_number": tsa.serial_number,
                },
            }
        )
        return cls(
            tsa_name=asn1_x509.GeneralName(name="directory_name", value=tsa.subject).dump(),
            sid=cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value=cms.IssuerAndSerialNumber(
                    {"issuer": tsa.issuer, "serial_number": tsa.serial_number}
                ),
            ).dump(),
            signing_certificate=_attribute(
                "signing_certificate_v2", tsp.SigningCertificateV2({"certs": [ess_cert_id]})
            ).dump(),
            certificates=tuple(
                cms.CertificateChoices(
                    name="certificate", value=asn1_x509.Certificate.load(c.public_bytes(der))
                ).dump()
                for c in (cert, *chain)
            ),
        )


def _attribute(kind: str, value: object) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})


@dataclass(frozen=True, slots=True)
class TsaConfig:
    """The TSA's certificate and key, the chain to include, its policy and accuracy.

    `accepted_policies` are further policy OIDs a requester may ask for; `policy_oid` is used
    when the request names none. The certificate must carry EKU timeStamping only, critical
    (RFC 3161 §2.3).
    """

    cert: x509.Certificate
    key: KeySigner
    chain: Sequence[x509.Certificate]
    policy_oid: str
    accuracy: timedelta
    accepted_policies: frozenset[str] = frozenset()
    include_tsa_name: bool = True
    _encoded: _Encoded = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not same_public_key(self.cert, self.key):
            raise TsaConfigError("TSA key does not match its certificate")
        try:
            eku = self.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        except x509.ExtensionNotFound as exc:
            raise TsaConfigError("TSA certificate has no extended key usage") from exc
        if not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
            raise TsaConfigError("TSA certificate needs EKU timeStamping only, marked critical")
        for oid in (self.policy_oid, *self.accepted_policies):
            try:
                x509.ObjectIdentifier(oid)
            except ValueError as exc:
                raise TsaConfigError(f"not an object identifier: {oid!r}") from exc
        if self.accuracy < timedelta(0):
            raise TsaConfigError("accuracy cannot be negative")
        object.__setattr__(self, "chain", tuple(self.chain))
        object.__setattr__(self, "_encoded", _Encoded.of(self.cert, self.chain))

    @property
    def policies(self) -> frozenset[str]:
        """Every policy OID this TSA issues under."""
        return self.accepted_policies | {self.policy_oid}


class TimeStampResp(core.Sequence):
    """TimeStampResp with timeStampToken OPTIONAL, as RFC 3161 §2.4.2 has it.

    asn1crypto 1.5's `tsp.TimeStampResp` marks the token mandatory, so it can neither encode
    nor parse a rejection; use this class to read our responses.
    """

    _fields = [  # noqa: RUF012 - asn1crypto's class-level field spec
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class _Rejected(Exception):
    def __init__(self, failure: str, text: str) -> None:
        super().__init__(text)
        self.failure = failure
        self.text = text


def _rejection(failure: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": [text],
            "fail_info": tsp.PKIFailureInfo({failure}),
        }
    )
    return TimeStampResp({"status": status}).dump()


def _parse(query_der: bytes, config: TsaConfig) -> tsp.TimeStampReq:
    """Decode and check a query; raise `_Rejected` with the failInfo it deserves."""
    try:
        query = tsp.TimeStampReq.load(query_der, strict=True)
        query.native  # noqa: B018 - asn1crypto parses lazily; force every field now
    except Exception as exc:  # untrusted bytes into asn1crypto: any failure is a bad request
        raise _Rejected(TsaFailure.BAD_REQUEST, "undecodable TimeStampReq") from exc
    if query["version"].native != "v1":
        raise _Rejected(TsaFailure.BAD_REQUEST, "unsupported TimeStampReq version")
    imprint = query["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in IMPRINT_ALGORITHMS:
        raise _Rejected(TsaFailure.BAD_ALG, f"unsupported hash algorithm {algorithm}")
    if len(imprint["hashed_message"].native) != IMPRINT_ALGORITHMS[algorithm]:
        raise _Rejected(TsaFailure.BAD_DATA_FORMAT, f"imprint length does not match {algorithm}")
    policy = query["req_policy"].native
    if policy is not None and query["req_policy"].dotted not in config.policies:
        raise _Rejected(TsaFailure.UNACCEPTED_POLICY, f"policy {policy} is not ours")
    if query["extensions"].native:
        raise _Rejected(TsaFailure.UNACCEPTED_EXTENSION, "request extensions are not supported")
    return query


def _accuracy(value: timedelta) -> tsp.Accuracy | None:
    micros_total = value // timedelta(microseconds=1)
    seconds, rest = divmod(micros_total, 1_000_000)
    millis, micros = divmod(rest, 1000)
    parts = {"seconds": seconds, "millis": millis, "micros": micros}
    present = {k: v for k, v in parts.items() if v}
    return tsp.Accuracy(present) if present else None


def _gen_time(now: datetime, accuracy: timedelta) -> datetime:
    """genTime in UTC, with no more precision than the accuracy warrants."""
    now = now.astimezone(UTC)
    if accuracy >= timedelta(seconds=1) or accuracy == timedelta(0):
        return now.replace(microsecond=0)
    if accuracy >= timedelta(milliseconds=1):
        return now.replace(microsecond=now.microsecond // 1000 * 1000)
    return now


def _token(
    query: tsp.TimeStampReq, *, config: TsaConfig, now: datetime, serial: int
) -> cms.ContentInfo:
    encoded = config._encoded
    policy = query["req_policy"].dotted if query["req_policy"].native else config.policy_oid
    info: dict[str, object] = {
        "version": "v1",
        "policy": policy,
        # RFC 3161 §2.4.2: the same value as in the request; copied, not re-encoded
        "message_imprint": tsp.MessageImprint.load(query["message_imprint"].dump()),
        "serial_number": serial,
        "gen_time": core.GeneralizedTime(_gen_time(now, config.accuracy)),
    }
    accuracy = _accuracy(config.accuracy)
    if accuracy is not None:
        info["accuracy"] = accuracy
    if query["nonce"].native is not None:
        info["nonce"] = query["nonce"].native
    if config.include_tsa_name:
        info["tsa"] = asn1_x509.GeneralName.load(encoded.tsa_name)
    tst_info = tsp.TSTInfo(info).dump()

    digest = digest_hash(signature_digest(config.key.algorithm))
    hasher = hashes.Hash(digest)
    hasher.update(tst_info)
    signing_time = core.UTCTime(now.astimezone(UTC).replace(microsecond=0))
    signed_attrs = cms.CMSAttributes(
        [
            _attribute("content_type", "tst_info"),
            _attribute("signing_time", cms.Time(name="utc_time", value=signing_time)),
            _attribute("message_digest", hasher.finalize()),
            cms.CMSAttribute.load(encoded.signing_certificate),
        ]
    )
    signature, signature_algorithm = sign_bytes(config.key, signed_attrs.dump())
    digest_algorithm = algos.DigestAlgorithm({"algorithm": digest.name})
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier.load(encoded.sid),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": signature_algorithm}),
            "signature": signature,
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
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})


def respond(query_der: bytes, *, config: TsaConfig, now: datetime, serial: int) -> bytes:
    """Answer a TimeStampReq; always returns a TimeStampResp DER.

    Granted: a SignedData over TSTInfo (genTime `now`, `serial`, our policy, accuracy, the
    nonce echoed), certificates included only when certReq is set. Otherwise `rejection` with
    badRequest, badAlg, badDataFormat, unacceptedPolicy or unacceptedExtension.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not 0 < serial <= _MAX_SERIAL:
        raise ValueError("serial must be a positive integer of at most 160 bits")
    try:
        query = _parse(query_der, config)
    except _Rejected as rejected:
        logger.info("TSA rejection %s: %s", rejected.failure, rejected.text)
        return _rejection(rejected.failure, rejected.text)
    try:
        token = _token(query, config=config, now=now, serial=serial)
    except Exception:
        logger.exception("TSA failed to sign a time-stamp token")
        return _rejection(TsaFailure.SYSTEM_FAILURE, "the time-stamping authority failed")
    status = tsp.PKIStatusInfo({"status": "granted"})
    return TimeStampResp({"status": status, "time_stamp_token": token}).dump()
