"""The attack corpus on SM2-sealed PDFs: the same manipulations as test_attacks.py, applied to
documents sealed with the ``sm2-cms`` and ``gbt38540`` formats, must not pass either; the benign
update (a second seal) must keep passing. Manipulations and expectations are the PAdES ones,
because coverage and modification analysis are shared, not forked."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import core
from pyhanko.pdf_utils import generic

from seals.gbt38540 import build_signature, parse_signature
from seals.placement import CoordinatePlacement
from seals.reports import Indication, SubIndication, VerificationReport
from seals.signing import SealAppearance, SealingSpec, sign_document
from seals.verification import verify_pdf
from tests.gbt38540.sm2pki import Sm2Pki
from tests.verification import test_attacks as attacks
from tests.verification.conftest import (
    byte_range,
    contents_span,
    incremental,
    make_pdf,
    set_byte_range,
)

FAILED = Indication.TOTAL_FAILED
INDET = Indication.INDETERMINATE
FORMAT = frozenset({SubIndication.FORMAT_FAILURE})
FORMATS = ("sm2-cms", "gbt38540")


@dataclass(frozen=True)
class Sealer:
    sm2: Sm2Pki
    fmt: str
    appearance: SealAppearance

    def seal(self, pdf: bytes, field: str = "Seal1", x_mm: float = 150) -> bytes:
        spec = SealingSpec(
            placement=CoordinatePlacement(page=1, x_mm=x_mm, y_mm=240),
            appearance=self.appearance,
            format=self.fmt,  # type: ignore[arg-type]
            field_name=field,
        )
        eseal = self.sm2.eseal() if self.fmt == "gbt38540" else None
        identity = self.sm2.identity(eseal=eseal)
        return sign_document(pdf=pdf, identity=identity, spec=spec).pdf

    def verify(self, pdf: bytes) -> VerificationReport:
        return verify_pdf(
            pdf=pdf,
            trust=self.sm2.trust(),
            now=datetime.now(UTC) + timedelta(minutes=1),
            revocation_lookup=self.sm2.lookup(),
        )


def _then(change: Callable[..., None], **doc: object) -> Callable[[Sealer], bytes]:
    return lambda s: incremental(s.seal(make_pdf(**doc)), change)  # type: ignore[arg-type]


def _usf_zeroed(s: Sealer) -> bytes:
    pdf = s.seal(make_pdf())
    start, end = contents_span(pdf)
    return pdf[:start] + b"0" * (end - start) + pdf[end:]


def _byterange_altered(s: Sealer) -> bytes:
    pdf = s.seal(make_pdf())
    _, (a, b, c, d) = byte_range(pdf)
    return set_byte_range(pdf, [a, b, c, d - 100])


def _ses_resigned_with_gap(s: Sealer) -> bytes:
    """Signature wrapping with the holder's own key: a valid SES over a ByteRange leaving 40
    bytes after /Contents unsigned (sm2-cms: the same ByteRange, its CMS left as it was)."""
    pdf = s.seal(make_pdf())
    _, (a, b, c, d) = byte_range(pdf)
    start, end = contents_span(pdf)
    pdf = set_byte_range(pdf, [a, b, c + 40, d - 40])
    if s.fmt != "gbt38540":
        return pdf
    old = parse_signature(core.Asn1Value.load(bytes.fromhex(pdf[start:end].decode())).dump())
    signed = pdf[a : a + b] + pdf[c + 40 : c + d]
    der = build_signature(
        seal_der=old.seal.der,
        data_hash=hashlib.new("sm3", signed).digest(),
        time=old.time or datetime.now(UTC),
        property_info=old.property_info,
        signer=s.sm2.holder.signer,
        signer_certificate=s.sm2.holder.certificate,
    )
    hex_der = der.hex().encode()
    return pdf[:start] + hex_der.ljust(end - start, b"0") + pdf[end:]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Sealer], bytes]
    indication: Indication
    subs: frozenset[SubIndication]
    finding: str  # "" when the sub-indication says it


MODIFIED = "modified-after-signing"
M_EDIT = attacks.edit_sig_dict("/M", generic.TextStringObject("D:20200101000000Z"))
CONSTRAINTS = frozenset({SubIndication.SIG_CONSTRAINTS_FAILURE})
HASH_OR_FORMAT = frozenset({SubIndication.HASH_FAILURE, SubIndication.FORMAT_FAILURE})

CASES = [
    Case("page content replaced", _then(attacks.change_content), FAILED, FORMAT, MODIFIED),
    Case("object redefined", _then(attacks.redefine_content_object), FAILED, FORMAT, MODIFIED),
    Case(
        "cover XObject emptied",
        _then(attacks.reveal_hidden_content, with_overlay=True),
        FAILED,
        FORMAT,
        MODIFIED,
    ),
    Case("font redefined", _then(attacks.replace_font), FAILED, FORMAT, MODIFIED),
    Case(
        "form value changed",
        _then(attacks.fill_amount, with_field=True),
        INDET,
        CONSTRAINTS,
        "form-changed-after-signing",
    ),
    Case("page added", _then(attacks.add_page), FAILED, FORMAT, MODIFIED),
    Case("page removed", _then(attacks.remove_last_page, pages=2), FAILED, FORMAT, MODIFIED),
    Case("new page tree", _then(attacks.replace_catalog_pages), FAILED, FORMAT, MODIFIED),
    Case(
        "annotation over content",
        _then(attacks.add_overlay_annotation),
        FAILED,
        FORMAT,
        "annotation-over-content",
    ),
    Case(
        "appearance overridden", _then(attacks.override_seal_appearance), FAILED, FORMAT, MODIFIED
    ),
    Case("/M edited", _then(M_EDIT), FAILED, FORMAT, "coverage-anomalous"),
    Case("USF: /Contents zeroed", _usf_zeroed, FAILED, FORMAT, "signature-unreadable"),
    Case("ByteRange altered", _byterange_altered, FAILED, HASH_OR_FORMAT, ""),
    Case("wrapping: gap after /Contents", _ses_resigned_with_gap, FAILED, HASH_OR_FORMAT, ""),
]


@pytest.fixture(scope="module")
def sm2() -> Sm2Pki:
    return Sm2Pki()


@pytest.fixture(scope="module")
def appearance() -> SealAppearance:
    from tests.seals_signing.conftest import red_seal_png

    return SealAppearance(image=red_seal_png(200), width_mm=40, height_mm=40)


def _codes(report: VerificationReport) -> set[str]:
    codes = {f.code for f in report.document.modifications}
    for sig in report.signatures:
        codes |= {f.code for f in sig.findings}
    return codes


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_attack_on_an_sm2_seal_is_caught(
    fmt: str, case: Case, sm2: Sm2Pki, appearance: SealAppearance
) -> None:
    sealer = Sealer(sm2, fmt, appearance)
    report = sealer.verify(case.build(sealer))
    assert report.indication is case.indication, report.to_json()
    assert report.sub_indication in case.subs, report.to_json()
    assert not case.finding or case.finding in _codes(report), report.to_json()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_second_sm2_seal_keeps_the_first_passing(
    fmt: str, sm2: Sm2Pki, appearance: SealAppearance
) -> None:
    sealer = Sealer(sm2, fmt, appearance)
    twice = sealer.seal(sealer.seal(make_pdf()), field="Seal2", x_mm=60)
    report = sealer.verify(twice)
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )


def test_the_sm2_sealers_are_real(sm2: Sm2Pki, appearance: SealAppearance) -> None:
    """Guard: the unmodified documents of both formats pass, so every failure above is the
    attack's doing."""
    for fmt in FORMATS:
        sealer = Sealer(sm2, fmt, appearance)
        assert sealer.verify(sealer.seal(make_pdf())).indication is Indication.TOTAL_PASSED


def test_a_valid_ses_over_a_wrapped_byte_range_fails_on_coverage(
    sm2: Sm2Pki, appearance: SealAppearance
) -> None:
    """The holder's key re-signs: the SES itself verifies, the ByteRange coverage does not."""
    sealer = Sealer(sm2, "gbt38540", appearance)
    sig = sealer.verify(_ses_resigned_with_gap(sealer)).signatures[0]
    assert sig.integrity is True
    assert (sig.indication, sig.sub_indication) == (FAILED, SubIndication.FORMAT_FAILURE)
    assert sig.findings[0].code == "coverage-anomalous"
