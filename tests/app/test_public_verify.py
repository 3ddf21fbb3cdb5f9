"""The public verification page (GET/POST /verify): verdicts in Chinese for a sealed, a
tampered, an unsigned and a garbage file; seal positions marked on page thumbnails; QR links to
stored documents; PDF and JSON report downloads; the API's ?format=pdf."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from app.ratelimit import RateLimiter
from seals.placement import PDFIUM_LOCK
from seals.thumbnails import TONE_RGB, MarkTone
from tests.conftest import auth
from tests.seals_registry.util import Org

_addresses = itertools.count(1)


def fresh_client(app: Any) -> TestClient:
    """A client from an address of its own (the verification rate limit is per address)."""
    n = next(_addresses)
    return TestClient(
        app, raise_server_exceptions=False, client=(f"198.51.{100 + n // 250}.{n % 250}", 40000)
    )


@pytest.fixture(scope="module")
def sealed(
    client: TestClient, app: Any, platform_key: str, contract_pdf: bytes
) -> Iterator[dict[str, Any]]:
    """A document sealed through the API with a registered contract seal (visible, page 1)."""
    from tests.conftest import make_uscc

    response = client.post(
        "/api/v1/organizations",
        json={"name": "杭州青禾科技有限公司", "uscc": make_uscc(), "legal_representative": "张伟"},
        headers=auth(platform_key),
    )
    assert response.status_code == 201, response.text
    org_json = response.json()
    admin = client.post(
        f"/api/v1/organizations/{org_json['id']}/clients",
        json={"name": "portal-public-page", "scopes": ["org:admin"]},
        headers=auth(platform_key),
    ).json()["api_key"]
    org = Org(
        client=client,
        id=org_json["id"],
        name=org_json["name"],
        uscc=org_json["uscc"],
        admin=admin,
        platform=platform_key,
    )
    seal = org.seal("contract")
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal["id"], "client", client_id)
    response = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("保函-机密.pdf", contract_pdf, "application/pdf")},
        data={
            "placement": json.dumps({"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 230}),
            "level": "B-T",
        },
        headers=auth(key),
    )
    assert response.status_code == 200, response.text
    yield {
        "pdf": response.content,
        "document_id": response.headers["x-eseal-document-id"],
        "seal": seal,
    }


def _post_page(app: Any, pdf: bytes, name: str = "文件.pdf", **headers: str) -> Any:
    return fresh_client(app).post(
        "/verify", files={"file": (name, pdf, "application/pdf")}, headers=headers
    )


def _html(response: Any) -> str:
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    return str(response.text)


def _thumbnails(html: str) -> list[Image.Image]:
    return [
        Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
        for data in re.findall(
            r'<img src="data:image/png;base64,([^"]+)" width="\d+" height="\d+" alt="第', html
        )
    ]


def _tampered(pdf: bytes) -> bytes:
    """Incremental-saving attack: page 1 gets new content after sealing."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    new = w.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 72 72 200 40 re f"))
    page[pdf_name("/Contents")] = new
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _pdf_text(pdf: bytes) -> str:
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            parts = []
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                parts.append(textpage.get_text_range())
                textpage.close()
                page.close()
            return "\n".join(parts)
        finally:
            document.close()


def _qpdf_check(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["qpdf", "--check", str(path)], capture_output=True, timeout=60
    ).returncode


# --------------------------------------------------------------------------- the form


def test_form_renders_without_inline_script_or_style(app: Any) -> None:
    response = fresh_client(app).get("/verify")
    assert response.status_code == 200
    html = _html(response)
    assert "验证电子文件" in html and 'enctype="multipart/form-data"' in html
    # scripts only from our own files (the progress note), never inline
    assert not re.search(r"<script(?![^>]*\bsrc=\"/public-static/)", html)
    assert "style=" not in html and "<style" not in html
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    css = fresh_client(app).get("/public-static/public.css")
    assert css.status_code == 200 and "@media" in css.text


# --------------------------------------------------------------------------- verdicts


