"""Seals land where the placement says: checked by rendering the signed pages with PDFium."""

from __future__ import annotations

import io
from io import BytesIO

import pytest
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from seals.placement import (
    MM_TO_PT,
    CoordinatePlacement,
    CrossPagePlacement,
    InvisiblePlacement,
    KeywordNotFoundError,
    KeywordPlacement,
    PageOutOfRangeError,
    PlacementOutsidePageError,
    find_keyword,
    page_geometries,
)
from seals.signing import InvalidPlacementError, SealAppearance, SealingSpec, sign_pdf
from tests.seals_signing.tools import page_count, red_pixels, render_page

A4_W_MM, A4_H_MM = 210.0, 297.0
TOLERANCE_MM = 1.0


def _sign(pdf: bytes, pki, seal, placement) -> bytes:
    return sign_pdf(
        pdf=pdf, identity=pki.alice, spec=SealingSpec(placement=placement, appearance=seal)
    ).pdf


def _assert_seal_at(box, centre_mm, size_mm=42.0) -> None:
    assert box is not None, "no red seal pixels"
    cx, cy = box.centre_mm
    assert abs(cx - centre_mm[0]) < TOLERANCE_MM, (box, centre_mm)
    assert abs(cy - centre_mm[1]) < TOLERANCE_MM, (box, centre_mm)
    # drawn at its physical size (the ring's outer edge is the image edge minus a margin)
    assert size_mm * 0.85 < box.right_mm - box.left_mm <= size_mm + TOLERANCE_MM


def test_coordinates_from_the_top_left_name_the_seal_centre(pki, seal, contract_pdf) -> None:
    signed = _sign(contract_pdf, pki, seal, CoordinatePlacement(page=2, x_mm=150, y_mm=80))
    _assert_seal_at(red_pixels(render_page(signed, 1)), (150, 80))
    assert red_pixels(render_page(signed, 0)) is None
    assert red_pixels(render_page(signed, 2)) is None


def test_keyword_in_a_cff_cid_font(pki, seal, contract_pdf) -> None:
    hits = find_keyword(pdf=contract_pdf, keyword="甲方（盖章）")
    assert len(hits) == 1 and hits[0].page_index == 2
    geometry = page_geometries(IncrementalPdfFileWriter(BytesIO(contract_pdf)).prev)[2]
    kx, ky = geometry.to_display((hits[0].box.left + hits[0].box.right) / 2, hits[0].box.top)
    signed = _sign(contract_pdf, pki, seal, KeywordPlacement(keyword="甲方（盖章）"))
    box = red_pixels(render_page(signed, 2))
    centre_y = ky + (hits[0].box.top - hits[0].box.bottom) / 2
    _assert_seal_at(box, (kx / MM_TO_PT, centre_y / MM_TO_PT))


def test_keyword_with_offset_and_latin_text(pki, seal, contract_pdf) -> None:
    hit = find_keyword(pdf=contract_pdf, keyword="Party A (Seal)")[-1]  # the seal line
    geometry = page_geometries(IncrementalPdfFileWriter(BytesIO(contract_pdf)).prev)[2]
    x1, y1 = geometry.to_display(hit.box.left, hit.box.top)
    x2, y2 = geometry.to_display(hit.box.right, hit.box.bottom)
    signed = _sign(
        contract_pdf,
        pki,
        seal,
        KeywordPlacement(
            keyword="Party A (Seal)", occurrence="last", offset_x_mm=30, offset_y_mm=-5
        ),
    )
    expected = ((x1 + x2) / 2 / MM_TO_PT + 30, (y1 + y2) / 2 / MM_TO_PT - 5)
    _assert_seal_at(red_pixels(render_page(signed, 2)), expected)


def test_keyword_in_a_truetype_cid_font(pki, seal, truetype_pdf) -> None:
    signed = _sign(truetype_pdf, pki, seal, KeywordPlacement(keyword="执法机关（盖章）"))
    assert red_pixels(render_page(signed, 1)) is not None
    assert red_pixels(render_page(signed, 0)) is None


def test_keyword_all_occurrences_one_signature(pki, contract_pdf) -> None:
    small = SealAppearance(image=seal_png(), width_mm=20, height_mm=20)
    result = sign_pdf(
        pdf=contract_pdf,
        identity=pki.alice,
        spec=SealingSpec(
            placement=KeywordPlacement(keyword="（盖章）", occurrence="all"), appearance=small
        ),
    )
    assert result.widget_count == 2
    image = render_page(result.pdf, 2)
    hits = find_keyword(pdf=contract_pdf, keyword="（盖章）")
    assert len(hits) == 2
    for hit in hits:
        y_mm = (841.89 - (hit.box.top + hit.box.bottom) / 2) / MM_TO_PT
        x_mm = (hit.box.left + hit.box.right) / 2 / MM_TO_PT
        region = (x_mm - 12, y_mm - 12, x_mm + 12, y_mm + 12)
        _assert_seal_at(red_pixels(image, region_mm=region), (x_mm, y_mm), size_mm=20)


def seal_png() -> bytes:
    from tests.seals_signing.conftest import red_seal_png

    return red_seal_png()


