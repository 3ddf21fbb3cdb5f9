"""The seal data (印章数据) of one registry seal: what goes into its GB/T 38540 SESeal.

Pure: the registry seal's fields in, a `SealContent` out; the service signs it with the
platform's seal-making key (`build_seal`). The esID is the seal code (unique nationally by the
code rules); the type is 1 for an organization's seal, 2 for a person's (GM/T 0031 values);
the picture is the seal image as used on documents, with its physical size rounded to whole
millimetres (the standard's INTEGER); the holders are the seal's SM2 certificate(s).
"""

from __future__ import annotations

from datetime import datetime

from seals.gbt38540.asn1 import CERT_LIST_CERTS
from seals.gbt38540.seal import (
    SEAL_TYPE_ORGANIZATION,
    SEAL_TYPE_PERSONAL,
    SealContent,
    SealPicture,
)


def seal_content(
    *,
    code: str,
    name: str,
    personal: bool,
    certificates: tuple[bytes, ...],
    image_png: bytes,
    width_mm: float,
    height_mm: float,
    valid_from: datetime,
    valid_until: datetime,
    created: datetime,
) -> SealContent:
    """SES_SealInfo contents for a registry seal (ValueError for an unusable field)."""
    if not code.isascii() or not code:
        raise ValueError("the seal code must be ASCII (esID is an IA5String)")
    if not certificates:
        raise ValueError("a seal's data lists at least one SM2 certificate")
    return SealContent(
        es_id=code,
        seal_type=SEAL_TYPE_PERSONAL if personal else SEAL_TYPE_ORGANIZATION,
        name=name,
        certificates=certificates,
        created=created,
        valid_start=valid_from,
        valid_end=valid_until,
        picture=SealPicture(
            image_type="png",
            data=image_png,
            width_mm=max(1, round(width_mm)),
            height_mm=max(1, round(height_mm)),
        ),
        cert_list_type=CERT_LIST_CERTS,
    )
