"""RFC 6960 OCSP responder: a pure builder.

Request DER + our issuers + a status lookup -> a signed OCSPResponse DER. `respond` never
raises on client input: undecodable requests get `malformedRequest`, requests about a CA
we do not serve get `unauthorized`, everything else a signed BasicOCSPResponse.

Why `unauthorized` and not a per-certificate `unknown` for a foreign issuer: every issuing
CA has its own delegated responder (RFC 6960 §4.2.2.2), and a response is only authoritative
when signed by the CA or by a responder that CA delegated to. Any `unknown` we signed about
someone else's CA would be signed by a key the client must not accept for that CA, so the
honest answer is the unsigned `unauthorized` status (RFC 6960 §2.3, RFC 5019 §2.2.3). The
same holds for a request whose CertIDs span several of our CAs: one response has one signer.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from asn1crypto import algos, core, keys, ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki import sm2
from pki.errors import OcspConfigError, OcspRequestError
from pki.keys import KeySigner
from pki.signatures import same_public_key, sign_bytes
from pki.sm2_ca import certificate_spki, verify_certificate_signature

__all__ = [
    "CertState",
    "CertStatus",
    "OcspIssuer",
    "OcspResponseStatus",
    "decode_get_request",
    "error_response",
    "respond",
]

logger = logging.getLogger(__name__)

# CertID hash algorithms we answer (asn1crypto names -> hashlib names).
_CERT_ID_HASHES = {"sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
# More CertIDs than this in one request is treated as abuse rather than served.
MAX_REQUESTS = 100
# RFC 8954: Nonce ::= OCTET STRING (SIZE(1..32)).
_MAX_NONCE = 32
# Request extensions we understand; an unknown one marked critical makes the request malformed.
_KNOWN_REQUEST_EXTENSIONS = frozenset(
    {"nonce", "acceptable_responses", "preferred_signature_algorithms", "service_locator"}
)


class OcspResponseStatus(enum.Enum):
    """OCSPResponseStatus values (RFC 6960 §4.2.1), named as asn1crypto names them."""

    SUCCESSFUL = "successful"
    MALFORMED_REQUEST = "malformed_request"
    INTERNAL_ERROR = "internal_error"
    TRY_LATER = "try_later"
    SIG_REQUIRED = "sign_required"
    UNAUTHORIZED = "unauthorized"


class CertState(enum.Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CertStatus:
    """The status of one certificate; build it with `good()`, `revoked(...)` or `unknown()`."""

    state: CertState
    revoked_at: datetime | None = None
    reason: x509.ReasonFlags | None = None

    def __post_init__(self) -> None:
        if self.state is CertState.REVOKED:
            if self.revoked_at is None or self.revoked_at.tzinfo is None:
                raise ValueError("a revoked status needs a timezone-aware revoked_at")
        elif self.revoked_at is not None or self.reason is not None:
            raise ValueError("only a revoked status carries a time and a reason")

    @classmethod
    def good(cls) -> CertStatus:
        return cls(CertState.GOOD)

    @classmethod
    def revoked(cls, *, at: datetime, reason: x509.ReasonFlags | None = None) -> CertStatus:
        return cls(CertState.REVOKED, revoked_at=at, reason=reason)

    @classmethod
    def unknown(cls) -> CertStatus:
        return cls(CertState.UNKNOWN)


def _key_bits(cert: asn1_x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING value, without tag, length and unused-bits octet."""
    spki: keys.PublicKeyInfo = cert["tbs_certificate"]["subject_public_key_info"]
    return bytes(spki["public_key"].contents[1:])


