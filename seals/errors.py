"""Every error `seals` raises, in one place: a stable machine `code` and a human `detail`,
nothing about HTTP (app/errors.py maps each family to a status)."""

from __future__ import annotations

from typing import Any, ClassVar


class SealError(Exception):
    """Base of every error raised by `seals`."""

    code: ClassVar[str] = "seal-error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidImageError(SealError):
    """An uploaded seal image is not an acceptable PNG/JPEG."""

    code = "invalid-seal-image"


class RenderError(SealError):
    """A seal image cannot be rendered from the given data (e.g. a glyph missing from the font)."""

    code = "seal-render-failed"


class FontUnavailableError(SealError):
    """No usable CJK OpenType font was found (or the configured one cannot be read)."""

    code = "seal-font-unavailable"


# --- registry, lifecycle and use --------------------------------------------------------------
# Each family below maps to one HTTP status in app/errors.py; subclasses refine the `code`.


class SealInputError(SealError):
    """A request to the registry is malformed (bad seal code, PIN format, limits, kinds)."""

    code = "invalid-seal-request"


class SealNotFoundError(SealError):
    """No such seal, grant or usage request (or it belongs to another organization)."""

    code = "seal-not-found"


class GrantNotFoundError(SealNotFoundError):
    code = "seal-grant-not-found"


class SealDataNotFoundError(SealNotFoundError):
    """The seal has no GB/T 38540 seal data (it has no SM2 certificate)."""

    code = "seal-data-not-found"


class UsageRequestNotFoundError(SealNotFoundError):
    code = "seal-usage-request-not-found"


class SealConflictError(SealError):
    """The act conflicts with the current state (illegal transition, already decided, ...)."""

    code = "seal-conflict"


class IllegalTransitionError(SealConflictError):
    code = "seal-illegal-transition"


class UseRefusedError(SealError):
    """A use of a seal was refused by a policy; `code` names the reason."""

    code = "seal-use-refused"


class SealNotActiveError(UseRefusedError):
    code = "seal-not-active"


class SealOutsideValidityError(UseRefusedError):
    code = "seal-outside-validity"


class CertificateInvalidError(UseRefusedError):
    code = "seal-certificate-invalid"


class NoGrantError(UseRefusedError):
    code = "seal-grant-missing"


class GrantOutsideWindowError(UseRefusedError):
    code = "seal-grant-outside-window"


class GrantDocumentTypeError(UseRefusedError):
    code = "seal-grant-document-type"


class GrantExhaustedError(UseRefusedError):
    code = "seal-grant-exhausted"


class NotSealOwnerError(UseRefusedError):
    code = "seal-not-owner"


class ApprovalRequiredError(UseRefusedError):
    code = "seal-approval-required"


class ApprovalPendingError(ApprovalRequiredError):
    code = "seal-approval-pending"


class ApprovalRejectedError(ApprovalRequiredError):
    code = "seal-approval-rejected"


class ApprovalConsumedError(ApprovalRequiredError):
    code = "seal-approval-consumed"


class PinRequiredError(UseRefusedError):
    code = "seal-pin-required"


class PinNotSetError(UseRefusedError):
    code = "seal-pin-not-set"


