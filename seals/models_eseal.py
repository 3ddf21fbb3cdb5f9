"""The GB/T 38540 seal data (印章数据) of seals that have an SM2 certificate.

Made once per seal and SM2 certificate, signed by the platform's seal-making key, and kept:
the DER is what `/eseal` serves and what a ``gbt38540`` signature embeds, so every document a
seal signs carries the same seal data. A seal whose SM2 certificate is replaced gets new data
(the row names the certificate it lists).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pki.dbtypes import UtcDateTime


def utc_now() -> datetime:
    return datetime.now(UTC)


class SealData(SQLModel, table=True):
    __tablename__ = "seal_eseal"

    seal_id: str = Field(foreign_key="seal.id", primary_key=True, max_length=32)
    der: bytes = Field(sa_type=sa.LargeBinary)
    sha256: str = Field(max_length=64)
    sm2_certificate_id: str = Field(max_length=32)
    """The SM2 certificate the seal data lists (the seal's, when it was made)."""
    maker_certificate_id: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
