"""Named check results: every verification step says which field or signature it judged.

A check is `ok=True` (made and passed), `ok=False` (made and failed) or `ok=None` (could not be
made: unknown algorithm, unreadable certificate). `passed` is true only when every check was made
and passed, so a check that could not be made never lets a signature through.
"""

from __future__ import annotations

from dataclasses import dataclass

# Check names (stable: tests, reports and the verifier's findings refer to them).
HEADER = "header"
SEAL_SIGNATURE = "seal-signature"  # the seal maker's signature over SES_SealInfo
SEAL_VALIDITY = "seal-validity"  # the time judged lies within validStart..validEnd
SIGNATURE = "signature"  # the signer's signature over TBS_Sign
DATA_HASH = "data-hash"  # dataHash == SM3(signed bytes)
CERT_LIST = "cert-list"  # the signer certificate is one the seal lists
SIGNER_CERT_VALIDITY = "signer-cert-validity"  # the signing time lies within the cert validity
TIME_STAMP = "time-stamp"  # the optional time-stamp covers the signature value


@dataclass(frozen=True)
class SesCheck:
    name: str
    ok: bool | None
    detail: str


@dataclass(frozen=True)
class SesChecks:
    """The ordered checks of one verification."""

    checks: tuple[SesCheck, ...]

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok is True for c in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.ok is False)

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.ok is None)

    def get(self, name: str) -> SesCheck | None:
        return next((c for c in self.checks if c.name == name), None)

    def __add__(self, other: SesChecks) -> SesChecks:
        return SesChecks(self.checks + other.checks)
