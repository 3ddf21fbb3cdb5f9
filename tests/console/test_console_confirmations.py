"""Every revocation in the console asks once more, saying what will stop working (API keys,
grants, trust anchors); scopes read as words; English mode names grantees in English."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.console.conftest import ConsoleOrg, csrf_of, grant_person, make_seal

Login = Callable[[str], TestClient]


def _confirm_block(html: str, action: str) -> str:
    """The <details> that holds the form posting to `action` (fails if the form stands alone)."""
    for block in re.findall(r'<details class="confirm">(.*?)</details>', html, re.S):
        if f'action="{action}"' in block:
            return str(block)
    raise AssertionError(f"no confirmation step around {action}")


def test_revocations_ask_first_and_scopes_read_as_words(
    client: TestClient, platform_key: str, console_org: ConsoleOrg, signed_in: Login
) -> None:
    admin = signed_in(console_org.users["org_admin"])
    home = admin.get("/console/")
    created = admin.post(
        "/console/clients",
        data={"name": "社保窗口", "scopes": ["seals:use"], "csrf_token": csrf_of(home.text)},
    )
    assert created.status_code == 200
    listed = admin.get("/console/").text
    client_id = re.search(r'action="/console/clients/([0-9a-f]{32})/revoke"', listed)
    assert client_id
    block = _confirm_block(listed, f"/console/clients/{client_id.group(1)}/revoke")
    assert "<summary" in block and "社保窗口" in block and "确认撤销" in block
    assert '<span class="tag" title="seals:use">使用印章</span>' in listed

    seal = make_seal(client, platform_key, console_org.id, "青禾合同章（确认）")
    grant_person(client, platform_key, seal["id"], console_org.people["signer"])
    detail = admin.get(f"/console/seals/{seal['id']}").text
    grant = re.search(
        rf'action="(/console/seals/{seal["id"]}/grants/[0-9a-f]{{32}}/revoke)"', detail
    )
    assert grant
    block = _confirm_block(detail, grant.group(1))
    assert "李娜" in block and "青禾合同章（确认）" in block  # who loses what

    admin.get("/console/?lang=en")
    english = admin.get(f"/console/seals/{seal['id']}").text
    assert "成员" not in english and "Member" in english and "Yes, revoke" in english
    admin.get("/console/?lang=zh-CN")


def test_greetings_use_the_persons_name_and_dates_read_year_month_day(
    console_org: ConsoleOrg, signed_in: Login
) -> None:
    admin = signed_in(console_org.users["org_admin"])
    home = admin.get("/console/").text
    assert "欢迎，王敏" in home and f'title="{console_org.users["org_admin"]}"' in home
    assert "Webhook 通知尚未开放" not in home
    audit = admin.get("/console/audit").text
    dates = re.findall(r'<input id="f-(?:from|to)"[^>]*>', audit)
    assert len(dates) == 2 and all('placeholder="年-月-日' in d for d in dates)
    assert all('type="date"' not in d for d in dates)  # no mm/dd/yyyy from the browser


def test_english_mode_shows_no_chinese_interface_text(
    console_org: ConsoleOrg, signed_in: Login
) -> None:
    """Every page of the admin and the auditor in English: Chinese appears only in data
    (organization, people and seal names), never in the interface's own words."""
    data = {console_org.name, "王敏", "李娜", "赵强", "陈静", "张伟", "社保窗口"}
    for role in ("org_admin", "auditor"):
        browser = signed_in(console_org.users[role])
        browser.get("/console/?lang=en")
        for path in ("/console/", "/console/seals", "/console/certificates", "/console/audit",
                     "/console/approvals", "/console/envelopes"):  # fmt: skip
            html = browser.get(path).text
            text = re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", html, flags=re.S)
            text = re.sub(r'title="[^"]*"', " ", text)
            for value in data:
                text = text.replace(value, " ")
            # seal names, seal kinds shown as data and the other language's switch link
            leftovers = re.findall(r"[\u4e00-\u9fff][\u4e00-\u9fff（）·、]*", text)
            allowed = {"中文", "印", "合同专用章", "公章", "财务专用章", "发票专用章"}
            strange = [w for w in leftovers if w not in allowed and not w.startswith("青禾")]
            assert not strange, (role, path, strange[:20])
        browser.get("/console/?lang=zh-CN")
