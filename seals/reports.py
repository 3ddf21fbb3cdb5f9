"""The verification report: what a third party learns about a signed PDF.

Frozen dataclasses, one per level (document, signature, seal), with ETSI EN 319 102-1
indications (`TOTAL_PASSED`, `TOTAL_FAILED`, `INDETERMINATE`) and sub-indications named as the
standard names them. Every human reason is given in Chinese and English (`Finding`).
`to_json()` turns a report into plain dicts, lists, strings, numbers and booleans.

Nothing here reads a PDF; `seals.verification` fills these in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from seals import report_text

__all__ = [
    "Coverage",
    "DocumentFindings",
    "Finding",
    "Indication",
    "ModificationsAfter",
    "RevocationInfo",
    "RevocationSource",
    "RevocationStatus",
    "SealInfo",
    "SealPosition",
    "SignatureKind",
    "SignatureReport",
    "SignerInfo",
    "SubIndication",
    "VerificationReport",
    "overall_indication",
]


class Indication(StrEnum):
    """ETSI EN 319 102-1 §5.1.3 main indications."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(StrEnum):
    """ETSI EN 319 102-1 Tables 5 and 6 sub-indications used by this verifier."""

    # with TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    # with INDETERMINATE
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    REVOCATION_OUT_OF_BOUNDS_NO_POE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    GENERIC = "GENERIC"


class SignatureKind(StrEnum):
    APPROVAL = "approval"
    CERTIFICATION = "certification"
    DOCUMENT_TIMESTAMP = "document_timestamp"


class Coverage(StrEnum):
    ENTIRE_FILE = "ENTIRE_FILE"
    ENTIRE_REVISION = "ENTIRE_REVISION"
    ANOMALOUS = "ANOMALOUS"


class ModificationsAfter(StrEnum):
    """What was changed after a signature, in the ISO 32000 / pyhanko levels.

    `none` includes the additions PAdES expects after signing (DSS validation data, document
    time-stamps); `form_filling` includes further signatures (signing is filling a field).
    """

    NONE = "none"
    FORM_FILLING = "form_filling"
    ANNOTATIONS = "annotations"
    OTHER = "other"


class RevocationStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    REVOKED_AFTER_SIGNING = "revoked_after_signing"
    UNKNOWN = "unknown"
    NOT_CHECKED = "not_checked"
    NOT_APPLICABLE = "not_applicable"
    """The signer's own certificate is a pinned trust anchor: nobody issues status for it."""


class RevocationSource(StrEnum):
    EMBEDDED_DSS = "embedded-dss"
    SERVICE = "service"
    CRL = "crl"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Finding:
    """One human reason, in Chinese and English; `code` is stable for machines."""

    code: str
    zh: str
    en: str

    def to_json(self) -> dict[str, str]:
        """Chinese without embedded English library text; that text is kept in `details`."""
        return report_text.finding_json(self)


@dataclass(frozen=True, slots=True)
class SealInfo:
    """What the seal registry says about the seal bound to a certificate (current status)."""

    code: str
    kind: str
    owner: str
    status: str
    kind_label: str | None = None
    """The kind's own name when the organization named it (医保结算专用章); None: standard."""

    def to_json(self) -> dict[str, str]:
        found = {"code": self.code, "kind": self.kind, "owner": self.owner, "status": self.status}
        if self.kind_label is not None:
            found["kind_label"] = self.kind_label
        return found


@dataclass(frozen=True, slots=True)
class SealPosition:
    """Where a signature shows on a page: one widget annotation of its field.

    `page` is the index in the page tree (from 0, as PDF libraries count); everything a person
    or a client reads counts pages from 1, like placements do, so the JSON form carries
    `page_number`'s value under ``page``. `rect` is (x1, y1, x2, y2) in PDF user space (points,
    origin at the bottom left of the page's media box), normalised so that x1 <= x2 and
    y1 <= y2. A riding (cross-page) seal has one position per page it runs over; an invisible
    signature none.
    """

    page: int
    rect: tuple[float, float, float, float]

    @property
    def page_number(self) -> int:
        """The page as people count it (the first page is 1)."""
        return self.page + 1

    def to_json(self) -> dict[str, Any]:
        return {"page": self.page_number, "rect": list(self.rect)}


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """The signer as named in its certificate; personal identifiers masked."""

    summary: str
    common_name: str | None
    organization: str | None
    credit_code: str | None
    """Unified social credit code of an enterprise (public register data, shown in full)."""
    resident_id_masked: str | None
    certificate_sha256: str
    certificate_serial: str
    issuer: str
    not_before: datetime | None
    not_after: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "common_name": self.common_name,
            "organization": self.organization,
            "credit_code": self.credit_code,
            "resident_id_masked": self.resident_id_masked,
            "certificate_sha256": self.certificate_sha256,
            "certificate_serial": self.certificate_serial,
            "issuer": self.issuer,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
        }


