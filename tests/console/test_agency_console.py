"""The agency pages in a real browser (Debian's Chromium via Playwright, live uvicorn): an
organization applies for a seal with a PDF, the registration authority sends it back, the
organization resubmits with an image, the authority approves and the seal is made and
publicly filed; then the statistics dashboard on a 390 px phone screen. Plus the pages'
refusals through HTTP."""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.db import unit_of_work
from app.models import Person
from app.services.tenancy import create_account
from seals.documents import make_document
from seals.fonts import find_cjk_font
from tests.conftest import auth
from tests.console.conftest import PASSWORD, ConsoleOrg, csrf_of, make_seal


@pytest.fixture(scope="module")
def platform_user(engine: Any) -> str:
    username = f"registry-{secrets.token_hex(3)}"
    with unit_of_work(engine) as session:
        person = Person(name="登记机关审核员")
        session.add(person)
        session.flush()
        create_account(
            session, person=person, username=username, password=PASSWORD, platform_admin=True
        )
    return username


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    font = find_cjk_font()
    folder = tmp_path_factory.mktemp("apply")
    pdf = folder / "营业执照.pdf"
    pdf.write_bytes(
        make_document(
            title="营业执照（副本）",
            paragraphs=["制章申请证明材料。"],
            pages=1,
            font_path=font.path,
            font_number=font.index,
        )
    )
    png = folder / "身份证明.png"
    out = io.BytesIO()
    Image.new("RGB", (300, 190), (220, 225, 235)).save(out, format="PNG")
    png.write_bytes(out.getvalue())
    return pdf, png


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_apply_send_back_resubmit_approve_in_the_browser(
    open_page: Callable[..., Any],
    console_org: ConsoleOrg,
    platform_user: str,
    documents: tuple[Path, Path],
    live_server: str,
    artifacts: Path,
) -> None:
    pdf, png = documents
    admin = open_page(console_org.users["org_admin"])
    admin.get_by_role("link", name="制章申请").click()
    admin.wait_for_url("**/console/applications")
    admin.get_by_label("申请类型").select_option("new")
    admin.get_by_label("印章种类").select_option("finance")
    admin.get_by_label("申请事由").fill("新设财务部门，需要财务专用章")
    admin.get_by_label("证明材料（PDF、PNG 或 JPEG，每份不超过 4 MB）").set_input_files(str(pdf))
    admin.get_by_role("button", name="提交申请").click()
    admin.wait_for_url(re.compile(r".*/console/applications/[0-9a-f]{32}$"))
    app_id = admin.url.rsplit("/", 1)[1]
    assert admin.locator("#application-status").inner_text() == "待审核"
    assert "营业执照.pdf" in admin.locator("#application-documents").inner_text()
    shot(admin, artifacts, "20-application-submitted")

    reviewer = open_page(platform_user)
    reviewer.get_by_role("link", name="制章申请").click()
    reviewer.wait_for_url("**/console/applications")
    reviewer.locator(f'#application-queue tr[data-application="{app_id}"] a').click()
    reviewer.wait_for_url(f"**/console/applications/{app_id}")
    with reviewer.expect_download() as download:
        reviewer.get_by_role("link", name="营业执照.pdf").click()
    assert Path(download.value.path()).read_bytes() == pdf.read_bytes()
    reviewer.get_by_label("审核意见").fill("请补充经办人身份证明")
    reviewer.get_by_role("button", name="退回补正").click()
    reviewer.wait_for_url(f"**/console/applications/{app_id}")
    assert reviewer.locator("#application-status").inner_text() == "待补正"

    admin.goto(f"/console/applications/{app_id}")
    assert admin.locator("#review-note").inner_text() == "请补充经办人身份证明"
    admin.get_by_label("证明材料（PDF、PNG 或 JPEG，每份不超过 4 MB）").set_input_files(str(png))
    admin.get_by_role("button", name="补正后重新提交").click()
    admin.wait_for_url(f"**/console/applications/{app_id}")
    assert admin.locator("#application-status").inner_text() == "待审核"
    assert "身份证明.png" in admin.locator("#application-documents").inner_text()

    reviewer.goto(f"/console/applications/{app_id}")
    reviewer.get_by_label("审核意见").fill("材料齐全")
    reviewer.get_by_role("button", name="批准制章").click()
    reviewer.wait_for_url(f"**/console/applications/{app_id}")
    assert reviewer.locator("#application-status").inner_text() == "已批准"
    made = reviewer.locator("#made-seal").inner_text()
    code = made.split("·")[0].strip()
    assert "正常" in made
    shot(reviewer, artifacts, "21-application-approved")

    status = httpx.get(f"{live_server}/api/v1/public/seals/{code}").json()
    assert status["status"] == "active" and status["kind"] == "finance"
    assert status["filing"]["application_id"] == app_id
    assert not admin.console_errors and not reviewer.console_errors


def test_statistics_dashboard_on_a_phone(
    open_page: Callable[..., Any], platform_user: str, artifacts: Path, console_org: ConsoleOrg
) -> None:
    page = open_page(platform_user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="统计分析").click()
    page.wait_for_url("**/console/statistics")
    assert page.locator("svg#chart-uses rect").count() >= 30  # one bar per day (30 days)
    assert page.locator("svg#chart-rates").is_visible()
    enterprises = int(page.locator("#kpi-enterprises .value").inner_text())
    assert enterprises >= 1
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390, f"the page is {overflow}px wide on a 390px screen"
    width = page.locator("svg#chart-uses").bounding_box()["width"]
    assert width <= 390
    page.get_by_label("统计周期").select_option("month")
    page.get_by_label("区域层级").select_option("province")
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(re.compile(r".*granularity=month.*"))
    assert page.locator("#regions tr[data-region='33']").count() == 1
    shot(page, artifacts, "22-statistics-phone")
    assert not page.console_errors


