"""Test documents: a real contract PDF in a CJK font, with the 甲方/乙方 seal lines that keyword
placements look for (`seals.documents.make_document` draws them)."""

from __future__ import annotations

import functools

from seals.documents import make_document
from seals.fonts import find_cjk_font

CONTRACT_TITLE = "政府采购合同"
CONTRACT_PARAGRAPHS = (
    "甲方与乙方就杭州市某道路改造工程施工达成如下协议。",
    "合同金额：人民币伍拾万元整。",
)


@functools.cache
def contract_pdf(
    pages: int = 2,
    *,
    title: str = CONTRACT_TITLE,
    paragraphs: tuple[str, ...] = CONTRACT_PARAGRAPHS,
) -> bytes:
    """A contract of `pages` pages (the same bytes for the same arguments within a run)."""
    font = find_cjk_font()
    return make_document(
        title=title,
        paragraphs=list(paragraphs),
        pages=pages,
        font_path=font.path,
        font_number=font.index,
    )
