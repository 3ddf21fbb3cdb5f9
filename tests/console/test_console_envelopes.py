"""Envelopes in the console over plain HTTP (TestClient): creating one from the form (a draft
that is then sent), refusing a bad row, the list and its status filter, whose turn it is, the
approval asked for exactly the current revision before a seal that needs one signs, declining
with a reason, cancelling, and an organization that takes no part seeing nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.console.envelope_forms import spec_from_form
from app.errors import InvalidInput
from seals.documents import make_document
from seals.fonts import find_cjk_font
from tests.console.conftest import ConsoleOrg, csrf_of, grant_person, make_console_org, make_seal

Login = Callable[[str], TestClient]
LEVEL = "B-B"  # the fastest level: these tests are about the console, not the signature


@pytest.fixture(scope="module")
def contract() -> bytes:
    font = find_cjk_font()
    return make_document(
        title="设备采购合同",
        paragraphs=["甲方与乙方就办公设备采购达成如下协议。"],
        pages=1,
        font_path=font.path,
        font_number=font.index,
    )


@pytest.fixture(scope="module")
def party_b(client: TestClient, platform_key: str) -> ConsoleOrg:
    return make_console_org(client, platform_key, "宁波东港物流有限公司")


@pytest.fixture(scope="module")
def outsider(client: TestClient, platform_key: str) -> ConsoleOrg:
    return make_console_org(client, platform_key, "无关单位有限公司")


@pytest.fixture(scope="module")
def seals(
    client: TestClient, platform_key: str, console_org: ConsoleOrg, party_b: ConsoleOrg
) -> dict[str, str]:
    """甲方's contract seal (no approval) and 乙方's (needs approval), each granted to the
    organization's signer."""
    a = make_seal(client, platform_key, console_org.id, "青禾合同章")
    b = make_seal(client, platform_key, party_b.id, "东港合同章", requires_approval=True)
    grant_person(client, platform_key, a["id"], console_org.people["signer"])
    grant_person(client, platform_key, b["id"], party_b.people["signer"])
    return {"a": a["id"], "b": b["id"]}


def _create(
    admin: TestClient,
    pdf: bytes,
    rows: list[dict[str, str]],
    *,
    send: bool = True,
    title: str = "设备采购合同",
) -> Any:
    form = admin.get("/console/envelopes/new")
    assert form.status_code == 200, form.text
    data: dict[str, Any] = {
        "csrf_token": csrf_of(form.text),
        "title": title,
        "routing": "sequential",
        "p_org": [r["org"] for r in rows],
        "p_seal": [r["seal"] for r in rows],
        "p_label": [r.get("label", "") for r in rows],
        "p_placement": [r.get("placement", "keyword") for r in rows],
        "p_keyword": [r.get("keyword", "") for r in rows],
        "p_page": [r.get("page", "") for r in rows],
        "p_x": [r.get("x", "") for r in rows],
        "p_y": [r.get("y", "") for r in rows],
        "p_level": [LEVEL for _ in rows],
    }
    if send:
        data["send"] = "yes"
    return admin.post(
        "/console/envelopes",
        data=data,
        files={"file": ("设备采购合同.pdf", pdf, "application/pdf")},
        follow_redirects=False,
    )


def _rows(
    console_org: ConsoleOrg, party_b: ConsoleOrg, seals: dict[str, str]
) -> list[dict[str, str]]:
    return [
        {"org": console_org.id, "seal": seals["a"], "label": "甲方", "keyword": "甲方（盖章）"},
        {"org": "", "seal": ""},  # an empty row is skipped
        {"org": party_b.id, "seal": seals["b"], "label": "乙方", "keyword": "乙方（盖章）"},
    ]


def _participant(html: str, position: int) -> str:
    match = re.search(
        rf'<li class="participant[^"]*" id="p-([0-9a-f]{{32}})" data-participant="{position}"', html
    )
    assert match, html[:2000]
    return match.group(1)


