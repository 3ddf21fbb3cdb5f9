"""Seal codes, like the national 防伪码 printed along a seal's bottom arc.

Structured codes (15 digits, issued now): the 6-digit administrative division code of the
region (GB/T 2260; a verifier in another province sees which registry holds the seal),
8 random digits and a Damm check digit. Legacy codes (13 digits, still valid): twelve
random digits and a Damm check digit.

Serials come from `secrets`, not a counter: codes reveal nothing about the order of issue
and cannot be enumerated (10^8 per region; legacy codes 10^12). The Damm check digit catches
every single-digit error and every adjacent transposition (ISO/IEC 7064 MOD 11,10 misses
about 2% of transpositions), so a mistyped code is rejected before any lookup.
"""

from __future__ import annotations

import secrets

from seals.errors import SealInputError

SEAL_CODE_LENGTH = 13
"""Legacy codes (random)."""
STRUCTURED_CODE_LENGTH = 15
"""Region (6) + serial (8) + check digit (1)."""
REGION_LENGTH = 6


_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
"""The totally anti-symmetric quasigroup of order 10 from H. M. Damm (2004)."""


def check_digit(body: str) -> str:
    """The Damm check digit of a string of digits."""
    interim = 0
    for char in body:
        interim = _DAMM[interim][int(char)]
    return str(interim)


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def new_seal_code(region: str | None = None) -> str:
    """A structured code under ``region`` (6 digits), or a legacy random one without."""
    if region is None:
        body = _digits(SEAL_CODE_LENGTH - 1)
    else:
        if len(region) != REGION_LENGTH or not (region.isascii() and region.isdigit()):
            raise SealInputError("a seal code region is a 6-digit administrative division code")
        body = region + _digits(STRUCTURED_CODE_LENGTH - REGION_LENGTH - 1)
    return body + check_digit(body)


def is_valid_seal_code(code: str) -> bool:
    return (
        len(code) in (SEAL_CODE_LENGTH, STRUCTURED_CODE_LENGTH)
        and code.isascii()
        and code.isdigit()
        and check_digit(code[:-1]) == code[-1]
    )


def region_of(code: str) -> str | None:
    """The division code a structured seal code starts with (None for a legacy code)."""
    return code[:REGION_LENGTH] if len(code) == STRUCTURED_CODE_LENGTH else None


def validate_seal_code(code: str) -> str:
    """The code with surrounding spaces removed, or `SealInputError` saying what is wrong."""
    value = code.strip()
    lengths = (SEAL_CODE_LENGTH, STRUCTURED_CODE_LENGTH)
    if len(value) not in lengths or not (value.isascii() and value.isdigit()):
        raise SealInputError(
            f"a seal code is {STRUCTURED_CODE_LENGTH} digits (or {SEAL_CODE_LENGTH} for codes "
            "issued before regions)"
        )
    if check_digit(value[:-1]) != value[-1]:
        raise SealInputError("the seal code's check digit does not match (mistyped?)")
    return value
