"""Finding a CJK OpenType font for seal text and checking that it covers a text.

Seal text is traditionally set in a bold Song (宋体) face, so Noto Serif CJK SC Bold is preferred.
Coverage is read from the font's own `cmap` table, so a missing character is refused instead of
being drawn as a box (tofu).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from os import PathLike
from pathlib import Path

from PIL import ImageFont

from seals.errors import FontUnavailableError

BUNDLED_FONT_DIR = Path(__file__).with_name("fonts")
"""Optional folder of packaged fonts (``*.otf``, ``*.ttf``, ``*.ttc``), searched first."""

WELL_KNOWN_FONT_PATHS: tuple[Path, ...] = tuple(
    Path(p)
    for p in (
        # Debian / Ubuntu: fonts-noto-cjk
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
        # Arch, Fedora, Alpine packaging of the same files
        "/usr/share/fonts/noto-cjk/NotoSerifCJK-Bold.ttc",
        "/usr/share/fonts/google-noto-serif-cjk-fonts/NotoSerifCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSerifCJKsc-Bold.otf",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        # Debian / Ubuntu: fonts-wqy-zenhei, fonts-wqy-microhei
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    )
)

_MAX_FACES = 32


@dataclass(frozen=True, slots=True)
class CjkFont:
    """One face of an OpenType font file (a `.ttc` holds several)."""

    path: Path
    index: int
    family: str
    style: str

    def at_size(self, size_px: int) -> ImageFont.FreeTypeFont:
        """The face loaded at `size_px` pixels per em (cached)."""
        return _load(str(self.path), self.index, size_px)


def find_cjk_font(*, path: str | PathLike[str] | None = None) -> CjkFont:
    """The configured font at `path`, else a packaged or well-known system CJK font.

    For a collection (`.ttc`) the Simplified Chinese face is chosen. Raises
    `FontUnavailableError` when `path` is unusable or no candidate exists.
    """
    if path is not None:
        return _open_font(str(Path(path)))
    bundled = sorted(BUNDLED_FONT_DIR.glob("*.[ot]t[fc]")) if BUNDLED_FONT_DIR.is_dir() else []
    for candidate in (*bundled, *WELL_KNOWN_FONT_PATHS):
        if candidate.is_file():
            return _open_font(str(candidate))
    raise FontUnavailableError(
        "no CJK OpenType font found for seal text; configure a font path or install "
        "fonts-noto-cjk (apt-get install fonts-noto-cjk)",
        tried=[str(p) for p in WELL_KNOWN_FONT_PATHS],
    )


def missing_glyphs(*, font: CjkFont, text: str) -> tuple[str, ...]:
    """Characters of `text` the font has no glyph for (first-seen order, no duplicates)."""
    covered = _coverage(str(font.path), font.index)
    missing: dict[str, None] = {}
    for char in text:
        if ord(char) not in covered:
            missing[char] = None
    return tuple(missing)


def describe_characters(chars: tuple[str, ...]) -> str:
    """Human list of characters with their code points, e.g. ``'\\ue000' (U+E000)``."""
    return ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)


@lru_cache(maxsize=16)
def _open_font(path: str) -> CjkFont:
    if not Path(path).is_file():
        raise FontUnavailableError(f"seal font file not found: {path}", path=path)
    faces: list[tuple[int, str, str]] = []
    for index in range(_MAX_FACES):
        try:
            family, style = ImageFont.truetype(path, 16, index=index).getname()
        except OSError:
            break
        faces.append((index, family or "", style or ""))
    if not faces:
        raise FontUnavailableError(f"not a readable OpenType font: {path}", path=path)

    def rank(face: tuple[int, str, str]) -> tuple[int, int]:
        words = face[1].split()
        return (0 if "SC" in words else 1, 1 if "Mono" in words else 0)

    index, family, style = min(faces, key=rank)
    if not _coverage(path, index):
        raise FontUnavailableError(f"font has no usable Unicode cmap: {path}", path=path)
    return CjkFont(path=Path(path), index=index, family=family, style=style)


@lru_cache(maxsize=64)
def _load(path: str, index: int, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size_px, index=index, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=8)
def _coverage(path: str, index: int) -> frozenset[int]:
    """Code points mapped to a real glyph (not .notdef) by the face's Unicode cmap."""
    data = Path(path).read_bytes()
    try:
        return _parse_cmap(data, index)
    except (struct.error, IndexError, ValueError) as exc:
        raise FontUnavailableError(f"cannot read the cmap of {path}: {exc}", path=path) from exc


def _parse_cmap(data: bytes, index: int) -> frozenset[int]:
    offset = 0
    if data[:4] == b"ttcf":
        (count,) = struct.unpack_from(">I", data, 8)
        if index >= count:
            raise ValueError(f"face {index} not in collection of {count}")
        (offset,) = struct.unpack_from(">I", data, 12 + 4 * index)
    (num_tables,) = struct.unpack_from(">H", data, offset + 4)
    cmap = None
    for i in range(num_tables):
        tag, _, table_offset, _ = struct.unpack_from(">4sIII", data, offset + 12 + 16 * i)
        if tag == b"cmap":
            cmap = table_offset
    if cmap is None:
        raise ValueError("no cmap table")
    (num_subtables,) = struct.unpack_from(">H", data, cmap + 2)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(num_subtables):
        platform, encoding, sub_offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        subtables[(platform, encoding)] = cmap + sub_offset
    for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0)):
        if key in subtables:
            start = subtables[key]
            (fmt,) = struct.unpack_from(">H", data, start)
            if fmt == 12:
                return _parse_format12(data, start)
            if fmt == 4:
                return _parse_format4(data, start)
    raise ValueError("no Unicode cmap subtable of format 4 or 12")


def _parse_format12(data: bytes, start: int) -> frozenset[int]:
    (groups,) = struct.unpack_from(">I", data, start + 12)
    points: set[int] = set()
    for i in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * i)
        points.update(range(first + (1 if glyph == 0 else 0), last + 1))
    return frozenset(points)


def _parse_format4(data: bytes, start: int) -> frozenset[int]:
    (seg_x2,) = struct.unpack_from(">H", data, start + 6)
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", data, start + 14)
    starts = struct.unpack_from(f">{segs}H", data, start + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", data, start + 16 + 2 * seg_x2)
    range_offsets_at = start + 16 + 3 * seg_x2
    range_offsets = struct.unpack_from(f">{segs}H", data, range_offsets_at)
    points: set[int] = set()
    for i in range(segs):
        for code in range(starts[i], ends[i] + 1):
            if code == 0xFFFF:
                continue
            if range_offsets[i] == 0:
                glyph = (code + deltas[i]) & 0xFFFF
            else:
                at = range_offsets_at + 2 * i + range_offsets[i] + 2 * (code - starts[i])
                (glyph,) = struct.unpack_from(">H", data, at)
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                points.add(code)
    return frozenset(points)
