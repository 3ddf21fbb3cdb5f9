"""Seal error hierarchy: a stable machine `code` and a human `detail`, nothing about HTTP."""

from __future__ import annotations

from typing import Any, ClassVar


class SealError(Exception):
    """Base of every error raised by `seals`."""

    code: ClassVar[str] = "seal-error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidImageError(SealError):
    """An uploaded seal image is not an acceptable PNG/JPEG."""

    code = "invalid-seal-image"


class RenderError(SealError):
    """A seal image cannot be rendered from the given data (e.g. a glyph missing from the font)."""

    code = "seal-render-failed"


class FontUnavailableError(SealError):
    """No usable CJK OpenType font was found (or the configured one cannot be read)."""

    code = "seal-font-unavailable"
