"""`bytes.object_headers` finds exactly the object headers the `_OBJ_HEADER` pattern finds
(the scan for objects no cross-reference section accounts for must not lose one)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seals.verification.bytes import _OBJ_HEADER, object_headers
from tests.support.documents import contract_pdf

PIECES = [
    b"obj", b"endobj", b"objx", b"obj_", b"obj/", b" ", b"\n", b"\r\n", b"\t", b"\x00", b"\f",
    b"0", b"7", b"12", b"12345", b"123456", b"1234567890", b"12345678901", b"a", b"_", b"<<",
    b"%", b"stream", b"\xff", b"1 0 obj", b"12 0 obj\n", b"99999 65535 obj", b"1 123456 obj",
]  # fmt: skip


def _by_pattern(data: bytes, after: int) -> list[int]:
    return [match.start() for match in _OBJ_HEADER.finditer(data, after)]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.integers(min_value=0, max_value=60))
def test_the_same_headers_as_the_pattern(pieces: list[bytes], after: int) -> None:
    data = b"".join(pieces)
    assert object_headers(data, after) == _by_pattern(data, after)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_the_same_headers_in_arbitrary_bytes(data: bytes, after: int) -> None:
    data = data.replace(b"\x01", b"obj").replace(b"\x02", b" 0 ")  # make headers likely
    assert object_headers(data, after) == _by_pattern(data, after)


def test_the_same_headers_in_a_document_and_its_updates() -> None:
    pdf = contract_pdf(3)
    updated = pdf + b"\n7 0 obj\n<< /Type /Page >>\nendobj\n12345678901 0 obj 1 123456 obj 5 0 obj"
    for data in (pdf, updated):
        for after in (0, 1, len(pdf) // 2, len(pdf)):
            headers = object_headers(data, after)
            assert headers == _by_pattern(data, after)
        assert object_headers(data)  # a document has headers: the comparison is not vacuous
    assert len(object_headers(updated, len(pdf))) == 2  # `7 0 obj` and `5 0 obj`
