"""Console pages over plain HTTP (TestClient): CSRF refusal on every form, what each role sees
and may do, tenancy (another organization's data never shows), language switch and local
times, API client keys shown once, and the chain-check fragment."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from app.console.i18n import local_time
from app.console.routes import router as console_router
from app.db import unit_of_work
from app.models import Person
from app.services.tenancy import create_account
from pki.identifiers import mask_resident_id
from tests.conftest import auth, make_resident_id
from tests.console.conftest import PASSWORD, ConsoleOrg, csrf_of, make_console_org

Login = Callable[[str], TestClient]
FAKE = "0" * 32


@pytest.fixture(scope="module")
def seal(client: TestClient, platform_key: str, console_org: ConsoleOrg) -> dict[str, Any]:
    """An active contract seal of the console organization (made through the API)."""
    response = client.post(
        f"/api/v1/organizations/{console_org.id}/seals",
        json={"kind": "contract", "dpi": 150, "name": "青禾合同章"},
        headers=auth(platform_key),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    activated = client.post(f"/api/v1/seals/{body['id']}/activate", headers=auth(platform_key))
    assert activated.status_code == 200, activated.text
    return dict(activated.json())


@pytest.fixture(scope="module")
def other_org(client: TestClient, platform_key: str) -> ConsoleOrg:
    return make_console_org(client, platform_key, "深圳蓝海贸易有限公司")


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

# Every console form: (path, fields, files). Fields are valid in shape, so only the CSRF
# token can be what refuses them.
FORMS: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    ("/console/logout", {}, None),
    ("/console/org", {"organization_id": FAKE}, None),
    ("/console/members", {"name": "周杰", "roles": "signer"}, None),
    ("/console/clients", {"name": "portal", "scopes": "seals:read"}, None),
    ("/console/clients/{fake}/revoke", {}, None),
    ("/console/trust-anchors", {"label": "x"}, {"certificate": ("ca.pem", b"x", "text/plain")}),
    ("/console/trust-anchors/{fake}/remove", {}, None),
    ("/console/invitations/{fake}/accept", {}, None),
    ("/console/invitations/{fake}/decline", {}, None),
    ("/console/certificates/issue", {}, None),
    ("/console/certificates/{fake}/revoke", {"reason": "keyCompromise", "confirm": "yes"}, None),
    ("/console/seals", {"kind": "contract"}, None),
    ("/console/seals/upload", {"person_id": FAKE}, {"image": ("s.png", b"x", "image/png")}),
    ("/console/seals/{seal}/action/{action}", {}, None),
    ("/console/seals/{seal}/revoke", {"reason": "停用", "confirm": "yes"}, None),
    ("/console/seals/{seal}/approval", {"required": "yes"}, None),
    ("/console/seals/{seal}/pin", {"pin": "123456"}, None),
    ("/console/seals/{seal}/grants", {"grantee": f"person:{FAKE}"}, None),
    ("/console/seals/{seal}/grants/{fake}/revoke", {}, None),
    ("/console/approvals/{fake}/decide", {"decision": "approve"}, None),
    ("/console/sign/upload", {}, {"file": ("a.pdf", PDF, "application/pdf")}),
    ("/console/sign/{fake}/request", {"seal_id": FAKE, "purpose": "用印"}, None),
    ("/console/sign/{fake}", {"seal_id": FAKE}, None),
    ("/console/audit/verify", {}, None),
    ("/console/certificates/issue-personal", {"person_id": FAKE}, None),
    ("/console/envelopes", {"title": "合同"}, {"file": ("a.pdf", PDF, "application/pdf")}),
    ("/console/envelopes/{fake}/send", {}, None),
    ("/console/envelopes/{fake}/cancel", {}, None),
    ("/console/envelopes/{fake}/participants/{fake}/sign", {}, None),
    ("/console/envelopes/{fake}/participants/{fake}/decline", {"reason": "不同意"}, None),
    ("/console/envelopes/{fake}/participants/{fake}/request", {"purpose": "用印"}, None),
    ("/console/applications", {"reason": "新刻", "kind": "contract"}, None),
    ("/console/applications/{fake}/decide", {"decision": "approve"}, None),
    ("/console/applications/{fake}/resubmit", {"reason": "补正"}, None),
    ("/console/deliveries/{fake}/acknowledge", {}, None),
    ("/console/enterprises", {"name": "某公司", "uscc": "9" * 18, "legal_representative": "张伟"},
     None),
    ("/console/templates/generate", {"template": "two-party-contract", "seal_id": FAKE,
     "data": "{}"}, None),
]  # fmt: skip


def _console_posts(router: Any, prefix: str = "") -> list[str]:
    """Every POST path under a router, through included routers."""
    found: list[str] = []
    for route in router.routes:
        if hasattr(route, "path"):
            if "POST" in getattr(route, "methods", set()):
                found.append(prefix + route.path)
        else:
            found += _console_posts(route.original_router, prefix + route.include_context.prefix)
    return found


def test_every_console_form_refuses_a_wrong_csrf_token(
    app: Any, signed_in: Login, console_org: ConsoleOrg, seal: dict[str, Any]
) -> None:
    covered = {re.sub(r"\{[a-z]+\}", "{}", path) for path, _, _ in FORMS}
    posts = {re.sub(r"\{[a-z_]+\}", "{}", path) for path in _console_posts(console_router)}
    assert posts - {"/console/login"} <= covered, posts - covered  # a new form needs a line here

    admin = signed_in(console_org.users["org_admin"])
    for path, fields, files in FORMS:
        url = path.format(fake=FAKE, seal=seal["id"], action="suspend")
        for token in ("forged", None):
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            response = admin.post(url, data=data, files=files, follow_redirects=False)
            assert response.status_code in (403, 422), (url, token, response.status_code)
            if token is not None:
                assert response.status_code == 403, (url, response.text)
    # Nothing happened: the seal is still active and the session still works.
    detail = admin.get(f"/console/seals/{seal['id']}")
    assert detail.status_code == 200 and 'id="seal-status">正常<' in detail.text


def test_auditor_sees_no_seal_management_and_cannot_act(
    signed_in: Login, console_org: ConsoleOrg, seal: dict[str, Any]
) -> None:
    auditor = signed_in(console_org.users["auditor"])
    gallery = auditor.get("/console/seals")
    assert gallery.status_code == 200
    assert seal["name"] in gallery.text
    assert 'id="create-seal"' not in gallery.text and "/console/seals/upload" not in gallery.text
    assert "/console/sign" not in gallery.text  # no signing in the navigation
    detail = auditor.get(f"/console/seals/{seal['id']}")
    assert detail.status_code == 200
    for action in ("/action/suspend", "/revoke", "/grants", "/approval"):
        assert f"/console/seals/{seal['id']}{action}" not in detail.text
    certificates = auditor.get("/console/certificates")
    assert (
        certificates.status_code == 200 and "/console/certificates/issue" not in certificates.text
    )
    assert "/revoke" not in certificates.text
    home = auditor.get("/console/")
    assert "/console/clients" not in home.text and "/console/members" not in home.text

    # The service refuses the act itself, whatever the page shows.
    refused = auditor.post(
        f"/console/seals/{seal['id']}/action/suspend", data={"csrf_token": csrf_of(detail.text)}
    )
    assert refused.status_code == 403
    assert "操作未完成" in refused.text
    assert 'id="seal-status">正常<' in auditor.get(f"/console/seals/{seal['id']}").text


def test_signer_and_approver_pages(
    signed_in: Login, console_org: ConsoleOrg, seal: dict[str, Any]
) -> None:
    signer = signed_in(console_org.users["signer"])
    assert signer.get("/console/sign").status_code == 200
    assert signer.get("/console/audit").status_code == 403
    approver = signed_in(console_org.users["approver"])
    inbox = approver.get("/console/approvals")
    assert inbox.status_code == 200 and "待我审批" in inbox.text
    assert "/console/sign" not in inbox.text


def test_another_organizations_data_never_shows(
    signed_in: Login,
    console_org: ConsoleOrg,
    other_org: ConsoleOrg,
    seal: dict[str, Any],
) -> None:
    admin = signed_in(console_org.users["org_admin"])
    form = admin.get("/console/sign")
    uploaded = admin.post(
        "/console/sign/upload",
        data={"csrf_token": csrf_of(form.text)},
        files={"file": ("内部文件.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    document_id = uploaded.headers["location"].rsplit("/", 1)[1]
    assert (
        admin.get(f"/console/documents/{document_id}/pages/1.png").headers["content-type"]
        == "image/png"
    )

    stranger = signed_in(other_org.users["org_admin"])
    stranger.cookies.set("eseal_org", console_org.id)  # a forged choice falls back to their own
    home = stranger.get("/console/")
    assert other_org.name in home.text and console_org.name not in home.text
    for url in (
        f"/console/seals/{seal['id']}",
        f"/console/seals/{seal['id']}/image",
        f"/console/certificates/{seal['certificate_id']}/download",
        f"/console/certificates/{seal['certificate_id']}/revoke",
        f"/console/sign/{document_id}",
        f"/console/documents/{document_id}/pages/1.png",
        f"/console/documents/{document_id}/download",
    ):
        response = stranger.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert seal["code"] not in response.text
    for url in ("/console/seals", "/console/certificates", "/console/approvals", "/console/audit"):
        response = stranger.get(url)
        assert response.status_code == 200, url
        assert seal["code"] not in response.text and seal["id"][:12] not in response.text
        assert console_org.people["signer"][:12] not in response.text
    switch = stranger.post(
        "/console/org",
        data={"organization_id": console_org.id, "csrf_token": csrf_of(home.text)},
        follow_redirects=False,
    )
    assert switch.status_code == 403


def test_language_switch_and_local_times(signed_in: Login, console_org: ConsoleOrg) -> None:
    admin = signed_in(console_org.users["org_admin"])
    chinese = admin.get("/console/")
    assert '<html lang="zh-CN">' in chinese.text and "单位概览" in chinese.text
    english = admin.get("/console/?lang=en")
    assert '<html lang="en">' in english.text
    assert "Overview" in english.text and "Sign out" in english.text
    assert "单位概览" not in english.text
    assert "Members and roles" in admin.get("/console/").text  # the cookie keeps it
    back = admin.get("/console/lang?to=zh-CN&back=/console/seals", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/console/seals"
    assert "成员与角色" in admin.get("/console/").text
    offsite = admin.get("/console/lang?to=en&back=https://evil.example/", follow_redirects=False)
    assert offsite.headers["location"] == "/console/"

    login = TestClient(admin.app, base_url="https://testserver").get("/console/login?lang=en")
    assert "Sign in" in login.text and "Username" in login.text

    assert local_time(datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == "2026-01-01 08:00"


def test_api_client_key_is_shown_once_and_works(
    signed_in: Login, client: TestClient, console_org: ConsoleOrg
) -> None:
    admin = signed_in(console_org.users["org_admin"])
    home = admin.get("/console/")
    created = admin.post(
        "/console/clients",
        data={"name": "登记窗口", "scopes": ["seals:read"], "csrf_token": csrf_of(home.text)},
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    key = re.search(r'value="(esk_[^"]+)"', created.text)
    assert key, created.text
    seals = client.get(f"/api/v1/organizations/{console_org.id}/seals", headers=auth(key.group(1)))
    assert seals.status_code == 200
    listed = admin.get("/console/")
    assert key.group(1) not in listed.text and "登记窗口" in listed.text
    client_id = re.search(r'action="/console/clients/([0-9a-f]{32})/revoke"', listed.text)
    assert client_id
    revoked = admin.post(
        f"/console/clients/{client_id.group(1)}/revoke",
        data={"csrf_token": csrf_of(listed.text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    again = client.get(f"/api/v1/organizations/{console_org.id}/seals", headers=auth(key.group(1)))
    assert again.status_code == 401


def test_chain_check_fragment_and_pages_need_sign_in(
    app: Any, signed_in: Login, console_org: ConsoleOrg
) -> None:
    auditor = signed_in(console_org.users["auditor"])
    log = auditor.get("/console/audit?action=member.add")
    assert log.status_code == 200 and 'data-action="member.add"' in log.text
    fragment = auditor.post(
        "/console/audit/verify",
        data={"csrf_token": csrf_of(log.text)},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "哈希链完整" in fragment.text

    anonymous = TestClient(app, base_url="https://testserver")
    for url in ("/console/", "/console/seals", "/console/audit", "/console/sign"):
        response = anonymous.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login")


def test_admin_adds_a_member_who_can_sign_in(signed_in: Login, console_org: ConsoleOrg) -> None:
    admin = signed_in(console_org.users["org_admin"])
    home = admin.get("/console/")
    resident_id = make_resident_id()
    username = f"new-signer-{secrets.token_hex(3)}"
    added = admin.post(
        "/console/members",
        data={
            "csrf_token": csrf_of(home.text),
            "name": "周杰",
            "resident_id": resident_id,
            "roles": ["signer", "approver"],
            "username": username,
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == "/console/#members"
    listed = admin.get("/console/")
    assert "周杰" in listed.text and username in listed.text
    assert resident_id not in listed.text and mask_resident_id(resident_id) in listed.text
    newcomer = signed_in(username)
    assert newcomer.get("/console/sign").status_code == 200
    assert newcomer.get("/console/approvals").status_code == 200

    short = admin.post(
        "/console/members",
        data={
            "csrf_token": csrf_of(home.text),
            "name": "吴磊",
            "roles": "signer",
            "username": f"short-{secrets.token_hex(3)}",
            "password": "short",
        },
    )
    assert short.status_code == 422 and "12" in short.text
    assert "吴磊" not in admin.get("/console/").text


def _ca_pem(name: str, *, ca: bool = True, self_signed: bool = True) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer = subject if self_signed else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "X")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_platform_admin_adds_and_removes_a_trust_anchor(
    signed_in: Login, engine: Any, console_org: ConsoleOrg
) -> None:
    username = f"platform-{secrets.token_hex(3)}"
    with unit_of_work(engine) as session:
        person = Person(name="平台运维")
        session.add(person)
        session.flush()
        create_account(
            session, person=person, username=username, password=PASSWORD, platform_admin=True
        )
    operator = signed_in(username)
    home = operator.get("/console/")
    assert 'action="/console/trust-anchors"' in home.text
    label = f"广东省数字证书认证中心 {secrets.token_hex(2)}"
    added = operator.post(
        "/console/trust-anchors",
        data={"csrf_token": csrf_of(home.text), "label": label},
        files={"certificate": ("gdca.pem", _ca_pem("GDCA Test Root"), "application/x-pem-file")},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    listed = operator.get("/console/")
    assert label in listed.text and "GDCA Test Root" in listed.text
    refused = operator.post(
        "/console/trust-anchors",
        data={"csrf_token": csrf_of(home.text), "label": "终端证书"},
        files={
            "certificate": (
                "leaf.pem",
                _ca_pem("leaf", ca=False, self_signed=False),
                "application/x-pem-file",
            )
        },
    )
    # a self-signed end-entity certificate would be pinned as a signer; one issued by a CA
    # that is not itself recognised is refused
    assert refused.status_code == 422 and "CA" in refused.text
    anchor = re.search(
        rf"<td>{re.escape(label)}</td>.*?action=\"/console/trust-anchors/([0-9a-f]{{32}})/remove\"",
        listed.text,
        re.S,
    )
    assert anchor, listed.text
    removed = operator.post(
        f"/console/trust-anchors/{anchor.group(1)}/remove",
        data={"csrf_token": csrf_of(listed.text)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert label not in operator.get("/console/").text

    # An organization's admin is not offered the form, and is refused the act.
    admin = signed_in(console_org.users["org_admin"])
    org_home = admin.get("/console/")
    assert 'action="/console/trust-anchors"' not in org_home.text
    forbidden = admin.post(
        "/console/trust-anchors",
        data={"csrf_token": csrf_of(org_home.text), "label": "x"},
        files={"certificate": ("ca.pem", _ca_pem("x"), "application/x-pem-file")},
    )
    assert forbidden.status_code == 403


def test_personal_certificate_issued_for_a_member(
    signed_in: Login, console_org: ConsoleOrg
) -> None:
    admin = signed_in(console_org.users["org_admin"])
    listing = admin.get("/console/certificates")
    assert 'action="/console/certificates/issue-personal"' in listing.text
    assert f'<option value="{console_org.people["signer"]}">李娜（' in listing.text
    before = listing.text.count("data-certificate=")
    issued = admin.post(
        "/console/certificates/issue-personal",
        data={"csrf_token": csrf_of(listing.text), "person_id": console_org.people["signer"]},
        follow_redirects=False,
    )
    assert issued.status_code == 303, issued.text
    after = admin.get("/console/certificates")
    assert after.text.count("data-certificate=") == before + 1
    assert "个人签名证书" in after.text and "李娜" in after.text
    stranger = admin.post(
        "/console/certificates/issue-personal",
        data={"csrf_token": csrf_of(listing.text), "person_id": FAKE},
    )
    assert stranger.status_code == 404
    auditor = signed_in(console_org.users["auditor"])
    assert "/console/certificates/issue-personal" not in auditor.get("/console/certificates").text
