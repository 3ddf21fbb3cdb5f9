"""Finding 3 of issue 10: reads without scope. Every route declares what it needs
(`app.access`); this walker fails for any route without a declaration, and every declared
scope is enforced through HTTP (a client holding none of them is refused)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app.access import Access
from app.api.organizations import router as organizations_router
from app.security import PLATFORM_GRANTED, Scope
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org, problem_code
from tests.security.routes import undeclared, walk

FAKE = "0" * 32


def test_every_route_declares_what_it_needs(app: FastAPI) -> None:
    assert undeclared(app.router) == []
    # The walker sees the whole application (API, console, public pages, PKI protocols).
    paths = {r.path for r in walk(app.router)}
    assert {"/api/v1/documents/{document_id}", "/console/sign", "/verify", "/pki/tsa"} <= paths


def test_the_walker_fails_when_a_declaration_is_removed() -> None:
    """Take the real member-list route and mount it again without its declaration."""
    members = next(
        r
        for r in organizations_router.routes
        if getattr(r, "path", "") == "/api/v1/organizations/{organization_id}/members"
        and "GET" in getattr(r, "methods", ())
    )
    walked = next(
        r for r in walk(organizations_router) if r.path == members.path and "GET" in r.methods
    )
    assert walked.access == (
        Access("scopes", frozenset({Scope.members_read, Scope.members_write})),
    )
    variant = APIRouter()
    variant.add_api_route(members.path, members.endpoint, methods=["GET"])  # no dependencies
    stripped = FastAPI()
    stripped.include_router(variant)
    assert undeclared(stripped.router) == [
        "['GET'] /api/v1/organizations/{organization_id}/members"
    ]


def _outsider_scope(any_of: frozenset[Scope]) -> Scope:
    """An organization scope that is none of the declared ones (nor implies them)."""
    for scope in (Scope.audit_read, Scope.certificates_read, Scope.approvals_write):
        if scope not in any_of:
            return scope
    raise AssertionError(any_of)


def test_every_declared_scope_is_enforced_through_http(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    org_id = new_org("作用域测试有限公司")["id"]
    keys: dict[Scope, str] = {}
    checked = 0
    for route in walk(client.app.router):  # type: ignore[attr-defined]
        declared = route.access[0] if route.access else None
        if declared is None or declared.kind != "scopes":
            continue
        if declared.any_of & PLATFORM_GRANTED and len(declared.any_of) == 1:
            outsider = Scope.org_admin  # an org admin is not the platform
        else:
            outsider = _outsider_scope(declared.any_of)
        if outsider not in keys:
            keys[outsider] = org_key(org_id, (outsider.value,), name=f"only-{outsider.value}")
        url = re.sub(r"\{organization_id\}", org_id, route.path)
        url = re.sub(r"\{[a-z_]+(:path)?\}", FAKE, url)
        for method in route.methods - {"HEAD"}:
            response = client.request(method, url, headers=auth(keys[outsider]))
            assert response.status_code == 403, (method, route.path, response.status_code)
            assert problem_code(response) == "forbidden", route.path
            checked += 1
    assert checked >= 50


def test_sealed_documents_and_member_lists_need_their_scopes(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, contract_pdf: bytes
) -> None:
    """The reviewer's replay: audit:read, certificates:read and seals:read clients fetched the
    sealed PDF and the member and client lists."""
    org: Org = make_org(client, new_org, org_key, platform_key, name="文件读取测试有限公司")
    seal = org.seal()
    signer_id, signer = org.key("seals:use")
    org.grant(seal["id"], "client", signer_id)
    sealed = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("合同.pdf", contract_pdf, "application/pdf")},
        data={"placement": json.dumps({"type": "invisible"}), "level": "B-B"},
        headers=auth(signer),
    )
    assert sealed.status_code == 200, sealed.text
    document_url = sealed.headers["location"]

    for scope in ("audit:read", "certificates:read", "seals:read"):
        _, key = org.key(scope)
        assert client.get(document_url, headers=auth(key)).status_code == 403, scope
        for listing in ("members", "clients"):
            refused = client.get(f"/api/v1/organizations/{org.id}/{listing}", headers=auth(key))
            assert refused.status_code == 403, (scope, listing)
    # Another seals:use client of the same organization, without a grant on that seal.
    _, other_signer = org.key("seals:use")
    assert client.get(document_url, headers=auth(other_signer)).status_code == 403

    # Who may: the signer that made it, documents:read, and members:read / clients:read.
    assert client.get(document_url, headers=auth(signer)).content[:5] == b"%PDF-"
    _, reader = org.key("documents:read")
    assert client.get(document_url, headers=auth(reader)).status_code == 200
    _, members = org.key("members:read")
    assert (
        client.get(f"/api/v1/organizations/{org.id}/members", headers=auth(members)).status_code
        == 200
    )
    _, clients = org.key("clients:read")
    assert (
        client.get(f"/api/v1/organizations/{org.id}/clients", headers=auth(clients)).status_code
        == 200
    )


def test_every_console_declaration_is_enforced_through_http(
    client: TestClient, platform_key: str, signed_in: Any
) -> None:
    """An auditor (audit, seals, certificates and members read) is refused, with the
    console's error page, by every console route declared for other scopes."""
    from app.security import ROLE_SCOPES, Role
    from tests.console.conftest import make_console_org

    org = make_console_org(client, platform_key, "控制台作用域测试有限公司")
    auditor = signed_in(org.users["auditor"])
    held = ROLE_SCOPES[Role.auditor]
    checked = 0
    for route in walk(client.app.router):  # type: ignore[attr-defined]
        declared = route.access[0] if route.access else None
        if declared is None or declared.kind != "console" or declared.any_of & held:
            continue
        url = re.sub(r"\{[a-z_]+(:path)?\}", FAKE, route.path)
        for method in route.methods - {"HEAD"}:
            response = auditor.request(method, url, follow_redirects=False)
            assert response.status_code == 403, (method, route.path, response.status_code)
            assert "text/html" in response.headers["content-type"], route.path
            checked += 1
    assert checked >= 30


