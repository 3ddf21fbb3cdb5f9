"""The seal image encoded once (seals/signing/images.py) is written as exactly the streams
pyhanko's `pil_image` writes for it: same dictionaries, same compressed bytes, soft mask kept."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.images import pil_image
from pyhanko.pdf_utils.writer import PdfFileWriter

from seals.errors import InvalidAppearanceError
from seals.signing.checks import load_image
from seals.signing.images import encoded_image
from seals.signing.spec import SealAppearance


def _seal_png(color: tuple[int, int, int, int]) -> bytes:
    image = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 230, 230), outline=color, width=12)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _streams(writer: PdfFileWriter, ref: object) -> list[tuple[dict[str, object], bytes]]:
    main = ref.get_object()  # type: ignore[attr-defined]
    smask = main["/SMask"].get_object()
    found = []
    for stream in (smask, main):
        entries = {str(k): v for k, v in stream.items() if k != "/SMask"}
        found.append((entries, stream.encoded_data))
    return found


@pytest.mark.parametrize("color", [(220, 0, 0, 255), (200, 30, 30, 180)])
def test_same_streams_as_pil_image(color: tuple[int, int, int, int]) -> None:
    appearance = SealAppearance(image=_seal_png(color), width_mm=42, height_mm=42)
    theirs_writer, ours_writer = PdfFileWriter(), PdfFileWriter()
    theirs = pil_image(load_image(appearance), theirs_writer)
    first = encoded_image(appearance).add_to(ours_writer)
    again = encoded_image(appearance)  # kept: the same encoding, no second decode
    assert again is encoded_image(appearance)
    second = again.add_to(ours_writer)
    assert first != second  # each document (here: each call) gets its own objects
    assert _streams(ours_writer, first) == _streams(theirs_writer, theirs)
    assert _streams(ours_writer, second) == _streams(theirs_writer, theirs)


def test_unreadable_image_is_refused() -> None:
    with pytest.raises(InvalidAppearanceError):
        encoded_image(SealAppearance(image=b"not a png", width_mm=40, height_mm=40))
