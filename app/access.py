"""What each route needs, declared on the route itself (issue 10).

Every API and console route carries exactly one declaration among its dependencies:

- ``needs(scope, ...)``: an authenticated API client holding at least one of the scopes
  (org:admin implies every organization scope, 'platform' everything);
- ``console_needs(scope, ...)``: the same for a signed-in console user in the chosen
  organization (scopes come from the user's confirmed roles);
- ``authenticated(why)`` / ``signed_in(why)``: any valid caller, because the service itself
  narrows what is shown to the caller's own organization or person (said in ``why``);
- ``public(why)``: no caller at all (verification, PKI protocols, health).

The service functions still check scopes and tenancy again (defence in depth); the
declaration makes the requirement visible, and ``tests/security/test_route_access.py`` walks
the router and fails for any route without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from app.deps import get_principal
from app.errors import Forbidden
from app.security import Principal, Scope

ACCESS_ATTR = "__eseal_access__"


@dataclass(frozen=True)
class Access:
    kind: str  # "scopes" (API), "console", "authenticated", "signed_in" or "public"
    any_of: frozenset[Scope] = frozenset()
    why: str = ""


def _mark(function: Any, access: Access) -> list[Any]:
    setattr(function, ACCESS_ATTR, access)
    return [Depends(function)]


class ConsoleRefused(Forbidden):
    """Refused by a console route's declaration: answered with the console's error page."""


def _refuse_unless(
    principal: Principal, any_of: tuple[Scope, ...], error: type[Forbidden] = Forbidden
) -> None:
    if not any(principal.has(scope) for scope in any_of):
        names = "' or '".join(s.value for s in any_of)
        raise error(f"this action needs the scope '{names}'")


def needs(*any_of: Scope) -> list[Any]:
    """Route dependencies: an API client with at least one of these scopes."""

    async def check(principal: Principal = Depends(get_principal)) -> None:
        _refuse_unless(principal, any_of)  # no I/O: on the event loop, not a worker thread

    return _mark(check, Access("scopes", frozenset(any_of)))


def authenticated(why: str) -> list[Any]:
    """Route dependencies: any valid API key; ``why`` says how the service narrows it."""

    async def check(principal: Principal = Depends(get_principal)) -> None:
        return None

    return _mark(check, Access("authenticated", why=why))


def public(why: str) -> list[Any]:
    """Route dependencies: no caller needed (``why`` says why that is safe)."""

    async def check() -> None:
        return None

    return _mark(check, Access("public", why=why))


def console_needs(*any_of: Scope) -> list[Any]:
    """Route dependencies: a console user whose roles here give one of these scopes."""
    from app.console.web import console_ctx  # the console builds on the API layer, not back

    async def check(request: Request, ctx: Any = Depends(console_ctx)) -> None:
        in_org = ctx.principal.organization_id is not None or ctx.principal.is_platform
        if not in_org:
            raise ConsoleRefused("choose an organization first")
        _refuse_unless(ctx.principal, any_of, ConsoleRefused)

    return _mark(check, Access("console", frozenset(any_of)))


def signed_in(why: str) -> list[Any]:
    """Route dependencies: any signed-in console user (``why`` says how it is narrowed)."""

    async def check() -> None:
        return None

    return _mark(check, Access("signed_in", why=why))


def declared(dependant: Any) -> list[Access]:
    """Every declaration among a route's dependencies (the walker test reads this)."""
    found: list[Access] = []
    for sub in dependant.dependencies:
        access = getattr(sub.call, ACCESS_ATTR, None)
        if isinstance(access, Access):
            found.append(access)
    return found
