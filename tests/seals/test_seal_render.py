"""Seal images rendered for real and checked pixel by pixel."""

from __future__ import annotations

import hashlib
import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from seals.errors import RenderError
from seals.fonts import CjkFont
from seals.kinds import SealKind, SealShape, kind_spec
from seals.render import SEAL_RED, RenderedSeal, SealImageSpec, render_seal

DPI = 300
ORG = "杭州青禾科技有限公司"
LONG_ORG = "中华人民共和国杭州市西湖区市场监督管理局行政执法大队"
USCC = "91330106MA2B3C4D5D"

SAMPLES: dict[str, SealImageSpec] = {
    "official": SealImageSpec(kind=SealKind.OFFICIAL, organization_name=ORG),
    "official_code": SealImageSpec(
        kind=SealKind.OFFICIAL, organization_name=ORG, seal_code="3301060012345"
    ),
    "official_long_name": SealImageSpec(kind=SealKind.OFFICIAL, organization_name=LONG_ORG),
    "official_agency": SealImageSpec(
        kind=SealKind.OFFICIAL, organization_name="杭州市市场监督管理局"
    ),
    "contract": SealImageSpec(
        kind=SealKind.CONTRACT, organization_name=ORG, seal_code="3301060012346"
    ),
    "contract_bank": SealImageSpec(
        kind=SealKind.CONTRACT, organization_name="中国工商银行股份有限公司杭州西湖支行"
    ),
    "finance": SealImageSpec(kind=SealKind.FINANCE, organization_name=ORG),
    "finance_long_name": SealImageSpec(kind=SealKind.FINANCE, organization_name=LONG_ORG),
    "invoice": SealImageSpec(kind=SealKind.INVOICE, organization_name=ORG, taxpayer_number=USCC),
    "invoice_long_name": SealImageSpec(
        kind=SealKind.INVOICE,
        organization_name="深圳市前海某某供应链管理有限公司",
        taxpayer_number="91440300MA5F6G7H8B",
    ),
    "legal_representative_2": SealImageSpec(kind=SealKind.LEGAL_REPRESENTATIVE, person_name="张伟"),
    "legal_representative_3": SealImageSpec(
        kind=SealKind.LEGAL_REPRESENTATIVE, person_name="王小明"
    ),
    "legal_representative_4": SealImageSpec(
        kind=SealKind.LEGAL_REPRESENTATIVE, person_name="欧阳娜娜"
    ),
    "personal_2": SealImageSpec(kind=SealKind.PERSONAL, person_name="李娜"),
    "personal_3_plain": SealImageSpec(
        kind=SealKind.PERSONAL, person_name="陈晓东", name_suffix=False
    ),
}


