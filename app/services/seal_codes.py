"""What a seal code says about the registry that holds it (for the public status)."""

from __future__ import annotations

from app.schemas.seals import SealRegistryPublic
from pki.identifiers import province_of
from seals.codes import region_of


def registry_of(code: str, base_url: str) -> SealRegistryPublic:
    region = region_of(code)
    return SealRegistryPublic(
        region=region,
        region_name=province_of(region) if region else None,
        url=base_url.rstrip("/"),
        structured_code=region is not None,
    )
