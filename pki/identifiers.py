"""Chinese identifiers: unified social credit code (GB 32100-2015) and resident ID (GB 11643-1999).

Validators return the canonical form (stripped, upper case) or raise `InvalidIdentifierError`
whose detail names the offending position (1-based) and what was expected there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pki.errors import InvalidIdentifierError

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015 (no I, O, Z, S, V); a character's value is its index."""

USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

USCC_ORGANIZATION_TYPES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办直管群众团体, 其他
    "2": "19",  # 外交
    "3": "123459",  # 司法行政
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业
    "Y": "1",  # 其他
}
"""Registration authority code (position 1) -> allowed organization type codes (position 2)."""

PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "  # noqa: SIM905
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
"""First two digits of GB/T 2260 administrative division codes."""

_USCC_REGION_PREFIXES = PROVINCE_CODES | {"10"}  # 100000: organisations registered nationally
_RESIDENT_REGION_PREFIXES = PROVINCE_CODES | {"83"}  # 83: Taiwan residents' residence permits

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
"""Check character indexed by (weighted sum mod 11), ISO 7064 MOD 11-2."""


def _canonical(value: str, *, kind: str, length: int) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifierError(f"{kind} must be a string", kind=kind)
    text = value.strip().upper()
    if len(text) != length:
        raise InvalidIdentifierError(
            f"{kind} must have {length} characters, got {len(text)}", kind=kind
        )
    return text


def uscc_check_character(body: str) -> str:
    """Check character (position 18) for the first 17 characters of a USCC."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Validate an 18-character unified social credit code and return it upper-cased."""
    kind = "unified social credit code"
    text = _canonical(code, kind=kind, length=18)
    for position, char in enumerate(text, start=1):
        if char not in USCC_CHARSET:
            raise InvalidIdentifierError(
                f"character at position {position} is {char!r}, "
                "expected a digit or a letter other than I, O, S, V, Z",
                kind=kind,
                position=position,
            )
    authority, org_type = text[0], text[1]
    allowed_types = USCC_ORGANIZATION_TYPES.get(authority)
    if allowed_types is None:
        raise InvalidIdentifierError(
            f"registration authority code at position 1 is {authority!r}, "
            f"expected one of {''.join(USCC_ORGANIZATION_TYPES)}",
            kind=kind,
            position=1,
        )
    if org_type not in allowed_types:
        raise InvalidIdentifierError(
            f"organization type code at position 2 is {org_type!r}, expected one of "
            f"{allowed_types} for registration authority {authority!r}",
            kind=kind,
            position=2,
        )
    region = text[2:8]
    for position, char in enumerate(region, start=3):
        if not char.isdigit():
            raise InvalidIdentifierError(
                f"region code character at position {position} is {char!r}, expected a digit",
                kind=kind,
                position=position,
            )
    if region[:2] not in _USCC_REGION_PREFIXES:
        raise InvalidIdentifierError(
            f"region code at positions 3-8 is {region!r}, "
            "expected a GB/T 2260 division (province prefix unknown)",
            kind=kind,
            position=3,
        )
    expected = uscc_check_character(text[:17])
    if text[17] != expected:
        raise InvalidIdentifierError(
            f"check character at position 18 is {text[17]!r}, expected {expected!r}",
            kind=kind,
            position=18,
        )
    return text


def resident_id_check_character(body: str) -> str:
    """Check character (position 18) for the first 17 digits of a resident ID number."""
    total = sum(int(c) * w for c, w in zip(body, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK[total % 11]


def validate_resident_id(number: str, *, today: date | None = None) -> str:
    """Validate an 18-character resident ID number; return it with an upper-case 'X'."""
    kind = "resident ID number"
    text = _canonical(number, kind=kind, length=18)
    for position, char in enumerate(text[:17], start=1):
        if not char.isdigit():
            raise InvalidIdentifierError(
                f"character at position {position} is {char!r}, expected a digit",
                kind=kind,
                position=position,
            )
    if text[17] not in "0123456789X":
        raise InvalidIdentifierError(
            f"check character at position 18 is {text[17]!r}, expected a digit or 'X'",
            kind=kind,
            position=18,
        )
    if text[:2] not in _RESIDENT_REGION_PREFIXES:
        raise InvalidIdentifierError(
            f"region code at positions 1-6 is {text[:6]!r}, "
            "expected a GB/T 2260 division (province prefix unknown)",
            kind=kind,
            position=1,
        )
    birth_text = text[6:14]
    try:
        birth = date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:8]))
    except ValueError:
        raise InvalidIdentifierError(
            f"birth date at positions 7-14 is {birth_text!r}, expected a real date YYYYMMDD",
            kind=kind,
            position=7,
        ) from None
    current = today or datetime.now(UTC).date()
    if birth > current or birth.year < 1850:
        raise InvalidIdentifierError(
            f"birth date at positions 7-14 is {birth.isoformat()}, "
            f"expected a date between 1850-01-01 and {current.isoformat()}",
            kind=kind,
            position=7,
        )
    expected = resident_id_check_character(text[:17])
    if text[17] != expected:
        raise InvalidIdentifierError(
            f"check character at position 18 is {text[17]!r}, expected {expected!r}",
            kind=kind,
            position=18,
        )
    return text


def mask(value: str, *, keep_start: int, keep_end: int, char: str = "*") -> str:
    """Mask the middle of `value`; short values are masked entirely. Never raises."""
    text = str(value)
    if len(text) <= keep_start + keep_end:
        return char * len(text)
    return text[:keep_start] + char * (len(text) - keep_start - keep_end) + text[-keep_end:]


def mask_resident_id(number: str) -> str:
    """`330106198503121231` -> `3301**********1231`, for logs, lists and reports."""
    return mask(number.strip(), keep_start=4, keep_end=4)


def mask_phone(number: str) -> str:
    """`13812345678` -> `138****5678`."""
    return mask(number.strip(), keep_start=3, keep_end=4)


PROVINCE_NAMES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip
"""GB/T 2260 province-level divisions by their two-digit prefix."""


def division_code(uscc: str) -> str:
    """The administrative division code (GB/T 2260, 6 digits) of the registration authority
    that issued a unified social credit code: its positions 3-8 (GB 32100-2015 §4.2).
    ``100000`` marks organizations registered nationally. Validates the code first."""
    return validate_uscc(uscc)[2:8]


def province_of(division: str) -> str | None:
    """The province-level name of a division code (None when not a known prefix)."""
    if division.startswith("10"):
        return "全国"
    return PROVINCE_NAMES.get(division[:2])
