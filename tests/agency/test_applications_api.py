"""Seal production applications through HTTP: submitted with a PDF, sent back for changes,
resubmitted with an image, approved (the seal made active with its own certificate and filed
publicly); a rejected one; a re-issue after loss that revokes the lost seal and its
certificate; a cancellation; documents checked by content; the trusted-applicant policy; and
who may see and decide what."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.db import unit_of_work
from app.models_agency import SealApplication
from app.pdfpool import PdfWorkerPool
from app.services.application_documents import DocumentTooLarge, Upload, check
from tests.agency.conftest import Party, events
from tests.conftest import auth


def _apply(client: TestClient, party: Party, files: list[tuple[str, bytes]], **fields: str) -> Any:
    return client.post(
        f"/api/v1/organizations/{party.id}/seal-applications",
        data={"reason": "新设立企业，需要电子印章", **fields},
        files=[("documents", (name, data, "application/octet-stream")) for name, data in files],
        headers=auth(party.key),
    )


def _decide(
    client: TestClient, reviewer: Party, app_id: str, decision: str, note: str | None = None
) -> Any:
    body: dict[str, Any] = {"decision": decision}
    if note is not None:
        body["note"] = note
    return client.post(
        f"/api/v1/seal-applications/{app_id}/decision", json=body, headers=auth(reviewer.key)
    )


def test_apply_send_back_resubmit_approve_and_file(
    client: TestClient,
    platform_key: str,
    make_party: Callable[..., Party],
    agency: Party,
    licence_pdf: bytes,
    id_card_png: bytes,
) -> None:
    firm = make_party("杭州青禾科技有限公司")
    applied = _apply(client, firm, [("营业执照.pdf", licence_pdf)], kind="contract")
    assert applied.status_code == 201, applied.text
    app = applied.json()
    assert app["status"] == "submitted" and app["seal_id"] is None
    assert [d["media_type"] for d in app["documents"]] == ["application/pdf"]
    doc = client.get(app["documents"][0]["url"], headers=auth(agency.key))
    assert doc.status_code == 200 and doc.content == licence_pdf

    queue = client.get("/api/v1/seal-applications", headers=auth(agency.key))
    assert app["id"] in [a["id"] for a in queue.json()]

    sent_back = _decide(client, agency, app["id"], "request_changes", "请补充法定代表人身份证明")
    assert sent_back.status_code == 200, sent_back.text
    assert sent_back.json()["status"] == "changes_requested"
    assert sent_back.json()["review_note"] == "请补充法定代表人身份证明"
    early = _decide(client, agency, app["id"], "approve")
    assert early.status_code == 409
    assert early.json()["type"] == "urn:eseal:problem:application-state"

    resubmitted = client.post(
        f"/api/v1/seal-applications/{app['id']}/resubmit",
        data={"reason": "已补充身份证明", "inscription": "合同专用章（1）"},
        files=[("documents", ("身份证.png", id_card_png, "image/png"))],
        headers=auth(firm.key),
    )
    assert resubmitted.status_code == 200, resubmitted.text
    again = resubmitted.json()
    assert again["status"] == "submitted" and again["inscription"] == "合同专用章（1）"
    assert [d["media_type"] for d in again["documents"]] == ["application/pdf", "image/png"]

    approved = _decide(client, agency, app["id"], "approve", "材料齐全，准予制章")
    assert approved.status_code == 200, approved.text
    done = approved.json()
    assert done["status"] == "approved" and done["seal_id"]
    assert done["reviewed_by"].startswith("client:")

    seal = client.get(f"/api/v1/seals/{done['seal_id']}", headers=auth(firm.key)).json()
    assert seal["status"] == "active" and seal["kind"] == "contract"
    cert = client.get(f"/api/v1/certificates/{seal['certificate_id']}", headers=auth(firm.key))
    assert cert.status_code == 200, cert.text
    status = client.get(f"/api/v1/public/seals/{seal['code']}").json()
    assert status["status"] == "active"
    assert status["filing"]["authority"] == agency.name
    assert status["filing"]["application_id"] == app["id"]
    filing = client.get(f"/api/v1/public/seals/{seal['code']}/filing")
    assert filing.status_code == 200 and filing.json()["authority"] == agency.name

    actions = [e["action"] for e in events(client, platform_key, app["id"])]
    assert actions == [
        "seal_application.submit",
        "seal_application.request_changes",
        "seal_application.resubmit",
        "seal_application.approve",
    ]
    seal_actions = [e["action"] for e in events(client, platform_key, seal["id"])]
    assert seal_actions == ["seal.create", "seal.file"]


def test_rejection_needs_a_reason_and_is_final(
    client: TestClient, make_party: Callable[..., Party], agency: Party, licence_pdf: bytes
) -> None:
    firm = make_party("宁波海曙贸易有限公司")
    app = _apply(client, firm, [("licence.pdf", licence_pdf)], kind="finance").json()
    bare = _decide(client, agency, app["id"], "reject")
    assert bare.status_code == 422
    rejected = _decide(client, agency, app["id"], "reject", "申请材料与登记信息不符")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert _decide(client, agency, app["id"], "approve").status_code == 409
    listed = client.get(
        f"/api/v1/organizations/{firm.id}/seal-applications", headers=auth(firm.key)
    ).json()
    assert [(a["id"], a["status"], a["seal_id"]) for a in listed] == [(app["id"], "rejected", None)]


def test_reissue_after_loss_revokes_the_lost_seal_and_cancellation_revokes(
    client: TestClient,
    platform_key: str,
    make_party: Callable[..., Party],
    agency: Party,
    licence_pdf: bytes,
) -> None:
    firm = make_party("温州瓯江机械有限公司")
    first = _apply(client, firm, [("licence.pdf", licence_pdf)], kind="official").json()
    lost_id = _decide(client, agency, first["id"], "approve").json()["seal_id"]
    lost = client.get(f"/api/v1/seals/{lost_id}", headers=auth(firm.key)).json()

    # a second official seal cannot be applied for as "new" — the registry refuses it
    second = _apply(client, firm, [("licence.pdf", licence_pdf)], kind="official").json()
    refused = _decide(client, agency, second["id"], "approve")
    assert refused.status_code == 409, refused.text
    assert (
        client.get(f"/api/v1/seal-applications/{second['id']}", headers=auth(firm.key)).json()[
            "status"
        ]
        == "submitted"
    )  # nothing half-done

    reissue = _apply(
        client,
        firm,
        [("遗失声明.pdf", licence_pdf)],
        purpose="reissue",
        replaces_seal_id=lost_id,
        reason="公章遗失，已登报声明",
    )
    assert reissue.status_code == 201, reissue.text
    assert reissue.json()["kind"] == "official"
    made = _decide(client, agency, reissue.json()["id"], "approve").json()
    assert made["status"] == "approved" and made["seal_id"] != lost_id

    old = client.get(f"/api/v1/public/seals/{lost['code']}").json()
    assert old["status"] == "revoked"
    cert = client.get(f"/api/v1/certificates/{lost['certificate_id']}", headers=auth(firm.key))
    assert cert.json()["status"] == "revoked"
    assert cert.json()["revocation_reason"] in ("keyCompromise", "key_compromise")
    assert "seal.revoke" in [e["action"] for e in events(client, platform_key, lost_id)]

    new = client.get(f"/api/v1/seals/{made['seal_id']}", headers=auth(firm.key)).json()
    again = _apply(client, firm, [], purpose="reissue", replaces_seal_id=lost_id)
    assert again.status_code == 409  # the lost seal is already revoked
    cancel = _apply(
        client, firm, [], purpose="cancel", replaces_seal_id=new["id"], reason="企业注销"
    )
    assert cancel.status_code == 201, cancel.text
    cancelled = _decide(client, agency, cancel.json()["id"], "approve").json()
    assert cancelled["status"] == "approved" and cancelled["seal_id"] is None
    assert client.get(f"/api/v1/public/seals/{new['code']}").json()["status"] == "revoked"


def test_documents_are_checked_by_content(
    client: TestClient, engine: Any, make_party: Callable[..., Party], licence_pdf: bytes
) -> None:
    firm = make_party("绍兴越城纺织有限公司")
    for name, data, problem in (
        ("licence.pdf", b"just some text, not a PDF", "unsupported-document"),
        ("licence.pdf", b"%PDF-1.7\n garbage without objects", "unsupported-document"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "unsupported-document"),
        ("empty.pdf", b"", "unsupported-document"),
    ):
        bad = _apply(client, firm, [("ok.pdf", licence_pdf), (name, data)], kind="contract")
        assert bad.status_code == 422, (name, bad.text)
        assert bad.json()["type"] == f"urn:eseal:problem:{problem}"
    missing = _apply(client, firm, [], kind="contract")
    assert missing.status_code == 422
    huge = _apply(
        client, firm, [("big.pdf", b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024))], kind="contract"
    )
    assert huge.status_code == 413
    with unit_of_work(engine) as session:
        left = session.exec(
            select(SealApplication).where(SealApplication.organization_id == firm.id)
        ).all()
    assert left == []  # nothing half-written
    with pytest.raises(DocumentTooLarge):
        check(
            Upload(filename="a.pdf", data=licence_pdf),
            page_count=lambda pdf: pytest.fail("the PDF was opened before its size was checked"),
            max_bytes=len(licence_pdf) - 1,
        )


def test_trusted_agency_skips_review_for_standard_seals_only(
    client: TestClient, platform_key: str, make_party: Callable[..., Party], licence_pdf: bytes
) -> None:
    bureau = make_party("杭州市数据资源管理局", "agency", ("org:admin",))
    plain = _apply(client, bureau, [("批文.pdf", licence_pdf)], kind="official").json()
    assert plain["status"] == "submitted"
    trusted = client.put(f"/api/v1/trusted-applicants/{bureau.id}", headers=auth(bureau.key))
    assert trusted.status_code == 403
    assert (
        client.put(
            f"/api/v1/trusted-applicants/{bureau.id}", headers=auth(platform_key)
        ).status_code
        == 200
    )
    fast = _apply(client, bureau, [("批文.pdf", licence_pdf)], kind="contract").json()
    assert fast["status"] == "approved" and fast["seal_id"]
    assert fast["reviewed_by"] == "policy:trusted-applicant"
    custom = _apply(
        client, bureau, [("批文.pdf", licence_pdf)], kind="contract", inscription="执法专用章"
    ).json()
    assert custom["status"] == "submitted"  # not a standard seal: reviewed by a person


def test_who_may_see_and_decide(
    client: TestClient, make_party: Callable[..., Party], agency: Party, licence_pdf: bytes
) -> None:
    firm = make_party("嘉兴南湖食品有限公司")
    other = make_party("湖州吴兴茶业有限公司")
    app = _apply(client, firm, [("licence.pdf", licence_pdf)], kind="invoice").json()
    assert (
        client.get(f"/api/v1/seal-applications/{app['id']}", headers=auth(other.key)).status_code
        == 404
    )
    assert client.get(app["documents"][0]["url"], headers=auth(other.key)).status_code == 404
    assert _decide(client, firm, app["id"], "approve").status_code == 403
    assert client.get("/api/v1/seal-applications", headers=auth(firm.key)).status_code == 403
    reader = make_party("丽水莲都竹木有限公司", "enterprise", ("seals:read",))
    assert _apply(client, reader, [("l.pdf", licence_pdf)], kind="contract").status_code == 403


def test_change_of_inscription_replaces_the_seal(
    client: TestClient, make_party: Callable[..., Party], agency: Party, licence_pdf: bytes
) -> None:
    firm = make_party("台州椒江船舶有限公司")
    first = _apply(client, firm, [("licence.pdf", licence_pdf)], kind="contract").json()
    old_id = _decide(client, agency, first["id"], "approve").json()["seal_id"]
    old = client.get(f"/api/v1/seals/{old_id}", headers=auth(firm.key)).json()
    change = _apply(
        client,
        firm,
        [("变更登记通知书.pdf", licence_pdf)],
        purpose="change",
        replaces_seal_id=old_id,
        inscription="合同专用章（2）",
        reason="印章文字变更",
    ).json()
    assert change["kind"] == "contract" and change["replaces_seal_id"] == old_id
    made = _decide(client, agency, change["id"], "approve", "同意变更").json()
    new = client.get(f"/api/v1/seals/{made['seal_id']}", headers=auth(firm.key)).json()
    assert new["status"] == "active" and new["image_sha256"] != old["image_sha256"]
    assert client.get(f"/api/v1/public/seals/{old['code']}").json()["status"] == "revoked"
    cert = client.get(f"/api/v1/certificates/{old['certificate_id']}", headers=auth(firm.key))
    assert cert.json()["revocation_reason"] in ("superseded", "Superseded")


def test_a_supporting_pdf_is_opened_in_a_pdf_worker_not_in_the_service(
    client: TestClient,
    make_party: Callable[..., Party],
    licence_pdf: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[tuple[str, int]] = []
    exchange = PdfWorkerPool._exchange

    def watched(self: PdfWorkerPool, worker: Any, kind: str, payload: Any) -> Any:
        opened.append((kind, worker.process.pid))
        return exchange(self, worker, kind, payload)

    monkeypatch.setattr(PdfWorkerPool, "_exchange", watched)
    firm = make_party("杭州青禾建材有限公司")
    accepted = _apply(client, firm, [("营业执照.pdf", licence_pdf)], kind="contract")
    assert accepted.status_code == 201, accepted.text
    assert [kind for kind, _ in opened] == ["page_sizes"]
    assert all(pid != os.getpid() for _, pid in opened)
    broken = _apply(
        client, firm, [("损坏.pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\n")], kind="contract"
    )
    assert broken.status_code == 422
    assert broken.json()["type"].endswith("unsupported-document")
    assert "损坏.pdf" in broken.json()["detail"]
