"""Electronic delivery through HTTP: an agency seals a notice and sends it to a person by a
one-time link and to an enterprise; the person opens the link, downloads the document and
acknowledges receipt (the link is then spent); the enterprise opens and acknowledges through
the API. Each state is in the document's audit with an RFC 3161 time-stamp that `openssl ts
-verify` accepts over the state's record; the sender's webhook receives each state, signed;
undelivered documents are listed with their age; the statistics count the delivery rate."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient

from app.db import unit_of_work
from app.models_agency import Delivery
from tests.agency.conftest import events
from tests.agency.util import uscc_in
from tests.conftest import auth

SECRET = "delivery-webhook-secret-0123456789"


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()


def _party(client: TestClient, platform_key: str, name: str, kind: str, scopes: list[str]) -> Any:
    made = client.post(
        "/api/v1/organizations",
        json={
            "name": name,
            "uscc": uscc_in("530102"),
            "legal_representative": "李强",
            "kind": kind,
        },
        headers=auth(platform_key),
    )
    assert made.status_code == 201, made.text
    org_id = made.json()["id"]
    key = client.post(
        f"/api/v1/organizations/{org_id}/clients",
        json={"name": f"portal-{org_id[:6]}", "scopes": scopes},
        headers=auth(platform_key),
    ).json()
    return org_id, key["id"], key["api_key"]


@pytest.fixture(scope="module")
def sealed(client: TestClient, platform_key: str, licence_pdf: bytes) -> dict[str, Any]:
    """An agency with an active official seal, and a notice it sealed (stored)."""
    agency, client_id, key = _party(
        client,
        platform_key,
        "昆明市五华区市场监督管理局",
        "agency",
        ["envelopes:write", "envelopes:read", "seals:use", "seals:read"],
    )
    seal = client.post(
        f"/api/v1/organizations/{agency}/seals",
        json={"kind": "official", "dpi": 150},
        headers=auth(platform_key),
    ).json()
    assert (
        client.post(f"/api/v1/seals/{seal['id']}/activate", headers=auth(platform_key)).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/seals/{seal['id']}/grants",
            json={"grantee_kind": "client", "grantee_id": client_id},
            headers=auth(platform_key),
        ).status_code
        == 201
    )
    signed = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("责令整改通知书.pdf", licence_pdf, "application/pdf")},
        data={"placement": '{"type": "invisible"}', "level": "B-T"},
        headers=auth(key),
    )
    assert signed.status_code == 200, signed.text
    return {
        "org": agency,
        "key": key,
        "document_id": signed.headers["X-Eseal-Document-Id"],
        "pdf": signed.content,
    }


def _wait_for(got: list[Any], count: int) -> None:
    deadline = time.monotonic() + 15
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def _openssl_verify(tmp: Path, record: str, reply: bytes, root_der: bytes) -> str:
    data, tsr, root = tmp / "record.json", tmp / "reply.tsr", tmp / "root.pem"
    data.write_text(record, encoding="utf-8")
    tsr.write_bytes(reply)
    root.write_bytes(x509.load_der_x509_certificate(root_der).public_bytes(Encoding.PEM))
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(data), "-in", str(tsr), "-CAfile", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout + done.stderr


def test_person_opens_the_one_time_link_and_acknowledges(
    client: TestClient,
    platform_key: str,
    sealed: dict[str, Any],
    receiver: tuple[str, list[Any]],
    tmp_path: Path,
) -> None:
    url, got = receiver
    before = len(got)
    sent = client.post(
        f"/api/v1/organizations/{sealed['org']}/deliveries",
        json={
            "document_id": sealed["document_id"],
            "title": "责令整改通知书",
            "recipient_name": "王小明",
            "webhook_url": url,
            "webhook_secret": SECRET,
        },
        headers=auth(sealed["key"]),
    )
    assert sent.status_code == 201, sent.text
    delivery = sent.json()
    link = delivery["link"]
    assert link and delivery["status"] == "sent"
    token = link.rsplit("/", 1)[1]
    with unit_of_work(client.app.state.services.engine) as session:  # type: ignore[attr-defined]
        row = session.get(Delivery, delivery["id"])
        assert row is not None and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    again = client.get(f"/api/v1/deliveries/{delivery['id']}", headers=auth(sealed["key"]))
    assert "link" not in again.json()  # the token is shown once

    page = client.get(f"/delivery/{token}")
    assert page.status_code == 200 and "责令整改通知书" in page.text
    document = client.get(f"/delivery/{token}/document")
    assert document.status_code == 200 and document.content == sealed["pdf"]
    done = client.post(f"/delivery/{token}/acknowledge", data={"name": "王小明"})
    assert done.status_code == 200 and 'id="delivery-acknowledged"' in done.text
    spent = client.get(f"/delivery/{token}")
    assert spent.status_code == 404
    assert client.get(f"/delivery/{token}/document").json()["type"] == (
        "urn:eseal:problem:delivery-link-invalid"
    )

    state = client.get(f"/api/v1/deliveries/{delivery['id']}", headers=auth(sealed["key"])).json()
    assert state["status"] == "acknowledged"
    assert [r["event"] for r in state["receipts"]] == ["sent", "opened", "acknowledged"]

    trail = [
        e
        for e in events(client, platform_key, sealed["document_id"])
        if e["details"].get("delivery_id") == delivery["id"]
    ]
    assert [e["action"] for e in trail] == [
        "delivery.sent",
        "delivery.opened",
        "delivery.acknowledged",
    ]
    root = client.get("/pki/ca/root.crt").content
    for receipt, event in zip(state["receipts"], trail, strict=True):
        record = receipt["record"]
        assert event["details"]["record_sha256"] == hashlib.sha256(record.encode()).hexdigest()
        reply = client.get(receipt["timestamp_url"], headers=auth(sealed["key"])).content
        assert "Verification: OK" in _openssl_verify(tmp_path, record, reply, root)
    acknowledged = json.loads(state["receipts"][-1]["record"])
    assert acknowledged["by"].endswith(":王小明")
    assert "Verification: OK" not in _openssl_verify(
        tmp_path, state["receipts"][-1]["record"].replace("王小明", "王小亮"), reply, root
    )

    _wait_for(got, before + 3)
    hooks = got[before:]
    assert [json.loads(body)["event"] for _, body in hooks] == [
        "delivery.sent",
        "delivery.opened",
        "delivery.acknowledged",
    ]
    for headers, body in hooks:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-eseal-signature"] == f"sha256={expected}"


def test_enterprise_recipient_and_the_senders_undelivered_list(
    client: TestClient, platform_key: str, sealed: dict[str, Any]
) -> None:
    firm, _, firm_key = _party(
        client, platform_key, "昆明滇池商贸有限公司", "enterprise", ["envelopes:read"]
    )
    _, _, stranger = _party(
        client, platform_key, "昆明某某有限公司", "enterprise", ["envelopes:read"]
    )
    sent = client.post(
        f"/api/v1/organizations/{sealed['org']}/deliveries",
        json={
            "document_id": sealed["document_id"],
            "title": "行政处罚决定书",
            "recipient_organization_id": firm,
        },
        headers=auth(sealed["key"]),
    ).json()
    assert sent["link"] is None
    pending = client.get(
        f"/api/v1/organizations/{sealed['org']}/deliveries",
        params={"undelivered": "true"},
        headers=auth(sealed["key"]),
    ).json()
    assert sent["id"] in [d["id"] for d in pending]
    assert all(d["status"] != "acknowledged" and d["age_seconds"] >= 0 for d in pending)

    assert client.get(f"/api/v1/deliveries/{sent['id']}", headers=auth(stranger)).status_code == 404
    inbox = client.get(
        f"/api/v1/organizations/{firm}/deliveries/received", headers=auth(firm_key)
    ).json()
    assert [d["id"] for d in inbox] == [sent["id"]]
    opened = client.get(f"/api/v1/deliveries/{sent['id']}/document", headers=auth(firm_key))
    assert opened.status_code == 200 and opened.content == sealed["pdf"]
    acked = client.post(f"/api/v1/deliveries/{sent['id']}/acknowledge", headers=auth(firm_key))
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    twice = client.post(f"/api/v1/deliveries/{sent['id']}/acknowledge", headers=auth(firm_key))
    assert twice.status_code == 409
    pending = client.get(
        f"/api/v1/organizations/{sealed['org']}/deliveries",
        params={"undelivered": "true"},
        headers=auth(sealed["key"]),
    ).json()
    assert sent["id"] not in [d["id"] for d in pending]

    stats = client.get(
        "/api/v1/statistics", params={"level": "city", "region": "5301"}, headers=auth(platform_key)
    ).json()
    kunming = {r["region"]: r for r in stats["regions"]}["5301"]
    assert kunming["deliveries_sent"] == 2
    assert kunming["deliveries_acknowledged"] == 2
    assert kunming["delivery_rate"] == 1.0


def test_expired_and_unknown_links_are_refused(
    client: TestClient, sealed: dict[str, Any], engine: Any
) -> None:
    sent = client.post(
        f"/api/v1/organizations/{sealed['org']}/deliveries",
        json={"document_id": sealed["document_id"], "title": "通知", "recipient_name": "赵六"},
        headers=auth(sealed["key"]),
    ).json()
    with unit_of_work(engine) as session:
        row = session.get(Delivery, sent["id"])
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)
    token = sent["link"].rsplit("/", 1)[1]
    assert client.get(f"/delivery/{token}").status_code == 404
    assert client.get("/delivery/not-a-token").status_code == 404
    refused = client.post(f"/delivery/{token}/acknowledge", data={"name": "赵六"})
    assert refused.status_code == 404
    state = client.get(f"/api/v1/deliveries/{sent['id']}", headers=auth(sealed["key"])).json()
    assert state["status"] == "sent" and [r["event"] for r in state["receipts"]] == ["sent"]
    bad = client.post(
        f"/api/v1/organizations/{sealed['org']}/deliveries",
        json={"document_id": "0" * 32, "title": "x", "recipient_name": "y"},
        headers=auth(sealed["key"]),
    )
    assert bad.status_code == 404
