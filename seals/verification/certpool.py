"""One parsed certificate object per certificate, shared by every verification of a process.

pyhanko-certvalidator compares names and key identifiers of every certificate it registers
in a validation context (RFC 5280 7.1 string preparation, then a hash key), and asn1crypto
keeps those prepared values on the certificate object. A verification builds up to seven
contexts, each from freshly parsed copies of the same embedded, DSS and CA certificates:
preparing their names again took about 12% of a verification (issue 12).

`interned` maps each certificate to the first object seen with exactly the same DER, so the
prepared values are computed once per certificate and process. Equal DER is the same
certificate; the objects are only read. At most `MAX_CERTIFICATES` are kept (oldest dropped).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from asn1crypto import x509 as asn1_x509

__all__ = ["MAX_CERTIFICATES", "intern", "interned"]

MAX_CERTIFICATES = 2048
_POOL: OrderedDict[bytes, asn1_x509.Certificate] = OrderedDict()
_LOCK = threading.Lock()


def intern(cert: asn1_x509.Certificate) -> asn1_x509.Certificate:
    der = cert.dump()
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
