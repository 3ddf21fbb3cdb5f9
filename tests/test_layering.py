"""The layers hold (ARCHITECTURE.md): each layer imports only the layers below it.

    HTTP (app/api, app/console, app/public, app/main.py, app/routers.py) and the CLI (app/cli*.py)
      -> services (app/services, app/verification, app/sealing*.py)
        -> infrastructure (the other app/*.py: db, models, settings, errors, pdf workers, ...)
          -> domain (pki/, seals/)

Imports anywhere in a module count, including the lazy ones inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = {"fastapi", "starlette", "jinja2"}
HTTP = ("app.api", "app.console", "app.public", "app.main", "app.routers")
CLI = ("app.cli", "app.cli_admin", "app.cli_evidence", "app.cli_ops", "app.bootstrap")
SERVICES = ("app.services", "app.verification", "app.sealing", "app.sealing_staged")
# Infrastructure the HTTP layer is assembled from: it may know the console (access checks
# build the console's context; the route access test reads it).
HTTP_ASSEMBLY = {"app/access.py", "app/api_docs.py", "app/health.py", "app/protocols.py"}
# The PDF worker runs service code (verification, sealing) in its own process.
RUNS_SERVICES = {"app/pdfworker.py", "app/pdfwork.py"}


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, as dotted names (``from app import x`` gives ``app.x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _within(name: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _offenders(paths: list[Path], forbidden: tuple[str, ...] | set[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        bad = sorted(n for n in _imports(path) if _within(n, forbidden))
        if bad:
            found[path.name if not path.is_relative_to(ROOT) else str(path.relative_to(ROOT))] = bad
    return found


def _files(*patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in ROOT.glob(pattern))


def _service_files() -> list[Path]:
    return _files("app/services/**/*.py", "app/verification/**/*.py", "app/sealing*.py")


def _infrastructure_files() -> list[Path]:
    layered = {f"{m.replace('.', '/')}.py" for m in (*HTTP, *CLI, *SERVICES)}
    return [
        p for p in _files("app/*.py") if str(p.relative_to(ROOT)) not in layered | HTTP_ASSEMBLY
    ]


def test_pki_and_seals_never_import_the_web_layer() -> None:
    domain = _files("pki/**/*.py", "seals/**/*.py")
    assert len(domain) > 20
    assert _offenders(domain, {"app", *WEB}) == {}


def test_services_never_import_http_the_cli_or_the_web_framework() -> None:
    services = _service_files()
    assert len(services) > 20
    assert _offenders(services, {*HTTP, *CLI, *WEB}) == {}


def test_infrastructure_never_imports_http_or_the_cli() -> None:
    infrastructure = _infrastructure_files()
    assert len(infrastructure) > 20
    assert _offenders(infrastructure, (*HTTP, *CLI)) == {}


def test_infrastructure_uses_services_only_where_it_runs_them() -> None:
    infrastructure = [
        p for p in _infrastructure_files() if str(p.relative_to(ROOT)) not in RUNS_SERVICES
    ]
    assert _offenders(infrastructure, SERVICES) == {}


def test_the_check_itself_catches_an_offender(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from fastapi import FastAPI\nfrom app import console\n"
        "def f():\n    from app.api.seals import router\n",
        encoding="utf-8",
    )
    assert _offenders([bad], {"app", *WEB}) != {}
    found = set(next(iter(_offenders([bad], (*HTTP, *WEB)).values())))
    assert {"fastapi", "app.console", "app.api.seals", "app.api.seals.router"} <= found
