"""Seal images: round, oval and square seals with CJK text, rendered to deterministic PNG.

Everything is drawn as a coverage mask at a supersampled resolution, box-filtered down to the
target size and coloured seal red on a transparent background. Glyphs are placed one by one:
on an arc (rotated so that each character stands upright relative to the seal's centre), on a
horizontal line, or in a grid cell.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from os import PathLike

from PIL import Image, ImageDraw

from seals.errors import RenderError
from seals.fonts import CjkFont, describe_characters, find_cjk_font, missing_glyphs
from seals.kinds import KindSpec, SealHolder, SealKind, SealShape, kind_spec

SEAL_RED: tuple[int, int, int] = (230, 0, 18)
"""#E60012, the usual red of Chinese seal ink in digital seals."""

MIN_DPI = 72
MAX_DPI = 1200
MAX_ORGANIZATION_NAME = 40
MAX_PERSON_NAME = 9
_CANVAS_LIMIT = 4096
_SEAL_CODE = re.compile(r"[0-9A-Za-z-]{1,24}")
_TAXPAYER_NUMBER = re.compile(r"[0-9A-Z]{15,20}")
_FORBIDDEN = {"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"}
"""Control, format and separator characters (private-use ones go to the glyph check)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SealImageSpec:
    """What a seal image shows. Validated on construction (raises `RenderError`)."""

    kind: SealKind
    organization_name: str | None = None
    person_name: str | None = None
    seal_code: str | None = None
    """Drawn small along the bottom arc of round seals (e.g. the 13-digit 防伪码)."""
    taxpayer_number: str | None = None
    """Invoice seals only: the taxpayer number (USCC) across the middle."""
    inscription: str | None = None
    """Overrides the kind's horizontal text (e.g. "合同专用章（2）")."""
    name_suffix: bool = True
    """Name stamps: append 之印 to 2-character and 印 to 3-character names (traditional)."""
    color: tuple[int, int, int] = SEAL_RED

    def __post_init__(self) -> None:
        form = kind_spec(self.kind)
        if form.holder is SealHolder.ORGANIZATION:
            _check_text("organization_name", self.organization_name, MAX_ORGANIZATION_NAME)
            if self.person_name is not None:
                raise RenderError(f"a {self.kind} seal shows an organization, not a person")
        else:
            _check_text("person_name", self.person_name, MAX_PERSON_NAME)
            if self.organization_name is not None:
                raise RenderError(f"a {self.kind} seal shows a person, not an organization")
        if self.seal_code is not None:
            if not form.accepts_seal_code:
                raise RenderError(f"a {self.kind} seal has no place for a seal code")
            if not _SEAL_CODE.fullmatch(self.seal_code):
                raise RenderError("seal_code must be 1-24 letters, digits or '-'")
        if form.kind is SealKind.INVOICE:
            if self.taxpayer_number is None or not _TAXPAYER_NUMBER.fullmatch(self.taxpayer_number):
                raise RenderError("an invoice seal needs a taxpayer number of 15-20 A-Z/0-9")
        elif self.taxpayer_number is not None:
            raise RenderError("only invoice seals show a taxpayer number")
        if self.inscription is not None:
            if form.inscription is None:
                raise RenderError(f"a {self.kind} seal has no inscription line")
            _check_text("inscription", self.inscription, 12)
        if not all(0 <= c <= 255 for c in self.color) or len(self.color) != 3:
            raise RenderError("color must be an (r, g, b) triple of 0-255")


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderedSeal:
    """A rendered seal image (PNG, RGBA, transparent background)."""

    png: bytes
    width_px: int
    height_px: int
    width_mm: float
    height_mm: float
    dpi: int
    sha256: str


