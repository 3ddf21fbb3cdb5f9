"""Request-scoped dependencies as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session

from app.clientaddr import client_address
from app.db import reading, unit_of_work
from app.errors import InvalidInput, NotAuthenticated, RateLimited
from app.security import Principal, authenticate_on
from app.settings import Settings
from app.wiring import Services


async def get_settings(request: Request) -> Settings:
    """Async: a plain attribute read, so FastAPI runs it on the event loop instead of handing
    it to a worker thread (each hand-off costs a thread wake-up and a GIL switch)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_services(request: Request) -> Services:
    """Async for the same reason as `get_settings`."""
    services: Services = request.app.state.services
    return services


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed before the response is sent, rolled back on error.

    Reads (GET/HEAD) never take SQLite's write lock; other methods take it at their first
    statement (the session begins lazily), so checks before it cost the lock nothing."""
    services: Services = request.app.state.services
    engine = services.engine
    if request.method in ("GET", "HEAD"):
        engine = reading(engine)
    with unit_of_work(engine) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_writing_session(request: Request) -> Iterator[Session]:
    """The unit of work of a GET that records something (an evidence export writes its
    checkpoint and audit event): it takes the write lock at its first statement like any
    POST, instead of writing from a read snapshot, which SQLite refuses at once when another
    writer got in first."""
    services: Services = request.app.state.services
    with unit_of_work(services.engine) as session:
        yield session


WritingSessionDep = Annotated[Session, Depends(get_writing_session, scope="function")]


def get_principal(request: Request) -> Principal:
    """The API key's caller, looked up in a read transaction of its own: authentication never
    takes SQLite's write lock, and the request's own transaction starts only when it needs to."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotAuthenticated("send an API key as 'Authorization: Bearer <key>'")
    services: Services = request.app.state.services
    # one statement: a Core connection, no ORM session (its set-up and teardown cost half
    # again as much as the lookup, on every API request)
    with reading(services.engine).connect() as connection, connection.begin():
        return authenticate_on(connection, key.strip())


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


# --- shared by the verification endpoints (API and public page) ---------------------------------


async def read_pdf(request: Request) -> bytes:
    """The PDF from a multipart form field ``file`` or from a raw ``application/pdf`` body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload: Any = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("send the PDF as the form field 'file'")
        data: bytes = await upload.read()
    else:
        data = await request.body()
    if not data:
        raise InvalidInput("the request has no document; send a PDF")
    return data


def check_rate(request: Request, services: Services) -> None:
    """Refuse a verification beyond the per-address rate (public verification endpoints)."""
    client = client_address(request, services.settings.trusted_proxies)
    wait = services.verify_limiter.allow(client)
    if wait is not None:
        raise RateLimited(
            "too many verification requests from this address; try again shortly",
            retry_after=int(wait) + 1,
        )
