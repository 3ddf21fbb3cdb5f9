"""One coherent verification story on every view (JSON, public page, PDF report): a file whose
signed bytes were altered does not also claim "not registered", "not changed" and a PAdES
level; Chinese text carries no raw English library message (it moves to `details`); status
words are Chinese; the page says it is working while a file is verified."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from seals.report_text import split_library_text
from tests.app import test_public_verify as public
from tests.conftest import auth

# the sealed contract of the public page's tests (fixtures shared by name; contract_pdf is the
# root conftest's)
sealed = public.sealed
fresh_client = public.fresh_client
_pdf_text = public._pdf_text
_tampered = public._tampered

ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'’]+[A-Za-z]{2,}){2,}")


def _byte_tampered(pdf: bytes) -> bytes:
    """One byte inside the signed range changed (a content stream), structure intact."""
    data = bytearray(pdf)
    at = data.index(b"stream", 2000) + 200
    data[at] ^= 0x01
    return bytes(data)


def _page(app: Any, pdf: bytes) -> str:
    response = fresh_client(app).post(
        "/verify", files={"file": ("合同.pdf", pdf, "application/pdf")}
    )
    assert response.status_code == 200
    return str(response.text)


def _api(app: Any, pdf: bytes) -> dict[str, Any]:
    response = fresh_client(app).post(
        "/api/v1/verify", content=pdf, headers={"content-type": "application/pdf"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _zh_texts(html: str) -> list[str]:
    verdict = re.findall(r'<h1 id="verdict">(.*?)</h1>', html, re.S)
    return verdict + re.findall(r'<span class="zh">(.*?)</span>', html, re.S)


def test_a_byte_tampered_file_tells_one_story(app: Any, sealed: dict[str, Any]) -> None:
    pdf = _byte_tampered(sealed["pdf"])
    report = _api(app, pdf)
    sig = report["signatures"][0]
    assert report["indication"] == "TOTAL_FAILED" and sig["integrity"] is False
    assert report["document"]["changed_after_signing"] is True

    html = _page(app, pdf)
    assert "无法识别：签名已被破坏" in html and "非本平台登记的印章" not in html
    assert "不适用（签名无效）" in html and "PAdES B-T" not in html
    assert "是：签名覆盖的内容已被改动" in html and ">否 / no<" not in html

    link = re.search(r'href="(/verify/reports?[/.][^"]*pdf[^"]*)"', html)
    assert link, html[:2000]
    text = _pdf_text(fresh_client(app).get(link.group(1).replace("&amp;", "&")).content)
    squeezed = re.sub(r"\s+", "", text)
    assert "无法识别" in squeezed and "不适用（签名无效）" in squeezed
    assert "非本平台登记的印章" not in squeezed and "PAdESB-T" not in squeezed
    assert "是：签名覆盖的内容已被改动" in squeezed


def test_library_messages_stay_out_of_the_chinese_text(app: Any, sealed: dict[str, Any]) -> None:
    pdf = _tampered(sealed["pdf"])  # an incremental update rewrites page 1
    report = _api(app, pdf)
    findings = [f for s in report["signatures"] for f in s["findings"]]
    findings += report["document"]["modifications"]
    for text in [report["verdict_zh"], *(f["zh"] for f in findings)]:
        assert not ENGLISH_SENTENCE.search(text), text
    detailed = [f for f in findings if "details" in f]
    assert detailed and all(ENGLISH_SENTENCE.search(f["details"]) for f in detailed)
    assert all(f["details"] in f["en"] for f in detailed)  # kept, in English

    for text in _zh_texts(_page(app, pdf)):
        assert not ENGLISH_SENTENCE.search(text), text


def test_status_words_are_chinese_in_chinese_text() -> None:
    zh, details = split_library_text("印章当前状态：revoked（不影响签署时的有效性）。")
    assert zh == "印章当前状态：已注销（不影响签署时的有效性）。" and details is None
    zh, details = split_library_text("证书链验证失败：The path could not be validated")
    assert zh == "证书链验证失败（技术细节见英文说明）"
    assert details == "The path could not be validated"


def test_a_revoked_seal_reads_as_revoked_in_chinese(
    client: TestClient, app: Any, platform_key: str, sealed: dict[str, Any]
) -> None:
    revoked = client.post(
        f"/api/v1/seals/{sealed['seal']['id']}/revoke",
        json={"reason": "印章遗失"},
        headers=auth(platform_key),
    )
    assert revoked.status_code == 200, revoked.text
    html = str(fresh_client(app).get(f"/verify?d={sealed['document_id']}").text)
    assert "已注销" in html
    for text in _zh_texts(html):
        assert "revoked" not in text, text


def test_the_form_says_it_is_verifying(app: Any) -> None:
    page = fresh_client(app).get("/verify").text
    assert "data-verify-form" in page and 'id="verify-progress"' in page
    assert "正在验证" in page and "/public-static/verify.js" in page
    script = fresh_client(app).get("/public-static/verify.js")
    assert script.status_code == 200 and "verify-progress" in script.text
