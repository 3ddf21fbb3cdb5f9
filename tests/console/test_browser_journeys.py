"""The console in a real browser (Debian's Chromium, headless, driven by Playwright) against the
live uvicorn server: a seal keeper creates a seal watching its preview, a signer asks for
approval, an approver grants it, the signer places the seal by clicking on a page and downloads
a PDF that verifies, an admin revokes a certificate after the confirmation step, and the
auditor finds all of it in the audit log and checks the hash chain; and two organizations seal
one contract in turn through an envelope."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import ConsoleOrg, grant_person, make_console_org, make_seal
from tests.support import documents


@pytest.fixture(scope="module")
def contract_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pdf = documents.contract_pdf(
        paragraphs=(
            "甲方与乙方就杭州市某道路改造工程施工达成如下协议。",
            "合同金额：人民币伍拾万元整（¥500,000.00）。",
        )
    )
    path = tmp_path_factory.mktemp("pdf") / "政府采购合同.pdf"
    path.write_bytes(pdf)
    return path


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_seal_approval_signing_revocation_and_audit(
    open_page: Any,
    console_org: ConsoleOrg,
    contract_pdf: Path,
    live_server: str,
    artifacts: Path,
) -> None:
    users = console_org.users

    # --- the admin creates a contract seal, watching the live preview -----------------------
    admin = open_page(users["org_admin"])
    assert admin.get_by_role("heading", name=console_org.name).is_visible()
    shot(admin, artifacts, "01-overview")

    admin.get_by_role("link", name="电子印章").click()
    admin.wait_for_url("**/console/seals")
    first = admin.locator("#seal-preview-img")
    first.wait_for()
    initial_src = first.get_attribute("src")
    admin.get_by_label("横排文字").press_sequentially("合同专用章（2）", delay=40)
    admin.wait_for_selector('#seal-preview-img[data-text="合同专用章（2）"]')
    typed_src = admin.locator("#seal-preview-img").get_attribute("src")
    assert typed_src and typed_src.startswith("data:image/png;base64,")
    assert typed_src != initial_src
    assert admin.locator("#seal-preview-img").evaluate("img => img.naturalWidth") > 50
    shot(admin, artifacts, "02-seals-create-preview")

    admin.get_by_label("印章名称").fill("合同专用章（二）")
    admin.get_by_role("button", name="新建印章").click()
    admin.wait_for_url(re.compile(r".*/console/seals/[0-9a-f]{32}$"))
    seal_id = admin.url.rsplit("/", 1)[1]
    assert admin.locator("#seal-status").inner_text() == "待启用"
    admin.get_by_role("button", name="启用").click()
    admin.wait_for_url(f"**/console/seals/{seal_id}")
    assert admin.locator("#seal-status").inner_text() == "正常"
    seal_code = admin.locator("dl.facts dd.mono").first.inner_text().strip()
    admin.get_by_label("被授权人").select_option(f"person:{console_org.people['signer']}")
    admin.get_by_role("button", name="授权", exact=True).click()
    admin.wait_for_url(f"**/console/seals/{seal_id}*")
    assert admin.locator("#grants tbody tr").filter(has_text="李娜").count() == 1
    shot(admin, artifacts, "03-seal-detail")

    # --- the signer uploads the contract and asks for approval ------------------------------
    signer = open_page(users["signer"])
    signer.get_by_role("link", name="文件签章").click()
    signer.get_by_label("PDF 文件").set_input_files(str(contract_pdf))
    signer.get_by_role("button", name="上传并预览").click()
    signer.wait_for_url(re.compile(r".*/console/sign/[0-9a-f]{32}$"))
    sign_url = signer.url
    signer.locator("#req-seal").select_option(seal_id)
    signer.get_by_label("用途").fill("杭州市某道路改造工程施工合同用印")
    signer.get_by_role("button", name="申请用印").click()
    signer.wait_for_url(f"{sign_url}*")
    assert "待审批" in signer.locator("#requests").inner_text()

    # --- the approver sees the document's first page and approves ---------------------------
    approver = open_page(users["approver"])
    approver.get_by_role("link", name="用印审批").click()
    request = approver.locator("li.request").filter(has_text="杭州市某道路改造工程施工合同用印")
    thumb = request.locator("img.doc-thumb")
    thumb.wait_for()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") > 100
    request.get_by_label("审批意见").fill("同意，按合同金额用印。")
    shot(approver, artifacts, "04-approvals-inbox")
    request.get_by_role("button", name="同意").click()
    approver.wait_for_url("**/console/approvals")
    assert (
        approver.locator("li.request").filter(has_text="杭州市某道路改造工程施工合同用印").count()
        == 0
    )

    # --- the signer places the seal by clicking on page 2 and signs -------------------------
    signer.goto(sign_url)
    assert "已同意" in signer.locator("#requests").inner_text()
    page_two = signer.locator('.page-frame[data-page="2"] img')
    page_two.wait_for()
    signer.wait_for_function(
        "() => [...document.querySelectorAll('.page-img')].every(i => i.complete && i.naturalWidth)"
    )
    box = page_two.bounding_box()
    assert box is not None
    page_two.click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.8})
    assert signer.locator("#place-page").input_value() == "2"
    x_mm = float(signer.locator("#place-x").input_value())
    y_mm = float(signer.locator("#place-y").input_value())
    assert abs(x_mm - 210 * 0.7) < 2 and abs(y_mm - 297 * 0.8) < 2
    assert signer.locator('.page-frame[data-page="2"] .marker').is_visible()
    assert "第 2 页" in signer.locator("#placed").inner_text()
    signer.locator("#seal").select_option(seal_id)
    signer.get_by_label("签名级别").select_option("B-LT")
    shot(signer, artifacts, "05-sign-place")
    signer.get_by_role("button", name="签章", exact=True).click()
    signer.wait_for_url(re.compile(r".*/console/documents/[0-9a-f]{32}$"), timeout=60_000)
    assert signer.get_by_text("签章完成").is_visible()
    shot(signer, artifacts, "06-signed-document")
    with signer.expect_download() as download_info:
        signer.locator("#download").click()
    signed = Path(download_info.value.path()).read_bytes()
    assert signed.startswith(b"%PDF")

    report = httpx.post(f"{live_server}/api/v1/verify", content=signed, timeout=60).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["signatures"][0]["seal"]["code"] == seal_code

    # --- the admin issues a certificate and revokes it through the confirmation step --------
    admin.get_by_role("link", name="数字证书").click()
    before = admin.locator("tr[data-certificate]").count()
    admin.get_by_role("button", name="签发单位证书").click()
    admin.wait_for_url("**/console/certificates")
    rows = admin.locator("tr[data-certificate]")
    assert rows.count() == before + 1
    newest = rows.last
    certificate_id = newest.get_attribute("data-certificate")
    newest.get_by_role("link", name="吊销").click()
    admin.wait_for_url(f"**/console/certificates/{certificate_id}/revoke")
    assert admin.get_by_role("alert").is_visible()
    admin.get_by_label("吊销原因").select_option("keyCompromise")
    shot(admin, artifacts, "07-certificate-revoke-confirm")
    admin.get_by_role("button", name="确认吊销").click()
    admin.wait_for_url("**/console/certificates")
    revoked_row = admin.locator(f'tr[data-certificate="{certificate_id}"]')
    assert "已吊销" in revoked_row.inner_text() and "密钥泄露" in revoked_row.inner_text()
    shot(admin, artifacts, "08-certificates")

    # --- the auditor finds the events and checks the chain -----------------------------------
    auditor = open_page(users["auditor"])
    auditor.get_by_role("link", name="审计日志").click()
    auditor.get_by_label("对象（ID 或印章编码）").fill(seal_code)
    auditor.get_by_role("button", name="筛选").click()
    auditor.wait_for_url("**/console/audit?*")
    actions = auditor.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-action'))"
    )
    assert {"seal.create", "seal.activate", "seal.use"} <= set(actions), actions
    auditor.goto("/console/audit?action=seal.usage_approve")
    assert auditor.locator('tr[data-action="seal.usage_approve"]').count() >= 1
    auditor.goto(f"/console/audit?target={certificate_id}")
    assert auditor.locator('tr[data-action="certificate.revoke"]').count() == 1
    auditor.goto("/console/audit")
    auditor.get_by_role("button", name="校验哈希链").click()
    result = auditor.locator("#chain .chain-result")
    result.wait_for()
    assert "哈希链完整" in result.inner_text()
    shot(auditor, artifacts, "09-audit-log")

    for page in (admin, signer, approver, auditor):
        assert page.console_errors == [], page.console_errors


def test_english_console_and_auditor_view(
    open_page: Any, console_org: ConsoleOrg, artifacts: Path
) -> None:
    auditor = open_page(console_org.users["auditor"])
    auditor.get_by_role("link", name="English").click()
    auditor.wait_for_url("**/console/")
    assert auditor.get_by_role("link", name="Seals").is_visible()
    auditor.get_by_role("link", name="Seals").click()
    assert auditor.get_by_role("heading", name="Seal gallery").is_visible()
    assert auditor.locator("#create-seal").count() == 0
    assert auditor.get_by_role("link", name="Sign a document").count() == 0
    shot(auditor, artifacts, "10-auditor-seals-en")


@pytest.fixture(scope="module")
def party_b(client: TestClient, platform_key: str) -> ConsoleOrg:
    return make_console_org(client, platform_key, "苏州恒远建设工程有限公司")


def test_envelope_two_organizations_sign_in_turn(
    open_page: Any,
    client: TestClient,
    platform_key: str,
    console_org: ConsoleOrg,
    party_b: ConsoleOrg,
    contract_pdf: Path,
    live_server: str,
    artifacts: Path,
) -> None:
    seal_a = make_seal(client, platform_key, console_org.id, "青禾合同专用章")
    seal_b = make_seal(client, platform_key, party_b.id, "恒远合同专用章")
    grant_person(client, platform_key, seal_a["id"], console_org.people["signer"])
    grant_person(client, platform_key, seal_b["id"], party_b.people["signer"])

    # --- 甲方's admin creates the envelope: two participants, keyword placements --------------
    admin = open_page(console_org.users["org_admin"])
    admin.get_by_role("link", name="多方签章").click()
    admin.wait_for_url("**/console/envelopes")
    admin.get_by_role("link", name="发起多方签章").click()
    admin.get_by_label("PDF 文件").set_input_files(str(contract_pdf))
    admin.get_by_label("标题").fill("杭州市某道路改造工程施工合同")
    first = admin.get_by_role("group", name="第 1 方")
    assert first.get_by_label("单位 ID").input_value() == console_org.id
    first.get_by_label("印章 ID").fill(seal_a["id"])
    first.get_by_label("称谓").fill("甲方")
    first.get_by_label("关键字").fill("甲方（盖章）")
    second = admin.get_by_role("group", name="第 2 方")
    second.get_by_label("单位 ID").fill(party_b.id)
    second.get_by_label("印章 ID").fill(seal_b["id"])
    second.get_by_label("称谓").fill("乙方")
    second.get_by_label("盖章方式").select_option("coordinates")
    assert (
        second.get_by_label("页码").is_visible() and not second.get_by_label("关键字").is_visible()
    )
    second.get_by_label("盖章方式").select_option("keyword")
    second.get_by_label("关键字").fill("乙方（盖章）")
    admin.get_by_role("button", name="＋ 添加参与方").click()
    admin.get_by_role("group", name="第 3 方").wait_for()  # left empty: ignored
    shot(admin, artifacts, "11-envelope-new")
    admin.get_by_role("button", name="创建", exact=True).click()
    admin.wait_for_url(re.compile(r".*/console/envelopes/[0-9a-f]{32}$"))
    envelope_url = admin.url
    assert admin.locator("#envelope-status").inner_text() == "签章中"
    assert "轮到此方" in admin.locator('li[data-participant="1"]').inner_text()

    # --- each organization's signer signs when it is their turn -----------------------------
    signer_b = open_page(party_b.users["signer"])
    signer_b.get_by_role("link", name="多方签章").click()
    signer_b.get_by_role("link", name="杭州市某道路改造工程施工合同").click()
    signer_b.wait_for_url(envelope_url)
    step_b = signer_b.locator('li[data-participant="2"]')
    assert step_b.get_by_role("button", name="签章").count() == 0
    assert "尚未轮到本单位" in step_b.inner_text()

    signer_a = open_page(console_org.users["signer"])
    signer_a.goto(envelope_url)
    step_a = signer_a.locator('li[data-participant="1"]')
    step_a.get_by_role("button", name="签章", exact=True).click()
    signer_a.wait_for_url(f"{envelope_url}*", timeout=60_000)
    assert "已签章" in signer_a.locator('li[data-participant="1"]').inner_text()

    signer_b.reload()
    step_b = signer_b.locator('li[data-participant="2"]')
    assert "轮到此方" in step_b.inner_text()
    step_b.get_by_role("button", name="签章", exact=True).click()
    signer_b.wait_for_url(f"{envelope_url}*", timeout=60_000)
    assert signer_b.locator("#envelope-status").inner_text() == "已完成"

    # --- the final document downloads and verifies, with both signatures -------------------
    admin.reload()
    assert admin.locator("#envelope-status").inner_text() == "已完成"
    actions = admin.locator("#timeline li").evaluate_all(
        "items => items.map(i => i.getAttribute('data-action'))"
    )
    assert actions == [
        "envelope.create",
        "envelope.sign",
        "envelope.sign",
        "envelope.complete",
    ], actions
    assert admin.locator("#revisions tbody tr").count() == 3
    admin.wait_for_function(
        "() => [...document.querySelectorAll('.page-img')].every(i => i.complete && i.naturalWidth)"
    )
    shot(admin, artifacts, "12-envelope-detail")
    with admin.expect_download() as download_info:
        admin.get_by_role("link", name="下载最终文件").click()
    final = Path(download_info.value.path()).read_bytes()
    assert download_info.value.suggested_filename.endswith("最终版.pdf")
    report = httpx.post(f"{live_server}/api/v1/verify", content=final, timeout=60).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert len(report["signatures"]) == 2
    assert {s["seal"]["code"] for s in report["signatures"]} == {seal_a["code"], seal_b["code"]}

    for page in (admin, signer_a, signer_b):
        assert page.console_errors == [], page.console_errors