def test_riding_seal_slices_on_the_right_edge_of_every_page(pki, seal, contract_pdf) -> None:
    result = sign_pdf(
        pdf=contract_pdf,
        identity=pki.alice,
        spec=SealingSpec(placement=CrossPagePlacement(y_mm=120), appearance=seal),
    )
    assert result.widget_count == 3
    slice_mm = 42.0 / 3
    for index in range(page_count(result.pdf)):
        image = render_page(result.pdf, index)
        box = red_pixels(image)
        assert box is not None, f"page {index + 1} has no slice"
        # against the right edge, no wider than one slice, vertically centred at 120 mm
        assert box.left_mm >= A4_W_MM - slice_mm - TOLERANCE_MM
        assert box.right_mm <= A4_W_MM + 0.5
        assert abs((box.top_mm + box.bottom_mm) / 2 - 120) < 3 or index == 1
    # the three slices put side by side are the whole seal: the middle one holds the star
    middle = red_pixels(render_page(result.pdf, 1))
    assert middle is not None and middle.count > 0


def test_riding_seal_needs_two_pages(pki, seal, contract_pdf) -> None:
    with pytest.raises(InvalidPlacementError) as caught:
        _sign(contract_pdf, pki, seal, CrossPagePlacement(first_page=2, last_page=2))
    assert caught.value.code == "invalid-placement"


def test_invisible_has_no_widget_and_no_red(pki, contract_pdf) -> None:
    result = sign_pdf(
        pdf=contract_pdf, identity=pki.alice, spec=SealingSpec(placement=InvisiblePlacement())
    )
    assert result.widget_count == 0
    assert all(red_pixels(render_page(result.pdf, i)) is None for i in range(3))


def test_keyword_not_found_is_an_error_and_no_seal(pki, seal, contract_pdf) -> None:
    with pytest.raises(KeywordNotFoundError) as caught:
        _sign(contract_pdf, pki, seal, KeywordPlacement(keyword="丙方（盖章）"))
    assert caught.value.code == "keyword-not-found"


def test_page_out_of_range(pki, seal, contract_pdf) -> None:
    for page in (0, 4):
        with pytest.raises(PageOutOfRangeError) as caught:
            _sign(contract_pdf, pki, seal, CoordinatePlacement(page=page, x_mm=100, y_mm=100))
        assert caught.value.code == "page-out-of-range"


@pytest.mark.parametrize("x_mm, y_mm", [(10, 100), (200, 100), (100, 5), (100, 290), (-50, 10)])
def test_placement_outside_the_page(pki, seal, contract_pdf, x_mm, y_mm) -> None:
    with pytest.raises(PlacementOutsidePageError) as caught:
        _sign(contract_pdf, pki, seal, CoordinatePlacement(page=1, x_mm=x_mm, y_mm=y_mm))
    assert caught.value.code == "placement-outside-page"


def _reshape(pdf: bytes, *, media_box: tuple[float, float, float, float], rotate: int) -> bytes:
    """Every page gets the media box and /Rotate; content moved with the box's origin."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    for index in range(int(writer.root["/Pages"]["/Count"])):
        page_ref = writer.find_page_for_modification(index)[0]
        page = page_ref.get_object()
        page[pdf_name("/MediaBox")] = generic.ArrayObject(
            [generic.FloatObject(v) for v in media_box]
        )
        page[pdf_name("/Rotate")] = generic.NumberObject(rotate)
        shift = generic.StreamObject(stream_data=b"1 0 0 1 %g %g cm" % (media_box[0], media_box[1]))
        writer.add_stream_to_page(index, writer.add_object(shift), prepend=True)
        writer.mark_update(page_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_non_zero_media_box_origin(pki, seal, contract_pdf) -> None:
    shifted = _reshape(contract_pdf, media_box=(100, 200, 695.28, 1041.89), rotate=0)
    signed = _sign(shifted, pki, seal, CoordinatePlacement(page=1, x_mm=60, y_mm=200))
    _assert_seal_at(red_pixels(render_page(signed, 0)), (60, 200))
    # keyword search reports user space, which includes the shifted origin
    keyword_signed = _sign(shifted, pki, seal, KeywordPlacement(keyword="甲方（盖章）"))
    assert red_pixels(render_page(keyword_signed, 2)) is not None


def _top_half_png() -> bytes:
    """Red on top, transparent below: shows whether the seal is upright on screen."""
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    image.paste((220, 0, 0, 255), (0, 0, 200, 100))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotated_pages_take_display_coordinates_and_show_the_seal_upright(
    pki, contract_pdf, rotate
) -> None:
    rotated = _reshape(contract_pdf, media_box=(0, 0, 595.28, 841.89), rotate=rotate)
    display_w = A4_H_MM if rotate in (90, 270) else A4_W_MM
    appearance = SealAppearance(image=_top_half_png(), width_mm=40, height_mm=40)
    result = sign_pdf(
        pdf=rotated,
        identity=pki.alice,
        spec=SealingSpec(
            placement=CoordinatePlacement(page=1, x_mm=display_w - 60, y_mm=50),
            appearance=appearance,
        ),
    )
    box = red_pixels(render_page(result.pdf, 0))
    assert box is not None
    # the red half is the top half of a 40 mm square centred at (W-60, 50)
    assert abs(box.left_mm - (display_w - 80)) < TOLERANCE_MM, box
    assert abs(box.right_mm - (display_w - 40)) < TOLERANCE_MM, box
    assert abs(box.top_mm - 30) < TOLERANCE_MM, box
    assert abs(box.bottom_mm - 50) < TOLERANCE_MM, box


def test_riding_seal_on_rotated_pages(pki, seal, contract_pdf) -> None:
    rotated = _reshape(contract_pdf, media_box=(0, 0, 595.28, 841.89), rotate=90)
    result = sign_pdf(
        pdf=rotated,
        identity=pki.alice,
        spec=SealingSpec(placement=CrossPagePlacement(), appearance=seal),
    )
    for index in range(3):
        box = red_pixels(render_page(result.pdf, index))
        assert box is not None
        assert box.left_mm >= A4_H_MM - 14 - TOLERANCE_MM
