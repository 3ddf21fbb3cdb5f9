"""Uploaded images: real PNG/JPEG are normalised; everything else is refused with a reason."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from seals.errors import InvalidImageError
from seals.images import MAX_UPLOAD_BYTES, normalize_uploaded_image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image


def signature(mode: str = "RGB") -> Image.Image:
    """Dark ink strokes on white paper."""
    image = Image.new("RGB", (120, 60), "white")
    for x in range(10, 110):
        for dy in range(3):
            image.putpixel((x, 30 + dy + (x // 10) % 3), (20, 20, 40))
    return image.convert(mode)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def test_png_becomes_png_rgba_with_the_same_pixels() -> None:
    source = signature()
    out = decode(normalize_uploaded_image(encode(source, "PNG")))
    assert out.mode == "RGBA"
    assert out.size == source.size
    assert out.getpixel((50, 33)) == (20, 20, 40, 255)
    assert out.getpixel((0, 0)) == (255, 255, 255, 255)


def test_jpeg_becomes_png_rgba() -> None:
    out = decode(normalize_uploaded_image(encode(signature(), "JPEG", quality=95)))
    assert (out.mode, out.size) == ("RGBA", (120, 60))
    r, g, b, a = out.getpixel((0, 0))  # type: ignore[misc]
    assert min(r, g, b) > 240 and a == 255


def test_jpeg_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = decode(normalize_uploaded_image(encode(signature(), "JPEG", exif=exif)))
    assert out.size == (60, 120)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "1", "I;16", "RGBA"])
def test_other_png_modes_are_converted(mode: str) -> None:
    assert decode(normalize_uploaded_image(encode(signature(mode), "PNG"))).mode == "RGBA"


def test_cmyk_jpeg_is_converted() -> None:
    assert decode(normalize_uploaded_image(encode(signature("CMYK"), "JPEG"))).mode == "RGBA"


def test_palette_transparency_is_kept() -> None:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([255, 255, 255, 200, 0, 0])
    image.putpixel((1, 1), 1)
    out = decode(normalize_uploaded_image(encode(image, "PNG", transparency=0)))
    assert out.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert out.getpixel((1, 1)) == (200, 0, 0, 255)


def test_paper_white_can_become_transparent() -> None:
    image = Image.new("L", (3, 1))
    image.putdata([255, 40, 200])  # paper, ink, a soft anti-aliased edge
    out = decode(normalize_uploaded_image(encode(image, "PNG"), white_to_transparent=True))
    paper, ink, edge = (out.getpixel((x, 0)) for x in range(3))
    assert paper[3] == 0  # type: ignore[index]
    assert ink == (40, 40, 40, 255)
    assert 0 < edge[3] < 255  # type: ignore[index]
    kept = decode(normalize_uploaded_image(encode(image, "PNG")))
    assert kept.getpixel((0, 0)) == (255, 255, 255, 255)


def test_output_is_deterministic() -> None:
    data = encode(signature(), "JPEG")
    assert normalize_uploaded_image(data) == normalize_uploaded_image(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (encode(signature(), "GIF"), "GIF"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
            "SVG",
        ),
        (b'<?xml version="1.0"?>\n<svg/>', "SVG"),
        ("张伟的签名".encode(), "neither PNG nor JPEG"),
        (b"%PDF-1.7\n", "PDF"),
        (encode(signature(), "WEBP"), "WebP"),
        (encode(signature(), "BMP"), "BMP"),
    ],
)
def test_other_content_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidImageError, match=reason) as caught:
        normalize_uploaded_image(data)
    assert caught.value.code == "invalid-seal-image"


def test_type_is_decided_by_content_not_by_a_png_signature_alone() -> None:
    with pytest.raises(InvalidImageError, match="damaged or truncated"):
        normalize_uploaded_image(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)


def test_truncated_png_is_refused() -> None:
    data = encode(signature(), "PNG")
    with pytest.raises(InvalidImageError, match="damaged or truncated"):
        normalize_uploaded_image(data[: len(data) // 2])


def test_truncated_jpeg_is_refused() -> None:
    data = encode(Image.effect_noise((200, 200), 64).convert("RGB"), "JPEG")
    with pytest.raises(InvalidImageError, match="damaged or truncated"):
        normalize_uploaded_image(data[: len(data) // 2])


def test_oversized_upload_is_refused_by_byte_count() -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(MAX_UPLOAD_BYTES)
    with pytest.raises(InvalidImageError, match="at most 2097152 bytes"):
        normalize_uploaded_image(data)
    small = encode(signature(), "PNG")
    with pytest.raises(InvalidImageError, match="bytes"):
        normalize_uploaded_image(small, max_bytes=len(small) - 1)


def test_png_bomb_is_refused_from_its_header() -> None:
    # a tiny file that declares 30000 x 30000 pixels; decoding it would need 900 megapixels
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 30001 * 8)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )
    assert len(data) < 1000
    with pytest.raises(InvalidImageError, match="30000x30000 pixels"):
        normalize_uploaded_image(data)


def test_compressible_png_over_the_pixel_limit_is_refused() -> None:
    data = encode(Image.new("1", (5000, 5000)), "PNG")  # a few kilobytes
    assert len(data) < 10_000
    with pytest.raises(InvalidImageError, match="5000x5000 pixels"):
        normalize_uploaded_image(data)


def test_jpeg_over_the_pixel_limit_is_refused_before_decoding() -> None:
    data = encode(signature(), "JPEG")
    with pytest.raises(InvalidImageError, match="120x60 pixels; at most 5000"):
        normalize_uploaded_image(data, max_pixels=5000)


def test_animated_png_is_refused() -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(InvalidImageError, match="animated"):
        normalize_uploaded_image(data)
