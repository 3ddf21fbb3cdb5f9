"""Digest algorithms past their sunset date for the signed data, judged as EU DSS judges them.

ETSI EN 319 102-1 5.2.8 (signature acceptance validation) checks the algorithms a signature
uses against cryptographic constraints; an algorithm no longer reliable at the time the
signature is proven to have existed makes the signature INDETERMINATE /
CRYPTO_CONSTRAINTS_FAILURE_NO_POE (5.6.2.x past signature validation resolves it only with a
proof of existence before the algorithm's sunset). EU DSS's default validation policy
(dss-policy-jaxb policy/constraint.xml, <Cryptographic Level="FAIL"> <AlgoExpirationDate>,
dates from ETSI TS 119 312) gives MD5 until 2004-08-01, SHA-1 until 2012-08-01 and
RIPEMD-160 until 2014-08-01 - the values used here. DSS applies them to the digest of the
signed data and to the digest inside the signature algorithm; so do we.

The digest still counts: such a signature's `integrity` is true when its digest matched
(DSS: "signature intact"); only the indication is INDETERMINATE, with the reason. The proof
of existence is the signature's trusted time-stamp (or a later document time-stamp), else the
validation time. Our own signatures never use these algorithms (SHA-256 / SM3).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from pyhanko.sign.validation import EmbeddedPdfSignature

from seals.reports import Finding, SubIndication
from seals.verification.findings import Acc
from seals.verification.pkcs7_sha1 import SUBFILTER as PKCS7_SHA1

SUNSET = {
    "md5": datetime(2004, 8, 1, tzinfo=UTC),
    "sha1": datetime(2012, 8, 1, tzinfo=UTC),
    "ripemd160": datetime(2014, 8, 1, tzinfo=UTC),
}
"""Digest algorithm -> the date after which DSS's default policy no longer accepts it."""

_NAMES = {"md5": "MD5", "sha1": "SHA-1", "ripemd160": "RIPEMD-160"}


def signed_data_digests(emb: EmbeddedPdfSignature, subfilter: str) -> set[str]:
    """The digest algorithms the signature relies on for its signed data."""
    found: set[str] = set()
    if subfilter == PKCS7_SHA1:
        found.add("sha1")  # the ByteRange digest of this sub-filter is always SHA-1
    with contextlib.suppress(KeyError, ValueError, AttributeError):
        found.add(emb.signer_info["digest_algorithm"]["algorithm"].native.lower())
    # a plain rsassa_pkcs1v15 / ecdsa names no digest: the digest algorithm above is the one
    with contextlib.suppress(KeyError, ValueError, AttributeError):
        found.add(emb.signer_info["signature_algorithm"].hash_algo.lower())
    return found


def weak_digest_check(
    acc: Acc, emb: EmbeddedPdfSignature, *, subfilter: str, poe: datetime | None, now: datetime
) -> None:
    """INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE for a signed-data digest used after
    its sunset (see the module doc)."""
    when = poe or now
    for algorithm in sorted(signed_data_digests(emb, subfilter)):
        sunset = SUNSET.get(algorithm)
        if sunset is not None and when >= sunset:
            acc.indeterminate(SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, _finding(algorithm))
            return


def _finding(algorithm: str) -> Finding:
    name, sunset = _NAMES[algorithm], SUNSET[algorithm].strftime("%Y-%m-%d")
    return Finding(
        code="weak-digest",
        zh=f"签名数据的摘要算法 {name} 自 {sunset} 起不再被认为安全，"
        "且没有时间戳证明签名早于该日期；摘要本身与文档一致。",
        en=f"The signed data's digest algorithm {name} is no longer considered secure since "
        f"{sunset}, and no time-stamp proves the signature existed before then; the digest "
        "itself matches the document.",
    )
