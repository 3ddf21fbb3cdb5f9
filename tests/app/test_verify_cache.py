"""What a PDF worker keeps between verifications (app.verification.cache) never outlives a
revocation: verified, revoked, verified again over HTTP with every cache warm, the change is
seen at once; kept revocation answers are reused only within one status epoch."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import reading, unit_of_work
from app.verification.cache import EPOCH_KEY, VerificationCache, cache_for
from app.verification.verify import refresh_stale_crls, verification_session
from seals.signing import PadesLevel
from tests.app.test_verify_api import _seal_with_our_certificate, _verify
from tests.conftest import auth
from tests.support.documents import contract_pdf

_ADDRESSES = {PadesLevel.B_T: "203.0.113.21", PadesLevel.B_LT: "203.0.113.22"}


@pytest.fixture(scope="module")
def contract() -> bytes:
    return contract_pdf(1, title="担保函", paragraphs=("担保人承担连带保证责任。",))


@pytest.mark.parametrize("level", [PadesLevel.B_T, PadesLevel.B_LT])
def test_a_revocation_is_seen_by_the_next_verification_with_the_cache_warm(
    client: TestClient, app: Any, new_org: Any, org_key: Any, contract: bytes, level: PadesLevel
) -> None:
    pdf, cert_id, key = _seal_with_our_certificate(client, app, new_org, org_key, contract, level)
    # an address of its own: the suite's shared client may have spent its verification budget
    verifier = TestClient(app, raise_server_exceptions=False, client=(_ADDRESSES[level], 40000))
    for _ in range(3):  # every worker's cache warm: kept trust store, answers, paths
        report = _verify(verifier, pdf)
        assert report["indication"] == "TOTAL_PASSED", report
        assert report["signatures"][0]["revocation"]["status"] == "good"

    time.sleep(1.1)  # revocation times are whole seconds, like the time-stamp's genTime
    revoked = client.post(f"/api/v1/certificates/{cert_id}/revoke", json={}, headers=auth(key))
    assert revoked.status_code == 200, revoked.text
    for _ in range(3):
        after = _verify(verifier, pdf)
        signature = after["signatures"][0]
        assert signature["revocation"]["status"] == "revoked_after_signing", after
        assert any(f["code"] == "revoked-after-signing" for f in signature["findings"]), signature


def test_kept_answers_last_one_status_epoch(
    client: TestClient, app: Any, new_org: Any, org_key: Any, contract: bytes
) -> None:
    services = app.state.services
    _, cert_id, _ = _seal_with_our_certificate(
        client, app, new_org, org_key, contract, PadesLevel.B_T
    )
    cache = VerificationCache(services)
    with unit_of_work(services.engine) as session:
        chain = services.authority.chain(session, cert_id)
    leaf, issuer = chain[0], chain[1]

    def answer() -> bytes | None:
        with verification_session(services) as session:
            snapshot = cache.trust(session)
            return cache.revocation(
                session,
                snapshot,
                epoch=session.info[EPOCH_KEY],
                issuer=issuer,
                certificate=leaf,
            )

    first = answer()
    assert first is not None
    assert answer() is first  # kept: no new OCSP answer signed
    services.publisher.status_epoch.bump()  # any status change anywhere
    renewed = answer()
    assert renewed is not first and renewed is not None
    with unit_of_work(reading(services.engine)) as session:  # no epoch known: nothing kept
        snapshot = cache.trust(session)
        unkept = cache.revocation(session, snapshot, epoch=None, issuer=issuer, certificate=leaf)
    assert unkept == renewed and answer() is renewed


def test_crls_are_looked_at_once_a_minute_and_after_a_trust_change(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = app.state.services
    cache = cache_for(services)
    looked: list[int] = []
    crl_issuers = services.publisher.crl_issuers

    def counted(session: Any) -> list[str]:
        looked.append(1)
        return list(crl_issuers(session))

    monkeypatch.setattr(services.publisher, "crl_issuers", counted)
    cache.crls_checked_until = 0.0
    refresh_stale_crls(services)
    refresh_stale_crls(services)
    assert len(looked) == 1
    monkeypatch.setattr(cache, "_trust", None)  # as after a CA or anchor change
    with verification_session(services) as session:
        cache.trust(session)
    refresh_stale_crls(services)
    assert len(looked) == 2


def test_the_trust_version_names_every_ca_certificate_and_every_anchor(app: Any) -> None:
    from datetime import UTC, datetime

    from sqlmodel import col, delete, select

    from app.verification.cache import trust_version
    from pki.models import CaRecord, TrustAnchorRecord

    services = app.state.services

    def expected(session: Any) -> tuple[tuple[str, str], ...]:
        cas = session.exec(select(CaRecord.name, CaRecord.certificate_id)).all()
        anchors = session.exec(select(TrustAnchorRecord.fingerprint_sha256)).all()
        return tuple(
            sorted([(str(n), str(c)) for n, c in cas] + [("anchor", str(f)) for f in anchors])
        )

    anchor = TrustAnchorRecord(
        label="test",
        subject="CN=test",
        fingerprint_sha256="ab" * 32,
        der=b"x",
        not_after=datetime(2040, 1, 1, tzinfo=UTC),
        added_by="test",
    )
    with unit_of_work(services.engine) as session:
        before = trust_version(session)
        assert before == expected(session) and any(name == "root" for name, _ in before)
        session.add(anchor)
    with unit_of_work(services.engine) as session:
        added = trust_version(session)
        assert added == expected(session) and ("anchor", "ab" * 32) in added
        session.exec(delete(TrustAnchorRecord).where(col(TrustAnchorRecord.id) == anchor.id))
    with unit_of_work(services.engine) as session:
        assert trust_version(session) == before
