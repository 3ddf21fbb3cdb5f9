"""Seal kinds and their standard shapes, sizes and labels (data, not code paths).

Sizes follow common Chinese practice (国发〔1999〕25号 for organization seals: round, at most
42 mm, five-pointed star in the centre; 国家税务总局公告2011年第7号 for the invoice seal: oval
40 x 30 mm, 1 mm border). The finance seal is drawn round (38 mm, star, "财务专用章"): that
form is accepted in every province, shares the contract seal's layout, and keeps long
organization names legible, whereas the older 22 mm square form has to squeeze the whole name
into four lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class SealShape(StrEnum):
    """Outline of a seal image."""

    ROUND = "round"
    OVAL = "oval"
    SQUARE = "square"


class SealHolder(StrEnum):
    """Who a seal belongs to."""

    ORGANIZATION = "organization"
    PERSON = "person"


class SealKind(StrEnum):
    """The kinds of seal the registry manages."""

    OFFICIAL = "official"
    CONTRACT = "contract"
    FINANCE = "finance"
    INVOICE = "invoice"
    LEGAL_REPRESENTATIVE = "legal_representative"
    PERSONAL = "personal"
    BUSINESS = "business"
    """A business seal (业务专用章) whose inscription an organization names itself (人事专用章,
    医保结算专用章, 执法专用章 …): the contract seal's layout with its own words."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KindSpec:
    """Standard form of one seal kind."""

    kind: SealKind
    shape: SealShape
    width_mm: float
    height_mm: float
    border_mm: float
    holder: SealHolder
    label_zh: str
    label_en: str
    inscription: str | None
    """Horizontal text drawn under the star / across the bottom (e.g. "合同专用章")."""
    has_star: bool
    accepts_seal_code: bool
    """Whether a seal code (e.g. the 13-digit 防伪码) is drawn along the bottom arc."""
    accepts_uploaded_image: bool
    """Whether the holder may upload an image (handwritten signature) instead."""


KIND_SPECS: Mapping[SealKind, KindSpec] = MappingProxyType(
    {
        SealKind.OFFICIAL: KindSpec(
            kind=SealKind.OFFICIAL,
            shape=SealShape.ROUND,
            width_mm=42.0,
            height_mm=42.0,
            border_mm=1.2,
            holder=SealHolder.ORGANIZATION,
            label_zh="公章",
            label_en="Official seal",
            inscription=None,
            has_star=True,
            accepts_seal_code=True,
            accepts_uploaded_image=False,
        ),
        SealKind.CONTRACT: KindSpec(
            kind=SealKind.CONTRACT,
            shape=SealShape.ROUND,
            width_mm=42.0,
            height_mm=42.0,
            border_mm=1.2,
            holder=SealHolder.ORGANIZATION,
            label_zh="合同专用章",
            label_en="Contract seal",
            inscription="合同专用章",
            has_star=True,
            accepts_seal_code=True,
            accepts_uploaded_image=False,
        ),
        SealKind.FINANCE: KindSpec(
            kind=SealKind.FINANCE,
            shape=SealShape.ROUND,
            width_mm=38.0,
            height_mm=38.0,
            border_mm=1.1,
            holder=SealHolder.ORGANIZATION,
            label_zh="财务专用章",
            label_en="Finance seal",
            inscription="财务专用章",
            has_star=True,
            accepts_seal_code=True,
            accepts_uploaded_image=False,
        ),
        SealKind.INVOICE: KindSpec(
            kind=SealKind.INVOICE,
            shape=SealShape.OVAL,
            width_mm=40.0,
            height_mm=30.0,
            border_mm=1.0,
            holder=SealHolder.ORGANIZATION,
            label_zh="发票专用章",
            label_en="Invoice seal",
            inscription="发票专用章",
            has_star=False,
            accepts_seal_code=False,
            accepts_uploaded_image=False,
        ),
        SealKind.LEGAL_REPRESENTATIVE: KindSpec(
            kind=SealKind.LEGAL_REPRESENTATIVE,
            shape=SealShape.SQUARE,
            width_mm=22.0,
            height_mm=22.0,
            border_mm=1.2,
            holder=SealHolder.PERSON,
            label_zh="法定代表人名章",
            label_en="Legal representative's seal",
            inscription=None,
            has_star=False,
            accepts_seal_code=False,
            accepts_uploaded_image=False,
        ),
        SealKind.PERSONAL: KindSpec(
            kind=SealKind.PERSONAL,
            shape=SealShape.SQUARE,
            width_mm=18.0,
            height_mm=18.0,
            border_mm=1.0,
            holder=SealHolder.PERSON,
            label_zh="个人签名章",
            label_en="Personal signature",
            inscription=None,
            has_star=False,
            accepts_seal_code=False,
            accepts_uploaded_image=True,
        ),
        SealKind.BUSINESS: KindSpec(
            kind=SealKind.BUSINESS,
            shape=SealShape.ROUND,
            width_mm=42.0,
            height_mm=42.0,
            border_mm=1.2,
            holder=SealHolder.ORGANIZATION,
            label_zh="业务专用章",
            label_en="Business seal",
            inscription="业务专用章",
            has_star=True,
            accepts_seal_code=True,
            accepts_uploaded_image=False,
        ),
    }
)


def kind_spec(kind: SealKind | str) -> KindSpec:
    """The standard form of `kind` (a `SealKind` or its value)."""
    return KIND_SPECS[SealKind(kind)]
