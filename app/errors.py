"""RFC 9457 problem details: the one table from errors to (HTTP status, problem type)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import problem_texts
from pki import errors as pki_errors
from seals import envelopes as envelope_errors
from seals import errors as seal_errors
from seals import signing
from seals.pdflimits import DocumentTooComplexError

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("eseal.errors")


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
    signing.DocumentLockedError: 409,
    signing.CertificationNotFirstError: 409,
    signing.FieldNameTakenError: 409,
    signing.SignerNotValidError: 503,
    signing.TimestampFailedError: 503,
    signing.SigningError: 422,
    envelope_errors.EnvelopeInputError: 422,
    envelope_errors.EnvelopeNotFoundError: 404,
    envelope_errors.EnvelopeStateError: 409,
    DocumentTooComplexError: 422,
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


def problem_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    lang = problem_texts.negotiate(request.headers.get("accept-language")) if request else None
    if lang is not None:
        # people asked for a language: the title and detail say what to do next, in it; the
        # technical English sentence stays available as `details`
        said = problem_texts.localise(code, status, lang, problem_context(lang, extra or {}))
        body["details"] = body["detail"]
        body["title"], body["detail"] = said.title, said.detail
        headers = {**(headers or {}), "Content-Language": lang, "Vary": "Accept-Language"}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


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


_HTTP_CODES = {
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
}


def install_error_handlers(app: FastAPI) -> None:
    """Every 4xx/5xx leaves as problem+json; no stack trace ever reaches the client."""

    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError | pki_errors.PkiError | seal_errors.SealError)
        status = status_for(exc)
        if status >= 500:
            log.error("domain error %s: %s", exc.code, exc.detail)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status in (429, 503) and "retry_after" in exc.extra:
            headers = {"Retry-After": str(exc.extra["retry_after"])}
        return problem_response(
            request,
            status=status,
            code=exc.code,
            detail=exc.detail,
            extra=exc.extra,
            headers=headers,
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem_response(
            request,
            status=422,
            code="invalid-input",
            detail="the request does not match the expected shape",
            extra={"errors": errors},
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem_response(
            request,
            status=exc.status_code,
            code=code,
            detail=detail,
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def integrity_error(request: Request, exc: Exception) -> JSONResponse:
        log.info("integrity conflict: %s", type(exc).__name__)
        return problem_response(
            request,
            status=409,
            code="conflict",
            detail="the request conflicts with an existing resource",
        )

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(
            request,
            status=500,
            code="internal-error",
            detail="an internal error occurred; quote the request id when reporting it",
        )

    for cls in (AppError, pki_errors.PkiError, seal_errors.SealError):
        app.add_exception_handler(cls, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(IntegrityError, integrity_error)
    app.add_exception_handler(Exception, unexpected_error)
