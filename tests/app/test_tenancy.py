"""Organizations, members and API clients through the HTTP API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import auth, make_resident_id, make_uscc


def test_platform_creates_an_organization_with_a_chinese_name(
    client: TestClient, platform_key: str
) -> None:
    uscc = make_uscc()
    response = client.post(
        "/api/v1/organizations",
        json={"name": "杭州青禾科技有限公司", "uscc": uscc, "legal_representative": "张伟"},
        headers=auth(platform_key),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "杭州青禾科技有限公司"
    assert body["uscc"] == uscc
    fetched = client.get(f"/api/v1/organizations/{body['id']}", headers=auth(platform_key))
    assert fetched.json() == body


def test_duplicate_credit_code_is_a_conflict(client: TestClient, platform_key: str) -> None:
    body = {"name": "重复企业", "uscc": make_uscc()}
    first = client.post("/api/v1/organizations", json=body, headers=auth(platform_key))
    second = client.post("/api/v1/organizations", json=body, headers=auth(platform_key))
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["type"] == "urn:eseal:problem:conflict"


def test_invalid_credit_code_names_the_wrong_character(
    client: TestClient, platform_key: str
) -> None:
    valid = make_uscc()
    wrong = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    response = client.post(
        "/api/v1/organizations",
        json={"name": "错误企业", "uscc": wrong},
        headers=auth(platform_key),
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:eseal:problem:invalid-identifier"
    assert "18" in problem["detail"] and valid[-1] in problem["detail"]


def test_organization_key_cannot_create_organizations(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    key = org_key(new_org()["id"])
    response = client.post(
        "/api/v1/organizations",
        json={"name": "越权企业", "uscc": make_uscc()},
        headers=auth(key),
    )
    assert response.status_code == 403
    assert response.json()["type"] == "urn:eseal:problem:forbidden"


def test_another_organizations_resources_answer_404(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    mine, theirs = new_org("甲公司"), new_org("乙公司")
    key = org_key(mine["id"])
    for path in (
        f"/api/v1/organizations/{theirs['id']}",
        f"/api/v1/organizations/{theirs['id']}/members",
        f"/api/v1/organizations/{theirs['id']}/clients",
    ):
        response = client.get(path, headers=auth(key))
        assert response.status_code == 404, path
        assert theirs["name"] not in response.text
    listed = client.get("/api/v1/organizations", headers=auth(key)).json()
    assert [o["id"] for o in listed] == [mine["id"]]
    create = client.post(
        f"/api/v1/organizations/{theirs['id']}/clients",
        json={"name": "intruder", "scopes": ["seals:read"]},
        headers=auth(key),
    )
    assert create.status_code == 404


def test_api_key_is_shown_once_and_stored_as_hash(
    client: TestClient, new_org: Any, platform_key: str, session: Any
) -> None:
    from sqlmodel import select

    from app.models import ApiClient

    org = new_org()
    created = client.post(
        f"/api/v1/organizations/{org['id']}/clients",
        json={"name": "registration-portal", "scopes": ["seals:read", "certificates:read"]},
        headers=auth(platform_key),
    ).json()
    key = created["api_key"]
    listed = client.get(f"/api/v1/organizations/{org['id']}/clients", headers=auth(platform_key))
    assert key not in listed.text
    row = session.exec(select(ApiClient).where(ApiClient.id == created["id"])).one()
    assert key not in (row.key_hash, row.key_prefix, row.scopes)
    assert row.key_hash != key and len(row.key_hash) == 64


def test_revoked_key_gets_401_at_once(client: TestClient, new_org: Any, org_key: Any) -> None:
    org = new_org()
    admin_key = org_key(org["id"])
    portal = client.post(
        f"/api/v1/organizations/{org['id']}/clients",
        json={"name": "portal-to-revoke", "scopes": ["seals:read"]},
        headers=auth(admin_key),
    ).json()
    assert client.get("/api/v1/organizations", headers=auth(portal["api_key"])).status_code == 200
    revoked = client.post(
        f"/api/v1/organizations/{org['id']}/clients/{portal['id']}/revoke",
        headers=auth(admin_key),
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = client.get("/api/v1/organizations", headers=auth(portal["api_key"]))
    assert after.status_code == 401
    assert after.json()["type"] == "urn:eseal:problem:not-authenticated"
    assert after.headers["www-authenticate"] == "Bearer"


def test_missing_and_forged_keys_are_401(client: TestClient, platform_key: str) -> None:
    assert client.get("/api/v1/organizations").status_code == 401
    forged = platform_key[:-4] + "AAAA"
    assert client.get("/api/v1/organizations", headers=auth(forged)).status_code == 401
    assert client.get("/api/v1/organizations", headers=auth("nonsense")).status_code == 401


def test_org_client_cannot_get_platform_scope_or_unknown_scopes(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    org = new_org()
    key = org_key(org["id"])
    for scopes in (["platform"], ["seals:fly"]):
        response = client.post(
            f"/api/v1/organizations/{org['id']}/clients",
            json={"name": f"bad-{scopes[0]}", "scopes": scopes},
            headers=auth(key),
        )
        assert response.status_code == 422, scopes


def test_members_with_roles_and_masked_resident_id(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    org = new_org()
    key = org_key(org["id"])
    rid = make_resident_id()
    response = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={
            "name": "李娜",
            "resident_id": rid,
            "roles": ["seal_keeper", "signer"],
            "username": f"lina-{rid[-6:]}",
            "password": "correct horse battery",
        },
        headers=auth(key),
    )
    assert response.status_code == 201, response.text
    member = response.json()
    assert member["roles"] == ["seal_keeper", "signer"]
    assert rid not in response.text and member["resident_id"].startswith(rid[:4])
    listed = client.get(f"/api/v1/organizations/{org['id']}/members", headers=auth(key))
    assert [m["name"] for m in listed.json()] == ["李娜"]
    assert rid not in listed.text


def test_invalid_resident_id_is_refused_and_nothing_is_left(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    org = new_org()
    key = org_key(org["id"])
    rid = make_resident_id()
    bad = rid[:-1] + ("0" if rid[-1] != "0" else "1")
    response = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={"name": "王芳", "resident_id": bad, "roles": ["signer"]},
        headers=auth(key),
    )
    assert response.status_code == 422
    assert response.json()["type"] == "urn:eseal:problem:invalid-identifier"
    listed = client.get(f"/api/v1/organizations/{org['id']}/members", headers=auth(key))
    assert listed.json() == []


def test_short_password_leaves_no_person_behind(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    org = new_org()
    key = org_key(org["id"])
    response = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={"name": "赵强", "roles": ["signer"], "username": "zhaoqiang", "password": "short"},
        headers=auth(key),
    )
    assert response.status_code == 422
    listed = client.get(f"/api/v1/organizations/{org['id']}/members", headers=auth(key))
    assert listed.json() == []