def test_form_rows_become_the_api_request() -> None:
    spec = spec_from_form(
        title=" 合同 ",
        routing="parallel",
        send=False,
        expires_on="2030-01-31",
        organization_ids=["o1", "", "o2"],
        seal_ids=["s1", "", "s2"],
        labels=["甲方", "", ""],
        placements=["coordinates", "keyword", "cross_page"],
        keywords=["", "", ""],
        pages=["2", "", ""],
        xs=["150.5", "", ""],
        ys=["240", "", ""],
        levels=["B-LT", "B-LT", "B-T"],
    )
    assert spec.title == "合同" and spec.routing.value == "parallel" and not spec.send
    assert [p.organization_id for p in spec.participants] == ["o1", "o2"]
    assert spec.participants[0].placement.model_dump() == {
        "type": "coordinates",
        "page": 2,
        "x_mm": 150.5,
        "y_mm": 240.0,
    }
    assert spec.participants[1].placement.type == "cross_page"
    assert spec.participants[1].level.value == "B-T" and spec.participants[1].label is None
    assert spec.expires_at is not None and spec.expires_at.isoformat().startswith("2030-01-31T23")
    for bad in (
        {"organization_ids": [""], "seal_ids": [""]},  # no participant at all
        {"placements": ["keyword"], "keywords": [""]},  # empty keyword
        {"placements": ["coordinates"], "pages": ["二"]},
    ):
        args: dict[str, Any] = {
            "title": "合同",
            "routing": "sequential",
            "send": True,
            "expires_on": "",
            "organization_ids": ["o1"],
            "seal_ids": ["s1"],
            "labels": [""],
            "placements": ["keyword"],
            "keywords": ["甲方"],
            "pages": [""],
            "xs": [""],
            "ys": [""],
            "levels": ["B-LT"],
            **bad,
        }
        with pytest.raises(InvalidInput):
            spec_from_form(**args)


