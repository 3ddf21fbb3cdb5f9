"""Helpers for seal tests that go through HTTP: an organization with an admin key, seals,
members, grants and approvals, made the way a portal would make them."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.models import AuditEvent
from tests.conftest import auth, make_resident_id

TEST_DPI = 150  # geometry does not matter here; rendering at 600 dpi is tested in tests/seals


def sha(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


@dataclass
class Org:
    """An organization and its admin API key."""

    client: TestClient
    id: str
    name: str
    uscc: str
    admin: str
    platform: str

    def key(self, *scopes: str, name: str | None = None) -> tuple[str, str]:
        """A new API client of this organization: (client id, key)."""
        response = self.client.post(
            f"/api/v1/organizations/{self.id}/clients",
            json={"name": name or f"c-{random.randrange(10**9)}", "scopes": list(scopes)},
            headers=auth(self.platform),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return body["id"], body["api_key"]

    def member(self, name: str = "李娜", roles: tuple[str, ...] = ("signer",)) -> str:
        response = self.client.post(
            f"/api/v1/organizations/{self.id}/members",
            json={"name": name, "resident_id": make_resident_id(), "roles": list(roles)},
            headers=auth(self.admin),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["person_id"])

    def seal(
        self, kind: str = "contract", *, activate: bool = True, **fields: Any
    ) -> dict[str, Any]:
        body = {"kind": kind, "dpi": TEST_DPI, **fields}
        response = self.client.post(
            f"/api/v1/organizations/{self.id}/seals", json=body, headers=auth(self.admin)
        )
        assert response.status_code == 201, response.text
        seal = response.json()
        if activate:
            response = self.client.post(
                f"/api/v1/seals/{seal['id']}/activate", headers=auth(self.admin)
            )
            assert response.status_code == 200, response.text
            seal = response.json()
        return dict(seal)

    def grant(
        self, seal_id: str, grantee_kind: str, grantee_id: str, **limits: Any
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/seals/{seal_id}/grants",
            json={"grantee_kind": grantee_kind, "grantee_id": grantee_id, **limits},
            headers=auth(self.admin),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def make_org(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    name: str = "杭州青禾科技有限公司",
) -> Org:
    org = new_org(name)
    return Org(
        client=client,
        id=org["id"],
        name=org["name"],
        uscc=org["uscc"],
        admin=org_key(org["id"]),
        platform=platform_key,
    )


def use_check(client: TestClient, key: str, seal_id: str, document: str, **fields: Any) -> Any:
    return client.post(
        f"/api/v1/seals/{seal_id}/use-check",
        json={"document_sha256": sha(document), **fields},
        headers=auth(key),
    )


def problem_code(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).removeprefix("urn:eseal:problem:")


def rows(engine: Engine, statement: Any) -> list[Any]:
    """Run one query in a short transaction of its own (on SQLite a held transaction would
    block the service's writers)."""
    with Session(engine) as session:
        return list(session.exec(statement).all())


def one(engine: Engine, model: Any, ident: str) -> Any:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(model, ident)


def audit_actions(engine: Engine, target_id: str) -> list[str]:
    return rows(
        engine,
        select(AuditEvent.action)
        .where(AuditEvent.target_id == target_id)
        .order_by(col(AuditEvent.seq)),
    )