@dataclass(frozen=True)
class Pixels:
    """Decoded RGBA image with helpers in mm from the seal's centre (y up)."""

    image: Image.Image
    alpha: bytes
    width: int
    height: int
    px_per_mm: float

    @classmethod
    def of(cls, rendered: RenderedSeal) -> Pixels:
        image = Image.open(io.BytesIO(rendered.png))
        image.load()
        assert image.mode == "RGBA"
        return cls(
            image=image,
            alpha=image.getchannel("A").tobytes(),
            width=image.width,
            height=image.height,
            px_per_mm=image.width / rendered.width_mm,
        )

    def at_mm(self, x_mm: float, y_mm: float) -> tuple[int, int, int, int]:
        x = int(self.width / 2 + x_mm * self.px_per_mm)
        y = int(self.height / 2 - y_mm * self.px_per_mm)
        pixel = self.image.getpixel((x, y))
        assert isinstance(pixel, tuple)
        return (pixel[0], pixel[1], pixel[2], pixel[3])

    def opaque(self) -> list[tuple[float, float]]:
        """Centres (in mm from the seal's centre, y up) of all pixels with any coverage."""
        return [(x, y) for x, y, _ in self.coverage()]

    def coverage(self) -> list[tuple[float, float, int]]:
        """Centre (mm from the seal's centre, y up) and alpha of every covered pixel."""
        w, h, s = self.width, self.height, self.px_per_mm
        return [
            ((i % w + 0.5 - w / 2) / s, (h / 2 - (i // w + 0.5)) / s, a)
            for i, a in enumerate(self.alpha)
            if a
        ]


def render(spec: SealImageSpec, dpi: int = DPI) -> RenderedSeal:
    return render_seal(spec=spec, dpi=dpi)


@pytest.fixture(scope="module")
def rendered() -> dict[str, RenderedSeal]:
    return {name: render(spec) for name, spec in SAMPLES.items()}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_kind_renders_a_plausible_seal(
    name: str, rendered: dict[str, RenderedSeal], artifacts: Path
) -> None:
    spec = SAMPLES[name]
    seal = rendered[name]
    (artifacts / f"{name}.png").write_bytes(seal.png)
    form = kind_spec(spec.kind)
    px = Pixels.of(seal)

    # physical size at the dpi
    assert (seal.width_mm, seal.height_mm) == (form.width_mm, form.height_mm)
    assert seal.width_px == px.width == round(form.width_mm * DPI / 25.4)
    assert seal.height_px == px.height == round(form.height_mm * DPI / 25.4)
    assert seal.sha256 == hashlib.sha256(seal.png).hexdigest()

    # every pixel is seal red; only coverage varies
    assert px.image.convert("RGB").getcolors() == [(px.width * px.height, SEAL_RED)]

    rx, ry = form.width_mm / 2, form.height_mm / 2
    border = form.border_mm
    pixel_mm = 1 / px.px_per_mm
    points = px.opaque()
    assert points
    if form.shape is SealShape.SQUARE:
        _check_square(px, points, rx=rx, border=border)
        return

    # transparent background outside the outline
    for corner in ((0, 0), (px.width - 1, 0), (0, px.height - 1), (px.width - 1, px.height - 1)):
        assert px.image.getpixel(corner) == (*SEAL_RED, 0)
    # nothing outside the outer border
    assert all((x / rx) ** 2 + (y / ry) ** 2 <= (1 + pixel_mm / ry) ** 2 for x, y in points)
    # the ring: opaque seal red all the way round
    for degrees in range(0, 360, 5):
        t = math.radians(degrees)
        ring = px.at_mm((rx - border / 2) * math.cos(t), (ry - border / 2) * math.sin(t))
        assert ring == (*SEAL_RED, 255), degrees
    # text stays inside the ring with a clear band between them
    band_outer = 1 - (border + 0.15) / ry
    band_inner = 1 - (border + 0.45) / ry
    inside = [(x / rx) ** 2 + (y / ry) ** 2 for x, y in points]
    assert not [q for q in inside if band_inner**2 < q < band_outer**2]
    text_pixels = [q for q in inside if q <= band_inner**2]
    assert len(text_pixels) > 0.05 * len(points)
    # organization name along the upper arc
    upper = [(x, y) for x, y in points if y > 0.45 * ry and (x / rx) ** 2 + (y / ry) ** 2 < 0.8]
    assert len(upper) > 200
    if form.has_star:
        assert px.at_mm(0, 0)[3] == 255  # the star's centre
        assert px.at_mm(0, 0.25 * rx)[3] == 255  # its upper point
        assert px.at_mm(0.1 * rx, 0.5 * rx)[3] == 0  # air between star and name
    if spec.kind is SealKind.INVOICE:
        # taxpayer number across the middle, centred
        middle = [x for x, y in points if abs(y) < 1.0 and abs(x) < 0.7 * rx]
        assert min(middle) < -0.45 * rx and max(middle) > 0.45 * rx
        assert abs(min(middle) + max(middle)) < 1.0


def _check_square(
    px: Pixels, points: list[tuple[float, float]], *, rx: float, border: float
) -> None:
    # the border: opaque red along all four sides, corners included
    for i in range(-10, 11):
        along = i / 10 * (rx - border / 2)
        for x, y in ((along, rx - border / 2), (along, -rx + border / 2)):
            assert px.at_mm(x, y) == (*SEAL_RED, 255)
            assert px.at_mm(y, x) == (*SEAL_RED, 255)
    # inside the border: characters on a transparent ground
    inside = (rx - border - 0.1) ** 2
    inner_area = 4 * (rx - border) ** 2 * px.px_per_mm**2
    inked = [p for p in points if max(abs(p[0]), abs(p[1])) ** 2 < inside]
    assert 0.15 * inner_area < len(inked) < 0.7 * inner_area


def test_print_quality_default_is_600_dpi_with_resolution_metadata(artifacts: Path) -> None:
    seal = render_seal(spec=SAMPLES["official_code"])
    (artifacts / "official_code_600dpi.png").write_bytes(seal.png)
    assert (seal.dpi, seal.width_px, seal.height_px) == (600, 992, 992)
    image = Image.open(io.BytesIO(seal.png))
    assert image.mode == "RGBA"
    assert image.info["dpi"] == pytest.approx((600, 600), abs=0.1)
    assert set(image.info) <= {"dpi"}  # no text chunks, times or profiles
    assert image.getpixel((0, 0)) == (*SEAL_RED, 0)
    assert image.getpixel((496, 496)) == (*SEAL_RED, 255)


def test_same_input_same_bytes_and_different_names_different_bytes() -> None:
    spec = SAMPLES["contract"]
    first, second = render(spec, dpi=150), render(spec, dpi=150)
    assert first.png == second.png
    assert first.sha256 == second.sha256
    other = render(
        SealImageSpec(kind=SealKind.CONTRACT, organization_name="杭州青苗科技有限公司"), dpi=150
    )
    assert other.png != first.png
    no_code = render(SealImageSpec(kind=SealKind.CONTRACT, organization_name=ORG), dpi=150)
    assert no_code.png != first.png


def test_arc_characters_stand_tangentially_around_the_centre() -> None:
    # "一" is one horizontal stroke: on the arc each must lie along the tangent at its position
    seal = render(SealImageSpec(kind=SealKind.OFFICIAL, organization_name="一一一一一"), dpi=200)
    points = [
        p for p in Pixels.of(seal).coverage() if 0.45 * 21 < math.hypot(p[0], p[1]) < 0.9 * 21
    ]
    points.sort(key=lambda p: math.atan2(p[1], p[0]))
    strokes: list[list[tuple[float, float, int]]] = [[points[0]]]
    for prev, point in itertools.pairwise(points):
        if math.degrees(math.atan2(point[1], point[0]) - math.atan2(prev[1], prev[0])) > 5:
            strokes.append([])
        strokes[-1].append(point)
    assert len(strokes) == 5
    positions, tilts = [], []
    for stroke in strokes:  # alpha-weighted centroid and principal axis of each stroke
        total = sum(a for _, _, a in stroke)
        mx = sum(x * a for x, _, a in stroke) / total
        my = sum(y * a for _, y, a in stroke) / total
        sxx = sum(a * (x - mx) ** 2 for x, _, a in stroke)
        syy = sum(a * (y - my) ** 2 for _, y, a in stroke)
        sxy = sum(a * (x - mx) * (y - my) for x, y, a in stroke)
        axis = math.degrees(0.5 * math.atan2(2 * sxy, sxx - syy))
        position = math.degrees(math.atan2(my, mx))
        positions.append(position)
        tilts.append((axis - (position - 90) + 90) % 180 - 90)
    # the serif 一 rises slightly to its right; what matters is the same tilt everywhere
    assert all(abs(t) < 8 for t in tilts)
    assert max(tilts) - min(tilts) < 0.5
    steps = [b - a for a, b in itertools.pairwise(positions)]
    assert max(steps) - min(steps) < 0.5  # evenly spaced
    assert positions[0] + positions[-1] == pytest.approx(2 * positions[2], abs=0.5)


def test_inscription_is_horizontal_and_centred_under_the_star() -> None:
    px = Pixels.of(render(SAMPLES["contract"], dpi=200))
    label = [(x, y) for x, y in px.opaque() if -13 < y < -7 and abs(x) < 14]
    xs, ys = [x for x, _ in label], [y for _, y in label]
    assert max(xs) - min(xs) > 3 * (max(ys) - min(ys))
    assert abs(max(xs) + min(xs)) < 0.5


def test_long_names_condense_onto_the_arc_instead_of_overflowing() -> None:
    short = Pixels.of(render(SAMPLES["official"], dpi=150)).opaque()
    long = Pixels.of(render(SAMPLES["official_long_name"], dpi=150)).opaque()

    def arc_extent(points: list[tuple[float, float]]) -> float:
        """Degrees covered by the name, measured from the top of the seal."""
        from_top = [
            math.degrees(math.atan2(x, y))
            for x, y in points
            if 0.55 * 21 < math.hypot(x, y) < 0.88 * 21
        ]
        return max(from_top) - min(from_top)

    assert 200 < arc_extent(short) < arc_extent(long) < 275


@pytest.mark.parametrize(
    ("name", "missing"),
    [("杭州\ue000科技有限公司", "U+E000"), ("杭州青禾😀有限公司", "U+1F600")],
)
def test_characters_missing_from_the_font_are_refused_by_name(name: str, missing: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(SealImageSpec(kind=SealKind.OFFICIAL, organization_name=name), dpi=100)
    assert missing in caught.value.detail
    assert caught.value.code == "seal-render-failed"
    assert list(caught.value.extra["characters"]) == [chr(int(missing[2:], 16))]


def test_missing_glyph_in_a_person_name_is_refused() -> None:
    with pytest.raises(RenderError, match=r"U\+E000"):
        render(SealImageSpec(kind=SealKind.PERSONAL, person_name="张\ue000"), dpi=100)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": SealKind.OFFICIAL}, "organization_name is required"),
        ({"kind": SealKind.OFFICIAL, "organization_name": "  "}, "organization_name"),
        ({"kind": SealKind.OFFICIAL, "organization_name": "杭州\n公司"}, r"U\+000A"),
        ({"kind": SealKind.OFFICIAL, "organization_name": "杭" * 41}, "longer than 40"),
        ({"kind": SealKind.OFFICIAL, "organization_name": ORG, "person_name": "张伟"}, "person"),
        ({"kind": SealKind.PERSONAL, "organization_name": ORG}, "person_name is required"),
        ({"kind": SealKind.INVOICE, "organization_name": ORG}, "taxpayer number"),
        (
            {"kind": SealKind.INVOICE, "organization_name": ORG, "taxpayer_number": "123"},
            "taxpayer number",
        ),
        (
            {"kind": SealKind.CONTRACT, "organization_name": ORG, "taxpayer_number": USCC},
            "only invoice",
        ),
        (
            {
                "kind": SealKind.INVOICE,
                "organization_name": ORG,
                "taxpayer_number": USCC,
                "seal_code": "123",
            },
            "no place for a seal code",
        ),
        ({"kind": SealKind.OFFICIAL, "organization_name": ORG, "seal_code": "12 3"}, "seal_code"),
        ({"kind": SealKind.OFFICIAL, "organization_name": ORG, "inscription": "x"}, "inscription"),
        ({"kind": SealKind.PERSONAL, "person_name": "张" * 10}, "longer than 9"),
    ],
)
def test_invalid_specs_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        SealImageSpec(**fields)  # type: ignore[arg-type]


def test_dpi_is_bounded() -> None:
    with pytest.raises(RenderError, match="dpi"):
        render(SAMPLES["official"], dpi=10)


def test_an_explicit_font_is_used(cjk_font: CjkFont) -> None:
    spec = SAMPLES["personal_2"]
    wqy = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    if not wqy.is_file() or cjk_font.path == wqy:
        pytest.skip("needs fonts-wqy-zenhei besides the default font")
    assert render_seal(spec=spec, font_path=wqy, dpi=150).png != render_seal(spec=spec, dpi=150).png
