"""RFC 3161 tokens over our own data (checkpoints, evidence manifests) and their offline check.

`stamp` asks the in-process TSA (`pki.tsa.respond`) for a token over SHA-256 of some bytes;
`check_token` verifies such a token later without any service: the imprint, the CMS
signature and the TSA's chain to a given root, at the token's own time (pyhanko's
time-stamp validation with fetching off).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos, cms, crl, ocsp, tsp
from asn1crypto import x509 as asn1_x509

from pki.errors import TokenError
from pki.tsa import TimeStampResp, TsaConfig, new_serial, respond


@contextmanager
def _quiet(enabled: bool) -> Iterator[None]:
    """pyhanko logs a failed path build as a warning with a traceback."""
    log = logging.getLogger("pyhanko.sign.validation.generic_cms")
    before = log.disabled
    log.disabled = log.disabled or enabled
    try:
        yield
    finally:
        log.disabled = before


def stamp(data: bytes, *, config: TsaConfig, now: datetime) -> bytes:
    """A TimeStampToken (ContentInfo DER, TSA certificates included) over SHA-256 of data."""
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": secrets.randbits(63),
            "cert_req": True,
        }
    )
    response = TimeStampResp.load(
        respond(request.dump(), config=config, now=now, serial=new_serial())
    )
    if response["status"]["status"].native != "granted":
        raise TokenError("the time-stamping authority refused to stamp")
    token: bytes = response["time_stamp_token"].dump()
    return token


@dataclass(frozen=True)
class TokenStatus:
    """What an offline look at a token found: ``intact`` and ``valid`` speak of the token
    alone (its CMS signature over its TSTInfo), ``trusted`` of its TSA's chain to the root."""

    gen_time: datetime
    serial: int
    imprint_algorithm: str
    imprint: bytes
    intact: bool
    valid: bool
    trusted: bool
    tsa: str

    def covers(self, data: bytes) -> bool:
        return hashlib.new(self.imprint_algorithm, data).digest() == self.imprint


def inspect_token(
    token_der: bytes,
    *,
    trust_roots: Sequence[bytes],
    certificates: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
    ocsp_responses: Sequence[bytes] = (),
) -> TokenStatus:
    """Validate a token on its own (fetching off, at its own time); `TokenError` only when
    it cannot be read at all."""
    try:
        content = cms.ContentInfo.load(token_der)
        signed = content["content"]
        tst_info = signed["encap_content_info"]["content"].parsed
        imprint = tst_info["message_imprint"]
        fields = (
            tst_info["gen_time"].native,
            int(tst_info["serial_number"].native),
            imprint["hash_algorithm"]["algorithm"].native,
            imprint["hashed_message"].native,
        )
    except Exception as exc:  # asn1crypto raises many kinds on damaged DER
        raise TokenError(f"not a time-stamp token ({type(exc).__name__})") from exc
    if content["content_type"].native != "signed_data" or not isinstance(tst_info, tsp.TSTInfo):
        raise TokenError("not a time-stamp token")
    gen_time, serial, algorithm, digest = fields
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data  # pyhanko: here only
    from pyhanko_certvalidator import ValidationContext

    try:
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(der) for der in trust_roots],
            other_certs=[asn1_x509.Certificate.load(der) for der in certificates],
            crls=[crl.CertificateList.load(der) for der in crls],
            ocsps=[ocsp.OCSPResponse.load(der) for der in ocsp_responses],
            allow_fetching=False,
            revocation_mode="soft-fail",
            moment=gen_time,
        )
        with _quiet(not trust_roots):  # no anchor on purpose: no path is expected
            status = asyncio.run(validate_tst_signed_data(signed, context, lambda _alg: digest))
    except Exception as exc:  # a damaged certificate or signature inside the token
        raise TokenError(f"the token cannot be validated ({type(exc).__name__})") from exc
    signer = status.get("signing_cert")
    return TokenStatus(
        gen_time=gen_time,
        serial=serial,
        imprint_algorithm=algorithm,
        imprint=digest,
        intact=bool(status.get("intact")),
        valid=bool(status.get("valid")),
        # pyhanko reports trust as a validation path and no trust problem
        trusted=status.get("validation_path") is not None
        and status.get("trust_problem_indic") is None,
        tsa=signer.subject.human_friendly if signer is not None else "?",
    )


def check_token(
    token_der: bytes,
    data: bytes,
    *,
    trust_roots: Sequence[bytes],
    certificates: Sequence[bytes] = (),
) -> TokenStatus:
    """Verify a token over ``data`` offline; raise `TokenError` saying what does not hold."""
    status = inspect_token(token_der, trust_roots=trust_roots, certificates=certificates)
    if not (status.intact and status.valid):
        raise TokenError("the token's signature does not verify")
    if not status.covers(data):
        raise TokenError("the token was not made over these bytes (message imprint differs)")
    if not status.trusted:
        raise TokenError("the time-stamping authority does not chain to the trusted root")
    return status
