"""Trust anchors (our roots plus recognised foreign CAs) -> pyhanko validation contexts.

A `TrustStore` is plain data built once (in `app.wiring`) from our hierarchy and the trust
anchors platform admins recognised. `validation_context(...)` turns it, for one validation, into
a `pyhanko_certvalidator.ValidationContext` at a given moment with the revocation material the
caller gathered (from our own OCSP responder / CRL builder in process, or embedded in the PDF).

Network fetching of revocation data and certificates is OFF unless `NetworkFetching(enabled=
True)` is given; when on it has a per-request timeout and a request budget per validation.

A certificate that does not chain to one of the anchors gets no path: the verifier reports it
as INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import FetcherBackend
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from pki.sm2_validation import SM2_AWARE_VALIDATOR

__all__ = [
    "ContextInputs",
    "NetworkFetching",
    "RevinfoKind",
    "RevocationLookup",
    "RevocationMaterial",
    "TrustAnchor",
    "TrustStore",
    "classify_revinfo",
    "to_asn1",
]

RevocationLookup = Callable[[x509.Certificate, x509.Certificate], bytes | None]
"""`(issuer, certificate) -> DER` of an OCSP response or a CRL for `certificate`, or None.

Provided by the caller for OUR certificates (in process: `pki.ocsp.respond` / `pki.crl`)."""


class RevinfoKind(StrEnum):
    OCSP = "ocsp"
    CRL = "crl"


@functools.lru_cache(maxsize=512)
def classify_revinfo(der: bytes) -> RevinfoKind | None:
    """Whether `der` is a successful OCSP response, a CRL, or neither. Never raises.
    Remembered per DER (a pure function; a full parse of a CRL costs milliseconds, and the
    same answers and CRLs come back with every document of a seal)."""
    try:
        response = asn1_ocsp.OCSPResponse.load(der, strict=True)
        if response["response_status"].native == "successful":
            response["response_bytes"]["response"].parsed.native  # noqa: B018 - parse now
            return RevinfoKind.OCSP
        return None
    except Exception:  # noqa: S110 - asn1crypto raises many kinds on foreign input
        pass
    try:
        crl = asn1_crl.CertificateList.load(der, strict=True)
        crl["tbs_cert_list"]["issuer"].native  # noqa: B018 - parse now
        return RevinfoKind.CRL
    except Exception:
        return None


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True, slots=True)
class NetworkFetching:
    """Whether the validator may fetch OCSP/CRL/issuer certificates over the network."""

    enabled: bool = False
    timeout_seconds: float = 5.0
    max_requests: int = 8
    allowed_hosts: frozenset[str] = frozenset()
    """Hosts reachable even at non-public addresses (tests, a lab CA); see pki.outbound."""

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0 or self.max_requests < 1:
            raise ValueError("network fetching needs a positive timeout and request budget")

    def backend(self) -> FetcherBackend | None:
        """A fresh fetcher backend (the caller closes it), or None when fetching is off.
        Only public destinations, no issuer chasing (pki.outbound); call in a running loop."""
        if not self.enabled:
            return None
        from pki.outbound import GuardedFetcherBackend

        return GuardedFetcherBackend(
            timeout_seconds=self.timeout_seconds,
            max_requests=self.max_requests,
            allowed_hosts=self.allowed_hosts,
        )


@dataclass(frozen=True, slots=True)
class TrustAnchor:
    certificate: x509.Certificate
    ours: bool
    """True for our own roots (revocation from our database); False for recognised foreign CAs."""
    label: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.certificate.public_bytes(serialization.Encoding.DER)).hexdigest()

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


@dataclass(frozen=True, slots=True)
class RevocationMaterial:
    """OCSP responses, CRLs (DER) and extra certificates to validate with."""

    ocsps: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()
    certs: tuple[asn1_x509.Certificate, ...] = ()

    def __add__(self, other: RevocationMaterial) -> RevocationMaterial:
        return RevocationMaterial(
            ocsps=self.ocsps + other.ocsps,
            crls=self.crls + other.crls,
            certs=self.certs + other.certs,
        )

    @property
    def empty(self) -> bool:
        return not (self.ocsps or self.crls)


@dataclass(frozen=True, slots=True)
class ContextInputs:
    """What a validation context without network fetching was built from, besides the
    certificates it holds and its validation time (read from the context itself)."""

    anchors: tuple[asn1_x509.Certificate, ...]
    revocation: RevocationMaterial
    require_revocation: bool
    retroactive_revinfo: bool


@dataclass(frozen=True)
class TrustStore:
    """Our roots plus recognised foreign CAs, our intermediates, and the network switch.

    `own_roots` are the roots of our hierarchy; `recognised` are foreign CAs admins added
    (mutual recognition between provinces). `intermediates` (our issuing CAs) help path
    building when a signature does not embed its chain; they are not anchors.
    """

    own_roots: Sequence[x509.Certificate]
    recognised: Sequence[x509.Certificate] = ()
    intermediates: Sequence[x509.Certificate] = ()
    network: NetworkFetching = field(default_factory=NetworkFetching)
    _anchors: tuple[TrustAnchor, ...] = field(init=False, repr=False, compare=False)
    _asn1_roots: tuple[asn1_x509.Certificate, ...] = field(init=False, repr=False, compare=False)
    _asn1_intermediates: tuple[asn1_x509.Certificate, ...] = field(
        init=False, repr=False, compare=False
    )
    _by_der: dict[bytes, TrustAnchor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        anchors: list[TrustAnchor] = []
        seen: set[bytes] = set()
        for ours, certs in ((True, self.own_roots), (False, self.recognised)):
            for cert in certs:
                der = cert.public_bytes(serialization.Encoding.DER)
                if der in seen:
                    continue
                seen.add(der)
                anchors.append(TrustAnchor(certificate=cert, ours=ours))
        object.__setattr__(self, "own_roots", tuple(self.own_roots))
        object.__setattr__(self, "recognised", tuple(self.recognised))
        object.__setattr__(self, "intermediates", tuple(self.intermediates))
        object.__setattr__(self, "_anchors", tuple(anchors))
        object.__setattr__(self, "_asn1_roots", tuple(to_asn1(a.certificate) for a in anchors))
        object.__setattr__(
            self, "_asn1_intermediates", tuple(to_asn1(c) for c in self.intermediates)
        )
        object.__setattr__(
            self,
            "_by_der",
            {a.certificate.public_bytes(serialization.Encoding.DER): a for a in anchors},
        )

    @property
    def anchors(self) -> tuple[TrustAnchor, ...]:
        return self._anchors

    @property
    def asn1_anchors(self) -> tuple[asn1_x509.Certificate, ...]:
        """The anchors' certificates as the validation contexts get them."""
        return self._asn1_roots

    @property
    def asn1_intermediates(self) -> tuple[asn1_x509.Certificate, ...]:
        return self._asn1_intermediates

    def anchor_for(
        self, certificate: asn1_x509.Certificate | x509.Certificate
    ) -> TrustAnchor | None:
        """The anchor whose certificate is exactly `certificate`, if any."""
        der = (
            certificate.dump()
            if isinstance(certificate, asn1_x509.Certificate)
            else certificate.public_bytes(serialization.Encoding.DER)
        )
        return self._by_der.get(der)

    def validation_context(
        self,
        *,
        moment: datetime,
        other_certs: Iterable[asn1_x509.Certificate] = (),
        revocation: RevocationMaterial | None = None,
        require_revocation: bool,
        retroactive_revinfo: bool = True,
        fetcher_backend: FetcherBackend | None = None,
    ) -> ValidationContext:
        """A validation context at `moment` (point-in-time validation).

        `require_revocation`: the end-entity certificate needs an OCSP response or a CRL
        (hard fail without one); CA certificates are checked when the material covers them
        (and a revocation found is always fatal). Otherwise revocation is checked only if
        material is present. `retroactive_revinfo` lets revocation data issued after `moment`
        speak for `moment` (our responder answers now about a signature made earlier).
        """
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        revocation = revocation or RevocationMaterial()
        ee_rule = (
            RevocationCheckingRule.CRL_OR_OCSP_REQUIRED
            if require_revocation
            else RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
        )
        policy = CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=ee_rule,
                intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
            ),
            retroactive_revinfo=retroactive_revinfo,
        )
        fetching = fetcher_backend is not None
        context = ValidationContext(
            trust_roots=list(self._asn1_roots),
            other_certs=[*self._asn1_intermediates, *revocation.certs, *other_certs],
            moment=moment,
            allow_fetching=fetching,
            fetcher_backend=fetcher_backend,
            ocsps=list(revocation.ocsps),
            crls=list(revocation.crls),
            revinfo_policy=policy,
            signature_validator=SM2_AWARE_VALIDATOR,
        )
        if not fetching:  # what seals.verification.pathcache keys a kept path validation on
            context.eseal_inputs = ContextInputs(  # type: ignore[attr-defined]
                anchors=self._asn1_roots,
                revocation=revocation,
                require_revocation=require_revocation,
                retroactive_revinfo=retroactive_revinfo,
            )
        return context
