"""Walk an application's routes with the dependencies each one runs (its own and those of the
routers it is included through), as the CSRF test walks the console's forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.access import ACCESS_ATTR, Access

FRAMEWORK_MODULES = {"fastapi.applications"}  # /openapi.json, /docs, /redoc


@dataclass(frozen=True)
class WalkedRoute:
    methods: frozenset[str]
    path: str
    module: str
    access: tuple[Access, ...]


def walk(router: Any, prefix: str = "", inherited: tuple[Any, ...] = ()) -> list[WalkedRoute]:
    found: list[WalkedRoute] = []
    for route in router.routes:
        if hasattr(route, "original_router"):
            context = route.include_context
            found += walk(
                route.original_router,
                prefix + context.prefix,
                inherited + tuple(context.dependencies),
            )
        elif hasattr(route, "methods") and hasattr(route, "endpoint"):
            depends = inherited + tuple(getattr(route, "dependencies", ()))
            access = tuple(
                a
                for d in depends
                if isinstance(a := getattr(d.dependency, ACCESS_ATTR, None), Access)
            )
            found.append(
                WalkedRoute(
                    methods=frozenset(route.methods),
                    path=prefix + route.path,
                    module=route.endpoint.__module__,
                    access=access,
                )
            )
    return found


def undeclared(router: Any) -> list[str]:
    """Every route (not the framework's own) without exactly one access declaration."""
    return [
        f"{sorted(r.methods)} {r.path}"
        for r in walk(router)
        if r.module not in FRAMEWORK_MODULES and len(r.access) != 1
    ]
