"""The object count behind `max_objects_per_revision`: counted from each `obj` backwards
(issue 12: the regular expression it replaces cost 4 ms per 1-page document), it must
count exactly the `N G obj` headers the pattern matches, and still refuse a flood."""

from __future__ import annotations

import random

import pytest

from seals.errors import DocumentTooComplexError
from seals.pdflimits import _OBJ, PdfLimits, check_structure, count_objects

EDGES = [
    b"1 0 obj",
    b"1 0 obj<<>>endobj 2 0 obj\n3 1\r\n\tobj",
    b"1234567890 0 obj",  # ten digits: a header
    b"12345678901 0 obj",  # eleven: none, and no header starts inside the number
    b"1 12345 obj",
    b"1 123456 obj",  # a six-digit generation: none
    b"1 0 objx",
    b"1 0 obj_",
    b"1 0 obj/",
    b"1 0obj",
    b"10 obj",
    b"x1 0 obj",
    b"01 0\n\n\n obj",
    b"1  \x0b\x0c 0 \t obj",
    b"obj 1 0 obj obj",
    b"",
]


@pytest.mark.parametrize("data", EDGES)
def test_the_count_is_the_header_pattern_s_on_edge_cases(data: bytes) -> None:
    assert count_objects(data) == len(_OBJ.findall(data))


def test_the_count_is_the_header_pattern_s_on_random_bytes() -> None:
    rnd = random.Random(12)
    alphabet = b"0123456789 \t\n\r\x0b\x0cobjOBJ_x<>/"
    for _ in range(3000):
        data = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 160)))
        assert count_objects(data) == len(_OBJ.findall(data)), data


def test_a_revision_over_the_object_limit_is_still_refused() -> None:
    flood = b"%PDF-1.7\n" + b"".join(b"%d 0 obj null endobj\n" % i for i in range(1, 502))
    limits = PdfLimits(max_objects_per_revision=500)
    with pytest.raises(DocumentTooComplexError) as refused:
        check_structure(flood + b"%%EOF\n", limits)
    assert refused.value.extra["limit"] == "max_objects_per_revision"
    assert refused.value.extra["value"] == 501
    check_structure(flood[: flood.index(b"501 0 obj")] + b"%%EOF\n", limits)  # 500: allowed


def test_a_remembered_inflated_size_is_what_inflating_gives_for_any_budget() -> None:
    import zlib

    from seals import pdflimits

    rng = random.Random(12)
    whole = zlib.compress(bytes(200_000))
    streams = [
        whole,
        whole[: len(whole) // 2],  # cut short: no end of the zlib data
        whole + b"trailing bytes",
        zlib.compress(rng.randbytes(5000)),
        b"not deflate at all",
        whole[:40] + b"\xff" * 40,  # damaged after some output
        b"",
    ]
    for budgets in ([10, 1 << 30, 1000, 200_000, 199_999], [1 << 30, 7, 200_001]):
        pdflimits._INFLATED.clear()
        for data in streams:
            for cap in budgets:
                expected = pdflimits._inflate(data, 0, len(data), cap)
                assert pdflimits._inflated_size(data, 0, len(data), cap) == expected, cap
    assert pdflimits._INFLATED  # sizes were remembered: the comparison used them
