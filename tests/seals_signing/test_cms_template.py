"""A seal's CMS comes from the signer's DER template, byte for byte what pyhanko assembles.

RSA PKCS#1 v1.5 signs deterministically and the time-stamper below answers the same request
with the same token, so pyhanko's own `Signer.async_sign` and the template must produce the
same bytes for the same document digest. pdfsig, qpdf and openssl check whole documents in
`test_levels.py` (they run through the template too).
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import pytest
from asn1crypto import tsp
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.sign.signers import Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper

from pki.keys import MemoryKeySigner
from seals.signing import InvisiblePlacement, PadesLevel, SealingSpec, SigningIdentity, sign_pdf
from seals.signing.cms_template import CmsTemplate
from tests.seals_signing.conftest import LocalTimeStamper, SealPki
from tests.support.pki import Entity, issue, name


class SameAnswer(TimeStamper):
    """Our test TSA, without nonce, answering a repeated request with the same token."""

    def __init__(self, inner: LocalTimeStamper) -> None:
        super().__init__(include_nonce=False)
        self.inner = inner
        self.answers: dict[bytes, tsp.TimeStampResp] = {}

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        key = req["message_imprint"].dump()
        if key not in self.answers:
            self.answers[key] = await self.inner.async_request_tsa_response(req)
        return self.answers[key]


@pytest.fixture(scope="module")
def rsa_identity(pki: SealPki) -> SigningIdentity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    cert = issue(name("模板测试 合同专用章"), issuer=Entity(pki.ca, pki.ca_key), ca=False, key=key)
    return SigningIdentity(
        certificate=cert.cert, chain=(pki.ca, pki.root), signer=MemoryKeySigner(key)
    )


@pytest.mark.parametrize("stamped", [False, True], ids=["B-B", "B-T"])
def test_the_template_gives_pyhankos_bytes(
    rsa_identity: SigningIdentity, timestamper: LocalTimeStamper, stamped: bool
) -> None:
    signer = rsa_identity.pyhanko_signer()
    stamper = SameAnswer(timestamper) if stamped else None
    settings = PdfCMSSignedAttributes(signing_time=datetime.now(UTC))

    async def both(digest: bytes) -> tuple[bytes, bytes]:
        ours = await signer.async_sign(
            digest, "sha256", use_pades=True, timestamper=stamper, signed_attr_settings=settings
        )
        theirs = await Signer.async_sign(
            signer,
            digest,
            "sha256",
            use_pades=True,
            timestamper=stamper,
            signed_attr_settings=settings,
        )
        return ours.dump(), theirs.dump()

    for document in (b"first", b"second", b"third"):
        ours, theirs = asyncio.run(both(hashlib.sha256(document).digest()))
        assert ours == theirs
    assert isinstance(signer._templates["sha256"], CmsTemplate), "the template was used"


def test_a_seal_signs_once_and_the_template_is_kept(
    pki: SealPki, contract_pdf: bytes, timestamper: LocalTimeStamper
) -> None:
    """The template is made from the first seal and serves the next ones (same identity)."""
    identity = SigningIdentity(
        certificate=pki.alice.certificate, chain=pki.alice.chain, signer=pki.alice.signer
    )
    spec = SealingSpec(placement=InvisiblePlacement(), level=PadesLevel.B_T)
    for _ in range(2):
        sign_pdf(pdf=contract_pdf, identity=identity, spec=spec, timestamper=timestamper)
    template = identity.pyhanko_signer()._templates["sha256"]
    assert isinstance(template, CmsTemplate)
    assert len(template.signed_attrs(bytes(32))) < 300


def test_an_unknown_layout_falls_back_to_pyhanko(rsa_identity: SigningIdentity) -> None:
    """A CAdES extra (here a commitment type) is not in the template: pyhanko assembles it."""
    from pyhanko.sign.ades.api import CAdESSignedAttrSpec
    from pyhanko.sign.ades.cades_asn1 import CommitmentTypeIndication

    signer = rsa_identity.pyhanko_signer()
    commitment = CommitmentTypeIndication({"commitment_type_id": "proof_of_origin"})
    settings = PdfCMSSignedAttributes(
        cades_signed_attrs=CAdESSignedAttrSpec(commitment_type=commitment)
    )
    digest = hashlib.sha256(b"doc").digest()
    info = asyncio.run(
        signer.async_sign(digest, "sha256", use_pades=True, signed_attr_settings=settings)
    )
    types = {a["type"].native for a in info["content"]["signer_infos"][0]["signed_attrs"]}
    assert "commitment_type" in types
