"""Bad input always gets an RFC 9457 problem with a stable type, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

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