def test_sealed_document_shows_verdict_seal_and_marked_thumbnail(
    app: Any, sealed: dict[str, Any]
) -> None:
    response = _post_page(app, sealed["pdf"], "保函-机密.pdf")
    assert response.status_code == 200
    html = _html(response)
    assert "验证通过" in html and "Valid" in html
    assert html.index("验证通过") < html.index("Valid")  # Chinese first
    assert sealed["seal"]["code"] in html and "合同专用章" in html
    assert "有效 / active" in html
    assert re.search(r'<img src="data:image/png;base64,[^"]+" alt="印章', html)
    assert "(UTC+08:00)" in html  # times in Asia/Shanghai
    assert "PAdES B-T" in html

    api = (
        fresh_client(app)
        .post("/api/v1/verify", content=sealed["pdf"], headers={"content-type": "application/pdf"})
        .json()
    )
    positions = api["signatures"][0]["positions"]
    assert len(positions) == 1 and positions[0]["page"] == 1  # pages count from 1, as in placements
    x1, y1, x2, y2 = positions[0]["rect"]

    thumbs = _thumbnails(html)
    assert len(thumbs) == 2  # a short document shows all its pages
    image = thumbs[0]
    scale = image.width / 595.28  # A4 width in points
    expected = (x1 * scale, (841.89 - y2) * scale, x2 * scale, (841.89 - y1) * scale)
    green = TONE_RGB[MarkTone.PASSED]
    frame = _bbox(image, lambda px: _near(px, green, 20))
    reds = _bbox(image, _is_seal_red)
    # the frame in the "passed" colour surrounds the widget rectangle closely ...
    assert expected[0] - 8 < frame[0] < expected[0] and expected[2] < frame[2] < expected[2] + 8
    assert expected[3] < frame[3] < expected[3] + 8
    assert frame[1] < expected[1]  # (the numbered tag sits above the top edge)
    # ... and the seal itself (red) is inside it: the mark is where the seal is
    assert frame[0] < reds[0] and reds[2] < frame[2] and frame[1] < reds[1] and reds[3] < frame[3]


def _bbox(image: Image.Image, test: Any) -> tuple[int, int, int, int]:
    xs, ys = [], []
    for y in range(image.height):
        for x in range(image.width):
            if test(image.getpixel((x, y))):
                xs.append(x)
                ys.append(y)
    assert len(xs) > 50, "no such pixels"
    return min(xs), min(ys), max(xs), max(ys)


def _near(px: Any, rgb: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(px, rgb, strict=False))


def _is_seal_red(px: Any) -> bool:
    r, g, b = px[:3]
    return r > 170 and g < 90 and b < 90


def test_tampered_document_fails_in_chinese(app: Any, sealed: dict[str, Any]) -> None:
    response = _post_page(app, _tampered(sealed["pdf"]))
    assert response.status_code == 200
    html = _html(response)
    assert "验证失败" in html and "INVALID" in html
    assert "tone-failed" in html
    thumbs = _thumbnails(html)
    assert thumbs  # still shows where the (now failed) seal sits
    crimson = TONE_RGB[MarkTone.FAILED]
    assert any(
        _near(thumbs[0].getpixel((x, y)), crimson, 20)
        for x in range(thumbs[0].width)
        for y in range(0, thumbs[0].height, 2)
    )


def test_unsigned_pdf_says_no_signatures(app: Any, contract_pdf: bytes) -> None:
    html = _html(_post_page(app, contract_pdf))
    assert "无法验证" in html and "文件中没有签名或印章" in html
    assert "tone-indeterminate" in html
    assert len(_thumbnails(html)) == 2  # both pages, nothing marked


def test_garbage_is_a_page_not_an_error(app: Any) -> None:
    response = _post_page(app, b"\x00\x01 this is not a pdf " * 50, "x.pdf")
    assert response.status_code == 200
    html = _html(response)
    assert "无法验证" in html and "文件不是 PDF 文档" in html
    assert _thumbnails(html) == []


