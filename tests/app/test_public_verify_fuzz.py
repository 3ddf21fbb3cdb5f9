"""Fuzzing the public verification endpoints over HTTP with mutated sealed PDFs (sealed
through the API): never a 500, always a report or a problem, in bounded time; oversized
uploads are refused before they are read."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.test_public_verify import (  # noqa: F401 - fixtures used by name
    fresh_client,
    sealed,
)

INTERESTING = (
    b"/ByteRange",
    b"/Contents",
    b"startxref",
    b"xref",
    b"/Length",
    b" obj",
    b"/Annots",
    b"/Kids",
    b"/Rect",
    b"/AcroForm",
    b"/DSS",
    b"%%EOF",
    b"/Filter",
)
OPS = ("flip", "truncate", "insert", "delete", "duplicate", "overwrite", "digits")


def offsets(pdf: bytes) -> list[int]:
    found = [m.start() for word in INTERESTING for m in re.finditer(re.escape(word), pdf)]
    return sorted(found) or [0]


@st.composite
def mutations(draw: st.DrawFn, base: bytes, hot: list[int]) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        if draw(st.booleans()):
            at = draw(st.sampled_from(hot)) + draw(st.integers(-8, 40))
        else:
            at = draw(st.integers(0, len(data) - 1))
        at = min(max(at, 0), len(data) - 1)
        op = draw(st.sampled_from(OPS))
        blob = draw(st.binary(min_size=1, max_size=32))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = blob
        elif op == "delete":
            del data[at : at + len(blob)]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 4096))]
        elif op == "overwrite":
            data[at : at + len(blob)] = blob
        else:  # replace a run of digits (offsets, lengths, ByteRange values) by another number
            end = at
            while end < len(data) and chr(data[end]).isdigit():
                end += 1
            data[at:end] = str(draw(st.sampled_from([0, 1, -1, 2**31, 10**12, len(base)]))).encode()
    return bytes(data)


@pytest.fixture(scope="module")
def base(sealed: dict[str, Any]) -> Iterator[tuple[bytes, list[int]]]:  # noqa: F811
    pdf = sealed["pdf"]
    yield pdf, offsets(pdf)


def test_fuzz_verify_endpoints(app: Any, base: tuple[bytes, list[int]]) -> None:
    pdf, hot = base
    limit = app.state.settings.verify_max_seconds
    slowest = [0.0]

    @settings(
        max_examples=int(os.environ.get("ESEAL_FUZZ_EXAMPLES", "40")),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=mutations(pdf, hot), target=st.sampled_from(["json"] * 6 + ["pdf", "page"]))
    def check(data: bytes, target: str) -> None:
        client = fresh_client(app)
        started = time.monotonic()
        if target == "page":
            response = client.post("/verify", files={"file": ("f.pdf", data, "application/pdf")})
        else:
            response = client.post(
                f"/api/v1/verify?format={target}",
                content=data,
                headers={"content-type": "application/pdf"},
            )
        elapsed = time.monotonic() - started
        slowest[0] = max(slowest[0], elapsed)
        assert response.status_code in (200, 413, 422), (response.status_code, response.text[:500])
        assert elapsed < limit + 15, elapsed  # verification budget + thumbnails/report
        if response.status_code != 200:
            return
        if target == "json":
            report = response.json()
            assert report["indication"] in ("TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE")
            assert report["verdict_zh"] and report["verdict_en"]
        elif target == "pdf":
            assert response.content.startswith(b"%PDF-")
        else:
            assert '<h1 id="verdict">' in response.text

    check()
    assert slowest[0] < limit + 15


def test_oversized_uploads_are_refused(app: Any) -> None:
    client = fresh_client(app)
    too_big = b"%PDF-1.7\n" + b"0" * app.state.settings.max_body_bytes
    response = client.post(
        "/api/v1/verify", content=too_big, headers={"content-type": "application/pdf"}
    )
    assert response.status_code == 413
    response = client.post("/verify", files={"file": ("big.pdf", too_big, "application/pdf")})
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(app.state.settings.max_body_bytes // 65536 + 2):
            yield b"0" * 65536

    response = client.post(
        "/api/v1/verify", content=chunks(), headers={"content-type": "application/pdf"}
    )
    assert response.status_code == 413
