"""Seal codes: 13 digits, like the national 防伪码 printed along a seal's bottom arc.

Twelve random digits (from `secrets`, so codes reveal nothing about the owner, the region or
the order of issue and cannot be enumerated: 10^12 possibilities) and one Damm check digit,
which catches every single-digit error and every adjacent transposition (ISO/IEC 7064
MOD 11,10 misses about 2% of transpositions), so a mistyped code is rejected before any
lookup.
"""

from __future__ import annotations

import secrets

from seals.errors import SealInputError

SEAL_CODE_LENGTH = 13


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


def new_seal_code() -> str:
    body = "".join(secrets.choice("0123456789") for _ in range(SEAL_CODE_LENGTH - 1))
    return body + check_digit(body)


def is_valid_seal_code(code: str) -> bool:
    return (
        len(code) == SEAL_CODE_LENGTH
        and code.isascii()
        and code.isdigit()
        and check_digit(code[:-1]) == code[-1]
    )


def validate_seal_code(code: str) -> str:
    """The code with surrounding spaces removed, or `SealInputError` saying what is wrong."""
    value = code.strip()
    if len(value) != SEAL_CODE_LENGTH or not (value.isascii() and value.isdigit()):
        raise SealInputError(f"a seal code is {SEAL_CODE_LENGTH} digits")
    if check_digit(value[:-1]) != value[-1]:
        raise SealInputError("the seal code's check digit does not match (mistyped?)")
    return value