def render_seal(
    *, spec: SealImageSpec, font_path: str | PathLike[str] | None = None, dpi: int = 600
) -> RenderedSeal:
    """Render `spec` at its kind's physical size and `dpi` (same input, same bytes).

    Raises `RenderError` when the font lacks a character (naming it) and
    `FontUnavailableError` when no CJK font is available.
    """
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise RenderError(f"dpi must be between {MIN_DPI} and {MAX_DPI}")
    form = kind_spec(spec.kind)
    font = find_cjk_font(path=font_path)
    texts = "".join(
        t
        for t in (
            spec.organization_name,
            _name_stamp_text(spec),
            spec.seal_code,
            spec.taxpayer_number,
            _inscription(spec, form),
        )
        if t
    )
    missing = missing_glyphs(font=font, text=texts)
    if missing:
        raise RenderError(
            f"the seal font {font.family} {font.style} has no glyph for "
            f"{describe_characters(missing)}",
            characters=list(missing),
        )
    width_px = round(form.width_mm * dpi / 25.4)
    height_px = round(form.height_mm * dpi / 25.4)
    factor = max(1, min(4, _CANVAS_LIMIT // max(width_px, height_px)))
    canvas = _Canvas(
        font=font,
        size=(width_px * factor, height_px * factor),
        px_per_mm=factor * dpi / 25.4,
        margin_mm=0.5 * 25.4 / dpi,
    )
    if form.shape is SealShape.SQUARE:
        _draw_square(canvas, form, spec)
    else:
        _draw_round(canvas, form, spec)
    mask = canvas.mask.reduce(factor) if factor > 1 else canvas.mask
    image = Image.new("RGBA", (width_px, height_px), (*spec.color, 0))
    image.putalpha(mask)
    png = encode_png(image, dpi=dpi)
    return RenderedSeal(
        png=png,
        width_px=width_px,
        height_px=height_px,
        width_mm=form.width_mm,
        height_mm=form.height_mm,
        dpi=dpi,
        sha256=hashlib.sha256(png).hexdigest(),
    )


def encode_png(image: Image.Image, *, dpi: int | None = None) -> bytes:
    """PNG bytes with fixed encoder settings and no metadata besides the resolution."""
    out = io.BytesIO()
    options: dict[str, object] = {"optimize": False, "compress_level": 9}
    if dpi is not None:
        options["dpi"] = (dpi, dpi)
    image.save(out, format="PNG", **options)
    return out.getvalue()


def _check_text(field: str, value: str | None, limit: int) -> None:
    if value is None or not value.strip():
        raise RenderError(f"{field} is required")
    if value != value.strip():
        raise RenderError(f"{field} must not start or end with white space")
    if len(value) > limit:
        raise RenderError(f"{field} is longer than {limit} characters")
    bad = tuple(c for c in value if unicodedata.category(c) in _FORBIDDEN and c != " ")
    if bad:
        raise RenderError(
            f"{field} contains control or separator characters: {describe_characters(bad)}"
        )


def _inscription(spec: SealImageSpec, form: KindSpec) -> str | None:
    return spec.inscription if spec.inscription is not None else form.inscription


def _name_stamp_text(spec: SealImageSpec) -> str | None:
    name = spec.person_name
    if name is None:
        return None
    if spec.name_suffix and len(name) == 2:
        return name + "之印"
    if spec.name_suffix and len(name) == 3:
        return name + "印"
    return name


# --- drawing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Glyph:
    char: str
    x: float
    """Centre, canvas pixels."""
    y: float
    width: float
    """Em box size after condensing, canvas pixels."""
    height: float
    angle: float
    """Counter-clockwise rotation in degrees."""


class _Canvas:
    """A supersampled coverage mask with a mm coordinate system centred on the seal."""

    def __init__(
        self, *, font: CjkFont, size: tuple[int, int], px_per_mm: float, margin_mm: float
    ) -> None:
        self.font = font
        self.mask = Image.new("L", size, 0)
        self.draw = ImageDraw.Draw(self.mask)
        self.scale = px_per_mm
        self.cx = size[0] / 2
        self.cy = size[1] / 2
        self.half_w = size[0] / 2 / px_per_mm - margin_mm
        self.half_h = size[1] / 2 / px_per_mm - margin_mm

    def point(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """Canvas pixel of a point given in mm from the centre (y up)."""
        return self.cx + x_mm * self.scale, self.cy - y_mm * self.scale

    def ellipse(self, rx_mm: float, ry_mm: float, *, fill: int) -> None:
        x0, y0 = self.point(-rx_mm, ry_mm)
        x1, y1 = self.point(rx_mm, -ry_mm)
        self.draw.ellipse((x0, y0, x1, y1), fill=fill)

    def rectangle(self, half_w_mm: float, half_h_mm: float, *, fill: int) -> None:
        x0, y0 = self.point(-half_w_mm, half_h_mm)
        x1, y1 = self.point(half_w_mm, -half_h_mm)
        self.draw.rectangle((round(x0), round(y0), round(x1) - 1, round(y1) - 1), fill=fill)

    def star(self, radius_mm: float, *, y_mm: float = 0.0) -> None:
        """A regular five-pointed star, one point up."""
        inner = radius_mm * math.sin(math.radians(18)) / math.sin(math.radians(126))
        points = []
        for i in range(10):
            r = radius_mm if i % 2 == 0 else inner
            a = math.radians(90 + 36 * i)
            points.append(self.point(r * math.cos(a), y_mm + r * math.sin(a)))
        self.draw.polygon(points, fill=255)

    def advance(self, char: str) -> float:
        """Advance width of `char` in em."""
        size = 1000
        return self.font.at_size(size).getlength(char) / size

    def glyphs(self, glyphs: list[_Glyph]) -> None:
        for glyph in glyphs:
            self._glyph(glyph)

    def _glyph(self, g: _Glyph) -> None:
        em = max(8, round(g.height))
        face = self.font.at_size(em)
        advance = max(1, round(face.getlength(g.char)))
        cell = Image.new("L", (advance, em), 0)
        _, top, _, bottom = face.getbbox("国", anchor="ls")
        baseline = em / 2 - (top + bottom) / 2
        ImageDraw.Draw(cell).text((0, baseline), g.char, font=face, fill=255, anchor="ls")
        target = (max(1, round(g.width)), max(1, round(g.height)))
        if target != cell.size:
            cell = cell.resize(target, Image.Resampling.LANCZOS)
        if g.angle % 360:
            cell = cell.rotate(g.angle, resample=Image.Resampling.BICUBIC, expand=True)
        left = round(g.x - cell.width / 2)
        upper = round(g.y - cell.height / 2)
        self.mask.paste(255, (left, upper, left + cell.width, upper + cell.height), cell)


def _draw_round(canvas: _Canvas, form: KindSpec, spec: SealImageSpec) -> None:
    rx, ry = canvas.half_w, canvas.half_h
    border = form.border_mm
    canvas.ellipse(rx, ry, fill=255)
    canvas.ellipse(rx - border, ry - border, fill=0)
    inner_x, inner_y = rx - border, ry - border
    d = min(form.width_mm, form.height_mm)
    gap = 0.06 * d / 2
    assert spec.organization_name is not None
    name = spec.organization_name
    oval = form.shape is SealShape.OVAL
    inscription = _inscription(spec, form)
    # the name's ends must stay clear of what sits at the bottom
    max_span = 200.0 if oval else 225.0 if inscription else 250.0 if spec.seal_code else 270.0
    canvas.glyphs(
        _arc_glyphs(
            canvas,
            name,
            edge=(inner_x - gap, inner_y - gap),
            height_mm=(0.115 if oval else 0.155) * form.width_mm,
            min_height_mm=(0.08 if oval else 0.10) * form.width_mm,
            span=120.0 + 12.0 * len(name),
            max_span=max_span,
            top=True,
            max_ratio=0.75 if oval else 0.85,
        )
    )
    if form.has_star:
        star_r = 0.168 * d if inscription is None else 0.15 * d
        canvas.star(star_r, y_mm=0.0 if inscription is None else 0.02 * d)
    if spec.seal_code:
        canvas.glyphs(
            _arc_glyphs(
                canvas,
                spec.seal_code,
                edge=(inner_x - gap * 0.8, inner_y - gap * 0.8),
                height_mm=0.062 * d,
                min_height_mm=0.05 * d,
                span=None,
                max_span=100.0,
                top=False,
                tracking=1.05,
                max_ratio=1.0,
            )
        )
    if oval:
        assert spec.taxpayer_number is not None
        canvas.glyphs(
            _line_glyphs(
                canvas,
                spec.taxpayer_number,
                y_mm=0.0,
                height_mm=0.17 * form.height_mm,
                max_width_mm=0.58 * form.width_mm,
                tracking=1.0,
            )
        )
    if inscription:
        canvas.glyphs(
            _line_glyphs(
                canvas,
                inscription,
                y_mm=-(0.265 if oval else 0.23 if spec.seal_code else 0.245) * form.height_mm,
                height_mm=(0.16 if oval else 0.115) * form.height_mm,
                max_width_mm=(0.45 if oval else 0.52) * form.width_mm,
                tracking=1.08,
            )
        )


def _draw_square(canvas: _Canvas, form: KindSpec, spec: SealImageSpec) -> None:
    hw, hh = canvas.half_w, canvas.half_h
    border = form.border_mm
    canvas.rectangle(hw, hh, fill=255)
    canvas.rectangle(hw - border, hh - border, fill=0)
    text = _name_stamp_text(spec)
    assert text is not None
    pad = 0.045 * form.width_mm
    inner_w, inner_h = 2 * (hw - border - pad), 2 * (hh - border - pad)
    n = len(text)
    rows = 1 if n <= 2 else 2 if n <= 4 else 3
    cols = math.ceil(n / rows)
    base, extra = divmod(n, cols)
    col_w = inner_w / cols
    glyphs: list[_Glyph] = []
    chars = iter(text)
    for col in range(cols):  # column 0 is the rightmost (traditional reading order)
        count = base + (1 if col >= cols - extra else 0)
        cell_h = inner_h / count
        x = (hw - border - pad) - col_w * (col + 0.5)
        for row in range(count):
            y = (hh - border - pad) - cell_h * (row + 0.5)
            px, py = canvas.point(x, y)
            glyphs.append(
                _Glyph(
                    char=next(chars),
                    x=px,
                    y=py,
                    width=col_w * 0.98 * canvas.scale,
                    height=cell_h * 1.02 * canvas.scale,
                    angle=0.0,
                )
            )
    canvas.glyphs(glyphs)


def _line_glyphs(
    canvas: _Canvas,
    text: str,
    *,
    y_mm: float,
    height_mm: float,
    max_width_mm: float,
    tracking: float,
) -> list[_Glyph]:
    """Glyphs of `text` on a horizontal line centred at `y_mm`, condensed to fit."""
    weights = [canvas.advance(c) for c in text]
    pitch = height_mm * tracking
    natural = sum(weights) * pitch
    condense = min(1.0, max_width_mm / natural)
    total = natural * condense
    glyphs = []
    x = -total / 2
    for char, weight in zip(text, weights, strict=True):
        slot = weight * pitch * condense
        px, py = canvas.point(x + slot / 2, y_mm)
        glyphs.append(
            _Glyph(
                char=char,
                x=px,
                y=py,
                width=weight * height_mm * condense * canvas.scale,
                height=height_mm * canvas.scale,
                angle=0.0,
            )
        )
        x += slot
    return glyphs


def _arc_glyphs(
    canvas: _Canvas,
    text: str,
    *,
    edge: tuple[float, float],
    height_mm: float,
    min_height_mm: float,
    span: float | None,
    max_span: float,
    top: bool,
    tracking: float = 1.12,
    max_ratio: float = 0.85,
    min_ratio: float = 0.45,
) -> list[_Glyph]:
    """Glyphs of `text` inside the ellipse `edge` (semi-axes, mm), along its top or bottom.

    Characters are spread evenly by arc length over `span` degrees of the ellipse parameter
    (None: as much as the text needs), at most `max_span`; they are condensed (width/height
    down to `min_ratio`) and then shrunk (down to `min_height_mm`) when the text is too long,
    and rotated so that their tops point away from (top) or towards (bottom) the centre.
    """
    weights = [canvas.advance(c) for c in text]
    total_weight = sum(weights)
    h = height_mm
    if span is None:
        a, b = edge[0] - h / 2, edge[1] - h / 2
        needed = total_weight * h * tracking * max_ratio
        lo, hi = 0.0, max_span
        for _ in range(30):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if _ellipse_arc_length(a, b, mid) < needed else (lo, mid)
        span = hi
    span = min(span, max_span)
    while True:
        a, b = edge[0] - h / 2, edge[1] - h / 2
        arc = _ellipse_arc_length(a, b, span)
        ratio = arc / (total_weight * h * tracking)
        if ratio >= min_ratio or h <= min_height_mm:
            break
        h = max(min_height_mm, h * 0.97)
    ratio = min(ratio, max_ratio)
    middle = 90.0 if top else 270.0
    start = middle + span / 2 if top else middle - span / 2
    direction = -1.0 if top else 1.0
    glyphs = []
    position = 0.0
    for char, weight in zip(text, weights, strict=True):
        s = (position + weight / 2) / total_weight * arc
        t = start + direction * _ellipse_param_at(a, b, s, span)
        tr = math.radians(t)
        px, py = canvas.point(a * math.cos(tr), b * math.sin(tr))
        normal = math.degrees(math.atan2(math.sin(tr) / b, math.cos(tr) / a))
        glyphs.append(
            _Glyph(
                char=char,
                x=px,
                y=py,
                width=weight * h * ratio * canvas.scale,
                height=h * canvas.scale,
                angle=normal - middle,
            )
        )
        position += weight
    return glyphs


_ARC_STEPS = 720


def _ellipse_arc_length(a: float, b: float, span_deg: float) -> float:
    """Length of the arc of ellipse (a, b) over `span_deg` of parameter centred on the top."""
    return _ellipse_param_lengths(a, b, span_deg)[-1]


def _ellipse_param_at(a: float, b: float, s: float, span_deg: float) -> float:
    """Parameter offset (degrees from the arc's start) at arc length `s` along the arc."""
    lengths = _ellipse_param_lengths(a, b, span_deg)
    step = span_deg / _ARC_STEPS
    for i in range(1, len(lengths)):
        if lengths[i] >= s:
            seg = lengths[i] - lengths[i - 1]
            frac = (s - lengths[i - 1]) / seg if seg else 0.0
            return (i - 1 + frac) * step
    return span_deg


def _ellipse_param_lengths(a: float, b: float, span_deg: float) -> list[float]:
    # Symmetric about the vertical axis, so the same table serves top and bottom arcs.
    start = 90.0 + span_deg / 2
    step = span_deg / _ARC_STEPS
    lengths = [0.0]
    prev = (a * math.cos(math.radians(start)), b * math.sin(math.radians(start)))
    for i in range(1, _ARC_STEPS + 1):
        t = math.radians(start - step * i)
        point = (a * math.cos(t), b * math.sin(t))
        lengths.append(lengths[-1] + math.dist(prev, point))
        prev = point
    return lengths