class WrongPinError(UseRefusedError):
    """A wrong PIN. The failure must be counted in a transaction of its own (the request's
    rolls back): `seals.pin.record_failure` in a fresh unit of work; the service does so."""

    code = "seal-pin-wrong"

    def __init__(self, detail: str, *, seal_id: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.seal_id = seal_id


class SelfApprovalError(UseRefusedError):
    code = "seal-self-approval"


class SealLockedError(SealError):
    """Too many wrong PINs: the seal refuses every use until `locked_until`."""

    code = "seal-locked"


# --- applying a seal to a PDF (seals.signing, seals.placement) --------------------------------


class SigningError(SealError):
    """Base of every error raised while applying a seal to a PDF."""

    code = "signing-failed"


class UnsupportedFormatError(SigningError):
    """The request names a signature format this service does not produce."""

    code = "unsupported-signature-format"


class PlacementError(SigningError):
    """The placement cannot be resolved on this document."""

    code = "invalid-placement"


class InvalidPlacementError(PlacementError):
    """The placement spec itself is malformed (negative size, first page after last, ...)."""

    code = "invalid-placement"


class PageOutOfRangeError(PlacementError):
    """A page number outside ``1..page_count``."""

    code = "page-out-of-range"


class PlacementOutsidePageError(PlacementError):
    """The seal would extend beyond the page's visible area (crop box)."""

    code = "placement-outside-page"


class KeywordNotFoundError(PlacementError):
    """The keyword does not occur in the document's text: no seal is put anywhere else."""

    code = "keyword-not-found"


class NotAPdfError(SigningError):
    """The bytes are not a PDF file."""

    code = "not-a-pdf"


class EncryptedPdfError(SigningError):
    """The PDF is encrypted: eseal does not seal documents it cannot read and keep readable."""

    code = "encrypted-pdf"


class DamagedPdfError(SigningError):
    """The PDF cannot be parsed strictly (broken cross-reference table, truncated file, ...)."""

    code = "damaged-pdf"


class DocumentLockedError(SigningError):
    """A certification signature on the document forbids any further change."""

    code = "document-locked"


class CertificationNotFirstError(SigningError):
    """A certification signature must be the document's first signature."""

    code = "certification-not-first"


class FieldNameTakenError(SigningError):
    """The document already has a form field with the requested name."""

    code = "field-name-taken"


class InvalidAppearanceError(SigningError):
    """The seal appearance is not a usable image or has no positive physical size."""

    code = "invalid-appearance"


class MissingInputError(SigningError):
    """The level asks for an input that was not given (time-stamper, validation material)."""

    code = "missing-signing-input"


class SignerNotValidError(SigningError):
    """The signer's (or the TSA's) certificate does not validate with the given material."""

    code = "signer-not-valid"


class TimestampFailedError(SigningError):
    """The time-stamper did not return a usable time-stamp token."""

    code = "timestamp-failed"


# --- generated documents and templates (seals.documents, seals.templates) ---------------------


class DocumentError(SealError):
    """The document cannot be generated (font unreadable, glyph missing, bad arguments)."""

    code = "document-generation-failed"


class TemplateDataError(SealInputError):
    """The data cannot make this document (empty field, dates in the wrong order, amount not
    writable, a character the font has no glyph for, unknown template)."""

    code = "invalid-template-data"


# --- documents over a processing limit, reports and thumbnails --------------------------------


class DocumentTooComplexError(SealError):
    """The document exceeds one of the configured limits; `limit` names it."""

    code = "document-too-complex"


class ReportPdfError(SealError):
    """The report PDF cannot be produced (font unusable)."""

    code = "report-pdf-failed"


class ThumbnailError(SealError):
    """The document cannot be rendered (not a PDF PDFium can open, or encrypted)."""

    code = "thumbnail-failed"


# --- envelopes (seals.envelopes) --------------------------------------------------------------


class EnvelopeError(SealError):
    code = "envelope-error"


class EnvelopeInputError(EnvelopeError):
    """The envelope as asked for cannot exist (no participants, expiry in the past, ...)."""

    code = "invalid-envelope"


class EnvelopeNotFoundError(EnvelopeError):
    """No such envelope or participant, or the caller's organization takes no part in it."""

    code = "envelope-not-found"


class EnvelopeStateError(EnvelopeError):
    """The act does not fit the envelope's (or the participant's) current state."""

    code = "envelope-state-conflict"


class EnvelopeExpiredError(EnvelopeStateError):
    code = "envelope-expired"


class NotYourTurnError(EnvelopeStateError):
    """Sequential routing: an earlier participant has not signed yet."""

    code = "envelope-not-your-turn"


class StaleRevisionError(EnvelopeStateError):
    """The signer reviewed a revision that is no longer the current one."""

    code = "envelope-revision-stale"


# --- GB/T 38540 seal structures (seals.gbt38540) --------------------------------------------------


class SesFormatError(SealError):
    """Bytes that are not a readable SESeal / SES_Signature; `detail` names the part."""

    code = "ses-malformed"
