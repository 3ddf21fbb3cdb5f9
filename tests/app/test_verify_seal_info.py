"""The seal a verification report names is read in one statement (app.verification.verify.
seal_info); it says what the registry's own reads say: the seal found by the certificate's
fingerprint (main or SM2), its effective status, its owner as the public may see it and its
custom kind's name."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from fastapi.testclient import TestClient
from sqlmodel import select

from app.db import unit_of_work
from app.models_policy import CustomSealKind, SealCustomKind
from app.services.seal_kinds import label_of
from app.services.seals import public_owner, registry
from app.verification.verify import seal_info
from app.wiring import Services
from pki.models import CertificateRecord
from seals.reports import SealInfo
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org


def _as_the_registry_reads_it(
    session: Any, services: Services, certificate: x509.Certificate
) -> SealInfo | None:
    seal = registry(services).find_by_certificate(session, certificate)
    if seal is None:
        return None
    return SealInfo(
        code=seal.code,
        kind=seal.kind.value,
        owner=public_owner(session, seal),
        status=seal.status.value,
        kind_label=label_of(session, seal.id),
    )


def test_seal_info_says_what_the_registry_says(
    client: TestClient, app: Any, new_org: Any, org_key: Any, platform_key: str
) -> None:
    org: Org = make_org(client, new_org, org_key, platform_key)
    contract = org.seal("contract")
    personal = org.seal("personal", person_id=org.member("欧阳娜娜"))
    revoked = org.seal("finance")
    assert client.post(f"/api/v1/seals/{revoked['id']}/revoke", headers=auth(org.admin)).is_success
    labelled = org.seal("official")
    services: Services = app.state.services
    with unit_of_work(services.engine) as session:
        kind = CustomSealKind(organization_id=org.id, label="人事专用章", created_by="test")
        session.add(kind)
        session.flush()
        session.add(SealCustomKind(seal_id=labelled["id"], custom_kind_id=kind.id))
    ours = {s["certificate_id"] for s in (contract, personal, revoked, labelled)}
    with unit_of_work(services.engine) as session:
        records = session.exec(select(CertificateRecord)).all()
        seen = []
        for record in records:
            certificate = x509.load_der_x509_certificate(record.der)
            expected = _as_the_registry_reads_it(session, services, certificate)
            assert seal_info(session, services, certificate) == expected, record.id
            if record.id in ours:
                assert expected is not None
                seen.append((expected.status, expected.owner, expected.kind_label))
    assert any(status == "revoked" for status, _, _ in seen)
    assert any(owner == "欧***" for _, owner, _ in seen)
    assert any(label == "人事专用章" for _, _, label in seen)
    assert len(seen) == 4
