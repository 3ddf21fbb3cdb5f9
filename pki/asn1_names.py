"""Keep asn1crypto's name lookups in step with names registered late.

asn1crypto turns a name such as ``"adobe_revocation_info_archival"`` into its OID through a
reverse map it builds from the class's ``_map`` on first use, and never again. A module that
registers a name after that first use (``asn1crypto.pdf`` does for Adobe's revocation
attribute, pyhanko does for CAdES attributes and extensions) leaves the name unknown, and
building the attribute fails with "invalid literal for int()". Which module loads first
depends on import order, so the OID tables here update the built reverse map on every
registration instead.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import cms, x509


class _NameTable(dict[str, str]):
    """An OID → name ``_map`` that also updates its class's built reverse map."""

    def __init__(self, owner: Any, items: dict[str, str]) -> None:
        super().__init__(items)
        self._owner = owner

    def __setitem__(self, oid: str, name: str) -> None:
        super().__setitem__(oid, name)
        built = self._owner._reverse_map
        if built is not None:
            built[name] = oid


def install() -> None:
    """Make the CMS attribute and X.509 extension tables keep their reverse maps current."""
    for owner in (cms.CMSAttributeType, x509.ExtensionId):
        if not isinstance(owner._map, _NameTable):
            owner._map = _NameTable(owner, owner._map)
        if owner._reverse_map is not None:
            owner._reverse_map.update({name: oid for oid, name in owner._map.items()})


install()