def test_envelope_draft_send_turns_approval_and_signing(
    signed_in: Login,
    console_org: ConsoleOrg,
    party_b: ConsoleOrg,
    outsider: ConsoleOrg,
    seals: dict[str, str],
    contract: bytes,
) -> None:
    admin = signed_in(console_org.users["org_admin"])
    row = admin.get("/console/envelopes/new/row?index=3", headers={"HX-Request": "true"})
    assert row.status_code == 200 and "<html" not in row.text
    assert 'id="p-org-3"' in row.text and "index=4" in row.text and "hx-swap-oob" in row.text

    created = _create(admin, contract, _rows(console_org, party_b, seals), send=False)
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    envelope_id = url.rsplit("/", 1)[1]
    draft = admin.get(url)
    assert draft.status_code == 200
    assert 'id="envelope-status">草稿<' in draft.text
    assert "宁波东港物流有限公司" in draft.text and "盖在“甲方（盖章）”处" in draft.text
    assert "轮到此方" not in draft.text  # nobody's turn in a draft
    listed = admin.get("/console/envelopes?status=draft")
    assert f'data-envelope="{envelope_id}"' in listed.text
    assert (
        f'data-envelope="{envelope_id}"'
        not in admin.get("/console/envelopes?status=completed").text
    )
    sent = admin.post(
        f"/console/envelopes/{envelope_id}/send",
        data={"csrf_token": csrf_of(draft.text)},
        follow_redirects=False,
    )
    assert sent.status_code == 303

    # 乙方 sees it, but it is 甲方's turn; its signer cannot jump the queue.
    signer_b = signed_in(party_b.users["signer"])
    assert f'data-envelope="{envelope_id}"' in signer_b.get("/console/envelopes").text
    page_b = signer_b.get(url)
    second = _participant(page_b.text, 2)
    assert "尚未轮到本单位" in page_b.text and f"/participants/{second}/sign" not in page_b.text
    early = signer_b.post(
        f"{url}/participants/{second}/sign", data={"csrf_token": csrf_of(page_b.text)}
    )
    assert early.status_code == 409, early.text

    # 甲方's signer signs its step (keyword placement) in turn.
    signer_a = signed_in(console_org.users["signer"])
    assert envelope_id in _my_turn(signer_a) and envelope_id not in _my_turn(signer_b)
    page_a = signer_a.get(url)
    first = _participant(page_a.text, 1)
    assert f"/participants/{first}/sign" in page_a.text
    assert f"/participants/{second}/" not in page_a.text  # no acting for 乙方
    signed = signer_a.post(
        f"{url}/participants/{first}/sign",
        data={"csrf_token": csrf_of(page_a.text), "expected_revision": "0"},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text

    assert envelope_id not in _my_turn(signer_a) and envelope_id in _my_turn(signer_b)

    # 乙方's seal needs approval for exactly revision 1: asked for here, approved in the inbox.
    page_b = signer_b.get(url)
    assert "此印章用印需审批" in page_b.text and f"/participants/{second}/sign" not in page_b.text
    asked = signer_b.post(
        f"{url}/participants/{second}/request",
        data={"csrf_token": csrf_of(page_b.text), "purpose": "设备采购合同用印"},
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    assert "待审批" in signer_b.get(url).text
    approver_b = signed_in(party_b.users["approver"])
    inbox = approver_b.get("/console/approvals")
    request_id = re.search(r'action="/console/approvals/([0-9a-f]{32})/decide"', inbox.text)
    assert request_id and "设备采购合同用印" in inbox.text
    decided = approver_b.post(
        f"/console/approvals/{request_id.group(1)}/decide",
        data={"csrf_token": csrf_of(inbox.text), "decision": "approve", "note": "同意"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    page_b = signer_b.get(url)
    assert f"/participants/{second}/sign" in page_b.text
    stale = signer_b.post(
        f"{url}/participants/{second}/sign",
        data={"csrf_token": csrf_of(page_b.text), "expected_revision": "0"},
    )
    assert stale.status_code == 409  # revision 0 is no longer the one to seal
    done = signer_b.post(
        f"{url}/participants/{second}/sign",
        data={"csrf_token": csrf_of(page_b.text), "expected_revision": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text

    assert envelope_id not in _my_turn(signer_b)

    final = admin.get(url)
    assert 'id="envelope-status">已完成<' in final.text and "下载最终文件" in final.text
    verify_link = re.search(r'id="verify-final" href="(/verify\?d=[0-9a-f]{32})"', final.text)
    assert verify_link  # opens the final document's result, not an empty form
    assert "验证通过" in admin.get(verify_link.group(1)).text
    actions = re.findall(r'<li data-action="(envelope\.[a-z]+)"', final.text)
    assert actions == [
        "envelope.create",
        "envelope.send",
        "envelope.sign",
        "envelope.sign",
        "envelope.complete",
    ]
    assert "第 2 方签章，生成第 2 版" in final.text
    pdf = admin.get(f"{url}/document")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["x-eseal-revision"] == "2"
    assert "filename*=UTF-8''" in pdf.headers["content-disposition"]
    original = signer_b.get(f"{url}/revisions/0")
    assert original.content == contract
    thumb = signer_b.get(f"{url}/revisions/2/pages/1.png")
    assert thumb.headers["content-type"] == "image/png"

    # An organization that takes no part sees nothing of it.
    stranger = signed_in(outsider.users["org_admin"])
    for path in ("", "/document", "/revisions/0", "/revisions/0/pages/1.png"):
        assert stranger.get(url + path).status_code == 404, path
    assert envelope_id not in stranger.get("/console/envelopes").text


def test_decline_cancel_and_roles(
    signed_in: Login,
    console_org: ConsoleOrg,
    party_b: ConsoleOrg,
    seals: dict[str, str],
    contract: bytes,
) -> None:
    admin = signed_in(console_org.users["org_admin"])
    refused = _create(
        admin, contract, [{"org": console_org.id, "seal": seals["a"], "keyword": "丙方（盖章）"}]
    )
    assert refused.status_code in (409, 422) and "操作未完成" in refused.text  # no such keyword

    created = _create(admin, contract, _rows(console_org, party_b, seals), title="待拒签合同")
    url = created.headers["location"]
    signer_a = signed_in(console_org.users["signer"])
    page_a = signer_a.get(url)
    first = _participant(page_a.text, 1)
    declined = signer_a.post(
        f"{url}/participants/{first}/decline",
        data={"csrf_token": csrf_of(page_a.text), "reason": "金额有误"},
        follow_redirects=False,
    )
    assert declined.status_code == 303
    after = signer_a.get(url)
    assert 'id="envelope-status">已拒签<' in after.text and "金额有误" in after.text
    assert "/sign" not in re.sub(r'href="/console/sign"', "", after.text)

    # The auditor may not read envelopes (no envelope scope): no link, and a refusal.
    auditor = signed_in(console_org.users["auditor"])
    assert "/console/envelopes" not in auditor.get("/console/").text
    assert auditor.get("/console/envelopes").status_code == 403

    draft = _create(admin, contract, _rows(console_org, party_b, seals), send=False, title="作废")
    draft_url = draft.headers["location"]
    signer_b = signed_in(party_b.users["org_admin"])
    page_b = signer_b.get(draft_url)
    assert f"{draft_url.removeprefix('/console')}/cancel" not in page_b.text  # not the creator
    not_creator = signer_b.post(
        f"{draft_url}/cancel", data={"csrf_token": csrf_of(page_b.text), "reason": "x"}
    )
    assert not_creator.status_code == 403
    page = admin.get(draft_url)
    cancelled = admin.post(
        f"{draft_url}/cancel",
        data={"csrf_token": csrf_of(page.text), "reason": "合同作废"},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    shown = admin.get(draft_url)
    assert 'id="envelope-status">已撤销<' in shown.text and "合同作废" in shown.text
    assert "/send" not in shown.text
    english = admin.get(f"{draft_url}?lang=en")
    assert 'id="envelope-status">Cancelled<' in english.text
    for text in ("Participants", "Timeline", "Revisions", "In turn", "at “甲方（盖章）”"):
        assert text in english.text, text
    assert "参与方" not in english.text


def test_every_message_has_both_languages() -> None:
    from app.console.i18n import EN, ZH

    assert set(ZH) == set(EN)  # audit actions too: English mode reads words, not codes


def _my_turn(browser: TestClient) -> str:
    """The 待我签署 section of the signer's home page."""
    home = browser.get("/console/").text
    assert 'id="my-turn"' in home and "待我签署" in home
    return home.split('id="my-turn"', 1)[1].split("</section>", 1)[0]
