"""Who may use a seal, through the API: grants and their limits, usage requests and
approvals (用印审批), personal-seal PINs with lockout, and every refusal reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.wiring import Services
from seals.authorization import Caller, CallerKind
from seals.errors import ApprovalConsumedError, NoGrantError
from seals.models import Seal
from tests.conftest import auth
from tests.seals_registry.util import (
    Org,
    audit_actions,
    make_org,
    one,
    problem_code,
    sha,
    use_check,
)


@pytest.fixture()
def org(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> Org:
    return make_org(client, new_org, org_key, platform_key)


@pytest.fixture()
def services(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined]


def test_a_client_with_a_grant_may_use_the_seal_and_one_without_may_not(
    client: TestClient, org: Org
) -> None:
    seal = org.seal("contract")
    signer_id, signer = org.key("seals:read", "seals:use")
    response = use_check(client, signer, seal["id"], "contract-1")
    assert response.status_code == 403 and problem_code(response) == "seal-grant-missing"
    org.grant(seal["id"], "client", signer_id)
    response = use_check(client, signer, seal["id"], "contract-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["allowed"] and body["certificate_id"] == seal["certificate_id"]
    assert body["checks"] == ["seal active", "within validity", "certificate valid", "grant",
                              "approval not required"]  # fmt: skip


def test_grant_limits_document_type_window_and_uses(
    client: TestClient, org: Org, services: Services, engine: Engine
) -> None:
    seal = org.seal("contract")
    signer_id, signer = org.key("seals:use")
    now = datetime.now(UTC)
    org.grant(seal["id"], "client", signer_id, document_types=["contract"], max_uses=1)
    wrong_type = use_check(client, signer, seal["id"], "d", document_type="invoice")
    assert problem_code(wrong_type) == "seal-grant-document-type"
    assert wrong_type.json()["allowed_document_types"] == ["contract"]
    assert use_check(client, signer, seal["id"], "d", document_type="contract").status_code == 200

    # spend the single use the way the signing code does
    with Session(services.engine) as session:
        use = _registry(services).load_for_use(
            session,
            seal_id=seal["id"],
            caller=Caller(CallerKind.CLIENT, signer_id),
            document_sha256=sha("d"),
            document_type="contract",
        )
        receipt = use.consume(session)
        session.commit()
    assert receipt.grant_id is not None
    exhausted = use_check(client, signer, seal["id"], "d2", document_type="contract")
    assert problem_code(exhausted) == "seal-grant-exhausted"
    assert one(engine, Seal, seal["id"]).use_count == 1

    later_id, later = org.key("seals:use")
    org.grant(
        seal["id"],
        "client",
        later_id,
        not_before=(now + timedelta(days=1)).isoformat(),
        not_after=(now + timedelta(days=2)).isoformat(),
    )
    assert problem_code(use_check(client, later, seal["id"], "d")) == "seal-grant-outside-window"


def test_revoking_a_grant_takes_effect_at_once_even_after_authorisation(
    client: TestClient, org: Org, services: Services, engine: Engine
) -> None:
    seal = org.seal("finance")
    signer_id, signer = org.key("seals:use")
    grant = org.grant(seal["id"], "client", signer_id)
    with Session(services.engine) as session:
        use = _registry(services).load_for_use(
            session,
            seal_id=seal["id"],
            caller=Caller(CallerKind.CLIENT, signer_id),
            document_sha256=sha("statement"),
        )
        session.commit()  # the signer now works on the PDF, outside any transaction
    response = client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=auth(org.admin))
    assert response.status_code == 200 and response.json()["revoked_at"] is not None
    with Session(services.engine) as session, pytest.raises(NoGrantError):
        use.consume(session)
    assert problem_code(use_check(client, signer, seal["id"], "statement")) == "seal-grant-missing"
    again = client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=auth(org.admin))
    assert again.status_code == 409
    assert audit_actions(engine, grant["id"]) == ["seal.grant", "seal.grant_revoke"]


def test_grants_only_to_members_and_clients_of_the_organization(
    client: TestClient, org: Org, new_org: Any, org_key: Any, platform_key: str
) -> None:
    seal = org.seal("contract")
    other = make_org(client, new_org, org_key, platform_key, name="深圳某某贸易有限公司")
    stranger_id, _ = other.key("seals:use")
    outsider = other.member("王芳")
    for kind, grantee in (("client", stranger_id), ("person", outsider), ("person", "x" * 32)):
        response = client.post(
            f"/api/v1/seals/{seal['id']}/grants",
            json={"grantee_kind": kind, "grantee_id": grantee},
            headers=auth(org.admin),
        )
        assert response.status_code == 404, response.text
    member = org.member("王芳")
    assert org.grant(seal["id"], "person", member)["grantee_kind"] == "person"
    response = client.post(
        f"/api/v1/seals/{seal['id']}/grants",
        json={"grantee_kind": "client", "grantee_id": stranger_id, "max_uses": 0},
        headers=auth(org.admin),
    )
    assert response.status_code == 422


def test_refusals_name_the_seal_state(client: TestClient, org: Org) -> None:
    seal = org.seal("contract", activate=False)
    signer_id, signer = org.key("seals:use")
    org.grant(seal["id"], "client", signer_id)
    pending = use_check(client, signer, seal["id"], "d")
    assert pending.status_code == 409 and problem_code(pending) == "seal-not-active"
    assert "pending" in pending.json()["detail"]
    client.post(f"/api/v1/seals/{seal['id']}/activate", headers=auth(org.admin))
    client.post(f"/api/v1/seals/{seal['id']}/suspend", headers=auth(org.admin))
    assert "suspended" in use_check(client, signer, seal["id"], "d").json()["detail"]
    client.post(f"/api/v1/seals/{seal['id']}/reactivate", headers=auth(org.admin))
    client.post(
        f"/api/v1/certificates/{seal['certificate_id']}/revoke", json={}, headers=auth(org.admin)
    )
    revoked_cert = use_check(client, signer, seal["id"], "d")
    # Revoking the certificate revokes the seal with it (issue 10), and the refusal says so.
    assert problem_code(revoked_cert) == "seal-not-active"
    assert "revoked" in revoked_cert.json()["detail"]
    bad = client.post(
        f"/api/v1/seals/{seal['id']}/use-check",
        json={"document_sha256": "zz" * 32},
        headers=auth(signer),
    )
    assert bad.status_code == 422


def test_usage_approval_binds_one_document_and_is_consumed_once(
    client: TestClient, org: Org, services: Services, engine: Engine
) -> None:
    seal = org.seal("contract", requires_approval=True)
    signer_id, signer = org.key("seals:read", "seals:use")
    _, approver = org.key("seals:read", "approvals:write")
    org.grant(seal["id"], "client", signer_id)
    contract = "采购合同 第2026-001号"

    refused = use_check(client, signer, seal["id"], contract)
    assert refused.status_code == 403 and problem_code(refused) == "seal-approval-required"
    assert "requires an approved usage request" in refused.json()["detail"]

    filed = client.post(
        f"/api/v1/seals/{seal['id']}/usage-requests",
        json={"purpose": "与乙方签订采购合同", "document_sha256": sha(contract), "copies": 2},
        headers=auth(signer),
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    assert filed.json()["status"] == "pending"
    assert problem_code(use_check(client, signer, seal["id"], contract)) == "seal-approval-pending"
    duplicate = client.post(
        f"/api/v1/seals/{seal['id']}/usage-requests",
        json={"purpose": "again", "document_sha256": sha(contract)},
        headers=auth(signer),
    )
    assert duplicate.status_code == 409

    self_approval = client.post(
        f"/api/v1/usage-requests/{request_id}/approve", headers=auth(signer)
    )
    assert self_approval.status_code == 403  # lacks approvals:write anyway
    approved = client.post(
        f"/api/v1/usage-requests/{request_id}/approve",
        json={"note": "同意"},
        headers=auth(approver),
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    twice = client.post(f"/api/v1/usage-requests/{request_id}/reject", headers=auth(approver))
    assert twice.status_code == 409 and "already approved" in twice.json()["detail"]

    other_document = use_check(client, signer, seal["id"], contract + " (改)")
    assert problem_code(other_document) == "seal-approval-required"
    ok = use_check(client, signer, seal["id"], contract)
    assert ok.status_code == 200 and ok.json()["approval_id"] == request_id

    with Session(services.engine) as session:
        use = _registry(services).load_for_use(
            session,
            seal_id=seal["id"],
            caller=Caller(CallerKind.CLIENT, signer_id),
            document_sha256=sha(contract),
        )
        use.consume(session)
        with pytest.raises(ApprovalConsumedError):
            use.consume(session)  # the same authorisation cannot be spent twice
        session.rollback()
    with Session(services.engine) as session:
        use = _registry(services).load_for_use(
            session,
            seal_id=seal["id"],
            caller=Caller(CallerKind.CLIENT, signer_id),
            document_sha256=sha(contract),
        )
        use.consume(session)
        session.commit()
    consumed = use_check(client, signer, seal["id"], contract)
    assert consumed.status_code == 409 and problem_code(consumed) == "seal-approval-consumed"
    status = client.get(f"/api/v1/usage-requests/{request_id}", headers=auth(signer)).json()
    assert status["status"] == "consumed" and status["consumed_at"] is not None
    assert audit_actions(engine, request_id) == ["seal.usage_request", "seal.usage_approve"]


def test_rejected_requests_and_self_approval(client: TestClient, org: Org) -> None:
    seal = org.seal("contract", requires_approval=True)
    clerk_id, clerk = org.key("seals:use", "approvals:write", "seals:read")
    _, approver = org.key("approvals:write", "seals:read")
    org.grant(seal["id"], "client", clerk_id)
    filed = client.post(
        f"/api/v1/seals/{seal['id']}/usage-requests",
        json={"purpose": "发票", "document_sha256": sha("x"), "document_type": "invoice"},
        headers=auth(clerk),
    ).json()
    mine = client.post(f"/api/v1/usage-requests/{filed['id']}/approve", headers=auth(clerk))
    assert mine.status_code == 403 and problem_code(mine) == "seal-self-approval"
    rejected = client.post(
        f"/api/v1/usage-requests/{filed['id']}/reject",
        json={"note": "用途不明"},
        headers=auth(approver),
    )
    assert rejected.json()["status"] == "rejected"
    assert problem_code(use_check(client, clerk, seal["id"], "x")) == "seal-approval-rejected"
    listed = client.get(
        f"/api/v1/organizations/{org.id}/usage-requests?status=rejected", headers=auth(approver)
    )
    assert [r["id"] for r in listed.json()] == [filed["id"]]


def test_requires_approval_can_be_switched_by_the_admin(client: TestClient, org: Org) -> None:
    seal = org.seal("contract")
    signer_id, signer = org.key("seals:use")
    org.grant(seal["id"], "client", signer_id)
    assert use_check(client, signer, seal["id"], "d").status_code == 200
    response = client.patch(
        f"/api/v1/seals/{seal['id']}", json={"requires_approval": True}, headers=auth(org.admin)
    )
    assert response.status_code == 200 and response.json()["requires_approval"]
    assert problem_code(use_check(client, signer, seal["id"], "d")) == "seal-approval-required"


def test_other_organizations_grants_and_requests_are_not_found(
    client: TestClient, org: Org, new_org: Any, org_key: Any, platform_key: str
) -> None:
    seal = org.seal("contract")
    signer_id, signer = org.key("seals:use", "seals:read")
    grant = org.grant(seal["id"], "client", signer_id)
    request = client.post(
        f"/api/v1/seals/{seal['id']}/usage-requests",
        json={"purpose": "p", "document_sha256": sha("d")},
        headers=auth(signer),
    ).json()
    other = make_org(client, new_org, org_key, platform_key, name="深圳某某贸易有限公司")
    _, outsider = other.key("seals:use", "seals:read", "approvals:write")
    for method, path in (
        ("GET", f"/api/v1/grants/{grant['id']}"),
        ("POST", f"/api/v1/grants/{grant['id']}/revoke"),
        ("GET", f"/api/v1/usage-requests/{request['id']}"),
        ("POST", f"/api/v1/usage-requests/{request['id']}/approve"),
        ("POST", f"/api/v1/seals/{seal['id']}/use-check"),
        ("POST", f"/api/v1/seals/{seal['id']}/usage-requests"),
    ):
        body: dict[str, str] | None = None
        if path.endswith("/usage-requests"):
            body = {"purpose": "p", "document_sha256": sha("d")}
        elif path.endswith("use-check"):
            body = {"document_sha256": sha("d")}
        response = client.request(method, path, json=body, headers=auth(other.admin))
        assert response.status_code == 404, (path, response.text)
        response = client.request(method, path, json=body, headers=auth(outsider))
        # 404, or refused by the route's declared scope before anything is looked up (the
        # same answer for any id, so nothing about the other organization leaks).
        assert response.status_code == 404 or (
            response.status_code == 403 and "needs the scope" in response.json()["detail"]
        ), (path, response.text)


# --- personal seals and PINs ---------------------------------------------------------------------


def _personal(client: TestClient, org: Org) -> tuple[dict[str, Any], str]:
    person = org.member("赵敏")
    seal = org.seal("personal", person_id=person)
    return seal, person


def test_a_personal_seal_is_certified_to_its_owner(client: TestClient, org: Org) -> None:
    seal, person = _personal(client, org)
    assert seal["person_id"] == person and seal["name"] == "赵敏个人签名章"
    cert = client.get(f"/api/v1/certificates/{seal['certificate_id']}", headers=auth(org.admin))
    assert cert.json()["person_id"] == person and cert.json()["profile"] == "personal-signing"
    public = client.get(f"/api/v1/public/seals/{seal['code']}").json()
    assert public["owner"] == "赵*" and "赵敏" not in str(public)


def test_personal_seal_needs_the_pin_and_locks_after_five_wrong_ones(
    client: TestClient, org: Org, engine: Engine
) -> None:
    seal, _ = _personal(client, org)
    portal_id, portal = org.key("seals:use", "seals:write")
    org.grant(seal["id"], "client", portal_id)
    assert problem_code(use_check(client, portal, seal["id"], "rec")) == "seal-pin-not-set"
    for weak in ("123", "111111", "123456", "abcdef"):
        response = client.put(
            f"/api/v1/seals/{seal['id']}/pin", json={"pin": weak}, headers=auth(portal)
        )
        assert response.status_code == 422, weak
    response = client.put(
        f"/api/v1/seals/{seal['id']}/pin", json={"pin": "602913"}, headers=auth(portal)
    )
    assert response.status_code == 200 and response.json()["pin_set"]
    changing = client.put(
        f"/api/v1/seals/{seal['id']}/pin", json={"pin": "739104"}, headers=auth(portal)
    )
    assert problem_code(changing) == "seal-pin-required"

    assert problem_code(use_check(client, portal, seal["id"], "rec")) == "seal-pin-required"
    assert use_check(client, portal, seal["id"], "rec", pin="602913").status_code == 200
    for attempt in range(1, 5):
        wrong = use_check(client, portal, seal["id"], "rec", pin="000001")
        assert wrong.status_code == 403 and problem_code(wrong) == "seal-pin-wrong"
        assert wrong.json()["attempts_left"] == 5 - attempt
    assert one(engine, Seal, seal["id"]).pin_failures == 4
    locking = use_check(client, portal, seal["id"], "rec", pin="000001")
    assert locking.status_code == 423 and problem_code(locking) == "seal-locked"
    locked = use_check(client, portal, seal["id"], "rec", pin="602913")
    assert locked.status_code == 423 and "locked" in locked.json()["detail"]
    row = one(engine, Seal, seal["id"])
    assert row.pin_locked_until is not None and row.pin_locked_until > datetime.now(UTC)
    actions = audit_actions(engine, seal["id"])
    assert actions.count("seal.pin_failure") == 5 and actions.count("seal.lock") == 1
    assert "602913" not in str(actions)


def test_a_correct_pin_resets_the_count(client: TestClient, org: Org, engine: Engine) -> None:
    seal, _ = _personal(client, org)
    portal_id, portal = org.key("seals:use", "seals:write")
    org.grant(seal["id"], "client", portal_id)
    client.put(f"/api/v1/seals/{seal['id']}/pin", json={"pin": "602913"}, headers=auth(portal))
    for _ in range(3):
        use_check(client, portal, seal["id"], "rec", pin="999990")
    assert one(engine, Seal, seal["id"]).pin_failures == 3
    assert use_check(client, portal, seal["id"], "rec", pin="602913").status_code == 200
    assert one(engine, Seal, seal["id"]).pin_failures == 0


def test_uploaded_signature_becomes_a_personal_seal(client: TestClient, org: Org) -> None:
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (400, 160), "white")
    ImageDraw.Draw(picture).line(
        [(20, 120), (120, 30), (220, 130), (380, 40)], fill="black", width=8
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG")
    person = org.member("钱七")
    response = client.post(
        f"/api/v1/organizations/{org.id}/seals/upload",
        data={"person_id": person},
        files={"image": ("signature.jpg", buffer.getvalue(), "image/jpeg")},
        headers=auth(org.admin),
    )
    assert response.status_code == 201, response.text
    seal = response.json()
    png = Image.open(io.BytesIO(client.get(seal["image_url"], headers=auth(org.admin)).content))
    corner = png.getpixel((5, 5))
    assert png.mode == "RGBA" and isinstance(corner, tuple) and corner[3] == 0  # white: clear
    bad = client.post(
        f"/api/v1/organizations/{org.id}/seals/upload",
        data={"person_id": person},
        files={"image": ("signature.gif", b"GIF89a" + b"\0" * 100, "image/gif")},
        headers=auth(org.admin),
    )
    assert bad.status_code == 422 and problem_code(bad) == "invalid-seal-image"
    not_personal = client.post(
        f"/api/v1/organizations/{org.id}/seals/upload",
        data={"person_id": person, "kind": "official"},
        files={"image": ("s.jpg", buffer.getvalue(), "image/jpeg")},
        headers=auth(org.admin),
    )
    assert not_personal.status_code == 422


def _registry(services: Services) -> Any:
    from app.services.seals import registry

    return registry(services)