def _directly_issued(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` signed `child` (SM2 certificates checked through pki.sm2)."""
    der = serialization.Encoding.DER
    issuer_spki = certificate_spki(issuer.public_bytes(der))
    if sm2.is_sm2_public_key_info(issuer_spki):
        return child.issuer == issuer.subject and verify_certificate_signature(
            child.public_bytes(der), issuer_spki
        )
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True, slots=True)
class OcspIssuer:
    """One issuing CA we answer for, and the delegated responder that signs for it.

    `name` is what the status lookup receives to tell CAs apart. The responder is either the
    CA itself or a certificate the CA issued with EKU OCSPSigning.
    """

    issuer_cert: x509.Certificate
    responder_cert: x509.Certificate
    responder_key: KeySigner
    name: str
    _cert_ids: dict[str, tuple[bytes, bytes]] = field(init=False, repr=False, compare=False)
    _responder_key_hash: bytes = field(init=False, repr=False, compare=False)
    _responder_der: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise OcspConfigError("an OCSP issuer needs a name")
        if not same_public_key(self.responder_cert, self.responder_key):
            raise OcspConfigError(f"{self.name}: responder key does not match its certificate")
        if self.responder_cert != self.issuer_cert:
            if not _directly_issued(self.responder_cert, self.issuer_cert):
                raise OcspConfigError(f"{self.name}: responder certificate is not issued by the CA")
            try:
                eku = list(
                    self.responder_cert.extensions.get_extension_for_class(
                        x509.ExtendedKeyUsage
                    ).value
                )
            except x509.ExtensionNotFound:
                eku = []  # cryptography >= 46 refuses an empty ExtendedKeyUsage
            if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                raise OcspConfigError(f"{self.name}: responder certificate lacks EKU OCSPSigning")
        der = serialization.Encoding.DER
        issuer = asn1_x509.Certificate.load(self.issuer_cert.public_bytes(der))
        name_der = issuer["tbs_certificate"]["subject"].dump()
        key_bits = _key_bits(issuer)
        cert_ids = {
            alg: (hashlib.new(h, name_der).digest(), hashlib.new(h, key_bits).digest())
            for alg, h in _CERT_ID_HASHES.items()
        }
        responder_der = self.responder_cert.public_bytes(der)
        responder = asn1_x509.Certificate.load(responder_der)
        object.__setattr__(self, "_cert_ids", cert_ids)
        object.__setattr__(self, "_responder_der", responder_der)
        object.__setattr__(self, "_responder_key_hash", hashlib.sha1(_key_bits(responder)).digest())  # noqa: S324

    def matches(self, *, algorithm: str, name_hash: bytes, key_hash: bytes) -> bool:
        """Whether a CertID's issuerNameHash and issuerKeyHash name this CA."""
        expected = self._cert_ids.get(algorithm)
        return expected is not None and expected == (name_hash, key_hash)


@dataclass(frozen=True, slots=True)
class _Single:
    cert_id: ocsp.CertId
    serial: int


class _Malformed(Exception):
    """Internal: the request cannot be answered as sent."""


def error_response(status: OcspResponseStatus) -> bytes:
    """An unsigned OCSPResponse carrying only an error status (never `successful`)."""
    if status is OcspResponseStatus.SUCCESSFUL:
        raise ValueError("a successful response needs a body; use respond()")
    return ocsp.OCSPResponse({"response_status": status.value}).dump()


def decode_get_request(path: str) -> bytes:
    """Decode the `{b64}` part of `GET /pki/ocsp/{b64}` (RFC 6960 Appendix A.1) to request DER.

    Accepts standard and URL-safe base64, with or without padding, percent-encoded once or
    twice. Raises `OcspRequestError` when it is not base64; the DER itself is `respond`'s job.
    """
    text = path.strip()
    for _ in range(2):
        if "%" not in text:
            break
        text = unquote(text)
    text = text.replace("-", "+").replace("_", "/").replace(" ", "+")
    text += "=" * (-len(text) % 4)
    try:
        der = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise OcspRequestError("OCSP GET path is not base64") from exc
    if not der:
        raise OcspRequestError("OCSP GET path is empty")
    return der


def _check_extensions(extensions: Any) -> None:
    for ext in extensions or ():
        if ext["critical"].native and ext["extn_id"].native not in _KNOWN_REQUEST_EXTENSIONS:
            raise _Malformed(f"unsupported critical extension {ext['extn_id'].dotted}")


def _parse(request_der: bytes) -> tuple[list[_Single], bytes | None]:
    """Decode and check a request: its single requests, and its nonce (if any)."""
    try:
        return _decode(request_der)
    except _Malformed:
        raise
    except Exception as exc:  # untrusted bytes into asn1crypto: any failure means "malformed"
        raise _Malformed(f"undecodable request: {exc!r}") from exc


def _decode(request_der: bytes) -> tuple[list[_Single], bytes | None]:
    request = ocsp.OCSPRequest.load(request_der, strict=True)
    request.native  # noqa: B018 - asn1crypto parses lazily; force every field now
    tbs = request["tbs_request"]
    if tbs["version"].native != "v1":
        raise _Malformed("unsupported request version")
    requests = list(tbs["request_list"])
    if not requests:
        raise _Malformed("empty request list")
    if len(requests) > MAX_REQUESTS:
        raise _Malformed(f"more than {MAX_REQUESTS} certificates in one request")
    _check_extensions(tbs["request_extensions"])
    nonce: bytes | None = None
    for ext in tbs["request_extensions"] or ():
        if ext["extn_id"].native == "nonce":
            nonce = ext["extn_value"].parsed.native
            if not isinstance(nonce, bytes) or not 1 <= len(nonce) <= _MAX_NONCE:
                raise _Malformed("nonce must be an OCTET STRING of 1 to 32 octets")
    singles = []
    for item in requests:
        _check_extensions(item["single_request_extensions"])
        cert_id = item["req_cert"]
        singles.append(_Single(cert_id=cert_id, serial=cert_id["serial_number"].native))
    return singles, nonce


def _match(singles: Sequence[_Single], issuers: Sequence[OcspIssuer]) -> OcspIssuer | None:
    """The one issuer every CertID names, or None when any is foreign or they disagree."""
    found: OcspIssuer | None = None
    for single in singles:
        cert_id = single.cert_id
        algorithm = cert_id["hash_algorithm"]["algorithm"].native
        name_hash = cert_id["issuer_name_hash"].native
        key_hash = cert_id["issuer_key_hash"].native
        match = next(
            (
                i
                for i in issuers
                if i.matches(algorithm=algorithm, name_hash=name_hash, key_hash=key_hash)
            ),
            None,
        )
        if match is None or (found is not None and match is not found):
            return None
        found = match
    return found


def _time(value: datetime) -> core.GeneralizedTime:
    """GeneralizedTime in UTC with whole seconds (RFC 5280 §4.1.2.5.2 style)."""
    return core.GeneralizedTime(value.astimezone(UTC).replace(microsecond=0))


def _echo_cert_id(cert_id: ocsp.CertId) -> ocsp.CertId:
    """The client's CertID, byte for byte: clients match responses by comparing CertIDs, and
    some compare encodings (NULL vs absent hash parameters), so we do not re-encode it."""
    return ocsp.CertId.load(cert_id.dump())


def _cert_status(status: CertStatus) -> ocsp.CertStatus:
    if status.state is CertState.GOOD:
        return ocsp.CertStatus(name="good", value=ocsp.StatusGood())
    if status.state is CertState.UNKNOWN:
        return ocsp.CertStatus(name="unknown", value=ocsp.StatusUnknown())
    assert status.revoked_at is not None
    info: dict[str, object] = {"revocation_time": _time(status.revoked_at)}
    if status.reason is not None and status.reason is not x509.ReasonFlags.unspecified:
        info["revocation_reason"] = status.reason.name
    return ocsp.CertStatus(name="revoked", value=ocsp.RevokedInfo(info))


def _build(
    *,
    issuer: OcspIssuer,
    singles: Sequence[_Single],
    statuses: Sequence[CertStatus],
    nonce: bytes | None,
    now: datetime,
    validity: timedelta,
) -> bytes:
    responses = [
        ocsp.SingleResponse(
            {
                "cert_id": _echo_cert_id(single.cert_id),
                "cert_status": _cert_status(status),
                "this_update": _time(now),
                "next_update": _time(now + validity),
            }
        )
        for single, status in zip(singles, statuses, strict=True)
    ]
    data: dict[str, object] = {
        "responder_id": ocsp.ResponderId(name="by_key", value=issuer._responder_key_hash),
        "produced_at": _time(now),
        "responses": responses,
    }
    if nonce is not None:
        data["response_extensions"] = [
            ocsp.ResponseDataExtension({"extn_id": "nonce", "critical": False, "extn_value": nonce})
        ]
    tbs = ocsp.ResponseData(data)
    signature, algorithm = sign_bytes(issuer.responder_key, tbs.dump())
    basic = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": tbs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": algorithm}),
            "signature": signature,
            "certs": [asn1_x509.Certificate.load(issuer._responder_der)],
        }
    )
    return ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    ).dump()


def respond(
    request_der: bytes,
    *,
    issuers: Sequence[OcspIssuer],
    lookup: Callable[[str, int], CertStatus],
    now: datetime,
    validity: timedelta,
) -> bytes:
    """Answer an OCSP request; always returns an OCSPResponse DER.

    `lookup(issuer.name, serial)` gives each certificate's status. thisUpdate and producedAt
    are `now`, nextUpdate is `now + validity`; the nonce is echoed; the responder is named by
    key hash and its certificate is included.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if validity <= timedelta(0):
        raise ValueError("validity must be positive")
    try:
        singles, nonce = _parse(request_der)
    except _Malformed as exc:
        logger.info("OCSP malformedRequest: %s", exc)
        return error_response(OcspResponseStatus.MALFORMED_REQUEST)
    try:
        issuer = _match(singles, issuers)
        if issuer is None:
            return error_response(OcspResponseStatus.UNAUTHORIZED)
        statuses = [lookup(issuer.name, single.serial) for single in singles]
        return _build(
            issuer=issuer,
            singles=singles,
            statuses=statuses,
            nonce=nonce,
            now=now,
            validity=validity,
        )
    except Exception:
        logger.exception("OCSP responder failed")
        return error_response(OcspResponseStatus.INTERNAL_ERROR)
