"""Uploaded seal and signature images: checked, bounded, normalised to PNG RGBA.

The type is decided by content (magic bytes and the decoder), never by file name. Byte size and
pixel count are checked from the header before any pixel is decoded, so decompression bombs are
refused without allocating them.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

from seals.errors import InvalidImageError
from seals.render import encode_png

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_PIXELS = 4096 * 4096
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG"}
_WHITE_OPAQUE = 160
"""Luminance at or below which a pixel stays fully opaque when whitening."""
_WHITE_CLEAR = 235
"""Luminance at or above which a pixel becomes fully transparent when whitening."""


def normalize_uploaded_image(
    data: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_UPLOAD_PIXELS,
    white_to_transparent: bool = False,
) -> bytes:
    """PNG (RGBA) bytes of an uploaded PNG or JPEG, or `InvalidImageError` saying why not.

    `white_to_transparent` turns paper white into transparency (for handwritten signatures
    photographed or scanned on white paper), with a soft edge for anti-aliased strokes.
    """
    if not data:
        raise InvalidImageError("the image is empty")
    if len(data) > max_bytes:
        raise InvalidImageError(
            f"the image is {len(data)} bytes; at most {max_bytes} bytes are accepted",
            size=len(data),
            limit=max_bytes,
        )
    _check_magic(data)
    image = _open_bounded(data, max_pixels=max_pixels)
    try:
        image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImageError(f"the image has damaged EXIF data: {exc}") from exc
    rgba = _to_rgba(image)
    if white_to_transparent:
        rgba = _whiten(rgba)
    return encode_png(rgba)


def _check_magic(data: bytes) -> None:
    if data.startswith((_PNG_MAGIC, _JPEG_MAGIC)):
        return
    head = data[:512].lstrip().lower()
    if data.startswith((b"GIF87a", b"GIF89a")):
        found = "a GIF image"
    elif b"<svg" in head or head.startswith(b"<?xml"):
        found = "an SVG/XML document"
    elif data.startswith(b"%PDF"):
        found = "a PDF document"
    elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        found = "a WebP image"
    elif data.startswith(b"BM"):
        found = "a BMP image"
    else:
        found = "neither PNG nor JPEG data"
    raise InvalidImageError(f"only PNG and JPEG images are accepted; this is {found}")


def _check_pixels(width: int, height: int, *, max_pixels: int) -> None:
    if width < 1 or height < 1 or width * height > max_pixels:
        raise InvalidImageError(
            f"the image is {width}x{height} pixels; at most {max_pixels} pixels are accepted",
            width=width,
            height=height,
            limit=max_pixels,
        )


def _open_bounded(data: bytes, *, max_pixels: int) -> Image.Image:
    if data.startswith(_PNG_MAGIC) and data[12:16] == b"IHDR" and len(data) >= 24:
        # PNG declares its size in the first chunk: refuse bombs before Pillow sees them
        width, height = struct.unpack(">II", data[16:24])
        _check_pixels(width, height, max_pixels=max_pixels)
    try:
        image = Image.open(io.BytesIO(data), formats=("PNG", "JPEG"))  # reads the header only
        format_name = _ACCEPTED_FORMATS.get(image.format or "")
        if format_name is None:
            raise InvalidImageError(
                f"only PNG and JPEG images are accepted; this decodes as {image.format}"
            )
        _check_pixels(*image.size, max_pixels=max_pixels)
        if format_name == "PNG" and getattr(image, "is_animated", False):
            raise InvalidImageError("animated PNG images are not accepted")
        image.load()  # decodes; raises on truncated or corrupt data
    except InvalidImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise InvalidImageError(f"the image is too large to decode: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImageError(f"the image is damaged or truncated: {exc}") from exc
    return image


def _to_rgba(image: Image.Image) -> Image.Image:
    try:
        if image.mode in ("RGBA", "RGB", "L", "LA", "P", "PA") or "transparency" in image.info:
            return image.convert("RGBA")
        if image.mode.startswith("I;16") or image.mode in ("I", "F"):
            # 16-bit grey PNG: scale to 8 bits before converting
            return image.point(lambda v: v / 256).convert("L").convert("RGBA")
        return image.convert("RGB").convert("RGBA")  # CMYK and YCbCr JPEG
    except (OSError, ValueError) as exc:
        raise InvalidImageError(f"unsupported image mode {image.mode}: {exc}") from exc


def _whiten(image: Image.Image) -> Image.Image:
    """Alpha falls from opaque to clear as luminance rises from 160 to 235."""
    span = _WHITE_CLEAR - _WHITE_OPAQUE
    ramp = [
        255 if v <= _WHITE_OPAQUE else 0 if v >= _WHITE_CLEAR else (_WHITE_CLEAR - v) * 255 // span
        for v in range(256)
    ]
    coverage = image.convert("L").point(ramp)
    result = image.copy()
    result.putalpha(ImageChops.darker(image.getchannel("A"), coverage))
    return result
