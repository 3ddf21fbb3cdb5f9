"""Fixtures: a seal-making CA, holder certificates, a seal picture and a built v4 seal."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw

from seals.gbt38540 import SealContent, SealPicture, build_seal
from tests.gbt38540.sm2pki import T0, Party, issue


@pytest.fixture(scope="session")
def maker_ca() -> Party:
    return issue("SM2 Seal-making CA", ca=True)


@pytest.fixture(scope="session")
def maker(maker_ca: Party) -> Party:
    return issue("Seal maker", issuer=maker_ca)


@pytest.fixture(scope="session")
def holder(maker_ca: Party) -> Party:
    return issue("Holder", issuer=maker_ca, days=365)


@pytest.fixture(scope="session")
def other_holder(maker_ca: Party) -> Party:
    return issue("Another holder", issuer=maker_ca)


@pytest.fixture(scope="session")
def picture() -> SealPicture:
    image = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((4, 4, 116, 116), outline=(200, 0, 0, 255), width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return SealPicture(image_type="png", data=out.getvalue(), width_mm=42, height_mm=42)


@pytest.fixture(scope="session")
def content(holder: Party, picture: SealPicture) -> SealContent:
    return SealContent(
        es_id="91310000MA1FL8XQ3B0001",
        seal_type=1,
        name="上海测试有限公司合同专用章",
        certificates=(holder.certificate,),
        created=T0 + timedelta(days=1),
        valid_start=T0 + timedelta(days=1),
        valid_end=T0 + timedelta(days=300),
        picture=picture,
    )


@pytest.fixture(scope="session")
def seal_der(content: SealContent, maker: Party) -> bytes:
    return build_seal(content, maker=maker.signer, maker_certificate=maker.certificate)
