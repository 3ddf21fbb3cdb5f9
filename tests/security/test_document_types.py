"""Finding 5 (document types) of issue 10: a grant limited to ["invoice"] accepted an
ordinary contract because the caller said document_type=invoice. Now the service records
whether it established the type (templates, envelopes) or the caller only declared it, and a
grant can require established types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent
from seals.documents import make_document
from seals.fonts import find_cjk_font
from seals.models import SealUsage
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org, problem_code
from tests.seals_templates.samples import BANK, guarantee_json
from tests.support.documents import contract_pdf

FAST_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@pytest.fixture(autouse=True)
def fast_font(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    if FAST_FONT.is_file():
        settings = client.app.state.services.settings  # type: ignore[attr-defined]
        monkeypatch.setattr(settings, "document_font", FAST_FONT)


def test_a_claimed_type_does_not_pass_a_grant_that_requires_established_types(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, engine: Any
) -> None:
    bank: Org = make_org(client, new_org, org_key, platform_key, name=BANK)
    seal = bank.seal("contract")
    signer_id, signer = bank.key("seals:use")
    grant = bank.grant(
        seal["id"],
        "client",
        signer_id,
        document_types=["bid-guarantee"],
        requires_established_type=True,
    )
    assert grant["requires_established_type"] is True
    contract = contract_pdf(1, title="普通合同", paragraphs=("这不是保函",))
    claimed = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("合同.pdf", contract, "application/pdf")},
        data={
            "placement": json.dumps({"type": "invisible"}),
            "level": "B-B",
            "document_type": "bid-guarantee",  # the caller's own word
        },
        headers=auth(signer),
    )
    assert claimed.status_code == 403, claimed.text
    assert problem_code(claimed) == "seal-grant-document-type"
    assert "established" in claimed.json()["detail"]

    made = client.post(
        "/api/v1/templates/bid-guarantee/documents",
        json={"seal_id": seal["id"], "level": "B-B", "data": guarantee_json()},
        headers=auth(signer),
    )
    assert made.status_code == 200, made.text

    with Session(engine) as session:
        usages = session.exec(select(SealUsage).where(SealUsage.seal_id == seal["id"])).all()
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.target_id == seal["id"])
            .where(col(AuditEvent.action).in_(["seal.use", "seal.use_refused"]))
            .order_by(col(AuditEvent.seq))
        ).all()
    assert [(u.document_type, u.document_type_source) for u in usages] == [
        ("bid-guarantee", "established")
    ]
    refused, used = (json.loads(e.details) for e in events)
    assert refused["reason"] == "seal-grant-document-type"
    assert refused["document_type"] == "bid-guarantee"
    assert used["document_type_source"] == "established"


def test_a_declared_type_is_recorded_as_declared(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, engine: Any
) -> None:
    org: Org = make_org(client, new_org, org_key, platform_key, name="声明类型测试有限公司")
    seal = org.seal("invoice")
    signer_id, signer = org.key("seals:use")
    org.grant(seal["id"], "client", signer_id, document_types=["invoice"])
    font = find_cjk_font()
    pdf = make_document(
        title="发票", paragraphs=["金额"], font_path=font.path, font_number=font.index, pages=1
    )
    signed = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("发票.pdf", pdf, "application/pdf")},
        data={
            "placement": json.dumps({"type": "invisible"}),
            "level": "B-B",
            "document_type": "invoice",
        },
        headers=auth(signer),
    )
    assert signed.status_code == 200, signed.text
    with Session(engine) as session:
        usage = session.exec(select(SealUsage).where(SealUsage.seal_id == seal["id"])).one()
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.target_id == seal["id"], AuditEvent.action == "seal.use"
            )
        ).one()
    assert usage.document_type_source == "declared"
    assert json.loads(event.details)["document_type_source"] == "declared"
