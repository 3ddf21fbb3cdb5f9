"""Scenario templates render deterministic PDFs in an embedded CJK font, with searchable
keywords, the amount in capital numerals and a QR code that reads back as the verification
link."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import segno

from seals.placement import KeywordPlacement, find_keyword
from seals.templates import (
    TEMPLATES,
    RenderContext,
    TemplateDataError,
    clause_number,
    document_font,
)
from seals.templates._base import MARGIN_MM, QR_SIZE_MM
from tests.seals_templates import samples

DOC_ID = "0123456789abcdef0123456789abcdef"
URL = f"https://eseal.example.cn/verify?d={DOC_ID}"


FAST_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
"""TrueType outlines subset several times faster than Noto's CFF; used where the font does
not matter (the determinism test runs on the default font)."""


@pytest.fixture(scope="module")
def ctx() -> RenderContext:
    font = document_font(FAST_FONT) if FAST_FONT.is_file() else document_font()
    return RenderContext(font=font, document_id=DOC_ID, verify_url=URL)


def _text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return "".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


CASES: dict[str, Callable[..., Any]] = {
    "bid-guarantee": samples.guarantee,
    "business-licence": samples.licence,
    "two-party-contract": samples.contract,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_renders_deterministically_with_an_embedded_cjk_font(name: str) -> None:
    ctx = RenderContext(font=document_font(), document_id=DOC_ID, verify_url=URL)
    spec = TEMPLATES[name]
    first = spec.render_checked(CASES[name](), ctx)
    assert first.startswith(b"%PDF-")
    assert first == spec.render_checked(CASES[name](), ctx)
    assert b"/Type0" in first and b"/FontFile" in first and b"/ToUnicode" in first
    assert DOC_ID in _text(first)
    other = RenderContext(font=ctx.font, document_id="f" * 32, verify_url=URL[:-32] + "f" * 32)
    assert spec.render_checked(CASES[name](), other) != first


def test_the_guarantee_states_the_amount_in_figures_and_words(ctx: RenderContext) -> None:
    pdf = TEMPLATES["bid-guarantee"].render_checked(samples.guarantee(), ctx)
    text = _text(pdf).replace("\r", "").replace("\n", "")
    assert "¥500,000.00" in text
    assert "人民币伍拾万元整" in text
    assert "BH-2026-000123" in text
    assert "至2026年5月29日止" in text  # 90 days from 1 March, both included
    assert find_keyword(pdf=pdf, keyword="保证人（盖章）")


def test_contract_keywords_are_found_for_seal_placement(ctx: RenderContext) -> None:
    pdf = TEMPLATES["two-party-contract"].render_checked(
        samples.contract(clauses=("乙方按照甲方要求提供货物及服务。" * 8,) * 25), ctx
    )
    assert len(pdfium.PdfDocument(pdf)) >= 2
    for keyword in ("甲方（盖章）", "乙方（盖章）"):
        hits = find_keyword(pdf=pdf, keyword=keyword)
        assert len(hits) == 1, keyword
    text = _text(pdf)
    assert "第二十五条" in text or "第二十六条" in text
    assert "人民币壹仟陆佰捌拾元零叁角贰分" in text.replace("\r\n", "")


def test_default_placements_fit(ctx: RenderContext) -> None:
    for name, make in CASES.items():
        spec = TEMPLATES[name]
        if isinstance(spec.default_placement, KeywordPlacement):
            pdf = spec.render_checked(make(), ctx)
            assert find_keyword(pdf=pdf, keyword=spec.default_placement.keyword), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_qr_code_reads_back_as_the_verification_link(name: str, ctx: RenderContext) -> None:
    """Sample the rendered page at every module centre and compare with the QR matrix of the
    link: what a phone's camera decodes is exactly this matrix."""
    pdf = TEMPLATES[name].render_checked(CASES[name](), ctx)
    scale = 8.0  # 576 dpi
    page = pdfium.PdfDocument(pdf)[0]
    image = page.render(scale=scale).to_pil().convert("L")
    px_per_mm = scale * 72 / 25.4
    expected = [list(row) for row in segno.make(URL, error="m").matrix_iter(border=4)]
    module = QR_SIZE_MM / len(expected)
    x0 = page.get_width() * 25.4 / 72 - MARGIN_MM - QR_SIZE_MM
    y0 = MARGIN_MM
    seen = [
        [
            image.getpixel(
                (
                    round((x0 + (c + 0.5) * module) * px_per_mm),
                    round((y0 + (r + 0.5) * module) * px_per_mm),
                )
            )
            < 128
            for c in range(len(expected))
        ]
        for r in range(len(expected))
    ]
    assert seen == [[bool(v) for v in row] for row in expected]


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: samples.guarantee(amount=samples.Decimal("0")), "amount"),
        (lambda: samples.guarantee(amount=samples.Decimal("1.005")), "amount"),
        (lambda: samples.guarantee(valid_days=0), "valid_days"),
        (lambda: samples.guarantee(guarantee_number="  "), "guarantee_number"),
        (lambda: samples.licence(uscc="91330106MA2B3C4D5X"), "uscc"),
        (
            lambda: samples.licence(issued_on=samples.date(2020, 1, 1)),
            "issued_on",
        ),
        (lambda: samples.licence(business_scope="经营范围很长。" * 280), "business_scope"),
        (lambda: samples.contract(clauses=()), "clauses"),
    ],
)
def test_bad_data_is_refused_with_the_field(
    make: Callable[[], Any], field: str, ctx: RenderContext
) -> None:
    data = make()
    spec = next(s for s in TEMPLATES.values() if isinstance(data, s.data_type))
    with pytest.raises(TemplateDataError) as caught:
        spec.render_checked(data, ctx)
    assert caught.value.extra.get("field") == field


def test_a_character_the_font_lacks_is_refused_not_drawn_as_a_box(ctx: RenderContext) -> None:
    with pytest.raises(TemplateDataError) as caught:
        TEMPLATES["business-licence"].render_checked(
            samples.licence(legal_representative="张\ue000"), ctx
        )
    assert caught.value.extra["characters"] == ["\ue000"]


def test_wrong_data_type_is_refused(ctx: RenderContext) -> None:
    with pytest.raises(TemplateDataError):
        TEMPLATES["business-licence"].render_checked(samples.contract(), ctx)


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (101, "一百零一"), (110, "一百一十")],
)
def test_clause_numbers(n: int, text: str) -> None:
    assert clause_number(n) == text
