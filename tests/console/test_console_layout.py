"""Every console page at a 1280 px desktop and a 390 px phone (Debian's Chromium, Playwright):
no page scrolls sideways on the phone, and screenshots of each are kept as test artifacts
(test-artifacts/console/layout-<width>-<page>.png)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import (
    ConsoleOrg,
    csrf_of,
    grant_person,
    make_console_org,
    make_seal,
    signed_in_page,
    upload_for_signing,
)

Login = Callable[[str], TestClient]
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def layout_org(client: TestClient, platform_key: str) -> ConsoleOrg:
    return make_console_org(client, platform_key, "杭州西湖智慧城市建设运营管理有限公司")


def _pages(
    client: TestClient, platform_key: str, org: ConsoleOrg, signed_in: Login
) -> dict[str, list[tuple[str, str]]]:
    """role -> [(name, path)] covering every page the role reaches."""
    seal = make_seal(client, platform_key, org.id, "西湖智慧城市建设运营合同专用章")
    make_seal(client, platform_key, org.id, "审批用公章", kind="official", requires_approval=True)
    grant_person(client, platform_key, seal["id"], org.people["signer"])
    signer = signed_in(org.users["signer"])
    document_id = upload_for_signing(
        signer,
        filename="政务服务平台运维服务合同-第二版-最终稿.pdf",
        title="政务服务平台运维服务合同（长标题用于检查换行）",
        paragraphs=("甲乙双方就运维事项订立本合同。",),
        pages=2,
    )
    page = signer.get(f"/console/sign/{document_id}").text
    signed = signer.post(
        f"/console/sign/{document_id}",
        data={
            "csrf_token": csrf_of(page),
            "seal_id": seal["id"],
            "mode": "keyword",
            "keyword": "乙方（盖章）",
            "level": "B-B",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    signed_id = signed.headers["location"].rsplit("/", 1)[1]
    admin = signed_in(org.users["org_admin"])
    certificates = admin.get("/console/certificates").text
    cert = re.search(r'href="(/console/certificates/[^"/]+/revoke)"', certificates)
    admin_pages = [
        ("home", "/console/"),
        ("seals", "/console/seals"),
        ("seal", f"/console/seals/{seal['id']}"),
        ("seal-revoke", f"/console/seals/{seal['id']}/revoke"),
        ("certificates", "/console/certificates"),
        ("approvals-admin", "/console/approvals"),
        ("envelopes", "/console/envelopes"),
        ("envelope-new", "/console/envelopes/new"),
        ("audit-admin", "/console/audit"),
        ("webhooks", "/console/webhooks"),
    ]
    if cert:
        admin_pages.append(("certificate-revoke", cert.group(1)))
    return {
        "org_admin": admin_pages,
        "signer": [
            ("home-signer", "/console/"),
            ("sign-start", "/console/sign"),
            ("sign", f"/console/sign/{document_id}"),
            ("document", f"/console/documents/{signed_id}"),
            ("approvals-signer", "/console/approvals"),
            ("templates", "/console/templates"),
            ("error", f"/console/seals/{'0' * 32}"),
        ],
        "auditor": [("audit", "/console/audit")],
    }


OVERFLOW = """() => {
  const root = document.documentElement;
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
    .slice(0, 5)
    .map(el => el.tagName + '.' + el.className + ' '
      + Math.round(el.getBoundingClientRect().right))
    ;
  return {scroll: root.scrollWidth, client: root.clientWidth, wide};
}"""


def test_no_console_page_scrolls_sideways_on_a_phone(
    chromium: Any,
    live_server: str,
    client: TestClient,
    platform_key: str,
    layout_org: ConsoleOrg,
    signed_in: Login,
    artifacts: Any,
) -> None:
    pages = _pages(client, platform_key, layout_org, signed_in)
    problems: list[str] = []
    for width in WIDTHS:
        anonymous = chromium.new_context(
            base_url=live_server, viewport={"width": width, "height": 900}
        )
        login_page = anonymous.new_page()
        login_page.goto("/console/login")
        login_page.screenshot(path=str(artifacts / f"layout-{width}-login.png"), full_page=True)
        anonymous.close()
        for role, visits in pages.items():
            context, page = signed_in_page(
                chromium, live_server, layout_org.users[role], width=width
            )
            try:
                for name, path in visits:
                    page.goto(path)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(
                        path=str(artifacts / f"layout-{width}-{name}.png"), full_page=True
                    )
                    measured = page.evaluate(OVERFLOW)
                    if width == 390 and measured["scroll"] > measured["client"]:
                        problems.append(f"{name} {path}: {measured}")
            finally:
                context.close()
    assert not problems, "pages scroll sideways at 390 px:\n" + "\n".join(problems)
