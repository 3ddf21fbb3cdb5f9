"""The sign page's paths beyond clicking a position (TestClient): keyword and cross-page
placement, a personal seal's PIN (set by its owner, a wrong PIN refused and counted, the right
one signs), and uploading a handwritten signature image."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import Session, col, select

from app.models import AuditEvent
from seals.documents import make_document
from seals.fonts import find_cjk_font
from seals.models import Seal
from tests.console.conftest import ConsoleOrg, csrf_of, grant_person, make_seal

Login = Callable[[str], TestClient]
LEVEL = "B-B"


@pytest.fixture(scope="module")
def contract() -> bytes:
    font = find_cjk_font()
    return make_document(
        title="技术服务合同",
        paragraphs=["甲方委托乙方提供系统运维服务。", "服务期限一年。"],
        pages=2,
        font_path=font.path,
        font_number=font.index,
    )


@pytest.fixture(scope="module")
def contract_seal(client: TestClient, platform_key: str, console_org: ConsoleOrg) -> str:
    seal = make_seal(client, platform_key, console_org.id, "青禾合同章（签章页）")
    grant_person(client, platform_key, seal["id"], console_org.people["signer"])
    return str(seal["id"])


def _upload(browser: TestClient, pdf: bytes, name: str = "技术服务合同.pdf") -> str:
    start = browser.get("/console/sign")
    uploaded = browser.post(
        "/console/sign/upload",
        data={"csrf_token": csrf_of(start.text)},
        files={"file": (name, pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    return str(uploaded.headers["location"].rsplit("/", 1)[1])


def _sign(browser: TestClient, document_id: str, **fields: str) -> Any:
    form = browser.get(f"/console/sign/{document_id}")
    assert form.status_code == 200
    return browser.post(
        f"/console/sign/{document_id}",
        data={"csrf_token": csrf_of(form.text), "level": LEVEL, **fields},
        follow_redirects=False,
    )


def _signed_pdf(browser: TestClient, response: Any) -> bytes:
    assert response.status_code == 303, response.text
    signed_id = response.headers["location"].rsplit("/", 1)[1]
    pdf = browser.get(f"/console/documents/{signed_id}/download")
    assert pdf.status_code == 200
    return bytes(pdf.content)


def _signatures(pdf: bytes) -> list[Any]:
    return list(PdfFileReader(io.BytesIO(pdf)).embedded_signatures)


def _widget_pages(pdf: bytes) -> int:
    """How many pages carry a widget annotation (the seal's visible slices)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    count = 0
    for index in range(reader.root["/Pages"]["/Count"]):
        page = reader.find_page_for_modification(index)[0].get_object()
        annots = page.get("/Annots")
        if annots and any(a.get_object().get("/Subtype") == "/Widget" for a in annots):
            count += 1
    return count


def test_keyword_and_cross_page_placement(
    signed_in: Login, console_org: ConsoleOrg, contract_seal: str, contract: bytes
) -> None:
    signer = signed_in(console_org.users["signer"])
    document_id = _upload(signer, contract)

    missing = _sign(
        signer, document_id, seal_id=contract_seal, mode="keyword", keyword="丙方（盖章）"
    )
    assert missing.status_code in (409, 422) and "丙方（盖章）" in missing.text
    empty = _sign(signer, document_id, seal_id=contract_seal, mode="keyword", keyword="  ")
    assert empty.status_code == 422 and "keyword" in empty.text

    by_keyword = _signed_pdf(
        signer,
        _sign(signer, document_id, seal_id=contract_seal, mode="keyword", keyword="甲方（盖章）"),
    )
    assert len(_signatures(by_keyword)) == 1
    assert _widget_pages(by_keyword) == 1

    cross = _signed_pdf(signer, _sign(signer, document_id, seal_id=contract_seal, mode="cross"))
    assert len(_signatures(cross)) == 1
    assert _widget_pages(cross) == 2  # one slice on the edge of each page


def test_personal_seal_pin(
    signed_in: Login,
    client: TestClient,
    platform_key: str,
    engine: Any,
    console_org: ConsoleOrg,
    contract: bytes,
) -> None:
    owner = console_org.people["signer"]
    personal = make_seal(
        client, platform_key, console_org.id, "李娜", kind="personal", person_id=owner
    )
    seal_id = personal["id"]
    signer = signed_in(console_org.users["signer"])

    # The owner sets the PIN on the seal's page (the form is there for them).
    detail = signer.get(f"/console/seals/{seal_id}")
    assert f'action="/console/seals/{seal_id}/pin"' in detail.text
    set_pin = signer.post(
        f"/console/seals/{seal_id}/pin",
        data={"csrf_token": csrf_of(detail.text), "pin": "246810"},
        follow_redirects=False,
    )
    assert set_pin.status_code == 303, set_pin.text

    document_id = _upload(signer, contract, "个人确认书.pdf")
    form = signer.get(f"/console/sign/{document_id}")
    assert f'value="{seal_id}" data-needs-pin="yes"' in form.text and 'id="pin"' in form.text
    place = {"seal_id": seal_id, "mode": "click", "page": "2", "x_mm": "150", "y_mm": "250"}

    wrong = _sign(signer, document_id, pin="135790", **place)
    assert wrong.status_code in (401, 403, 409, 422), wrong.status_code
    assert "操作未完成" in wrong.text and "PIN" in wrong.text
    none = _sign(signer, document_id, **place)
    assert none.status_code == wrong.status_code
    with Session(engine) as session:
        row = session.get(Seal, seal_id)
        assert row is not None and row.pin_failures >= 1
        failures = session.exec(
            select(AuditEvent).where(
                AuditEvent.target_id == seal_id, col(AuditEvent.action) == "seal.pin_failure"
            )
        ).all()
        assert len(failures) >= 1

    signed = _signed_pdf(signer, _sign(signer, document_id, pin="246810", **place))
    assert len(_signatures(signed)) == 1
    with Session(engine) as session:
        row = session.get(Seal, seal_id)
        assert row is not None and row.pin_failures == 0  # the right PIN resets the count


def _signature_png() -> bytes:
    image = Image.new("RGB", (600, 220), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(40, 150), (160, 60), (260, 170), (380, 70), (560, 140)], fill="black", width=9)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_signature_image_upload(signed_in: Login, console_org: ConsoleOrg) -> None:
    admin = signed_in(console_org.users["org_admin"])
    gallery = admin.get("/console/seals")
    assert 'action="/console/seals/upload"' in gallery.text
    uploaded = admin.post(
        "/console/seals/upload",
        data={
            "csrf_token": csrf_of(gallery.text),
            "person_id": console_org.people["approver"],
            "name": "赵强手写签名",
        },
        files={"image": ("签名.png", _signature_png(), "image/png")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    url = uploaded.headers["location"]
    detail = admin.get(url)
    assert detail.status_code == 200 and "赵强手写签名" in detail.text
    image = admin.get(f"{url}/image")
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size[0] > 50

    not_an_image = admin.post(
        "/console/seals/upload",
        data={"csrf_token": csrf_of(gallery.text), "person_id": console_org.people["approver"]},
        files={"image": ("签名.png", b"GIF89a not a png", "image/png")},
    )
    assert not_an_image.status_code == 422 and "PNG" in not_an_image.text


def test_the_sign_form_offers_the_format(
    signed_in: Login, console_org: ConsoleOrg, contract_seal: str, contract: bytes
) -> None:
    """pades / sm2-cms / gbt38540 are offered; an SM2 format on a seal without an SM2
    certificate is refused with its problem (nothing signed); pades signs as before."""
    signer = signed_in(console_org.users["signer"])
    document_id = _upload(signer, contract)
    form = signer.get(f"/console/sign/{document_id}")
    for value in ("pades", "sm2-cms", "gbt38540"):
        assert f'<option value="{value}"' in form.text
    with Session(signer.app.state.services.engine) as session:  # type: ignore[attr-defined]
        seal = session.get(Seal, contract_seal)
        assert seal is not None
        has_sm2 = getattr(seal, "sm2_certificate_id", None) is not None
    placed = {"seal_id": contract_seal, "mode": "cross"}
    if not has_sm2:
        refused = _sign(signer, document_id, format="sm2-cms", **placed)
        assert refused.status_code == 422 and "SM2" in refused.text
    else:
        sm2 = _signed_pdf(signer, _sign(signer, document_id, format="sm2-cms", **placed))
        assert b"/adbe.pkcs7.detached" in sm2
    pades = _signed_pdf(signer, _sign(signer, document_id, format="pades", **placed))
    assert len(_signatures(pades)) == 1


def test_the_seal_page_shows_sm2_and_offers_the_seal_data(
    signed_in: Login, console_org: ConsoleOrg, contract_seal: str
) -> None:
    from seals.gbt38540 import parse_seal

    admin = signed_in(console_org.users["org_admin"])
    page = admin.get(f"/console/seals/{contract_seal}")
    assert page.status_code == 200
    assert 'id="seal-algorithms"' in page.text and "SM2/SM3" in page.text
    assert f'href="/console/seals/{contract_seal}/eseal"' in page.text
    download = admin.get(f"/console/seals/{contract_seal}/eseal")
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/octet-stream"
    assert parse_seal(download.content).es_id in download.headers["content-disposition"]
