"""B-LT seals with the same signer, TSA and validation material validate the paths once: the
second seal reuses the first one's validation (and the same DSS content), a new material or
the end of the revocation data's validity validates again."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_signer import PdfSigningSession
from pyhanko.sign.validation import DocumentSecurityStore

from seals.signing import InvisiblePlacement, PadesLevel, SealingSpec, sign_pdf
from tests.seals_signing.conftest import NOW, LocalTimeStamper, SealPki


class NamedStamper(LocalTimeStamper):
    """The test TSA with the name a kept validation is filed under (as our in-process one)."""

    reservation_key = "test-tsa"


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = PdfSigningSession.perform_presign_validation

    async def counting(self: PdfSigningSession, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(PdfSigningSession, "perform_presign_validation", counting)
    return calls


def _dss(pdf: bytes) -> tuple[int, int, int]:
    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(pdf)))
    return len(dss.certs), len(dss.ocsps), len(dss.crls)


def _seal(pki: SealPki, pdf: bytes, stamper: Any, material: Any) -> bytes:
    spec = SealingSpec(placement=InvisiblePlacement(), level=PadesLevel.B_LT)
    return sign_pdf(
        pdf=pdf, identity=pki.alice, spec=spec, timestamper=stamper, validation=material
    ).pdf


def test_the_second_seal_reuses_the_validation(
    pki: SealPki, contract_pdf: bytes, validations: list[int]
) -> None:
    stamper = NamedStamper(cert=pki.tsa, key=pki.tsa_key, chain=(pki.ca,))
    material = pki.validation_material()
    first = _seal(pki, contract_pdf, stamper, material)
    second = _seal(pki, contract_pdf, stamper, material)
    assert len(validations) == 1
    assert _dss(first) == _dss(second)
    assert _dss(second)[1] >= 2, "the signer's and the TSA's OCSP responses are embedded"
    _seal(pki, contract_pdf, stamper, pki.validation_material())  # another material
    assert len(validations) == 2


def test_nothing_is_kept_past_the_revocation_data(
    pki: SealPki, contract_pdf: bytes, validations: list[int]
) -> None:
    stamper = NamedStamper(cert=pki.tsa, key=pki.tsa_key, chain=(pki.ca,))
    material = pki.validation_material()
    _seal(pki, contract_pdf, stamper, material)
    _, kept = material.kept_context()
    ((status, until),) = kept.values()
    assert until == NOW + timedelta(days=7), "the OCSP responses' and CRLs' nextUpdate"
    kept.update({key: (status, NOW - timedelta(seconds=1)) for key in kept})
    _seal(pki, contract_pdf, stamper, material)
    assert len(validations) == 2


def test_a_stamper_without_a_name_is_validated_every_time(
    pki: SealPki, contract_pdf: bytes, timestamper: LocalTimeStamper, validations: list[int]
) -> None:
    material = pki.validation_material()
    for _ in range(2):
        _seal(pki, contract_pdf, timestamper, material)
    assert len(validations) == 2
