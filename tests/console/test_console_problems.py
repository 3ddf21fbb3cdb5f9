"""The console's error page says what went wrong in the reader's language, names the seal by
its name and code (never an internal id), says what to do next and links to the page where
it can be done."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.console.conftest import (
    ConsoleOrg,
    csrf_of,
    grant_person,
    make_seal,
    upload_for_signing,
)

Login = Callable[[str], TestClient]
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'’]+[A-Za-z]{2,}){2,}")


def _alert(html: str) -> str:
    match = re.search(r'<p class="error" role="alert">(.*?)</p>', html, re.S)
    assert match, html[:800]
    return match.group(1)


def test_a_refused_seal_use_names_the_seal_and_links_to_the_fix(
    client: TestClient, platform_key: str, console_org: ConsoleOrg, signed_in: Login
) -> None:
    ungranted = make_seal(client, platform_key, console_org.id, "青禾合同章（未授权）")
    granted = make_seal(client, platform_key, console_org.id, "青禾合同章（已授权）")
    grant_person(client, platform_key, granted["id"], console_org.people["signer"])
    signer = signed_in(console_org.users["signer"])
    document_id = upload_for_signing(signer, paragraphs=("乙方（盖章）",))
    form = signer.get(f"/console/sign/{document_id}")
    place = {"mode": "click", "page": "1", "x_mm": "100", "y_mm": "100", "level": "B-B"}

    refused = signer.post(
        f"/console/sign/{document_id}",
        data={"csrf_token": csrf_of(form.text), "seal_id": ungranted["id"], **place},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    alert = _alert(refused.text)
    assert ungranted["name"] in alert and ungranted["code"] in alert
    assert "印章管理员" in alert and "用印申请" in alert
    assert ungranted["id"] not in alert and console_org.people["signer"] not in alert
    assert not ENGLISH_SENTENCE.search(alert), alert
    assert "没有该印章的用印授权" in refused.text
    assert 'href="/console/approvals" data-fix="seal-grant-missing"' in refused.text

    keyword = signer.post(
        f"/console/sign/{document_id}",
        data={
            "csrf_token": csrf_of(form.text),
            "seal_id": granted["id"],
            "mode": "keyword",
            "keyword": "丙方（盖章）",
            "level": "B-B",
        },
        follow_redirects=False,
    )
    assert "文件中找不到关键字" in keyword.text
    assert 'href="/console/sign" data-fix="keyword-not-found"' in keyword.text

    signer.get("/console/?lang=en")
    english = signer.post(
        f"/console/sign/{document_id}",
        data={"csrf_token": csrf_of(form.text), "seal_id": ungranted["id"], **place},
        follow_redirects=False,
    )
    alert = _alert(english.text)
    assert "No grant for this seal" in english.text and ungranted["code"] in alert
    assert not re.search(r"[\u4e00-\u9fff]{2,}(?![^“]*”)", alert.replace(ungranted["name"], ""))
    assert "Request approval" in english.text
    signer.get("/console/?lang=zh-CN")
