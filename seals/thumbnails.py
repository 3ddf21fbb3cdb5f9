"""Page thumbnails with the seal positions marked: what a person checking a document sees.

PDFium (pypdfium2) renders the chosen pages at a small width; Pillow draws a coloured frame
and a numbered tag around each signature widget (colour by the signature's indication), just
outside the widget so the seal itself stays visible. Output is a palette PNG per page.

PDFium is not thread-safe: every use holds `seals.placement.PDFIUM_LOCK`. Rendering has a
time budget (checked between pages) and a page limit, so a pathological file costs a bounded
amount of work; a file PDFium cannot open raises `ThumbnailError`.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageDraw

from seals.errors import ThumbnailError
from seals.placement import PDFIUM_LOCK

__all__ = [
    "Mark",
    "MarkTone",
    "Thumbnail",
    "ThumbnailError",
    "pages_to_show",
    "render_thumbnails",
]

logger = logging.getLogger(__name__)

MAX_ASPECT = 4.0
"""A page taller than this many widths is rendered at the width that keeps this aspect."""


class MarkTone(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"


TONE_RGB: dict[MarkTone, tuple[int, int, int]] = {
    MarkTone.PASSED: (21, 128, 61),  # green
    MarkTone.FAILED: (190, 18, 60),  # crimson, distinct from seal red
    MarkTone.INDETERMINATE: (180, 83, 9),  # amber
}


@dataclass(frozen=True, slots=True)
class Mark:
    """A rectangle in PDF user space (x1, y1, x2, y2) on page `page` (from 0)."""

    page: int
    rect: tuple[float, float, float, float]
    label: str
    tone: MarkTone


@dataclass(frozen=True, slots=True)
class Thumbnail:
    page: int
    """Page index from 0."""
    png: bytes
    width: int
    height: int
    marks: int
    """How many marks were drawn on this page."""


def pages_to_show(*, page_count: int, marks: Sequence[Mark], max_pages: int) -> tuple[int, ...]:
    """Every page when there are at most `max_pages`; else the first page and the pages with
    a mark, in page order, at most `max_pages`."""
    if page_count <= 0 or max_pages <= 0:
        return ()
    if page_count <= max_pages:
        return tuple(range(page_count))
    wanted = {0} | {m.page for m in marks if 0 <= m.page < page_count}
    return tuple(sorted(wanted)[:max_pages])


def render_thumbnails(
    *,
    pdf: bytes,
    marks: Sequence[Mark],
    pages: Sequence[int] | None = None,
    width_px: int = 420,
    max_pages: int = 12,
    max_seconds: float = 5.0,
) -> tuple[Thumbnail, ...]:
    """PNG thumbnails of `pages` (default: `pages_to_show`) with `marks` drawn on them.

    Pages beyond the document, beyond `max_pages` or not reached within `max_seconds` are
    left out. Raises `ThumbnailError` when PDFium cannot open the document.
    """
    import pypdfium2 as pdfium

    if width_px < 16 or width_px > 2000:
        raise ValueError("width_px must be between 16 and 2000")
    started = time.monotonic()
    thumbnails: list[Thumbnail] = []
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(pdf)
        except (pdfium.PdfiumError, ValueError, OSError) as exc:
            raise ThumbnailError(f"the document cannot be rendered: {exc}") from exc
        try:
            try:
                document.init_forms()  # signature widgets are form fields: drawn once set up
            except (pdfium.PdfiumError, ValueError) as exc:
                logger.info("forms cannot be initialised: %s", exc)
            count = len(document)
            chosen = (
                pages_to_show(page_count=count, marks=marks, max_pages=max_pages)
                if pages is None
                else tuple(p for p in pages if 0 <= p < count)[:max_pages]
            )
            for index in chosen:
                if time.monotonic() - started > max_seconds:
                    logger.info("thumbnail time budget spent after %d pages", len(thumbnails))
                    break
                try:
                    thumbnails.append(
                        _render_page(
                            document, index, [m for m in marks if m.page == index], width_px
                        )
                    )
                except (pdfium.PdfiumError, ValueError, OSError) as exc:
                    logger.info("page %d cannot be rendered: %s", index, exc)
        finally:
            document.close()
    return tuple(thumbnails)


def _render_page(document: object, index: int, marks: list[Mark], width_px: int) -> Thumbnail:
    page = document[index]  # type: ignore[index]
    try:
        width_pt, height_pt = page.get_size()
        if width_pt <= 0 or height_pt <= 0:
            raise ValueError("page has no area")
        scale = width_px / width_pt
        if height_pt * scale > width_px * MAX_ASPECT:
            scale = width_px * MAX_ASPECT / height_pt
        left, bottom, right, top = page.get_bbox()  # effective crop box (inherited boxes too)
        rotation = page.get_rotation() % 360
        bitmap = page.render(scale=scale, rotation=0, may_draw_forms=True, draw_annots=True)
        try:
            image = bitmap.to_pil().convert("RGB")
        finally:
            bitmap.close()
    finally:
        page.close()

    box_w, box_h = right - left, top - bottom

    def to_px(x: float, y: float) -> tuple[float, float]:
        u, v = (x - left) * scale, (top - y) * scale  # unrotated, origin top left
        full_w, full_h = box_w * scale, box_h * scale
        if rotation == 90:
            return full_h - v, u
        if rotation == 180:
            return full_w - u, full_h - v
        if rotation == 270:
            return v, full_w - u
        return u, v

    draw = ImageDraw.Draw(image, "RGBA")
    line = max(2, round(image.width / 180))
    pad = line + 1
    drawn = 0
    for mark in marks:
        x1, y1, x2, y2 = mark.rect
        corners = [to_px(x1, y1), to_px(x2, y2)]
        left_px = min(c[0] for c in corners) - pad
        right_px = max(c[0] for c in corners) + pad
        top_px = min(c[1] for c in corners) - pad
        bottom_px = max(c[1] for c in corners) + pad
        if right_px < 0 or bottom_px < 0 or left_px > image.width or top_px > image.height:
            continue  # the widget lies outside the visible page
        rgb = TONE_RGB[mark.tone]
        draw.rectangle(
            (left_px, top_px, right_px, bottom_px), outline=(*rgb, 255), fill=(*rgb, 28), width=line
        )
        _tag(draw, mark.label, rgb, left_px, top_px, line)
        drawn += 1
    return Thumbnail(
        page=index, png=_png(image), width=image.width, height=image.height, marks=drawn
    )


def _tag(
    draw: ImageDraw.ImageDraw, label: str, rgb: tuple[int, int, int], x: float, y: float, line: int
) -> None:
    """A filled tag with the label at the top-left corner of a mark (kept on the image)."""
    size = 7 * line
    x0 = max(0.0, x - line)
    y0 = max(0.0, y - size)
    draw.rectangle((x0, y0, x0 + size + line * 2 * max(0, len(label) - 1), y0 + size), fill=rgb)
    draw.text((x0 + 2 * line, y0 + line), label, fill=(255, 255, 255), font_size=5 * line)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


# --------------------------------------------------------------------------- worker process


def _worker_main() -> int:
    """``python -m seals.thumbnails``: one rendering in a process of its own.

    stdin: one JSON line ``{"marks": [...], "width_px", "max_pages", "max_seconds",
    "memory_bytes"}`` then the PDF bytes; stdout: a JSON list of thumbnails (PNG base64).
    The process limits its own address space and CPU time first, so a pathological file
    (a decompression bomb in a content stream, an endless drawing) costs at most that.
    Exit 0 with the list, 2 when the document cannot be rendered.
    """
    import base64
    import json
    import resource
    import sys

    header = json.loads(sys.stdin.buffer.readline())
    memory = int(header["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(header["max_seconds"]) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    pdf = sys.stdin.buffer.read()
    marks = [
        Mark(
            page=int(m["page"]),
            rect=(
                float(m["rect"][0]),
                float(m["rect"][1]),
                float(m["rect"][2]),
                float(m["rect"][3]),
            ),
            label=str(m["label"]),
            tone=MarkTone(m["tone"]),
        )
        for m in header["marks"]
    ]
    try:
        rendered = render_thumbnails(
            pdf=pdf,
            marks=marks,
            width_px=int(header["width_px"]),
            max_pages=int(header["max_pages"]),
            max_seconds=float(header["max_seconds"]),
        )
    except ThumbnailError:
        return 2
    json.dump(
        [
            {
                "page": t.page,
                "png": base64.b64encode(t.png).decode("ascii"),
                "width": t.width,
                "height": t.height,
                "marks": t.marks,
            }
            for t in rendered
        ],
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker_main())
