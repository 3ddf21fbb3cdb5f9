"""Interned certificates and remembered name comparisons give the library's own answers."""

from __future__ import annotations

import itertools

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from seals.verification import certpool
from tests.verification.conftest import Pki


def _name(**fields: str) -> asn1_x509.Name:
    return asn1_x509.Name.build(fields)


NAMES = [
    _name(common_name="杭州青禾科技有限公司", country_name="CN"),
    _name(common_name="杭州青禾科技有限公司", country_name="CN"),
    _name(common_name="ESEAL  Root CA", organization_name="Eseal"),
    _name(common_name="eseal root ca", organization_name="ESEAL"),  # equal under RFC 5280 7.1
    _name(common_name="eseal root ca"),
    _name(common_name="eseal root cb", organization_name="ESEAL"),
]


def test_remembered_comparisons_agree_with_asn1crypto() -> None:
    assert getattr(asn1_x509.Name.__eq__, "memo", False)
    for a, b in itertools.product(NAMES, repeat=2):
        fresh_a, fresh_b = (asn1_x509.Name.load(n.dump()) for n in (a, b))
        expected = a.chosen == b.chosen  # asn1crypto's RFC 5280 comparison underneath
        for _ in range(2):  # computed, then remembered
            assert (fresh_a == fresh_b) is expected
            assert (fresh_a != fresh_b) is (not expected)
            assert fresh_a.hashable == a.chosen.hashable
    assert NAMES[2] == NAMES[3] and NAMES[3] != NAMES[5] and NAMES[0] != "CN"


def test_interned_certificates_are_one_object_per_der(pki: Pki) -> None:
    ca_certificate_der = pki.root.cert.public_bytes(Encoding.DER)
    first, second = (asn1_x509.Certificate.load(ca_certificate_der) for _ in range(2))
    assert first is not second
    pooled = certpool.interned([first, second])
    assert pooled[0] is pooled[1] and pooled[0].dump() == ca_certificate_der