def test_pages_refuse_what_the_user_may_not_do(
    signed_in: Callable[[str], TestClient], console_org: ConsoleOrg
) -> None:
    signer = signed_in(console_org.users["signer"])
    assert signer.get("/console/statistics").status_code == 403
    listed = signer.get("/console/applications")
    assert listed.status_code == 200
    assert 'action="/console/applications"' not in listed.text  # no seals:write: no form
    admin = signed_in(console_org.users["org_admin"])
    form = admin.get("/console/applications")
    refused = admin.post(
        "/console/applications",
        data={
            "csrf_token": csrf_of(form.text),
            "purpose": "new",
            "kind": "contract",
            "reason": "测试",
        },
        files={"documents": ("fake.pdf", b"not a pdf at all", "application/pdf")},
    )
    assert refused.status_code == 422
    assert "only PDF, PNG and JPEG" in refused.text
    csv = admin.get("/console/statistics.csv")
    assert csv.status_code == 403


@pytest.fixture(scope="module")
def sealed_notice(
    client: TestClient, platform_key: str, console_org: ConsoleOrg, documents: tuple[Path, Path]
) -> tuple[str, str]:
    """A key of the console organization that may send, and a document it sealed."""
    made = client.post(
        f"/api/v1/organizations/{console_org.id}/clients",
        json={
            "name": f"delivery-{secrets.token_hex(3)}",
            "scopes": ["envelopes:write", "seals:use", "seals:read"],
        },
        headers=auth(platform_key),
    ).json()
    seal = make_seal(client, platform_key, console_org.id, "送达用合同章")
    granted = client.post(
        f"/api/v1/seals/{seal['id']}/grants",
        json={"grantee_kind": "client", "grantee_id": made["id"]},
        headers=auth(platform_key),
    )
    assert granted.status_code == 201, granted.text
    signed = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("通知书.pdf", documents[0].read_bytes(), "application/pdf")},
        data={"placement": '{"type": "invisible"}', "level": "B-B"},
        headers=auth(made["api_key"]),
    )
    assert signed.status_code == 200, signed.text
    return made["api_key"], signed.headers["X-Eseal-Document-Id"]


def test_a_person_acknowledges_through_the_link_in_the_browser(
    chromium: Any,
    client: TestClient,
    live_server: str,
    console_org: ConsoleOrg,
    sealed_notice: tuple[str, str],
    artifacts: Path,
) -> None:
    key, document_id = sealed_notice
    sent = client.post(
        f"/api/v1/organizations/{console_org.id}/deliveries",
        json={"document_id": document_id, "title": "限期整改通知书", "recipient_name": "张三"},
        headers=auth(key),
    ).json()
    path = sent["link"].split("/delivery/", 1)[1]
    context = chromium.new_context(
        base_url=live_server,
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        accept_downloads=True,
    )
    try:
        page = context.new_page()
        page.goto(f"/delivery/{path}")
        assert page.locator("#delivery-title").inner_text() == "限期整改通知书"
        with page.expect_download() as download:
            page.locator("#delivery-download").click()
        assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"
        page.get_by_label("签收人姓名").fill("张三")
        page.get_by_role("button", name="确认签收").click()
        page.locator("#delivery-acknowledged").wait_for()
        shot(page, artifacts, "23-delivery-acknowledged")
        page.goto(f"/delivery/{path}")
        assert page.locator("#link-error").is_visible()  # the link is spent
    finally:
        context.close()
    state = client.get(f"/api/v1/deliveries/{sent['id']}", headers=auth(key)).json()
    assert [r["event"] for r in state["receipts"]] == ["sent", "opened", "acknowledged"]


def test_the_recipient_organization_opens_and_acknowledges_in_the_console(
    client: TestClient,
    signed_in: Callable[[str], TestClient],
    console_org: ConsoleOrg,
    sealed_notice: tuple[str, str],
) -> None:
    key, document_id = sealed_notice
    sent = client.post(
        f"/api/v1/organizations/{console_org.id}/deliveries",
        json={
            "document_id": document_id,
            "title": "行政许可决定书",
            "recipient_organization_id": console_org.id,
        },
        headers=auth(key),
    ).json()
    admin = signed_in(console_org.users["org_admin"])
    listed = admin.get("/console/deliveries")
    assert listed.status_code == 200
    received = listed.text.split('id="received"', 1)[1].split("</table>", 1)[0]
    waiting = listed.text.split('id="undelivered"', 1)[1].split("</table>", 1)[0]
    assert sent["id"] in received and sent["id"] in waiting
    assert "分钟" in waiting  # the age of what is not yet acknowledged
    pdf = admin.get(f"/console/deliveries/{sent['id']}/document")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    done = admin.post(
        f"/console/deliveries/{sent['id']}/acknowledge",
        data={"csrf_token": csrf_of(listed.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = admin.get("/console/deliveries").text
    assert sent["id"] not in after.split('id="undelivered"', 1)[1]
    state = client.get(f"/api/v1/deliveries/{sent['id']}", headers=auth(key)).json()
    assert state["status"] == "acknowledged"
    signer = signed_in(console_org.users["auditor"])
    assert signer.get("/console/deliveries").status_code == 403
