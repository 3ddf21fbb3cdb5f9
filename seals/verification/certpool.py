"""One parsed certificate object per certificate, shared by every verification of a process.

pyhanko-certvalidator compares names and key identifiers of every certificate it registers
in a validation context (RFC 5280 7.1 string preparation, then a hash key), and asn1crypto
keeps those prepared values on the certificate object. A verification builds up to seven
contexts, each from freshly parsed copies of the same embedded, DSS and CA certificates:
preparing their names again took about 12% of a verification (issue 12).

`interned` maps each certificate to the first object seen with exactly the same DER, so the
prepared values are computed once per certificate and process. Equal DER is the same
certificate; the objects are only read. At most `MAX_CERTIFICATES` are kept (oldest dropped).

Names that do not sit in a kept certificate - the issuer in a CMS SignerIdentifier, an OCSP
responder ID, a CRL issuer - are parsed afresh with every document, and comparing them
(`x509.Name.__eq__`, `.hashable`) took another 18% of a verification. `install_name_memo`
remembers both per DER: the comparison is a pure function of the two encodings, and an
exception (a value RFC 4518 prohibits) is raised every time, never remembered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from asn1crypto import x509 as asn1_x509

__all__ = ["MAX_CERTIFICATES", "MAX_NAMES", "install_name_memo", "intern", "interned"]

MAX_CERTIFICATES = 2048
_POOL: OrderedDict[bytes, asn1_x509.Certificate] = OrderedDict()
_LOCK = threading.Lock()


def intern(cert: asn1_x509.Certificate) -> asn1_x509.Certificate:
    der = cert.sha256  # of the DER, kept on the object once computed
    kept = _POOL.get(der)
    if kept is not None:
        return kept
    with _LOCK:
        kept = _POOL.setdefault(der, cert)
        while len(_POOL) > MAX_CERTIFICATES:
            _POOL.popitem(last=False)
    return kept


def interned(certs: Iterable[asn1_x509.Certificate]) -> list[asn1_x509.Certificate]:
    """`certs` with each replaced by the process's object for the same DER."""
    return [intern(cert) for cert in certs]


MAX_NAMES = 8192
_EQUAL: dict[tuple[bytes, bytes], bool] = {}
_HASHABLE: dict[bytes, str] = {}


def install_name_memo() -> None:
    """Remember `x509.Name` equality and `hashable` per DER (idempotent)."""
    name = asn1_x509.Name
    if getattr(name.__eq__, "memo", False):
        return
    equal: Callable[[Any, Any], bool] = name.__eq__
    hashable: Callable[[Any], str] = name.hashable.fget

    def __eq__(self: asn1_x509.Name, other: object) -> bool:
        if not isinstance(other, asn1_x509.Name):
            return False
        key = (self.sha256, other.sha256)  # SHA-256 of the DER, kept on the object
        known = _EQUAL.get(key)
        if known is None:
            known = bool(equal(self, other))
            if len(_EQUAL) >= MAX_NAMES:
                _EQUAL.clear()
            _EQUAL[key] = known
        return known

    def memo_hashable(self: asn1_x509.Name) -> str:
        der = self.sha256
        known = _HASHABLE.get(der)
        if known is None:
            known = hashable(self)
            if len(_HASHABLE) >= MAX_NAMES:
                _HASHABLE.clear()
            _HASHABLE[der] = known
        return known

    __eq__.memo = True  # type: ignore[attr-defined]
    name.__eq__ = __eq__
    name.__hash__ = None  # as asn1crypto's (it defines __eq__)
    name.hashable = property(memo_hashable)


install_name_memo()
