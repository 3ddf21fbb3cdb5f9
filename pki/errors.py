"""Every error `pki` raises, in one place: a stable machine `code` and a human `detail`,
nothing about HTTP (app/errors.py maps each to a status)."""

from __future__ import annotations

from typing import Any, ClassVar


class PkiError(Exception):
    """Base of every error raised by `pki`."""

    code: ClassVar[str] = "pki-error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidIdentifierError(PkiError):
    """A unified social credit code or resident ID number failed validation."""

    code = "invalid-identifier"


class InvalidRequestError(PkiError):
    """A certificate request (CSR, profile, lifetime) cannot be honoured."""

    code = "invalid-certificate-request"


class CertificateNotFoundError(PkiError):
    code = "certificate-not-found"


class AlreadyRevokedError(PkiError):
    code = "certificate-already-revoked"


class KeyStoreError(PkiError):
    """The key store cannot produce or unlock a key (wrong master key, missing key)."""

    code = "keystore-error"


class HierarchyMissingError(PkiError):
    """The CA hierarchy has not been initialised (run `eseal init`)."""

    code = "ca-not-initialised"


class CrlError(PkiError):
    """A CRL cannot be built from the given material (bad number, times, key or entries)."""

    code = "crl-error"


class OcspConfigError(PkiError):
    """An OCSP issuer is misconfigured (responder key, certificate or delegation)."""

    code = "ocsp-config-error"


class OcspRequestError(PkiError):
    """An OCSP request cannot be decoded (e.g. a bad base64 GET path)."""

    code = "ocsp-malformed-request"


class TsaConfigError(PkiError):
    """The time-stamping authority is misconfigured (key, certificate, policy, accuracy)."""

    code = "tsa-config-error"


class TokenError(PkiError):
    """A time-stamp token cannot be read or does not verify."""

    code = "timestamp-token-invalid"


class UnknownCaError(PkiError):
    """No CA (or TSA / OCSP identity) of that name is initialised."""

    code = "unknown-ca"