def test_no_file_and_cross_site_posts_get_pages(app: Any) -> None:
    response = fresh_client(app).post("/verify", data={"nothing": "here"})
    assert response.status_code == 422
    assert "请选择一个 PDF 文件" in _html(response)
    response = _post_page(app, b"%PDF-1.7", origin="https://evil.example")
    assert response.status_code == 403 and "本站页面" in _html(response)
    response = _post_page(app, b"%PDF-1.7", **{"sec-fetch-site": "cross-site"})
    assert response.status_code == 403


def test_rate_limit_is_a_page(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.state.services, "verify_limiter", RateLimiter(limit=1))
    client = fresh_client(app)
    for _ in range(2):
        response = client.post("/verify", files={"file": ("a.pdf", b"%PDF-1.7", "application/pdf")})
    assert response.status_code == 429
    assert "过于频繁" in _html(response) and response.headers["retry-after"]


# --------------------------------------------------------------------------- QR links


def test_stored_document_by_id(app: Any, sealed: dict[str, Any]) -> None:
    response = fresh_client(app).get(f"/verify?d={sealed['document_id']}")
    assert response.status_code == 200
    html = _html(response)
    assert "验证通过" in html and "平台存档文档" in html
    assert "保函-机密" not in html  # the stored file name is not shown
    assert f"/verify/report.pdf?d={sealed['document_id']}" in html
    assert len(_thumbnails(html)) == 2

    pdf = fresh_client(app).get(f"/verify/report.pdf?d={sealed['document_id']}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "验证通过" in _pdf_text(pdf.content)


@pytest.mark.parametrize("d", ["0" * 32, "not-an-id", "../../etc/passwd", "A" * 200])
def test_unknown_document_is_a_404_page(app: Any, d: str) -> None:
    response = fresh_client(app).get("/verify", params={"d": d})
    assert response.status_code == 404
    html = _html(response)
    assert "未找到该文档" in html and "Traceback" not in html
    response = fresh_client(app).get("/verify/report.json", params={"d": d})
    assert response.status_code == 404 and "未找到该文档" in _html(response)


# --------------------------------------------------------------------------- downloads


def test_downloads_of_an_upload(app: Any, sealed: dict[str, Any], tmp_path: Path) -> None:
    client = fresh_client(app)
    html = _html(
        client.post("/verify", files={"file": ("a.pdf", sealed["pdf"], "application/pdf")})
    )
    pdf_link = re.search(r'href="(/verify/reports/[A-Za-z0-9_-]{22}\.pdf)"', html)
    json_link = re.search(r'href="(/verify/reports/[A-Za-z0-9_-]{22}\.json)"', html)
    assert pdf_link and json_link

    report = client.get(pdf_link.group(1))
    assert report.status_code == 200
    assert report.headers["content-type"] == "application/pdf"
    assert "attachment" in report.headers["content-disposition"]
    assert _qpdf_check(report.content, tmp_path) == 0
    text = _pdf_text(report.content)
    assert "验证通过" in text and sealed["seal"]["code"] in text and "合同专用章" in text

    body = client.get(json_link.group(1))
    assert body.status_code == 200 and body.headers["content-type"].startswith("application/json")
    data = body.json()
    assert data["indication"] == "TOTAL_PASSED"
    assert data["signatures"][0]["seal"]["code"] == sealed["seal"]["code"]

    expired = client.get("/verify/reports/" + "x" * 22 + ".pdf")
    assert expired.status_code == 404 and "报告已过期" in _html(expired)
    assert client.get("/verify/reports/abc.exe").status_code in (404, 422)


def test_api_format_pdf(app: Any, sealed: dict[str, Any], tmp_path: Path) -> None:
    client = fresh_client(app)
    response = client.post(
        "/api/v1/verify?format=pdf",
        content=_tampered(sealed["pdf"]),
        headers={"content-type": "application/pdf"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert _qpdf_check(response.content, tmp_path) == 0
    assert "验证失败" in _pdf_text(response.content)

    garbage = client.post("/api/v1/verify?format=pdf", content=b"garbage")
    assert garbage.status_code == 200 and "无法验证" in _pdf_text(garbage.content)

    wrong = client.post("/api/v1/verify?format=xml", content=sealed["pdf"])
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")
