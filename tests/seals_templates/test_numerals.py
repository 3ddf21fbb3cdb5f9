"""Amounts in Chinese capital numerals: the People's Bank of China's own examples, the zero
rules, 角/分, the largest units, and refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seals.numerals import DIGITS, MAX_AMOUNT, AmountError, amount_in_words, format_amount


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        # examples of 《正确填写票据和结算凭证的基本规定》
        ("1409.50", "人民币壹仟肆佰零玖元伍角"),
        ("6007.14", "人民币陆仟零柒元壹角肆分"),
        ("1680.32", "人民币壹仟陆佰捌拾元零叁角贰分"),
        ("107000.53", "人民币壹拾万柒仟元零伍角叁分"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "人民币叁佰贰拾伍元零肆分"),
        # scenario 2
        ("500000.00", "人民币伍拾万元整"),
    ],
)
def test_the_official_examples(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),  # 壹拾, never a bare 拾
        ("15", "壹拾伍元整"),
        ("100", "壹佰元整"),
        ("101", "壹佰零壹元整"),
        ("110", "壹佰壹拾元整"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1100", "壹仟壹佰元整"),
        ("10000", "壹万元整"),
        ("10001", "壹万零壹元整"),
        ("10010", "壹万零壹拾元整"),
        ("10100", "壹万零壹佰元整"),
        ("11000", "壹万壹仟元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("101000", "壹拾万壹仟元整"),
        ("1000100", "壹佰万零壹佰元整"),
        ("20000000", "贰仟万元整"),
        ("100000000", "壹亿元整"),
        ("100000001", "壹亿零壹元整"),
        ("100010000", "壹亿零壹万元整"),
        ("110000000", "壹亿壹仟万元整"),
        ("1000000000", "壹拾亿元整"),
        ("1000000000000", "壹万亿元整"),
        ("1000100000000", "壹万零壹亿元整"),
        ("1234567890123456", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌亿玖仟零壹拾贰万叁仟肆佰伍拾陆元整"),
    ],
)
def test_zero_rules_and_units(amount: str, words: str) -> None:
    assert amount_in_words(amount, prefix="") == words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.01", "壹分"),
        ("0.10", "壹角"),
        ("0.5", "伍角"),
        ("0.55", "伍角伍分"),
        ("0.05", "伍分"),
        ("1.00", "壹元整"),
        ("1.20", "壹元贰角"),  # nothing after 角
        ("1.23", "壹元贰角叁分"),
        ("1.03", "壹元零叁分"),  # 角 is zero: 零 before 分
        ("10.50", "壹拾元零伍角"),  # 元 digit is zero: 零 before the cents
        ("10.05", "壹拾元零伍分"),  # one 零 for both
        ("100.30", "壹佰元零叁角"),
        ("16400.02", "壹万陆仟肆佰元零贰分"),
    ],
)
def test_jiao_and_fen(amount: str, words: str) -> None:
    assert amount_in_words(amount, prefix="") == words


def test_the_largest_amount_and_beyond() -> None:
    assert amount_in_words(MAX_AMOUNT).endswith("玖万玖仟玖佰玖拾玖元玖角玖分")
    with pytest.raises(AmountError):
        amount_in_words(MAX_AMOUNT + Decimal("0.01"))


@pytest.mark.parametrize("bad", ["-1", "1.005", "abc", "NaN", "Infinity", "", 1.5, True, None])
def test_what_cannot_be_written_is_refused(bad: object) -> None:
    with pytest.raises(AmountError):
        amount_in_words(bad)  # type: ignore[arg-type]


def test_integers_strings_and_trailing_zeros_agree() -> None:
    assert (
        amount_in_words(500000)
        == amount_in_words("500000.00")
        == amount_in_words(Decimal("500000.000"))
    )


def test_figures() -> None:
    assert format_amount(Decimal("500000")) == "500,000.00"
    assert format_amount("1234567.5") == "1,234,567.50"


def _parse(words: str) -> int:
    """An independent reader of capital numerals (back to fen), for the round trip."""
    units = {"拾": 10, "佰": 100, "仟": 1000}
    total = section = digit = 0
    yuan_part, _, cents_part = words.partition("元")
    if not _:
        yuan_part, cents_part = "", words
    for char in yuan_part:
        if char in DIGITS:
            digit = DIGITS.index(char)
        elif char in units:
            section += digit * units[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000  # after 亿 too: the part below 亿
            section = digit = 0
        elif char == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
    total += section + digit
    fen = 0
    for i, char in enumerate(cents_part):
        if char == "角":
            fen += DIGITS.index(cents_part[i - 1]) * 10
        elif char == "分":
            fen += DIGITS.index(cents_part[i - 1])
    return total * 100 + fen


@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_round_trip(fen: int) -> None:
    """Every amount up to 亿 reads back to itself; no two amounts share their words."""
    words = amount_in_words(Decimal(fen) / 100, prefix="")
    assert _parse(words) == fen
    assert "零零" not in words
    assert not words.startswith("零") or fen == 0
