"""GB 32100-2015 unified social credit codes and GB 11643-1999 resident ID numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pki.errors import InvalidIdentifierError
from pki.identifiers import (
    PROVINCE_CODES,
    USCC_CHARSET,
    USCC_ORGANIZATION_TYPES,
    mask,
    mask_phone,
    mask_resident_id,
    resident_id_check_character,
    uscc_check_character,
    validate_resident_id,
    validate_uscc,
)

VALID_USCC = [
    "91350100M000100Y43",
    "91330106MA2B3C4D5D",
    "91440300MA5F6G7H8B",
    "91110000100006147L",
    "123301000024938516",
    "123300004701032045",
]
VALID_IDS = ["11010519491231002X", "330106198503121231", "330102199001014574", "110101197806152345"]
TODAY = date(2025, 6, 1)


@pytest.mark.parametrize("code", VALID_USCC)
def test_sample_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert validate_uscc(f"  {code.lower()} ") == code


@pytest.mark.parametrize("number", VALID_IDS)
def test_sample_resident_ids_are_valid(number: str) -> None:
    assert validate_resident_id(number, today=TODAY) == number
    assert validate_resident_id(number.lower(), today=TODAY) == number


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y4", "must have 18 characters, got 17"),
        ("91350100M000100Y44", "check character at position 18 is '4', expected '3'"),
        ("91350100M000100I43", "character at position 16 is 'I'"),
        ("91350100M0001O0Y43", "character at position 14 is 'O'"),
        ("B1350100M000100Y43", "registration authority code at position 1 is 'B'"),
        ("94350100M000100Y43", "organization type code at position 2 is '4', expected one of 123"),
        ("913A0100M000100Y43", "region code character at position 4 is 'A'"),
        ("91990100M000100Y43", "region code at positions 3-8 is '990100'"),
    ],
)
def test_uscc_errors_name_the_position(code: str, fragment: str) -> None:
    with pytest.raises(InvalidIdentifierError) as caught:
        validate_uscc(code)
    assert fragment in caught.value.detail
    assert caught.value.code == "invalid-identifier"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("330106198503121232", "check character at position 18 is '2', expected '1'"),
        ("33010619850312123", "must have 18 characters, got 17"),
        ("3301061985031212A1", "character at position 17 is 'A', expected a digit"),
        ("33010619850312123Y", "check character at position 18 is 'Y', expected a digit or 'X'"),
        ("330106198502301231", "birth date at positions 7-14 is '19850230'"),
        ("330106203001011231", "birth date at positions 7-14 is 2030-01-01"),
        ("990106198503121231", "region code at positions 1-6 is '990106'"),
    ],
)
def test_resident_id_errors_name_the_position(number: str, fragment: str) -> None:
    with pytest.raises(InvalidIdentifierError) as caught:
        validate_resident_id(number, today=TODAY)
    assert fragment in caught.value.detail


def test_check_value_31_maps_to_zero() -> None:
    """When the weighted sum is a multiple of 31, 31 - 0 = 31 is written as '0'."""
    for serial in range(100_000):
        body = f"9133010600{serial:07d}"
        if uscc_check_character(body) == "0":
            break
    else:
        pytest.fail("no body with check character '0' found")
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert sum(USCC_CHARSET.index(c) * w for c, w in zip(body, weights, strict=True)) % 31 == 0
    assert validate_uscc(body + "0") == body + "0"


def test_masking() -> None:
    assert mask_resident_id("330106198503121231") == "3301**********1231"
    assert mask_phone("13812345678") == "138****5678"
    assert mask("abc", keep_start=2, keep_end=2) == "***"
    assert "19850312" not in mask_resident_id("330106198503121231")


# -- properties ---------------------------------------------------------------------------

charset_char = st.sampled_from(USCC_CHARSET)
authority_and_type = st.sampled_from(
    [(a, t) for a, types in USCC_ORGANIZATION_TYPES.items() for t in types]
)
province = st.sampled_from(sorted(PROVINCE_CODES))


@st.composite
def valid_uscc(draw: st.DrawFn) -> str:
    authority, org_type = draw(authority_and_type)
    region = draw(province) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=4, max_size=4))
    )
    org_code = "".join(draw(st.lists(charset_char, min_size=9, max_size=9)))
    body = authority + org_type + region + org_code
    return body + uscc_check_character(body)


@st.composite
def valid_resident_id(draw: st.DrawFn) -> str:
    region = draw(province) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=4, max_size=4))
    )
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(min_value=0, max_value=999))
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + resident_id_check_character(body)


@given(valid_uscc())
def test_generated_codes_pass(code: str) -> None:
    assert validate_uscc(code) == code


@given(valid_uscc(), st.integers(min_value=0, max_value=17), charset_char)
def test_any_single_substitution_is_rejected(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        replacement = USCC_CHARSET[(USCC_CHARSET.index(replacement) + 1) % len(USCC_CHARSET)]
    mutated = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidIdentifierError):
        validate_uscc(mutated)


@given(valid_resident_id())
def test_generated_resident_ids_pass(number: str) -> None:
    assert validate_resident_id(number, today=TODAY) == number


@given(valid_resident_id(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_resident_id_substitution_is_rejected(
    number: str, position: int, replacement: str
) -> None:
    if position < 17 and replacement == "X":
        replacement = "0"
    if number[position] == replacement:
        replacement = str((int(replacement) + 1) % 10) if replacement != "X" else "0"
    mutated = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdentifierError):
        validate_resident_id(mutated, today=TODAY)
