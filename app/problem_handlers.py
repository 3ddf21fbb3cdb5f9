"""The FastAPI side of RFC 9457 problems: every 4xx/5xx leaves as problem+json built by
`app.errors.problem_body`, with the status from `app.errors.STATUS_BY_ERROR`; no stack trace
ever reaches the client."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import problem_texts
from app.errors import (
    CODE_BY_HTTP_STATUS,
    PROBLEM_MEDIA_TYPE,
    TITLES,
    AppError,
    problem_body,
    status_for,
)
from pki import errors as pki_errors
from seals import errors as seal_errors

log = logging.getLogger("eseal.errors")


def problem_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The problem as a response, in the language the request asked for (if any)."""
    lang = problem_texts.negotiate(request.headers.get("accept-language")) if request else None
    body = problem_body(
        status=status,
        code=code,
        detail=detail,
        extra=extra,
        instance=request.url.path if request is not None else None,
        request_id=getattr(request.state, "request_id", None) if request is not None else None,
        lang=lang,
    )
    if lang is not None:
        headers = {**(headers or {}), "Content-Language": lang, "Vary": "Accept-Language"}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


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
        code = CODE_BY_HTTP_STATUS.get(exc.status_code, "http-error")
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
