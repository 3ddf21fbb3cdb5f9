"""What the envelope tests share: a webhook receiver on 127.0.0.1 (fixtures `receiver`,
`fast_retries`), the parties of an envelope and the HTTP calls they make."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.services.webhooks import RetryPolicy
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org

SECRET = "whsec-乙方甲方-0123456789"


# --- a webhook receiver on 127.0.0.1 --------------------------------------------------------


class Receiver:
    """Records every POST; answers 500 to the first `fail_first`, then 204; 401 when the
    signature does not match."""

    def __init__(self, secret: str, fail_first: int = 0) -> None:
        self.secret = secret.encode()
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes, bool]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                expected = "sha256=" + hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(expected, headers.get("x-eseal-signature", ""))
                with receiver._lock:
                    receiver.requests.append((headers, body, valid))
                    count = len(receiver.requests)
                status = 401 if not valid else 500 if count <= receiver.fail_first else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/eseal?tenant=1"

    def wait_for(
        self, count: int, timeout: float = 180.0
    ) -> list[tuple[dict[str, str], bytes, bool]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def fast_retries(client: TestClient) -> Iterator[None]:
    sender = client.app.state.webhook_worker.sender  # type: ignore[attr-defined]
    before = sender.policy
    sender.policy = RetryPolicy(base_seconds=0.2, factor=2, max_attempts=5, timeout_seconds=5)
    yield
    sender.policy = before


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    server = Receiver(SECRET, fail_first=2)
    yield server
    server.close()


# --- parties -----------------------------------------------------------------------------------


class Party:
    """An organization taking part: its seals, a signer client holding grants on them, and
    an approver (the admin)."""

    def __init__(self, org: Org, *kinds: str, requires_approval: bool = False) -> None:
        self.org = org
        self.seals = {
            kind: org.seal(kind, requires_approval=requires_approval)["id"] for kind in kinds
        }
        self.signer_id, self.signer = org.key("seals:read", "seals:use")
        for seal_id in self.seals.values():
            org.grant(seal_id, "client", self.signer_id)

    def participant(self, kind: str, placement: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "organization_id": self.org.id,
            "seal_id": self.seals[kind],
            "placement": placement,
            **extra,
        }

    def approve(self, kind: str, document_sha256: str) -> None:
        """File the usage request (用印申请) for exactly this revision and approve it."""
        client = self.org.client
        request = client.post(
            f"/api/v1/seals/{self.seals[kind]}/usage-requests",
            json={"purpose": "合同盖章", "document_sha256": document_sha256, "copies": 1},
            headers=auth(self.signer),
        )
        assert request.status_code == 201, request.text
        decided = client.post(
            f"/api/v1/usage-requests/{request.json()['id']}/approve",
            json={"note": "同意"},
            headers=auth(self.org.admin),
        )
        assert decided.status_code == 200, decided.text


def party(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    name: str,
    *kinds: str,
    requires_approval: bool = False,
) -> Party:
    org = make_org(client, new_org, org_key, platform_key, name=name)
    return Party(org, *kinds, requires_approval=requires_approval)


def create_envelope(
    client: TestClient,
    key: str,
    pdf: bytes,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(
        "/api/v1/envelopes",
        files={"file": ("采购合同.pdf", pdf, "application/pdf")},
        data={"envelope": json.dumps(body, ensure_ascii=False)},
        headers={**auth(key), **(headers or {})},
    )


def sign_turn(
    client: TestClient,
    key: str,
    envelope: dict[str, Any],
    position: int,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    pid = envelope["participants"][position - 1]["id"]
    return client.post(
        f"/api/v1/envelopes/{envelope['id']}/participants/{pid}/sign",
        json=body or None,
        headers={**auth(key), **(headers or {})},
    )


def get_envelope(client: TestClient, key: str, envelope_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/envelopes/{envelope_id}", headers=auth(key))
    assert response.status_code == 200, response.text
    return dict(response.json())


def verify_report(client: TestClient, pdf: bytes) -> dict[str, Any]:
    response = client.post("/api/v1/verify", content=pdf)
    assert response.status_code == 200, response.text
    return dict(response.json())


def webhook_deliveries(client: TestClient, key: str, envelope_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/envelopes/{envelope_id}/webhook-deliveries", headers=auth(key))
    assert response.status_code == 200, response.text
    return list(response.json())


def wait_delivered(
    client: TestClient, key: str, envelope_id: str, timeout: float = 60.0
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = webhook_deliveries(client, key, envelope_id)
        if rows and all(r["status"] != "pending" for r in rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(
        f"deliveries still pending: {webhook_deliveries(client, key, envelope_id)}"
    )
