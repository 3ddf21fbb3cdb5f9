"""Finding 4 of issue 10: after revoking a seal's certificate through the certificate API,
signing was refused but the public status still said `active`. Now the seal moves with its
certificate, so the public status, the console and the signer agree."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent
from tests.conftest import auth
from tests.console.conftest import csrf_of, grant_person, make_console_org, make_seal


def test_revoking_a_seals_certificate_revokes_the_seal_everywhere(
    client: TestClient, platform_key: str, signed_in: Any, engine: Any
) -> None:
    org = make_console_org(client, platform_key, "状态一致测试有限公司")
    seal = make_seal(client, platform_key, org.id, "合同专用章")
    grant_person(client, platform_key, seal["id"], org.people["signer"])
    signer = signed_in(org.users["signer"])
    assert 'id="seal-status">正常<' in signer.get(f"/console/seals/{seal['id']}").text

    hold = client.post(
        f"/api/v1/certificates/{seal['certificate_id']}/revoke",
        json={"reason": "certificateHold"},
        headers=auth(platform_key),
    )
    assert hold.status_code == 409, hold.text  # suspend the seal instead (reversible)
    revoked = client.post(
        f"/api/v1/certificates/{seal['certificate_id']}/revoke",
        json={"reason": "keyCompromise"},
        headers=auth(platform_key),
    )
    assert revoked.status_code == 200, revoked.text

    public = client.get(f"/api/v1/public/seals/{seal['code']}")
    assert public.status_code == 200 and public.json()["status"] == "revoked"
    detail = signer.get(f"/console/seals/{seal['id']}")
    assert 'id="seal-status">已注销<' in detail.text
    api_view = client.get(f"/api/v1/seals/{seal['id']}", headers=auth(platform_key)).json()
    assert api_view["status"] == "revoked"
    check = client.post(
        f"/api/v1/seals/{seal['id']}/use-check",
        json={"document_sha256": hashlib.sha256(b"x").hexdigest()},
        headers=auth(platform_key),
    )
    assert check.status_code in (403, 409), check.text
    with Session(engine) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.target_id == seal["id"])
        ).all()
    assert "seal.revoke" in actions
    # Revoking the seal afterwards is a plain conflict, not a second certificate revocation.
    again = client.post(
        f"/api/v1/seals/{seal['id']}/revoke",
        json={"reason": "again"},
        headers=auth(platform_key),
    )
    assert again.status_code == 409
    assert csrf_of(detail.text)
