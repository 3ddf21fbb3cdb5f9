"""Finding 5 (refused uses) of issue 10: a refused seal use (no grant, wrong document type,
missing approval) left no audit event. Each now leaves `seal.use_refused` with its reason,
written after the refused request rolled back -- through the API and the console."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent
from seals.documents import make_document
from seals.fonts import find_cjk_font
from tests.console.conftest import csrf_of, make_console_org, make_seal
from tests.seals_registry.util import Org, make_org, problem_code, sha, use_check


def _refusals(engine: Any, seal_id: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.target_id == seal_id, AuditEvent.action == "seal.use_refused")
            .order_by(col(AuditEvent.seq))
        ).all()
    return [{"actor": r.actor, **json.loads(r.details)} for r in rows]


def test_refused_api_uses_are_audited_with_their_reason(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, engine: Any
) -> None:
    org: Org = make_org(client, new_org, org_key, platform_key, name="拒绝审计测试有限公司")
    seal = org.seal()
    ungranted_id, ungranted = org.key("seals:use")
    invoices_id, invoices = org.key("seals:use")
    org.grant(seal["id"], "client", invoices_id, document_types=["invoice"])
    approval_seal = org.seal(requires_approval=True)
    org.grant(approval_seal["id"], "client", invoices_id)

    no_grant = use_check(client, ungranted, seal["id"], "合同一")
    assert problem_code(no_grant) == "seal-grant-missing"
    wrong_type = use_check(client, invoices, seal["id"], "合同二", document_type="contract")
    assert problem_code(wrong_type) == "seal-grant-document-type"
    no_approval = use_check(client, invoices, approval_seal["id"], "合同三")
    assert problem_code(no_approval) == "seal-approval-required"

    refused = _refusals(engine, seal["id"])
    assert [(r["actor"], r["reason"]) for r in refused] == [
        (f"client:{ungranted_id}", "seal-grant-missing"),
        (f"client:{invoices_id}", "seal-grant-document-type"),
    ]
    assert refused[0]["document_sha256"] == sha("合同一")
    assert refused[1]["document_type"] == "contract"
    assert [r["reason"] for r in _refusals(engine, approval_seal["id"])] == [
        "seal-approval-required"
    ]


def test_a_refused_console_signing_is_audited(
    client: TestClient, platform_key: str, signed_in: Any, engine: Any
) -> None:
    org = make_console_org(client, platform_key, "控制台拒绝审计有限公司")
    seal = make_seal(client, platform_key, org.id, "合同专用章")  # no grant for the signer
    signer = signed_in(org.users["signer"])
    font = find_cjk_font()
    pdf = make_document(
        title="合同", paragraphs=["甲方乙方"], font_path=font.path, font_number=font.index, pages=1
    )
    page = signer.get("/console/sign")
    uploaded = signer.post(
        "/console/sign/upload",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("合同.pdf", pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    document_id = uploaded.headers["location"].rstrip("/").split("/")[-1]
    form = signer.get(f"/console/sign/{document_id}")
    refused = signer.post(
        f"/console/sign/{document_id}",
        data={
            "csrf_token": csrf_of(form.text),
            "seal_id": seal["id"],
            "mode": "click",
            "page": "1",
            "x_mm": "150",
            "y_mm": "250",
            "level": "B-B",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 403, refused.text
    events = _refusals(engine, seal["id"])
    assert len(events) == 1 and events[0]["reason"] == "seal-grant-missing"
    assert events[0]["actor"].startswith("user:")
