"""CJK font discovery and glyph coverage read from the font's own cmap."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageFont

from seals.errors import FontUnavailableError
from seals.fonts import CjkFont, find_cjk_font, missing_glyphs

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
NAMES = "杭州青禾科技有限公司中华人民共和国西湖区市场监督管理局行政执法大队张伟王小明欧阳娜娜之印"


def test_discovered_font_is_a_simplified_chinese_face(cjk_font: CjkFont) -> None:
    assert cjk_font.path.is_file()
    assert "SC" in cjk_font.family.split() or "WenQuanYi" in cjk_font.family
    assert (
        missing_glyphs(
            font=cjk_font, text=NAMES + "合同财务发票专用章0123456789ABCDEFGHJKLMNPQRTUWXY"
        )
        == ()
    )


def test_noto_serif_bold_sc_is_preferred_when_installed(cjk_font: CjkFont) -> None:
    noto = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc")
    if not noto.is_file():
        pytest.skip("fonts-noto-cjk is not installed")
    assert (cjk_font.path, cjk_font.family, cjk_font.style) == (noto, "Noto Serif CJK SC", "Bold")
    assert ImageFont.truetype(str(noto), 12, index=cjk_font.index).getname()[0] == cjk_font.family


def test_explicit_path_wins_and_picks_the_collection_face() -> None:
    if not WQY.is_file():
        pytest.skip("fonts-wqy-zenhei is not installed")
    font = find_cjk_font(path=WQY)
    assert (font.path, font.index, font.family) == (WQY, 0, "WenQuanYi Zen Hei")


def test_explicit_path_that_is_missing_or_not_a_font_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FontUnavailableError, match="not found"):
        find_cjk_font(path=tmp_path / "nope.ttf")
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"this is not a font")
    with pytest.raises(FontUnavailableError, match="not a readable OpenType font"):
        find_cjk_font(path=junk)


def test_missing_glyphs_lists_each_missing_character_once_in_order(cjk_font: CjkFont) -> None:
    text = "杭州\ue000青禾😀\ue000"
    assert missing_glyphs(font=cjk_font, text=text) == ("\ue000", "😀")
    assert missing_glyphs(font=cjk_font, text="") == ()


def test_cmap_agrees_with_what_freetype_draws(cjk_font: CjkFont) -> None:
    # a character the cmap lacks is drawn as .notdef (the same box as any other missing one);
    # a covered one is not
    face = cjk_font.at_size(48)

    def ink(char: str) -> bytes:
        return bytes(face.getmask(char))

    notdef = ink("\U0010fffd")
    assert missing_glyphs(font=cjk_font, text="\U0010fffd\ue000") == ("\U0010fffd", "\ue000")
    assert ink("\ue000") == notdef
    for char in "杭州青禾印":
        assert ink(char) != notdef
