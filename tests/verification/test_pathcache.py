"""A kept path validation is reused only for the same inputs and a validation time in the
same gap between the instants those inputs name; never across a revocation or an expiry."""

from __future__ import annotations

from datetime import timedelta

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from pki.trust import RevocationMaterial, TrustStore
from seals.verification.pathcache import BUCKET_SECONDS, MARGIN, PathCache, instants
from tests.verification.conftest import NOW, Pki, ocsp_der


def _asn1(cert: object) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))  # type: ignore[attr-defined]


def test_an_answer_is_not_reused_across_a_revocation(pki: Pki, trust: TrustStore) -> None:
    leaf = pki.revoked_after  # revoked at NOW + 2 h
    revoked_at = NOW + timedelta(hours=2)
    material = RevocationMaterial(
        ocsps=(ocsp_der(pki, pki.issuing, pki.ocsp, leaf.cert, revoked_at + timedelta(hours=1)),)
    )
    assert revoked_at in (instants([], material) or [])
    cache, cert = PathCache(), _asn1(leaf.cert)
    earlier = revoked_at - timedelta(seconds=60)
    key = cache.key(cert, [], trust, material, earlier, require_revocation=True)
    cache.put(key, earlier, ValueError("a good path"), certs=[cert], material=material)
    assert isinstance(cache.get(key, earlier), ValueError)
    assert isinstance(cache.get(key, revoked_at - MARGIN - timedelta(seconds=1)), ValueError)
    assert cache.get(key, revoked_at - MARGIN) is None
    assert cache.get(key, revoked_at) is None
    assert cache.get(key, revoked_at + timedelta(seconds=30)) is None


def test_an_answer_is_not_reused_past_a_certificate_expiry(pki: Pki, trust: TrustStore) -> None:
    cert = _asn1(pki.enterprise.cert)
    not_after = pki.enterprise.cert.not_valid_after_utc
    cache, material = PathCache(), RevocationMaterial()
    at = not_after - timedelta(seconds=60)
    key = cache.key(cert, [], trust, material, at, require_revocation=True)
    cache.put(key, at, ValueError("valid"), certs=[cert], material=material)
    assert isinstance(cache.get(key, at + timedelta(seconds=30)), ValueError)
    assert cache.get(key, not_after) is None
    assert cache.get(key, not_after + timedelta(days=1)) is None


def test_right_at_an_instant_an_answer_is_kept_for_that_very_time_only(
    pki: Pki, trust: TrustStore
) -> None:
    cert = _asn1(pki.enterprise.cert)
    not_after = pki.enterprise.cert.not_valid_after_utc
    cache, material = PathCache(), RevocationMaterial()
    for at in (not_after, not_after - MARGIN + timedelta(seconds=1)):
        key = cache.key(cert, [], trust, material, at, require_revocation=True)
        cache.put(key, at, ValueError("expired"), certs=[cert], material=material)
        assert isinstance(cache.get(key, at), ValueError)  # the same question again
        for step in (timedelta(microseconds=1), timedelta(seconds=1)):
            assert cache.get(key, at - step) is None
            assert cache.get(key, at + step) is None


def test_the_key_covers_every_input(pki: Pki, trust: TrustStore) -> None:
    cert = _asn1(pki.enterprise.cert)
    good = RevocationMaterial(
        ocsps=(ocsp_der(pki, pki.issuing, pki.ocsp, pki.enterprise.cert, NOW),)
    )
    again = RevocationMaterial(
        ocsps=(
            ocsp_der(pki, pki.issuing, pki.ocsp, pki.enterprise.cert, NOW + timedelta(seconds=1)),
        )
    )
    other_trust = TrustStore(own_roots=[pki.root.cert], intermediates=[pki.issuing.cert])

    def key(**changes: object) -> bytes:
        args: dict[str, object] = {
            "cert": cert,
            "other_certs": [],
            "trust": trust,
            "material": good,
            "moment": NOW,
        }
        args.update(changes)
        return PathCache.key(**args, require_revocation=True)  # type: ignore[arg-type]

    base = key()
    assert base == key()
    assert base != key(material=again)  # a new responder answer (a revocation moves it)
    assert base != key(trust=other_trust)  # an anchor removed
    assert base != key(cert=_asn1(pki.person.cert))
    assert base != key(other_certs=[_asn1(pki.ocsp.cert)])
    assert base != key(moment=NOW + timedelta(seconds=BUCKET_SECONDS))
    assert base != PathCache.key(cert, [], trust, good, NOW, require_revocation=False)


def test_pyhanko_validations_reuse_a_kept_path_only_for_the_same_context_inputs(
    pki: Pki, trust: TrustStore
) -> None:
    import asyncio

    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError

    from seals.verification.pathcache import validated

    leaf = pki.revoked_before  # revoked two hours ago
    cert = _asn1(leaf.cert)
    later = NOW + timedelta(minutes=1)
    revoked = RevocationMaterial(ocsps=(ocsp_der(pki, pki.issuing, pki.ocsp, leaf.cert, later),))

    def validate(context: ValidationContext) -> object:
        validator = CertificateValidator(cert, validation_context=context)
        try:
            return asyncio.run(validator.async_validate_path())
        except RevokedError as exc:
            return exc

    def ours(material: RevocationMaterial | None) -> ValidationContext:
        return trust.validation_context(moment=later, revocation=material, require_revocation=False)

    validated.clear()
    hits = validated.hits
    unchecked = validate(ours(None))  # no revocation data: the path validates
    assert not isinstance(unchecked, Exception)
    assert validate(ours(None)) is unchecked and validated.hits == hits + 1
    assert isinstance(validate(ours(revoked)), RevokedError)  # other material: not reused
    assert isinstance(validate(ours(revoked)), RevokedError)
    plain = ValidationContext(
        trust_roots=list(trust.asn1_anchors),
        other_certs=list(trust.asn1_intermediates),
        moment=later,
    )
    before = (validated.hits, validated.misses)
    validate(plain)  # not built by the trust store: never kept nor reused
    assert (validated.hits, validated.misses) == before
