"""Certificate authority: identifiers, profiles, issuance, revocation, CRL, OCSP, TSA, keys."""
