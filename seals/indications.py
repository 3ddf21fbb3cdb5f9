"""Which ETSI EN 319 102-1 indication each class of finding about a PDF signature leads to.

EN 319 102-1 reserves HASH_FAILURE for "the hash of the signed data object(s) does not match"
(5.2.7 cryptographic verification): only a digest that was computed and differs. A document
whose signed bytes are intact but which was changed by a later incremental update is a format /
structure question, not a digest one.

EU DSS does the same: its PDF modification checks sit in the Format Checking building block
(`bbb/fc/checks`: PdfPageDifferenceCheck, PdfAnnotationOverlapCheck, PdfVisualDifferenceCheck,
DocMDPCheck, FieldMDPCheck, SigFieldLockCheck, FormFillChangesCheck, AnnotationChangesCheck,
UndefinedChangesCheck, ByteRange checks), and each one, when its policy level is FAIL, concludes
FAILED / FORMAT_FAILURE. DSS's default policy FAILs on page differences and the ByteRange
checks and WARNs on annotation overlap, visual difference, DocMDP, FieldMDP, SigFieldLock and
undefined changes.

Our mapping follows DSS's indication/sub-indication where a check applies, and is stricter in
its default levels where a person relying on a seal would otherwise be misled:
  * changed page content, pages added/removed, redefined signed objects ("undefined changes",
    visual difference) -> TOTAL_FAILED / FORMAT_FAILURE (DSS: FAIL for pages, WARN otherwise);
  * DocMDP exceeded, a signature hidden, the certification removed -> TOTAL_FAILED /
    FORMAT_FAILURE (DSS: DocMDP WARN by default);
  * an annotation whose appearance lies over signed page content -> TOTAL_FAILED /
    FORMAT_FAILURE (DSS: annotation overlap WARN);
  * form values changed outside any permission (no DocMDP P2/P3, field not unlocked by
    SigFieldLock/FieldMDP) -> INDETERMINATE / SIG_CONSTRAINTS_FAILURE (the signature itself
    stands, the constraints of the signature are not met; EN 319 102-1 5.2.8);
  * annotations that cover no signed content, permitted form filling, later signatures,
    structure/metadata/LTV updates -> reported, no effect on the indication;
  * annotations overlapping one another (DSS PdfAnnotationOverlap, WARN) -> reported as a
    warning, no effect on the indication, as in DSS (seals/verification/overlaps.py).
Digest mismatch -> TOTAL_FAILED / HASH_FAILURE; signature value -> SIG_CRYPTO_FAILURE.
A signature whose digest could not even be computed (our parser could not process it) is
INDETERMINATE / GENERIC with the reason, and its `integrity` is unknown (None), never false.
"""

from __future__ import annotations

from enum import StrEnum

from seals.reports import Indication, SubIndication


class FindingClass(StrEnum):
    """Classes of findings about one signature (the stable codes stay in the findings)."""

    DIGEST_MISMATCH = "digest-mismatch"
    SIGNATURE_INVALID = "signature-invalid"
    SIGNATURE_UNREADABLE = "signature-unreadable"
    COVERAGE_ANOMALOUS = "coverage-anomalous"
    PROCESSING_FAILED = "processing-failed"
    CONTENT_CHANGED = "modified-after-signing"
    UNACCOUNTED_BYTES = "unaccounted-bytes-after-signing"
    DOCMDP_VIOLATED = "docmdp-violated"
    SIGNATURE_HIDDEN = "signature-hidden"
    CERTIFICATION_REMOVED = "certification-removed"
    ANNOTATION_OVER_CONTENT = "annotation-over-content"
    FORM_CHANGED_UNPERMITTED = "form-changed-after-signing"
    ANNOTATIONS_ADDED = "annotations-after-signing"
    ANNOTATIONS_OVERLAP = "annotations-overlap"
    FORM_FILLED_PERMITTED = "form-filled-allowed"
    LATER_SIGNATURES = "later-signatures"
    LTV_UPDATES = "ltv-updates"


_FAILED = Indication.TOTAL_FAILED
_INDET = Indication.INDETERMINATE

INDICATIONS: dict[FindingClass, tuple[Indication, SubIndication] | None] = {
    FindingClass.DIGEST_MISMATCH: (_FAILED, SubIndication.HASH_FAILURE),
    FindingClass.SIGNATURE_INVALID: (_FAILED, SubIndication.SIG_CRYPTO_FAILURE),
    FindingClass.SIGNATURE_UNREADABLE: (_FAILED, SubIndication.FORMAT_FAILURE),
    FindingClass.COVERAGE_ANOMALOUS: (_FAILED, SubIndication.FORMAT_FAILURE),
    FindingClass.PROCESSING_FAILED: (_INDET, SubIndication.GENERIC),
    FindingClass.CONTENT_CHANGED: (_FAILED, SubIndication.FORMAT_FAILURE),
    FindingClass.UNACCOUNTED_BYTES: (_FAILED, SubIndication.FORMAT_FAILURE),
    FindingClass.DOCMDP_VIOLATED: (_FAILED, SubIndication.FORMAT_FAILURE),
    FindingClass.SIGNATURE_HIDDEN: (_FAILED, SubIndication.FORMAT_FAILURE),
    FindingClass.CERTIFICATION_REMOVED: (_FAILED, SubIndication.FORMAT_FAILURE),
    FindingClass.ANNOTATION_OVER_CONTENT: (_FAILED, SubIndication.FORMAT_FAILURE),
    FindingClass.FORM_CHANGED_UNPERMITTED: (_INDET, SubIndication.SIG_CONSTRAINTS_FAILURE),
    FindingClass.ANNOTATIONS_ADDED: None,
    FindingClass.ANNOTATIONS_OVERLAP: None,
    FindingClass.FORM_FILLED_PERMITTED: None,
    FindingClass.LATER_SIGNATURES: None,
    FindingClass.LTV_UPDATES: None,
}
"""Finding class -> (indication, sub-indication) it leads to, or None: reported only."""

MODIFIED = INDICATIONS[FindingClass.CONTENT_CHANGED]
"""The sub-indication of any change after signing that no permission covers."""


def indication_for(finding: FindingClass) -> tuple[Indication, SubIndication] | None:
    return INDICATIONS[finding]