@dataclass(frozen=True, slots=True)
class RevocationInfo:
    """Revocation status of the signer's certificate at the time of signing."""

    status: RevocationStatus
    source: RevocationSource
    revoked_at: datetime | None = None
    checked_at: datetime | None = None
    """The time the status was established for (the proven signing time, or `now`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "source": self.source.value,
            "revoked_at": _iso(self.revoked_at),
            "checked_at": _iso(self.checked_at),
        }


@dataclass(frozen=True, slots=True)
class SignatureReport:
    field_name: str
    kind: SignatureKind
    signer: SignerInfo | None
    seal: SealInfo | None
    claimed_signing_time: datetime | None
    timestamp_time: datetime | None
    tsa: str | None
    pades_level: str | None
    """'B-B' | 'B-T' | 'B-LT' | 'B-LTA', or None (not a PAdES signature or not readable)."""
    integrity: bool | None
    """The CMS signature and the digest over the ByteRange both check out; None when the
    digest could not be computed (the signature could not be processed)."""
    chain: tuple[str, ...]
    """Subjects from the signer up to the trust anchor (when a chain was found)."""
    trust_anchor: str | None
    trust_anchor_is_ours: bool
    revocation: RevocationInfo
    coverage: Coverage
    modifications_after: ModificationsAfter
    certification: str | None
    """DocMDP permission of a certification signature: NO_CHANGES | FILL_FORMS | ANNOTATE."""
    signed_revision: int | None
    indication: Indication
    sub_indication: SubIndication | None
    findings: tuple[Finding, ...]
    positions: tuple[SealPosition, ...] = ()
    """The widget annotations of the signature field in the final revision (may be empty)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "field_name": self.field_name,
            "kind": self.kind.value,
            "signer": self.signer.to_json() if self.signer else None,
            "seal": self.seal.to_json() if self.seal else None,
            "claimed_signing_time": _iso(self.claimed_signing_time),
            "timestamp_time": _iso(self.timestamp_time),
            "tsa": self.tsa,
            "pades_level": self.pades_level,
            "integrity": self.integrity,
            "chain": list(self.chain),
            "trust_anchor": self.trust_anchor,
            "trust_anchor_is_ours": self.trust_anchor_is_ours,
            "revocation": self.revocation.to_json(),
            "coverage": self.coverage.value,
            "modifications_after": self.modifications_after.value,
            "certification": self.certification,
            "signed_revision": self.signed_revision,
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "findings": [f.to_json() for f in self.findings],
            "positions": [p.to_json() for p in self.positions],
        }


@dataclass(frozen=True, slots=True)
class DocumentFindings:
    sha256: str
    size: int
    page_count: int | None
    revisions: int | None
    signatures: int
    modified_after_last_signature: bool
    modifications: tuple[Finding, ...]
    """What changed after the last signature, and document-level problems."""
    status: str = "ok"
    """'ok' | 'not_pdf' | 'damaged' | 'encrypted' | 'unsigned' | 'timeout'."""

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "status": self.status,
            "page_count": self.page_count,
            "revisions": self.revisions,
            "signatures": self.signatures,
            "modified_after_last_signature": self.modified_after_last_signature,
            "modifications": [f.to_json() for f in self.modifications],
        }


@dataclass(frozen=True, slots=True)
class VerificationReport:
    document: DocumentFindings
    signatures: tuple[SignatureReport, ...]
    indication: Indication
    sub_indication: SubIndication | None
    verdict_zh: str
    verdict_en: str
    validation_time: datetime
    elapsed_seconds: float = field(default=0.0, compare=False)

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    def to_json(self) -> dict[str, Any]:
        return {
            "indication": self.indication.value,
            "sub_indication": self.sub_indication.value if self.sub_indication else None,
            "verdict_zh": report_text.split_library_text(self.verdict_zh)[0],
            "verdict_en": self.verdict_en,
            "validation_time": _iso(self.validation_time),
            "document": {
                **self.document.to_json(),
                # one answer to "was it changed after signing?": also when a signature's own
                # bytes were altered (modified_after_last_signature only looks past the last)
                "changed_after_signing": report_text.document_changed(self),
            },
            "signatures": [s.to_json() for s in self.signatures],
        }


_SEVERITY = {Indication.TOTAL_PASSED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_FAILED: 2}


def overall_indication(
    signatures: tuple[SignatureReport, ...],
) -> tuple[Indication, SubIndication | None]:
    """The worst indication of all signatures (FAILED > INDETERMINATE > PASSED)."""
    worst: SignatureReport | None = None
    for sig in signatures:
        if worst is None or _SEVERITY[sig.indication] > _SEVERITY[worst.indication]:
            worst = sig
    if worst is None:
        return Indication.INDETERMINATE, SubIndication.SIGNED_DATA_NOT_FOUND
    return worst.indication, worst.sub_indication


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
