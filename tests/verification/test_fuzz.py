"""Fuzzing verify_pdf with mutated signed PDFs: it never raises, never hangs, and never calls a
mutated document valid unless the mutation only touched the unsigned /Contents padding."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pki.trust import TrustStore
from seals.reports import Indication
from seals.verification import verify_pdf
from tests.verification.conftest import Pki, contents_span, make_revocation_lookup, sign

MAX_SECONDS = 5.0


class Sample:
    """A signed PDF with a short repr (hypothesis prints arguments of failing examples)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Sample({len(self.data)} bytes)"


@pytest.fixture(scope="module")
def two_signatures(pki: Pki, signed: bytes) -> Sample:
    return Sample(sign(pki, signed, who=pki.person, field="Seal2", box=(60, 60, 180, 180)))


@st.composite
def mutations(draw: st.DrawFn, size: int) -> list[tuple[str, int, bytes]]:
    count = draw(st.integers(min_value=1, max_value=4))
    out = []
    for _ in range(count):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
        pos = draw(st.integers(min_value=0, max_value=size - 1))
        data = draw(st.binary(min_size=1, max_size=16))
        out.append((kind, pos, data))
    return out


def _apply(pdf: bytes, muts: list[tuple[str, int, bytes]]) -> tuple[bytes, bool]:
    """The mutated bytes, and whether only bytes inside /Contents hex digits changed."""
    spans = [contents_span(pdf, i) for i in (0, -1)]
    only_contents = True
    data = bytearray(pdf)
    for kind, pos, blob in muts:
        if not data:
            break
        pos = min(pos, len(data) - 1)
        inside = any(s <= pos < e for s, e in spans)
        if kind == "flip":
            data[pos] ^= blob[0] or 1
            only_contents &= inside
        elif kind == "insert":
            data[pos:pos] = blob
            only_contents = False
        elif kind == "delete":
            del data[pos : pos + len(blob)]
            only_contents = False
        elif kind == "truncate":
            del data[pos:]
            only_contents = False
        else:  # splice a copy of another part of the file (over the same number of bytes)
            end = min(pos + len(blob), len(data))
            data[pos:end] = pdf[len(blob) : len(blob) + end - pos]
            only_contents &= any(s <= pos and end <= e for s, e in spans)
    return bytes(data), only_contents


@settings(
    max_examples=200,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_signed_pdfs(
    data: st.DataObject, pki: Pki, trust: TrustStore, two_signatures: Sample
) -> None:
    original = two_signatures.data
    muts = data.draw(mutations(len(original)))
    mutated, only_contents = _apply(original, muts)
    now = datetime.now(UTC)
    started = time.monotonic()
    report = verify_pdf(
        pdf=mutated,
        trust=trust,
        now=now,
        revocation_lookup=make_revocation_lookup(pki, now),
        max_seconds=MAX_SECONDS,
    )
    elapsed = time.monotonic() - started
    assert elapsed < MAX_SECONDS + 2.0
    report.to_json()
    if mutated != original and report.indication is Indication.TOTAL_PASSED:
        # a flip inside the hex padding after the CMS may be harmless; nothing else may pass
        assert only_contents, muts
