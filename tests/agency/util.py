"""Helpers for the agency tests: credit codes in a chosen administrative division."""

from __future__ import annotations

import random

from pki.identifiers import uscc_check_character
from tests.conftest import USCC_CHARSET


def uscc_in(division: str, rng: random.Random | None = None) -> str:
    """A valid enterprise credit code (prefix 91) registered in `division` (6 digits)."""
    rng = rng or random.Random()
    body = "91" + division + "".join(rng.choice(USCC_CHARSET) for _ in range(9))
    return body + uscc_check_character(body)
