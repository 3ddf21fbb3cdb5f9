"""Certificate authority: identifiers, profiles, issuance, revocation, CRL, OCSP, TSA, keys."""

from pki import asn1_names as _asn1_names  # noqa: F401  (late-registered OID names resolve)
