"""Request-scoped dependencies as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.db import reading, unit_of_work
from app.errors import NotAuthenticated
from app.security import Principal, authenticate_api_key
from app.settings import Settings
from app.wiring import Services


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_services(request: Request) -> Services:
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
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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
    with unit_of_work(reading(services.engine)) as session:
        return authenticate_api_key(session, key.strip())


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
