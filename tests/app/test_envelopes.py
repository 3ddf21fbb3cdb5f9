"""Envelopes end to end through HTTP: scenario 3 (乙方 then 甲方, each with an approval for
exactly its revision), turn order, decline, expiry, drafts and cancelling, tenancy, bad input,
idempotent retries, and the signed webhook delivered by a real local HTTP server after
failures (never anything but 127.0.0.1)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services.webhooks import RetryPolicy
from seals.documents import make_document
from seals.envelopes import (
    EnvelopeAction,
    EnvelopeStateError,
    EnvelopeStatus,
    ParticipantStatus,
    Routing,
    next_status,
    whose_turn,
)
from seals.fonts import find_cjk_font
from seals.models_envelopes import Envelope, EnvelopeParticipant
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org, problem_code, sha

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
        self, count: int, timeout: float = 60.0
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


@pytest.fixture(scope="module")
def contract_pdf() -> bytes:
    font = find_cjk_font()
    return make_document(
        title="政府采购合同",
        paragraphs=["甲方与乙方就办公设备采购达成如下协议。", "合同金额：人民币贰拾万元整。"],
        pages=2,
        font_path=font.path,
        font_number=font.index,
    )


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


def _party(
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


def _create(
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


def _sign(
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


def _get(client: TestClient, key: str, envelope_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/envelopes/{envelope_id}", headers=auth(key))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _verify(client: TestClient, pdf: bytes) -> dict[str, Any]:
    response = client.post("/api/v1/verify", content=pdf)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _deliveries(client: TestClient, key: str, envelope_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/envelopes/{envelope_id}/webhook-deliveries", headers=auth(key))
    assert response.status_code == 200, response.text
    return list(response.json())


def _wait_delivered(
    client: TestClient, key: str, envelope_id: str, timeout: float = 20.0
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _deliveries(client, key, envelope_id)
        if rows and all(r["status"] != "pending" for r in rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"deliveries still pending: {_deliveries(client, key, envelope_id)}")


# --- scenario 3 -------------------------------------------------------------------------------


def test_scenario_3_supplier_then_purchaser_with_approvals_and_a_signed_webhook(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    contract_pdf: bytes,
    receiver: Receiver,
    fast_retries: None,
) -> None:
    buyer = _party(
        client, new_org, org_key, platform_key, "杭州市某采购中心", "contract",
        requires_approval=True,
    )  # fmt: skip
    supplier = _party(
        client, new_org, org_key, platform_key, "深圳某建设有限公司", "contract",
        "legal_representative", requires_approval=True,
    )  # fmt: skip
    _, creator = buyer.org.key("envelopes:write")
    body = {
        "title": "政府采购合同（办公设备）",
        "routing": "sequential",
        "participants": [
            supplier.participant(
                "contract", {"type": "keyword", "keyword": "乙方（盖章）"}, level="B-T",
                label="乙方",
            ),
            supplier.participant(
                "legal_representative",
                {"type": "keyword", "keyword": "乙方（盖章）", "offset_x_mm": 60},
                level="B-T",
                label="乙方法定代表人",
            ),
            buyer.participant(
                "contract", {"type": "keyword", "keyword": "甲方（盖章）"}, label="甲方"
            ),
        ],
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "webhook": {"url": receiver.url, "secret": SECRET},
    }  # fmt: skip
    created = _create(client, creator, contract_pdf, body)
    assert created.status_code == 201, created.text
    envelope = created.json()
    assert envelope["status"] == "in_progress"
    assert envelope["document_sha256"] == sha(contract_pdf)
    assert envelope["webhook_url"] == receiver.url
    assert [p["may_sign_now"] for p in envelope["participants"]] == [True, False, False]

    # 甲方 may not sign before 乙方 (sequential): 409, nothing recorded
    early = _sign(client, buyer.signer, envelope, 3)
    assert early.status_code == 409 and problem_code(early) == "envelope-not-your-turn"

    # an organization that takes no part does not see the envelope at all
    stranger = make_org(client, new_org, org_key, platform_key, name="无关公司")
    for response in (
        client.get(f"/api/v1/envelopes/{envelope['id']}", headers=auth(stranger.admin)),
        _sign(client, stranger.admin, envelope, 1),
        client.get(f"/api/v1/envelopes/{envelope['id']}/document", headers=auth(stranger.admin)),
        client.get(f"/api/v1/envelopes/{envelope['id']}/timeline", headers=auth(stranger.admin)),
    ):
        assert response.status_code == 404, response.text
    listed = client.get("/api/v1/envelopes", headers=auth(stranger.admin)).json()
    assert envelope["id"] not in [e["id"] for e in listed]
    assert envelope["id"] in [
        e["id"] for e in client.get("/api/v1/envelopes", headers=auth(supplier.signer)).json()
    ]
    # ... and the purchaser's client cannot act for the supplier's participant
    wrong_party = _sign(client, buyer.signer, envelope, 1)
    assert wrong_party.status_code == 403, wrong_party.text

    # 乙方 contract seal: no approval yet -> refused, nothing spent or recorded
    unapproved = _sign(client, supplier.signer, envelope, 1)
    assert unapproved.status_code == 403 and "approv" in problem_code(unapproved)
    assert _get(client, supplier.signer, envelope["id"])["current_revision"] == 0

    supplier.approve("contract", envelope["document_sha256"])
    retry_key = {"Idempotency-Key": "contract-2026-0042-seal-1"}
    first = _sign(client, supplier.signer, envelope, 1, headers=retry_key)
    assert first.status_code == 200, first.text
    assert first.json()["revision"]["number"] == 1
    again = _sign(client, supplier.signer, envelope, 1, headers=retry_key)
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["revision"] == first.json()["revision"]
    revision_1 = first.json()["envelope"]["document_sha256"]
    assert revision_1 == first.json()["revision"]["sha256"] != sha(contract_pdf)

    # the legal-representative seal needs an approval for revision 1's hash, not the original
    supplier.approve("legal_representative", sha(contract_pdf))
    stale = _sign(client, supplier.signer, envelope, 2)
    assert stale.status_code == 403 and "approv" in problem_code(stale), stale.text
    supplier.approve("legal_representative", revision_1)
    outdated = _sign(client, supplier.signer, envelope, 2, expected_revision=0)
    assert outdated.status_code == 409 and problem_code(outdated) == "envelope-revision-stale"
    second = _sign(client, supplier.signer, envelope, 2, expected_revision=1)
    assert second.status_code == 200, second.text
    revision_2 = second.json()["envelope"]["document_sha256"]

    # 甲方 checks 乙方's seals before adding its own, then seals revision 2
    current = client.get(f"/api/v1/envelopes/{envelope['id']}/document", headers=auth(buyer.signer))
    assert current.status_code == 200 and sha(current.content) == revision_2
    before = _verify(client, current.content)
    assert before["indication"] == "TOTAL_PASSED" and len(before["signatures"]) == 2
    buyer.approve("contract", revision_2)
    third = _sign(client, buyer.signer, envelope, 3)
    assert third.status_code == 200, third.text
    done = third.json()["envelope"]
    assert done["status"] == "completed" and done["current_revision"] == 3
    assert [p["status"] for p in done["participants"]] == ["signed"] * 3
    assert [p["revision"] for p in done["participants"]] == [1, 2, 3]

    # every revision is kept and downloadable; the final one verifies with all three seals
    for revision in done["revisions"]:
        pdf = client.get(revision["download_url"], headers=auth(supplier.signer))
        assert pdf.status_code == 200 and sha(pdf.content) == revision["sha256"]
    final = client.get(done["document_url"], headers=auth(creator))
    assert sha(final.content) == done["document_sha256"]
    report = _verify(client, final.content)
    assert report["indication"] == "TOTAL_PASSED", report
    assert [s["indication"] for s in report["signatures"]] == ["TOTAL_PASSED"] * 3
    owners = [s["seal"]["owner"] for s in report["signatures"]]
    assert owners[0] == owners[1] == "深圳某建设有限公司" and owners[2] == "杭州市某采购中心"

    # the completion webhook: two failures, then delivered, every attempt signed
    requests = receiver.wait_for(3)
    assert all(valid for _, _, valid in requests)
    headers, raw, _ = requests[-1]
    assert headers["x-eseal-event"] == "envelope.completed"
    payload = json.loads(raw)
    assert payload["event"] == "envelope.completed"
    assert str(payload["timestamp"]) == headers["x-eseal-timestamp"]
    assert payload["data"]["envelope"]["document_sha256"] == done["document_sha256"]
    assert payload["data"]["envelope"]["status"] == "completed"
    assert len({body for _, body, _ in requests}) == 1, "retries send the same signed body"
    [delivery] = _wait_delivered(client, creator, envelope["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert [(a["status_code"], a["succeeded"]) for a in delivery["log"]] == [
        (500, False),
        (500, False),
        (204, True),
    ]
    gaps = [
        (datetime.fromisoformat(b["started_at"]) - datetime.fromisoformat(a["started_at"]))
        for a, b in zip(delivery["log"], delivery["log"][1:], strict=False)
    ]
    # policy: 0.2 s after the first failure, 0.4 s after the second (never sooner)
    assert gaps[0] >= timedelta(seconds=0.19) and gaps[1] >= timedelta(seconds=0.39), gaps
    # the participant sees the envelope, not the creator's webhook
    assert _get(client, supplier.signer, envelope["id"])["webhook_url"] is None
    log = client.get(
        f"/api/v1/envelopes/{envelope['id']}/webhook-deliveries", headers=auth(supplier.signer)
    )
    assert log.status_code == 403

    timeline = client.get(
        f"/api/v1/envelopes/{envelope['id']}/timeline", headers=auth(supplier.signer)
    ).json()
    assert [e["action"] for e in timeline] == [
        "envelope.create",
        "envelope.sign",
        "envelope.sign",
        "envelope.sign",
        "envelope.complete",
    ]
    assert [e["details"].get("revision") for e in timeline[1:4]] == [1, 2, 3]
    assert timeline[2]["details"]["base_sha256"] == revision_1
    assert SECRET not in json.dumps(timeline, ensure_ascii=False)


# --- decline, expiry, drafts -------------------------------------------------------------------


@pytest.fixture()
def two_parties(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> tuple[Party, Party]:
    first = _party(client, new_org, org_key, platform_key, "杭州某县市场监督管理局", "official")
    second = _party(client, new_org, org_key, platform_key, "杭州市市场监督管理局", "official")
    return first, second


def _parallel(first: Party, second: Party, **extra: Any) -> dict[str, Any]:
    return {
        "title": "审批决定书",
        "routing": "parallel",
        "participants": [
            first.participant(
                "official", {"type": "coordinates", "page": 1, "x_mm": 60, "y_mm": 200},
                level="B-B",
            ),
            second.participant(
                "official", {"type": "coordinates", "page": 1, "x_mm": 140, "y_mm": 200},
                level="B-B",
            ),
        ],
        **extra,
    }  # fmt: skip


def test_a_participant_declines_and_the_envelope_stops(
    client: TestClient,
    two_parties: tuple[Party, Party],
    contract_pdf: bytes,
    fast_retries: None,
) -> None:
    first, second = two_parties
    hook = Receiver(SECRET)
    try:
        body = _parallel(first, second, webhook={"url": hook.url, "secret": SECRET})
        created = _create(client, first.org.admin, contract_pdf, body)
        assert created.status_code == 201, created.text
        envelope = created.json()
        assert [p["may_sign_now"] for p in envelope["participants"]] == [True, True]
        pid = envelope["participants"][1]["id"]
        url = f"/api/v1/envelopes/{envelope['id']}/participants/{pid}/decline"
        empty = client.post(url, json={"reason": ""}, headers=auth(second.signer))
        assert empty.status_code == 422
        declined = client.post(url, json={"reason": "金额有误"}, headers=auth(second.signer))
        assert declined.status_code == 200, declined.text
        assert declined.json()["status"] == "declined"
        assert declined.json()["participants"][1]["decline_reason"] == "金额有误"
        late = _sign(client, first.signer, envelope, 1)
        assert late.status_code == 409, late.text
        [(_, raw, valid)] = hook.wait_for(1)
        assert valid and json.loads(raw)["event"] == "envelope.declined"
        assert json.loads(raw)["data"]["envelope"]["reason"] == "金额有误"
        [delivery] = _wait_delivered(client, first.org.admin, envelope["id"])
        assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    finally:
        hook.close()


def test_an_envelope_past_its_expiry_refuses_signing_and_reports_expired(
    client: TestClient,
    engine: Any,
    two_parties: tuple[Party, Party],
    contract_pdf: bytes,
    fast_retries: None,
) -> None:
    first, second = two_parties
    hook = Receiver(SECRET)
    try:
        soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        body = _parallel(
            first, second, expires_at=soon, webhook={"url": hook.url, "secret": SECRET}
        )
        envelope = _create(client, first.org.admin, contract_pdf, body).json()
        with Session(engine) as session:  # the clock moves past the expiry
            row = session.get(Envelope, envelope["id"])
            assert row is not None
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
            session.commit()
        refused = _sign(client, first.signer, envelope, 1)
        assert refused.status_code == 409 and problem_code(refused) == "envelope-expired"
        assert _get(client, second.signer, envelope["id"])["status"] == "expired"
        client.app.state.webhook_worker.wake()  # type: ignore[attr-defined]
        [(_, raw, valid)] = hook.wait_for(1)
        assert valid and json.loads(raw)["event"] == "envelope.expired"
        timeline = client.get(
            f"/api/v1/envelopes/{envelope['id']}/timeline", headers=auth(first.org.admin)
        ).json()
        assert [e["action"] for e in timeline] == ["envelope.create", "envelope.expire"]
        assert timeline[-1]["actor"] == "system:expiry"
    finally:
        hook.close()


def test_a_draft_is_sent_then_cancelled_by_its_creator_only(
    client: TestClient, two_parties: tuple[Party, Party], contract_pdf: bytes
) -> None:
    first, second = two_parties
    created = _create(client, first.org.admin, contract_pdf, _parallel(first, second, send=False))
    envelope = created.json()
    assert envelope["status"] == "draft"
    assert all(not p["may_sign_now"] for p in envelope["participants"])
    draft_sign = _sign(client, first.signer, envelope, 1)
    assert draft_sign.status_code == 409, draft_sign.text
    not_creator = client.post(
        f"/api/v1/envelopes/{envelope['id']}/send", headers=auth(second.org.admin)
    )
    assert not_creator.status_code == 403
    sent = client.post(f"/api/v1/envelopes/{envelope['id']}/send", headers=auth(first.org.admin))
    assert sent.status_code == 200 and sent.json()["status"] == "in_progress"
    signed = _sign(client, second.signer, envelope, 2)  # parallel: the second may go first
    assert signed.status_code == 200, signed.text
    cancelled = client.post(
        f"/api/v1/envelopes/{envelope['id']}/cancel",
        json={"reason": "合同作废"},
        headers=auth(first.org.admin),
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/envelopes/{envelope['id']}/cancel", headers=auth(first.org.admin))
    assert again.status_code == 409
    assert _sign(client, first.signer, envelope, 1).status_code == 409


# --- bad input -------------------------------------------------------------------------------


def test_bad_envelopes_are_refused_with_problems_and_leave_nothing(
    client: TestClient,
    two_parties: tuple[Party, Party],
    contract_pdf: bytes,
) -> None:
    first, second = two_parties
    admin = first.org.admin

    def count() -> int:
        return len(client.get("/api/v1/envelopes", headers=auth(admin)).json())

    before = count()
    good = _parallel(first, second)
    wrong_seal = {
        **good,
        "participants": [{**good["participants"][0], "seal_id": second.seals["official"]}],
    }
    keyword = {
        **good,
        "participants": [
            first.participant("official", {"type": "keyword", "keyword": "丙方（盖章）"})
        ],
    }
    page = {
        **good,
        "participants": [
            first.participant(
                "official", {"type": "coordinates", "page": 9, "x_mm": 50, "y_mm": 50}
            )
        ],
    }
    cases: list[tuple[Any, bytes, int, str]] = [
        (wrong_seal, contract_pdf, 422, "invalid-envelope"),
        (keyword, contract_pdf, 422, "keyword-not-found"),
        (page, contract_pdf, 422, "page-out-of-range"),
        (good, b"GIF89a not a pdf", 422, "not-a-pdf"),
        (good, b"%PDF-1.7\n garbage", 422, "damaged-pdf"),
        ({**good, "participants": []}, contract_pdf, 422, "invalid-input"),
        ({**good, "routing": "sideways"}, contract_pdf, 422, "invalid-input"),
        ({**good, "expires_at": "2020-01-01T00:00:00Z"}, contract_pdf, 422, "invalid-envelope"),
        ({**good, "expires_at": "2030-01-01T00:00:00"}, contract_pdf, 422, "invalid-input"),
        ({**good, "webhook": {"url": "ftp://127.0.0.1/x", "secret": SECRET}}, contract_pdf, 422,
         "invalid-input"),
        ({**good, "webhook": {"url": "http://127.0.0.1/x", "secret": "short"}}, contract_pdf, 422,
         "invalid-input"),
        ("{not json", contract_pdf, 422, "invalid-input"),
    ]  # fmt: skip
    for body, pdf, status, code in cases:
        response = client.post(
            "/api/v1/envelopes",
            files={"file": ("x.pdf", pdf, "application/pdf")},
            data={
                "envelope": body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            },
            headers=auth(admin),
        )
        assert (response.status_code, problem_code(response)) == (status, code), response.text
    assert "participant 1" in _create(client, admin, contract_pdf, keyword).json()["detail"]
    _, reader = first.org.key("seals:use")
    forbidden = _create(client, reader, contract_pdf, good)
    assert forbidden.status_code == 403
    assert count() == before
    missing = client.get("/api/v1/envelopes/0123456789abcdef0123456789abcdef", headers=auth(admin))
    assert missing.status_code == 404
    assert problem_code(missing) == "envelope-not-found"


def test_creating_with_an_idempotency_key_makes_one_envelope(
    client: TestClient, two_parties: tuple[Party, Party], contract_pdf: bytes
) -> None:
    first, second = two_parties
    body = _parallel(first, second)
    key = {"Idempotency-Key": "envelope-2026-0007"}
    one = _create(client, first.org.admin, contract_pdf, body, headers=key)
    two = _create(client, first.org.admin, contract_pdf, body, headers=key)
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] == two.json()["id"]
    assert two.headers["idempotent-replayed"] == "true"
    other = _create(client, first.org.admin, contract_pdf, {**body, "title": "另一份"}, headers=key)
    assert other.status_code == 409


# --- the domain rules --------------------------------------------------------------------------


def _p(position: int, status: ParticipantStatus) -> EnvelopeParticipant:
    return EnvelopeParticipant(
        id=f"p{position}",
        envelope_id="e",
        position=position,
        organization_id="o",
        seal_id="s",
        placement="{}",
        level="B-B",
        status=status.value,
    )


def test_turns_and_transitions() -> None:
    waiting, signed = ParticipantStatus.WAITING, ParticipantStatus.SIGNED
    rows = [_p(2, waiting), _p(1, signed), _p(3, waiting)]
    assert whose_turn(Routing.SEQUENTIAL, rows) == ["p2"]
    assert whose_turn(Routing.PARALLEL, rows) == ["p2", "p3"]
    assert whose_turn(Routing.PARALLEL, [*rows, _p(4, ParticipantStatus.DECLINED)]) == []
    assert whose_turn(Routing.SEQUENTIAL, [_p(1, signed)]) == []
    assert next_status("draft", EnvelopeAction.SEND) is EnvelopeStatus.IN_PROGRESS
    assert next_status("in_progress", EnvelopeAction.COMPLETE) is EnvelopeStatus.COMPLETED
    for status in ("completed", "declined", "expired", "cancelled"):
        for action in EnvelopeAction:
            with pytest.raises(EnvelopeStateError):
                next_status(status, action)
    with pytest.raises(EnvelopeStateError):
        next_status("draft", EnvelopeAction.SIGN)


def test_the_worker_survives_a_nested_lifespan() -> None:
    """Tests (and some servers) enter an app's lifespan twice: the inner exit must not stop
    the delivery thread the outer one still needs."""
    from app.services.webhooks import Sender, Worker

    class Idle:
        def run_once(self) -> int:
            return 0

        def next_due_in(self) -> float | None:
            return None

    worker = Worker(cast(Sender, Idle()), poll_seconds=0.05)
    worker.start()
    worker.start()
    worker.stop()
    assert worker._thread is not None and worker._thread.is_alive()
    thread = worker._thread
    worker.stop()
    assert worker._thread is None and not thread.is_alive()


def test_personal_signatures_with_pins_then_the_agency_seal(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, contract_pdf: bytes
) -> None:
    """Scenario 4: an officer signs with their personal signature (their PIN), then the
    agency applies its official seal; a wrong PIN changes nothing in the envelope."""
    agency = make_org(client, new_org, org_key, platform_key, name="某区综合行政执法局")
    officer = agency.member("赵敏")
    personal = agency.seal("personal", person_id=officer)
    official = agency.seal("official")
    signer_id, signer = agency.key("seals:read", "seals:use", "seals:write")
    for seal in (personal, official):
        agency.grant(seal["id"], "client", signer_id)
    pin = client.put(
        f"/api/v1/seals/{personal['id']}/pin", json={"pin": "602913"}, headers=auth(signer)
    )
    assert pin.status_code == 200, pin.text
    body = {
        "title": "现场检查笔录",
        "participants": [
            {
                "organization_id": agency.id,
                "seal_id": personal["id"],
                "placement": {"type": "coordinates", "page": 2, "x_mm": 150, "y_mm": 230},
                "level": "B-B",
                "label": "执法人员",
            },
            {
                "organization_id": agency.id,
                "seal_id": official["id"],
                "placement": {"type": "cross_page"},
                "level": "B-T",
            },
        ],
    }
    envelope = _create(client, agency.admin, contract_pdf, body).json()
    wrong = _sign(client, signer, envelope, 1, pin="000001")
    assert wrong.status_code == 403 and problem_code(wrong) == "seal-pin-wrong", wrong.text
    assert _get(client, signer, envelope["id"])["current_revision"] == 0
    first = _sign(client, signer, envelope, 1, pin="602913")
    assert first.status_code == 200, first.text
    second = _sign(client, signer, envelope, 2)
    assert second.status_code == 200, second.text
    assert second.json()["envelope"]["status"] == "completed"
    final = client.get(second.json()["envelope"]["document_url"], headers=auth(agency.admin))
    report = _verify(client, final.content)
    assert report["indication"] == "TOTAL_PASSED", report
    assert len(report["signatures"]) == 2


def test_webhook_urls_in_production_are_https_and_public_only() -> None:
    from types import SimpleNamespace

    from app.errors import InvalidInput
    from app.services.webhooks import check_url, signature, verify_signature
    from app.settings import Settings

    production = cast(Settings, SimpleNamespace(environment="production"))
    assert check_url("https://erp.example.com/hooks", settings=production)
    for url in (
        "http://erp.example.com/hooks",
        "https://127.0.0.1/hooks",
        "https://10.0.0.8/hooks",
        "https://169.254.169.254/latest",
        "https://[::1]/hooks",
        "https://localhost/hooks",
        "https://user:pw@erp.example.com/hooks",
        "https://erp.example.com:99999/hooks",
    ):
        with pytest.raises(InvalidInput):
            check_url(url, settings=production)
    body = b'{"event":"envelope.completed"}'
    header = signature(b"k" * 16, body)
    assert header == "sha256=" + hmac.new(b"k" * 16, body, hashlib.sha256).hexdigest()
    assert verify_signature(b"k" * 16, body, header)
    assert not verify_signature(b"k" * 16, body + b" ", header)
