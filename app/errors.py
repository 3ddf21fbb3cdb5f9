"""RFC 9457 problem details without the web framework: the service's own error classes, the
one table from errors to HTTP status (the problem type is each error's stable ``code``), the
titles, and the problem document itself. The FastAPI handlers that send it are in
`app.problem_handlers`."""

from __future__ import annotations

from typing import Any, ClassVar

from app import problem_texts
from pki import errors as pki_errors
from seals import errors as seal_errors

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_type(code: str) -> str:
    """The stable problem ``type`` URI for a code."""
    return f"urn:eseal:problem:{code}"


class AppError(Exception):
    """Errors raised by the service layer itself (auth, tenancy, request shape)."""

    code: ClassVar[str] = "error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotAuthenticated(AppError):
    code = "not-authenticated"


class Forbidden(AppError):
    code = "forbidden"


class NotFound(AppError):
    code = "not-found"


class Conflict(AppError):
    code = "conflict"


class InvalidInput(AppError):
    code = "invalid-input"


class PayloadTooLarge(AppError):
    code = "payload-too-large"


class RateLimited(AppError):
    code = "rate-limited"


class Overloaded(AppError):
    """Too much work of this kind in flight; the client should retry (503 + Retry-After)."""

    code = "overloaded"


# The one table: error class -> HTTP status. The first matching class (in MRO order) wins;
# the problem type comes from the error's own stable ``code``.
STATUS_BY_ERROR: dict[type[Exception], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    RateLimited: 429,
    Overloaded: 503,
    InvalidInput: 422,
    pki_errors.InvalidIdentifierError: 422,
    pki_errors.InvalidRequestError: 422,
    pki_errors.CertificateNotFoundError: 404,
    pki_errors.AlreadyRevokedError: 409,
    pki_errors.HierarchyMissingError: 503,
    pki_errors.KeyStoreError: 500,
    pki_errors.PkiError: 400,
    seal_errors.InvalidImageError: 422,
    seal_errors.RenderError: 422,
    seal_errors.SealInputError: 422,
    seal_errors.SealNotFoundError: 404,
    seal_errors.SealConflictError: 409,
    seal_errors.SealNotActiveError: 409,
    seal_errors.SealOutsideValidityError: 409,
    seal_errors.CertificateInvalidError: 409,
    seal_errors.ApprovalConsumedError: 409,
    seal_errors.UseRefusedError: 403,
    seal_errors.SealLockedError: 423,
    seal_errors.DocumentLockedError: 409,
    seal_errors.CertificationNotFirstError: 409,
    seal_errors.FieldNameTakenError: 409,
    seal_errors.SignerNotValidError: 503,
    seal_errors.TimestampFailedError: 503,
    seal_errors.SigningError: 422,
    seal_errors.EnvelopeInputError: 422,
    seal_errors.EnvelopeNotFoundError: 404,
    seal_errors.EnvelopeStateError: 409,
    seal_errors.DocumentTooComplexError: 422,
    seal_errors.SealError: 400,
}

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    423: "Locked",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
    507: "Insufficient storage",
}


def status_for(error: Exception) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    lang: problem_texts.Lang | None = None,
) -> dict[str, Any]:
    """The RFC 9457 problem document. With a negotiated language the title and detail say
    what to do next in it, and the technical English sentence stays available as `details`."""
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    if lang is not None:
        said = problem_texts.localise(code, status, lang, problem_context(lang, extra or {}))
        body["details"] = body["detail"]
        body["title"], body["detail"] = said.title, said.detail
    return body


def problem_context(lang: problem_texts.Lang, extra: dict[str, Any]) -> dict[str, Any]:
    """The placeholders of a problem text from a problem's extra members."""
    context: dict[str, Any] = {
        "seal": problem_texts.seal_label(
            lang, name=extra.get("seal_name"), code=extra.get("seal_code")
        ),
        "attempts_left": extra.get("attempts_left"),
        "retry_after": extra.get("retry_after"),
    }
    locked_until = extra.get("locked_until")
    if isinstance(locked_until, str):
        context["locked_until"] = problem_texts.local_time(locked_until)
    return context


# The problem code of a bare HTTP error (a route not found, a method not allowed, ...).
CODE_BY_HTTP_STATUS = {
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
}