def test_every_role_opens_the_overview_and_only_admins_and_auditors_see_members(
    client: TestClient, platform_key: str, signed_in: Any
) -> None:
    from tests.console.conftest import ROLES, make_console_org

    org = make_console_org(client, platform_key, "概览成员可见性有限公司")
    for role in ROLES:
        home = signed_in(org.users[role]).get("/console/")
        assert home.status_code == 200, (role, home.text[:300])
        # the member list (the greeting names the signed-in person, so look at the list)
        sees_members = 'id="members"' in home.text and "赵强" in home.text.split('id="members"')[1]
        assert sees_members == (role in ("org_admin", "auditor")), role


def test_a_seal_keeper_still_opens_the_seal_gallery_with_the_member_list(
    client: TestClient, platform_key: str, signed_in: Any
) -> None:
    from tests.conftest import make_resident_id
    from tests.console.conftest import PASSWORD, make_console_org

    org = make_console_org(client, platform_key, "印章管理员页面有限公司")
    username = f"keeper-{org.id[:6]}"
    added = client.post(
        f"/api/v1/organizations/{org.id}/members",
        json={
            "name": "孙丽",
            "resident_id": make_resident_id(),
            "roles": ["seal_keeper"],
            "username": username,
            "password": PASSWORD,
        },
        headers=auth(platform_key),
    )
    assert added.status_code == 201, added.text
    gallery = signed_in(username).get("/console/seals")
    assert gallery.status_code == 200, gallery.text[:300]
    assert f'value="{org.people["signer"]}"' in gallery.text  # personal seals for members


def test_console_documents_are_not_shared_among_all_signers(
    client: TestClient, platform_key: str, signed_in: Any, contract_pdf: bytes
) -> None:
    """Another signer of the same organization (no grant on the seal, no documents:read)
    cannot open a colleague's upload; approvers, who decide on documents, can."""
    from tests.conftest import make_resident_id
    from tests.console.conftest import PASSWORD, csrf_of, make_console_org

    org = make_console_org(client, platform_key, "文件隔离测试有限公司")
    colleague = f"colleague-{org.id[:6]}"
    added = client.post(
        f"/api/v1/organizations/{org.id}/members",
        json={
            "name": "钱七",
            "resident_id": make_resident_id(),
            "roles": ["signer"],
            "username": colleague,
            "password": PASSWORD,
        },
        headers=auth(platform_key),
    )
    assert added.status_code == 201, added.text
    signer = signed_in(org.users["signer"])
    uploaded = signer.post(
        "/console/sign/upload",
        data={"csrf_token": csrf_of(signer.get("/console/sign").text)},
        files={"file": ("内部合同.pdf", contract_pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    document_id = uploaded.headers["location"].rstrip("/").split("/")[-1]
    assert signer.get(f"/console/documents/{document_id}").status_code == 200
    other = signed_in(colleague)
    for path in ("", "/pages/1.png", "/download"):
        assert other.get(f"/console/documents/{document_id}{path}").status_code == 404, path
    approver = signed_in(org.users["approver"])
    assert approver.get(f"/console/documents/{document_id}").status_code == 200
