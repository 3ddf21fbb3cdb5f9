"""Journeys in a real browser (Debian's Chromium) at a 1280 px desktop and a 390 px phone:
a signer generates a contract from a template and lands on the sealed document, whose
verification link opens its result; a refused seal use shows what to do and the link to
the page that fixes it. Screenshots are kept (test-artifacts/console/journey-*.png)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import (
    ConsoleOrg,
    grant_person,
    make_console_org,
    make_seal,
    signed_in_page,
)


@pytest.fixture(scope="module")
def journey_org(client: TestClient, platform_key: str) -> ConsoleOrg:
    return make_console_org(client, platform_key, "宁波东港物流有限公司")


@pytest.mark.parametrize("width", [1280, 390])
def test_template_to_sealed_document_and_its_result(
    chromium: Any,
    live_server: str,
    client: TestClient,
    platform_key: str,
    journey_org: ConsoleOrg,
    artifacts: Any,
    width: int,
) -> None:
    seal = make_seal(client, platform_key, journey_org.id, f"东港合同章（{width}）")
    grant_person(client, platform_key, seal["id"], journey_org.people["signer"])
    context, page = signed_in_page(
        chromium, live_server, journey_org.users["signer"], width=width, timeout_ms=30_000
    )
    try:
        assert "欢迎，李娜" in page.locator("h1").inner_text()
        page.goto("/console/templates?name=two-party-contract")
        page.locator("#tpl-seal").select_option(seal["id"])
        data = page.locator("#tpl-data")
        data.fill(data.input_value().replace("ZC-2026-0001", f"ZC-J-{width}"))
        page.screenshot(path=str(artifacts / f"journey-{width}-template.png"), full_page=True)
        page.get_by_role("button", name="生成并盖章").click()
        page.wait_for_url(re.compile(r".*/console/documents/[0-9a-f]{32}$"), timeout=60_000)
        page.screenshot(path=str(artifacts / f"journey-{width}-generated.png"), full_page=True)
        page.get_by_role("link", name="打开公开验证页").click()
        page.wait_for_url(re.compile(r".*/verify\?d=[0-9a-f]{32}$"), timeout=60_000)
        assert "验证通过" in page.locator("#verdict").inner_text()
        page.screenshot(path=str(artifacts / f"journey-{width}-verified.png"), full_page=True)
        root = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        assert root[0] <= root[1], root
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_refusal_says_what_to_do_and_links_to_the_fix(
    chromium: Any,
    live_server: str,
    client: TestClient,
    platform_key: str,
    journey_org: ConsoleOrg,
    artifacts: Any,
    width: int,
) -> None:
    seal = make_seal(
        client, platform_key, journey_org.id, f"东港审批章（{width}）", requires_approval=True
    )
    grant_person(client, platform_key, seal["id"], journey_org.people["signer"])
    context, page = signed_in_page(
        chromium, live_server, journey_org.users["signer"], width=width, timeout_ms=30_000
    )
    try:
        page.goto("/console/templates?name=two-party-contract")
        page.locator("#tpl-seal").select_option(seal["id"])
        data = page.locator("#tpl-data")
        data.fill(data.input_value().replace("ZC-2026-0001", f"ZC-R-{width}"))
        page.get_by_role("button", name="生成并盖章").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        text = alert.inner_text()
        assert seal["code"] in text and "用印申请" in text, text
        assert not re.search(r"[0-9a-f]{32}", text)
        page.screenshot(path=str(artifacts / f"journey-{width}-refused.png"), full_page=True)
        page.locator('a[data-fix="seal-approval-required"]').click()
        page.wait_for_url("**/console/approvals")
        root = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        assert root[0] <= root[1], root
    finally:
        context.close()
