"""Envelopes end to end through HTTP: scenario 3 (乙方 then 甲方, each with an approval for
exactly its revision), turn order, decline, expiry, drafts and cancelling, tenancy, bad input,
idempotent retries, and the signed webhook delivered by a real local HTTP server after
failures (never anything but 127.0.0.1)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from seals.models_envelopes import Envelope
from tests.app.conftest import (
    SECRET,
    Party,
    Receiver,
    create_envelope,
    get_envelope,
    party,
    sign_turn,
    verify_report,
    wait_delivered,
)
from tests.conftest import auth
from tests.seals_registry.util import make_org, problem_code, sha

# --- scenario 3 -------------------------------------------------------------------------------


def _outsiders_see_nothing(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    envelope: dict[str, Any],
    buyer: Party,
    supplier: Party,
) -> None:
    # an organization that takes no part does not see the envelope at all
    stranger = make_org(client, new_org, org_key, platform_key, name="无关公司")
    for response in (
        client.get(f"/api/v1/envelopes/{envelope['id']}", headers=auth(stranger.admin)),
        sign_turn(client, stranger.admin, envelope, 1),
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
    wrong_party = sign_turn(client, buyer.signer, envelope, 1)
    assert wrong_party.status_code == 403, wrong_party.text


def _final_document_verifies(
    client: TestClient, done: dict[str, Any], creator: str, supplier: Party
) -> None:
    # every revision is kept and downloadable; the final one verifies with all three seals
    for revision in done["revisions"]:
        pdf = client.get(revision["download_url"], headers=auth(supplier.signer))
        assert pdf.status_code == 200 and sha(pdf.content) == revision["sha256"]
    final = client.get(done["document_url"], headers=auth(creator))
    assert sha(final.content) == done["document_sha256"]
    report = verify_report(client, final.content)
    assert report["indication"] == "TOTAL_PASSED", report
    assert [s["indication"] for s in report["signatures"]] == ["TOTAL_PASSED"] * 3
    owners = [s["seal"]["owner"] for s in report["signatures"]]
    assert owners[0] == owners[1] == "深圳某建设有限公司" and owners[2] == "杭州市某采购中心"


def _completion_webhook_then_timeline(
    client: TestClient,
    receiver: Receiver,
    creator: str,
    envelope: dict[str, Any],
    done: dict[str, Any],
    supplier: Party,
    revision_1: str,
) -> None:
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
    [delivery] = wait_delivered(client, creator, envelope["id"])
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
    assert get_envelope(client, supplier.signer, envelope["id"])["webhook_url"] is None
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


def _legal_representative_signs_revision_1(
    client: TestClient, envelope: dict[str, Any], supplier: Party, revision_1: str
) -> str:
    """The second seal needs an approval of revision 1 (not the original) and refuses a stale
    expected revision; the hash of revision 2."""
    contract_sha256 = envelope["document_sha256"]
    supplier.approve("legal_representative", contract_sha256)
    stale = sign_turn(client, supplier.signer, envelope, 2)
    assert stale.status_code == 403 and "approv" in problem_code(stale), stale.text
    supplier.approve("legal_representative", revision_1)
    outdated = sign_turn(client, supplier.signer, envelope, 2, expected_revision=0)
    assert outdated.status_code == 409 and problem_code(outdated) == "envelope-revision-stale"
    second = sign_turn(client, supplier.signer, envelope, 2, expected_revision=1)
    assert second.status_code == 200, second.text
    return str(second.json()["envelope"]["document_sha256"])


def _scenario_3_body(buyer: Party, supplier: Party, receiver: Receiver) -> dict[str, Any]:
    """乙方's contract seal, then its legal representative beside it, then 甲方, in turn."""
    return {
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


def test_scenario_3_supplier_then_purchaser_with_approvals_and_a_signed_webhook(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    contract_pdf: bytes,
    receiver: Receiver,
    fast_retries: None,
) -> None:
    buyer = party(
        client, new_org, org_key, platform_key, "杭州市某采购中心", "contract",
        requires_approval=True,
    )  # fmt: skip
    supplier = party(
        client, new_org, org_key, platform_key, "深圳某建设有限公司", "contract",
        "legal_representative", requires_approval=True,
    )  # fmt: skip
    _, creator = buyer.org.key("envelopes:write")
    body = _scenario_3_body(buyer, supplier, receiver)
    created = create_envelope(client, creator, contract_pdf, body)
    assert created.status_code == 201, created.text
    envelope = created.json()
    assert envelope["status"] == "in_progress"
    assert envelope["document_sha256"] == sha(contract_pdf)
    assert envelope["webhook_url"] == receiver.url
    assert [p["may_sign_now"] for p in envelope["participants"]] == [True, False, False]

    # 甲方 may not sign before 乙方 (sequential): 409, nothing recorded
    early = sign_turn(client, buyer.signer, envelope, 3)
    assert early.status_code == 409 and problem_code(early) == "envelope-not-your-turn"

    _outsiders_see_nothing(client, new_org, org_key, platform_key, envelope, buyer, supplier)

    # 乙方 contract seal: no approval yet -> refused, nothing spent or recorded
    unapproved = sign_turn(client, supplier.signer, envelope, 1)
    assert unapproved.status_code == 403 and "approv" in problem_code(unapproved)
    assert get_envelope(client, supplier.signer, envelope["id"])["current_revision"] == 0

    supplier.approve("contract", envelope["document_sha256"])
    retry_key = {"Idempotency-Key": "contract-2026-0042-seal-1"}
    first = sign_turn(client, supplier.signer, envelope, 1, headers=retry_key)
    assert first.status_code == 200, first.text
    assert first.json()["revision"]["number"] == 1
    again = sign_turn(client, supplier.signer, envelope, 1, headers=retry_key)
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["revision"] == first.json()["revision"]
    revision_1 = first.json()["envelope"]["document_sha256"]
    assert revision_1 == first.json()["revision"]["sha256"] != sha(contract_pdf)

    revision_2 = _legal_representative_signs_revision_1(client, envelope, supplier, revision_1)

    # 甲方 checks 乙方's seals before adding its own, then seals revision 2
    current = client.get(f"/api/v1/envelopes/{envelope['id']}/document", headers=auth(buyer.signer))
    assert current.status_code == 200 and sha(current.content) == revision_2
    before = verify_report(client, current.content)
    assert before["indication"] == "TOTAL_PASSED" and len(before["signatures"]) == 2
    buyer.approve("contract", revision_2)
    third = sign_turn(client, buyer.signer, envelope, 3)
    assert third.status_code == 200, third.text
    done = third.json()["envelope"]
    assert done["status"] == "completed" and done["current_revision"] == 3
    assert [p["status"] for p in done["participants"]] == ["signed"] * 3
    assert [p["revision"] for p in done["participants"]] == [1, 2, 3]

    _final_document_verifies(client, done, creator, supplier)

    _completion_webhook_then_timeline(
        client, receiver, creator, envelope, done, supplier, revision_1
    )


# --- decline, expiry, drafts -------------------------------------------------------------------


@pytest.fixture()
def two_parties(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> tuple[Party, Party]:
    first = party(client, new_org, org_key, platform_key, "杭州某县市场监督管理局", "official")
    second = party(client, new_org, org_key, platform_key, "杭州市市场监督管理局", "official")
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
        created = create_envelope(client, first.org.admin, contract_pdf, body)
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
        late = sign_turn(client, first.signer, envelope, 1)
        assert late.status_code == 409, late.text
        [(_, raw, valid)] = hook.wait_for(1)
        assert valid and json.loads(raw)["event"] == "envelope.declined"
        assert json.loads(raw)["data"]["envelope"]["reason"] == "金额有误"
        [delivery] = wait_delivered(client, first.org.admin, envelope["id"])
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
        envelope = create_envelope(client, first.org.admin, contract_pdf, body).json()
        with Session(engine) as session:  # the clock moves past the expiry
            row = session.get(Envelope, envelope["id"])
            assert row is not None
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
            session.commit()
        refused = sign_turn(client, first.signer, envelope, 1)
        assert refused.status_code == 409 and problem_code(refused) == "envelope-expired"
        assert get_envelope(client, second.signer, envelope["id"])["status"] == "expired"
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
    created = create_envelope(
        client, first.org.admin, contract_pdf, _parallel(first, second, send=False)
    )
    envelope = created.json()
    assert envelope["status"] == "draft"
    assert all(not p["may_sign_now"] for p in envelope["participants"])
    draft_sign = sign_turn(client, first.signer, envelope, 1)
    assert draft_sign.status_code == 409, draft_sign.text
    not_creator = client.post(
        f"/api/v1/envelopes/{envelope['id']}/send", headers=auth(second.org.admin)
    )
    assert not_creator.status_code == 403
    sent = client.post(f"/api/v1/envelopes/{envelope['id']}/send", headers=auth(first.org.admin))
    assert sent.status_code == 200 and sent.json()["status"] == "in_progress"
    signed = sign_turn(client, second.signer, envelope, 2)  # parallel: the second may go first
    assert signed.status_code == 200, signed.text
    cancelled = client.post(
        f"/api/v1/envelopes/{envelope['id']}/cancel",
        json={"reason": "合同作废"},
        headers=auth(first.org.admin),
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/envelopes/{envelope['id']}/cancel", headers=auth(first.org.admin))
    assert again.status_code == 409
    assert sign_turn(client, first.signer, envelope, 1).status_code == 409


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
    assert "participant 1" in create_envelope(client, admin, contract_pdf, keyword).json()["detail"]
    _, reader = first.org.key("seals:use")
    forbidden = create_envelope(client, reader, contract_pdf, good)
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
    one = create_envelope(client, first.org.admin, contract_pdf, body, headers=key)
    two = create_envelope(client, first.org.admin, contract_pdf, body, headers=key)
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] == two.json()["id"]
    assert two.headers["idempotent-replayed"] == "true"
    other = create_envelope(
        client, first.org.admin, contract_pdf, {**body, "title": "另一份"}, headers=key
    )
    assert other.status_code == 409


# --- the domain rules --------------------------------------------------------------------------


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
    envelope = create_envelope(client, agency.admin, contract_pdf, body).json()
    wrong = sign_turn(client, signer, envelope, 1, pin="000001")
    assert wrong.status_code == 403 and problem_code(wrong) == "seal-pin-wrong", wrong.text
    assert get_envelope(client, signer, envelope["id"])["current_revision"] == 0
    first = sign_turn(client, signer, envelope, 1, pin="602913")
    assert first.status_code == 200, first.text
    second = sign_turn(client, signer, envelope, 2)
    assert second.status_code == 200, second.text
    assert second.json()["envelope"]["status"] == "completed"
    final = client.get(second.json()["envelope"]["document_url"], headers=auth(agency.admin))
    report = verify_report(client, final.content)
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
