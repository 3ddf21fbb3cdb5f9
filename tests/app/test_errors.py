"""Bad input always gets an RFC 9457 problem with a stable type, never a 500."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.errors import status_for
from pki import errors as pki_errors
from seals import errors as seal_errors
from tests.conftest import auth


def _is_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:eseal:problem:{code}"
    assert body["status"] == status
    assert body["detail"]
    assert "Traceback" not in response.text


def test_malformed_json(client: TestClient, platform_key: str) -> None:
    response = client.post(
        "/api/v1/organizations",
        content=b'{"name": "x", "uscc": ',
        headers={**auth(platform_key), "content-type": "application/json"},
    )
    _is_problem(response, 422, "invalid-input")


def test_wrong_types_and_unknown_fields(client: TestClient, platform_key: str) -> None:
    response = client.post(
        "/api/v1/organizations",
        json={"name": 17, "uscc": ["x"], "colour": "red"},
        headers=auth(platform_key),
    )
    _is_problem(response, 422, "invalid-input")
    locations = {tuple(e["loc"]) for e in response.json()["errors"]}
    assert ("body", "uscc") in locations and ("body", "colour") in locations


def test_unknown_ids_and_paths(client: TestClient, platform_key: str) -> None:
    _is_problem(
        client.get("/api/v1/organizations/doesnotexist", headers=auth(platform_key)),
        404,
        "not-found",
    )
    _is_problem(client.get("/api/v1/nothing-here"), 404, "not-found")
    _is_problem(client.delete("/healthz"), 405, "method-not-allowed")


def test_oversized_body_declared(client: TestClient, platform_key: str, settings: Any) -> None:
    body = b"x" * (settings.max_body_bytes + 1)
    response = client.post(
        "/api/v1/organizations",
        content=body,
        headers={**auth(platform_key), "content-type": "application/json"},
    )
    _is_problem(response, 413, "payload-too-large")


def test_oversized_body_streamed_without_length(
    client: TestClient, platform_key: str, settings: Any
) -> None:
    chunk = b"x" * 65536
    count = settings.max_body_bytes // len(chunk) + 2

    def stream() -> Any:
        for _ in range(count):
            yield chunk

    response = client.post(
        "/api/v1/organizations",
        content=stream(),
        headers={**auth(platform_key), "content-type": "application/json"},
    )
    _is_problem(response, 413, "payload-too-large")


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert client.get("/healthz").headers["x-request-id"]


ROOT = Path(__file__).resolve().parents[2]
# Not domain errors: a ValueError the templates turn into TemplateDataError, and aiohttp's
# connection error for a refused outbound destination.
NOT_DOMAIN_ERRORS = {"AmountError", "RefusedDestination"}


def test_domain_errors_live_in_the_two_errors_modules() -> None:
    elsewhere = [
        f"{path.relative_to(ROOT)}:{node.name}"
        for package in ("seals", "pki")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "errors.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and node.name.endswith("Error")
        and node.name not in NOT_DOMAIN_ERRORS
    ]
    assert elsewhere == []


def test_every_domain_error_has_a_status_and_the_table_needs_no_web_framework() -> None:
    for module in (seal_errors, pki_errors):
        for error in vars(module).values():
            if isinstance(error, type) and issubclass(error, Exception):
                status = status_for(error.__new__(error))
                expected_500 = error is pki_errors.KeyStoreError  # the store itself failed
                assert 400 <= status < 500 or status == 503 or expected_500, error
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, app.errors; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert not {"fastapi", "starlette", "jinja2"} & set(eval(loaded))
