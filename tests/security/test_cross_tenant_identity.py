"""Finding 1 of issue 10: an organization attached a console login to another organization's
administrator (people were matched across tenants by resident ID number) and took it over.

Replayed through the API and the console: the attack is refused at its first step, and the
only way into a second organization is an invitation the person accepts with their own login.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, UserAccount
from tests.conftest import auth, make_resident_id
from tests.console.conftest import PASSWORD, csrf_of

Login = Callable[[str], TestClient]


def _org_with_unlogged_admin(
    client: TestClient, platform_key: str, new_org: Any
) -> tuple[dict[str, Any], str, str]:
    org = new_org("甲企业有限公司")
    resident_id = make_resident_id()
    added = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={"name": "钱多多", "resident_id": resident_id, "roles": ["org_admin"]},
        headers=auth(platform_key),
    )
    assert added.status_code == 201, added.text
    return org, resident_id, added.json()["person_id"]


def test_attaching_a_login_to_another_orgs_admin_is_refused_at_step_one(
    client: TestClient, platform_key: str, new_org: Any, org_key: Any, engine: Any
) -> None:
    org_a, resident_id, person_id = _org_with_unlogged_admin(client, platform_key, new_org)
    org_b = new_org("乙企业有限公司")
    b_admin = org_key(org_b["id"], ("org:admin",))

    attack = client.post(
        f"/api/v1/organizations/{org_b['id']}/members",
        json={
            "name": "钱多多",
            "resident_id": resident_id,
            "roles": ["org_admin"],
            "username": "takeover-x",
            "password": "attacker password 123",
        },
        headers=auth(b_admin),
    )
    assert attack.status_code == 403, attack.text
    assert attack.json()["type"] == "urn:eseal:problem:forbidden"
    # Nothing of it was kept: no login, no membership in B, and signing in fails.
    with Session(engine) as db:
        taken = db.exec(select(UserAccount).where(UserAccount.username == "takeover-x")).first()
    assert taken is None
    members_b = client.get(f"/api/v1/organizations/{org_b['id']}/members", headers=auth(b_admin))
    assert person_id not in {m["person_id"] for m in members_b.json()}
    browser = TestClient(client.app, base_url="https://testserver")
    form = browser.get("/console/login")
    login = browser.post(
        "/console/login",
        data={
            "username": "takeover-x",
            "password": "attacker password 123",
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert login.status_code == 401
    # A's own members are untouched.
    a_members = client.get(
        f"/api/v1/organizations/{org_a['id']}/members", headers=auth(platform_key)
    )
    assert [m["username"] for m in a_members.json()] == [None]


def _b_invites_and_cannot_grant_yet(
    client: TestClient, org_b: dict[str, Any], b_admin: str, resident_id: str, person_id: str
) -> None:
    """B invites the person (unconfirmed) and cannot grant a seal to them before they accept."""
    invited = client.post(
        f"/api/v1/organizations/{org_b['id']}/members",
        json={"name": "钱多多", "resident_id": resident_id, "roles": ["org_admin"]},
        headers=auth(b_admin),
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["confirmed"] is False
    # B cannot grant a seal to, or certify, somebody who has not accepted.
    seal = client.post(
        f"/api/v1/organizations/{org_b['id']}/seals",
        json={"kind": "contract", "name": "丙企业合同章"},
        headers=auth(b_admin),
    )
    assert seal.status_code == 201, seal.text
    grant = client.post(
        f"/api/v1/seals/{seal.json()['id']}/grants",
        json={"grantee_kind": "person", "grantee_id": person_id},
        headers=auth(b_admin),
    )
    assert grant.status_code == 404, grant.text


def test_an_invitation_gives_nothing_until_the_person_accepts_in_the_console(
    client: TestClient,
    platform_key: str,
    new_org: Any,
    org_key: Any,
    engine: Any,
    signed_in: Login,
) -> None:
    org_a, resident_id, person_id = _org_with_unlogged_admin(client, platform_key, new_org)
    org_b = new_org("丙企业有限公司")
    b_admin = org_key(org_b["id"], ("org:admin",))

    _b_invites_and_cannot_grant_yet(client, org_b, b_admin, resident_id, person_id)

    # A (the home organization) still gives its own person a login: B's pending invitation
    # does not block it.
    username = f"qian-{person_id[:6]}"
    login = client.post(
        f"/api/v1/organizations/{org_a['id']}/members",
        json={
            "name": "钱多多",
            "resident_id": resident_id,
            "roles": ["org_admin"],
            "username": username,
            "password": PASSWORD,
        },
        headers=auth(org_key(org_a["id"], ("org:admin",))),
    )
    assert login.status_code == 201, login.text

    person = signed_in(username)
    home = person.get("/console/")
    picker = re.search(r'<select id="org-pick".*?</select>', home.text, re.S)
    assert picker and org_a["name"] in picker.group(0) and org_b["name"] not in picker.group(0)
    switched = person.post(
        "/console/org",
        data={"organization_id": org_b["id"], "csrf_token": csrf_of(home.text)},
        follow_redirects=False,
    )
    assert switched.status_code == 403

    page = person.get("/console/invitations")
    assert org_b["name"] in page.text
    accepted = person.post(
        f"/console/invitations/{org_b['id']}/accept",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    picker = re.search(r'<select id="org-pick".*?</select>', person.get("/console/").text, re.S)
    assert picker and org_b["name"] in picker.group(0)
    members_b = client.get(f"/api/v1/organizations/{org_b['id']}/members", headers=auth(b_admin))
    row = next(m for m in members_b.json() if m["person_id"] == person_id)
    assert row["confirmed"] is True and row["username"] is None  # B never sees A's login name
    with Session(engine) as db:
        events = db.exec(
            select(AuditEvent.action).where(
                AuditEvent.organization_id == org_b["id"], AuditEvent.target_id == person_id
            )
        ).all()
    assert {"member.invite", "member.accept"} <= set(events)
    # Now a member of two organizations: A cannot reset this person's credentials either.
    again = client.post(
        f"/api/v1/organizations/{org_a['id']}/members",
        json={
            "name": "钱多多",
            "resident_id": resident_id,
            "roles": ["signer"],
            "username": "second-login",
            "password": PASSWORD,
        },
        headers=auth(platform_key),
    )
    assert again.status_code == 403
