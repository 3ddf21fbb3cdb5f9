"""What the public page shows for one report: words, local times, seal images, thumbnails.

Everything here comes from the report itself, the seal registry's image of a seal that the
report names (by code, found through the signing certificate) and the document's own pages.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass

from PIL import Image
from sqlmodel import Session, select

from app.verification.render import render_isolated
from seals import report_text
from seals.models import Seal
from seals.report_text import (
    coverage_text,
    indication_label,
    integrity_text,
    local_time,
    modifications_text,
    revocation_text,
    seal_kind_label,
    seal_status_text,
    trust_anchor_text,
)
from seals.reports import Indication, SignatureReport, VerificationReport
from seals.thumbnails import Mark, MarkTone

logger = logging.getLogger(__name__)

SEAL_IMAGE_PX = 180
"""Seal images are shown downscaled: enough to recognise a seal, not a print master."""
THUMBNAIL_WIDTH_PX = 420
MAX_THUMBNAILS = 12

_TONE = {
    Indication.TOTAL_PASSED: MarkTone.PASSED,
    Indication.TOTAL_FAILED: MarkTone.FAILED,
    Indication.INDETERMINATE: MarkTone.INDETERMINATE,
}
_RENDERABLE = frozenset({"ok", "unsigned"})


@dataclass(frozen=True, slots=True)
class SignatureView:
    number: int
    sig: SignatureReport
    tone: str
    indication_zh: str
    indication_en: str
    seal_kind: str | None
    seal_status: str | None
    seal_image: str | None
    """data: URL of the registered seal image (downscaled), when the seal is ours."""
    claimed_time: str
    timestamp_time: str
    revocation: str
    coverage: str
    modifications: str
    integrity: str
    trust_anchor: str
    pages: str | None
    seal_missing: str
    """Why no seal is shown: not registered here, or the signature is broken."""
    level: str
    findings: tuple[tuple[str, str], ...]
    """(Chinese, English) of each finding, the Chinese free of library text."""


@dataclass(frozen=True, slots=True)
class ThumbnailView:
    page_number: int
    data_url: str
    width: int
    height: int
    marks: int


@dataclass(frozen=True, slots=True)
class ReportView:
    report: VerificationReport
    tone: str
    indication_zh: str
    indication_en: str
    validation_time: str
    signatures: tuple[SignatureView, ...]
    thumbnails: tuple[ThumbnailView, ...]
    pages_not_shown: int
    verdict_zh: str
    changed: bool
    changed_text: str
    document_findings: tuple[tuple[str, str], ...]


def tone_of(indication: Indication) -> str:
    return _TONE[indication].value


def build_view(
    session: Session,
    report: VerificationReport,
    *,
    pdf: bytes | None,
    thumbnail_seconds: float,
) -> ReportView:
    """The page model; `pdf` None skips thumbnails."""
    signatures = tuple(
        _signature_view(session, number, sig)
        for number, sig in enumerate(report.signatures, start=1)
    )
    thumbnails: tuple[ThumbnailView, ...] = ()
    if pdf is not None and report.document.status in _RENDERABLE:
        thumbnails = _thumbnails(pdf, report, seconds=thumbnail_seconds)
    page_count = report.document.page_count or 0
    zh, en = indication_label(report.indication)
    return ReportView(
        report=report,
        tone=tone_of(report.indication),
        indication_zh=zh,
        indication_en=en,
        validation_time=local_time(report.validation_time),
        signatures=signatures,
        thumbnails=thumbnails,
        pages_not_shown=max(0, page_count - len(thumbnails)) if thumbnails else 0,
        verdict_zh=report_text.split_library_text(report.verdict_zh)[0],
        changed=report_text.document_changed(report),
        changed_text=report_text.document_changed_text(report),
        document_findings=tuple(
            (report_text.finding_zh(f), f.en) for f in report.document.modifications
        ),
    )


def _signature_view(session: Session, number: int, sig: SignatureReport) -> SignatureView:
    zh, en = indication_label(sig.indication)
    pages = sorted({p.page_number for p in sig.positions})
    return SignatureView(
        number=number,
        sig=sig,
        tone=tone_of(sig.indication),
        indication_zh=zh,
        indication_en=en,
        seal_kind=(sig.seal.kind_label or seal_kind_label(sig.seal.kind)) if sig.seal else None,
        seal_status=seal_status_text(sig.seal.status) if sig.seal else None,
        seal_image=_seal_image(session, sig.seal.code) if sig.seal else None,
        claimed_time=local_time(sig.claimed_signing_time),
        timestamp_time=local_time(sig.timestamp_time),
        revocation=revocation_text(sig),
        coverage=coverage_text(sig),
        modifications=modifications_text(sig),
        integrity=integrity_text(sig.integrity),
        trust_anchor=trust_anchor_text(sig),
        pages=_page_list(pages) if pages else None,
        seal_missing=report_text.seal_text(sig),
        level=report_text.level_text(sig),
        findings=tuple((report_text.finding_zh(f), f.en) for f in sig.findings),
    )


def _page_list(pages: list[int]) -> str:
    if len(pages) > 8:
        return f"第 {pages[0]}–{pages[-1]} 页（共 {len(pages)} 页）"
    return "第 " + "、".join(str(p) for p in pages) + " 页"


def _seal_image(session: Session, code: str) -> str | None:
    seal = session.exec(select(Seal).where(Seal.code == code)).first()
    if seal is None or not seal.image_png:
        return None
    try:
        with Image.open(io.BytesIO(seal.image_png)) as image:
            image.thumbnail((SEAL_IMAGE_PX, SEAL_IMAGE_PX))
            out = io.BytesIO()
            image.save(out, "PNG", optimize=True)
    except (OSError, ValueError) as exc:
        logger.warning("seal %s image unreadable: %s", code, exc)
        return None
    return _data_url(out.getvalue())


def _thumbnails(
    pdf: bytes, report: VerificationReport, *, seconds: float
) -> tuple[ThumbnailView, ...]:
    marks = [
        Mark(page=p.page, rect=p.rect, label=str(number), tone=_TONE[sig.indication])
        for number, sig in enumerate(report.signatures, start=1)
        for p in sig.positions
    ]
    rendered = render_isolated(
        pdf=pdf,
        marks=marks,
        width_px=THUMBNAIL_WIDTH_PX,
        max_pages=MAX_THUMBNAILS,
        max_seconds=seconds,
    )
    return tuple(
        ThumbnailView(
            page_number=t.page + 1,
            data_url=_data_url(t.png),
            width=t.width,
            height=t.height,
            marks=t.marks,
        )
        for t in rendered
    )


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
