"""Page thumbnails with seal positions marked: geometry on plain and rotated pages, bad input,
and the resource-limited renderer process the page uses."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from app.verification.render import render_isolated
from seals.thumbnails import (
    TONE_RGB,
    Mark,
    MarkTone,
    ThumbnailError,
    pages_to_show,
    render_thumbnails,
)

BOX = (400.0, 60.0, 520.0, 180.0)  # x1, y1, x2, y2 in points


def page_with_black_box(rotate: int = 0, pages: int = 1) -> bytes:
    """A 595x842 page that fills BOX in black (where a seal would sit)."""
    w = PdfFileWriter()
    for _ in range(pages):
        x1, y1, x2, y2 = BOX
        body = f"0 0 0 rg {x1} {y1} {x2 - x1} {y2 - y1} re f".encode()
        page = PageObject(
            contents=w.add_object(generic.StreamObject(stream_data=body)),
            media_box=(0, 0, 595, 842),
        )
        if rotate:
            page[pdf_name("/Rotate")] = generic.NumberObject(rotate)
        w.insert_page(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def bbox(image: Image.Image, test: object) -> tuple[int, int, int, int]:
    xs, ys = [], []
    for y in range(image.height):
        for x in range(image.width):
            if test(image.getpixel((x, y))):  # type: ignore[operator]
                xs.append(x)
                ys.append(y)
    assert xs, "no matching pixels"
    return min(xs), min(ys), max(xs), max(ys)


def is_black(px: tuple[int, int, int]) -> bool:
    return max(px) < 40


def is_tone(px: tuple[int, int, int], tone: MarkTone = MarkTone.PASSED) -> bool:
    return all(abs(a - b) < 25 for a, b in zip(px, TONE_RGB[tone], strict=True))


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_mark_frames_the_widget_on_rotated_pages(rotate: int) -> None:
    pdf = page_with_black_box(rotate)
    [thumb] = render_thumbnails(
        pdf=pdf, marks=[Mark(page=0, rect=BOX, label="1", tone=MarkTone.PASSED)], width_px=300
    )
    image = Image.open(io.BytesIO(thumb.png)).convert("RGB")
    assert (image.width > image.height) == (rotate in (90, 270))
    assert thumb.marks == 1
    black = bbox(image, is_black)
    frame = bbox(image, is_tone)
    # the frame surrounds the black box closely, on every side
    assert frame[0] < black[0] and frame[1] < black[1]
    assert frame[2] > black[2] and frame[3] > black[3]
    assert black[0] - frame[0] < 20 and frame[2] - black[2] < 12 and frame[3] - black[3] < 12


def test_page_boxes_inherited_from_the_page_tree() -> None:
    """Pages without their own /MediaBox (inherited from /Pages, as fpdf2 writes them) are
    measured by their effective box, not PDFium's Letter-size default."""
    pdf = page_with_black_box()
    inherited = pdf.replace(b"/MediaBox [ 0 0 595 842 ]", b"/Foo [ 0 0 595 842 ]", 1)
    inherited = inherited.replace(b"/Type /Pages", b"/Type /Pages /MediaBox [0 0 595 842]", 1)
    assert inherited != pdf and b"/MediaBox" in inherited
    [thumb] = render_thumbnails(
        pdf=inherited, marks=[Mark(page=0, rect=BOX, label="1", tone=MarkTone.PASSED)]
    )
    image = Image.open(io.BytesIO(thumb.png)).convert("RGB")
    black, frame = bbox(image, is_black), bbox(image, is_tone)
    assert frame[0] < black[0] and frame[2] > black[2] and frame[3] > black[3]
    assert frame[3] - black[3] < 12


def test_tones_pages_and_limits() -> None:
    pdf = page_with_black_box(pages=30)
    marks = [
        Mark(page=4, rect=BOX, label="1", tone=MarkTone.FAILED),
        Mark(page=20, rect=BOX, label="2", tone=MarkTone.INDETERMINATE),
        Mark(page=99, rect=BOX, label="3", tone=MarkTone.PASSED),  # beyond the document
    ]
    assert pages_to_show(page_count=30, marks=marks, max_pages=12) == (0, 4, 20)
    assert pages_to_show(page_count=5, marks=marks, max_pages=12) == (0, 1, 2, 3, 4)
    assert pages_to_show(page_count=0, marks=marks, max_pages=12) == ()
    thumbs = render_thumbnails(pdf=pdf, marks=marks, width_px=120, max_pages=12)
    assert [t.page for t in thumbs] == [0, 4, 20]
    assert [t.marks for t in thumbs] == [0, 1, 1]
    failed = Image.open(io.BytesIO(thumbs[1].png)).convert("RGB")
    assert bbox(failed, lambda px: is_tone(px, MarkTone.FAILED))
    assert render_thumbnails(pdf=pdf, marks=marks, width_px=120, max_seconds=1e-9)[:1] == ()
    with pytest.raises(ValueError):
        render_thumbnails(pdf=pdf, marks=[], width_px=5000)


@pytest.mark.parametrize(
    "data", [b"", b"not a pdf", b"%PDF-1.7\n%%EOF", b"%PDF-1.4\n" + b"\xff" * 500]
)
def test_unrenderable_documents_raise_thumbnail_error(data: bytes) -> None:
    try:
        thumbs = render_thumbnails(pdf=data, marks=[])
    except ThumbnailError:
        return
    assert thumbs == ()  # PDFium repaired it into something without pages


def test_isolated_renderer_matches_and_fails_softly() -> None:
    pdf = page_with_black_box()
    marks = [Mark(page=0, rect=BOX, label="1", tone=MarkTone.PASSED)]
    [thumb] = render_isolated(pdf=pdf, marks=marks, width_px=200, max_pages=4, max_seconds=5)
    assert thumb.marks == 1 and abs(thumb.width - 200) <= 1
    assert (
        render_isolated(pdf=b"garbage", marks=marks, width_px=200, max_pages=4, max_seconds=5) == ()
    )
    # a decompression bomb in the page content: the renderer runs out of its memory and the
    # page gets no thumbnails; the service process is untouched
    bomb = content_bomb(megabytes=200)
    starved = render_isolated(
        pdf=bomb, marks=marks, width_px=200, max_pages=4, max_seconds=5, memory_bytes=160 * 1024**2
    )
    assert starved == ()
    assert render_isolated(
        pdf=pdf, marks=marks, width_px=200, max_pages=4, max_seconds=5, memory_bytes=160 * 1024**2
    )


def content_bomb(megabytes: int) -> bytes:
    """A page whose content stream is ~300 KB of Flate that inflates to `megabytes` MB."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    raw = b"".join(compressor.compress(chunk) for _ in range(megabytes)) + compressor.flush()
    w = PdfFileWriter()
    stream = generic.StreamObject({pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=raw)
    w.insert_page(PageObject(contents=w.add_object(stream), media_box=(0, 0, 595, 842)))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()
