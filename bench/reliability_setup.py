"""Set-up and consistency check of bench/reliability.py: a fresh service folder and database
with one organization, seal and sealing client; afterwards, what the database and the blob
store say about every seal the clients were told succeeded."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from asn1crypto import algos, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from app.bootstrap import initialise
from app.db import make_engine, unit_of_work
from app.main import create_app
from app.models import AuditEvent, IdempotencyRecord, StoredDocument
from app.services.tenancy import create_api_client
from app.settings import Settings
from seals.documents import make_document
from seals.fonts import find_cjk_font
from seals.models import SealUsage


@dataclass
class Fixture:
    seal_id: str
    seal_auth: dict[str, str]
    actor: str
    document: bytes
    signed: bytes
    ocsp_request: bytes
    tsa_query: bytes
    database_url: str
    data_dir: Path
    setup_document: str


@dataclass
class Checked:
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def expect(self, condition: bool, text: str) -> None:
        self.ok &= condition
        self.lines.append(f"[{'ok' if condition else 'FAIL'}] {text}")


def _database(folder: Path, db: str, pg_url: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{folder / 'eseal.db'}"
    base = make_url(pg_url)
    name = f"eseal_reliability_{secrets.token_hex(4)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Remove the PostgreSQL database `_database` made (nothing to do for SQLite's file)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def prepare(*, folder: Path, port: int, db: str, pg_url: str) -> tuple[Fixture, dict[str, str]]:
    """Initialise, register an organization, a contract seal and a client allowed to seal."""
    url = _database(folder, db, pg_url)
    env = {
        **os.environ,
        "ESEAL_DATA_DIR": str(folder),
        "ESEAL_DATABASE_URL": url,
        "ESEAL_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ESEAL_LOG_LEVEL": "WARNING",
        "ESEAL_JOBS_WORKER": "false",
        "ESEAL_VERIFY_RATE_PER_MINUTE": "0",
    }
    settings = Settings(
        data_dir=folder,
        database_url=url,
        public_base_url=env["ESEAL_PUBLIC_BASE_URL"],
        verify_rate_per_minute=0,
        jobs_worker=False,
        log_level="WARNING",
    )
    initialise(settings)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        _, platform = create_api_client(
            session, principal=None, organization_id=None, name="bench", scopes=["platform"]
        )
    engine.dispose()
    font = find_cjk_font()
    document = make_document(
        title="医疗费用结算单",
        paragraphs=["结算金额：人民币壹佰元整。"],
        pages=1,
        font_path=font.path,
        font_number=font.index,
    )
    with TestClient(create_app(settings, migrate_on_start=False)) as client:
        fx = _register(client, platform.key, document, settings)
    return fx, env


def _ok(answer: object) -> dict[str, object]:
    response = answer  # httpx.Response
    assert response.status_code in (200, 201), response.text  # type: ignore[attr-defined]
    return dict(response.json())  # type: ignore[attr-defined]


def _register(
    client: TestClient, platform_key: str, document: bytes, settings: Settings
) -> Fixture:
    platform = {"Authorization": f"Bearer {platform_key}"}
    org = _ok(
        client.post(
            "/api/v1/organizations",
            json={
                "name": "浙江省医疗保障结算中心",
                "uscc": _uscc(),
                "legal_representative": "王芳",
            },
            headers=platform,
        )
    )
    seal = _ok(
        client.post(
            f"/api/v1/organizations/{org['id']}/seals",
            json={"kind": "contract", "dpi": 150},
            headers=platform,
        )
    )
    _ok(client.post(f"/api/v1/seals/{seal['id']}/activate", headers=platform))
    sealer = _ok(
        client.post(
            f"/api/v1/organizations/{org['id']}/clients",
            json={"name": "portal", "scopes": ["seals:read", "seals:use"]},
            headers=platform,
        )
    )
    _ok(
        client.post(
            f"/api/v1/seals/{seal['id']}/grants",
            json={"grantee_kind": "client", "grantee_id": sealer["id"]},
            headers=platform,
        )
    )
    seal_auth = {"Authorization": f"Bearer {sealer['api_key']}"}
    signed = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("c.pdf", document, "application/pdf")},
        data={"placement": '{"type": "invisible"}', "level": "B-LT"},
        headers=seal_auth,
    )
    assert signed.status_code == 200, signed.text
    return Fixture(
        seal_id=str(seal["id"]),
        seal_auth=seal_auth,
        actor=f"client:{sealer['id']}",
        document=document,
        signed=signed.content,
        ocsp_request=_ocsp_request(client, signed.content),
        tsa_query=_tsa_query(),
        database_url=settings.resolved_database_url,
        data_dir=settings.data_dir,
        setup_document=signed.headers["x-eseal-document-id"],
    )


def _uscc() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.conftest import make_uscc

    return make_uscc()


def _ocsp_request(client: TestClient, signed: bytes) -> bytes:
    """OCSP for the seal's own certificate (as a relying party checks it)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    signature = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    certificate = x509.load_der_x509_certificate(signature.signer_cert.dump())
    issuer = x509.load_der_x509_certificate(client.get("/pki/ca/organization.crt").content)
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256())
    return request.build().public_bytes(Encoding.DER)


def _tsa_query() -> bytes:
    return tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": hashlib.sha256(b"reliability").digest(),
            },
            "cert_req": True,
        }
    ).dump()


def consistency(fx: Fixture, env: dict[str, str], sealed: dict[str, set[str]]) -> Checked:
    """What the clients were told against what the service kept."""
    checked = Checked()
    engine = make_engine(fx.database_url)
    with Session(engine) as session:
        documents = {
            d.id: d
            for d in session.exec(
                select(StoredDocument).where(StoredDocument.created_by == fx.actor)
            )
            if d.id != fx.setup_document
        }
        events = [
            details
            for e in session.exec(
                select(AuditEvent).where(
                    AuditEvent.action == "seal.use", AuditEvent.actor == fx.actor
                )
            )
            if (details := json.loads(e.details))["document_id"] != fx.setup_document
        ]
        usages = {
            u.id for u in session.exec(select(SealUsage).where(SealUsage.seal_id == fx.seal_id))
        }
        records = list(
            session.exec(select(IdempotencyRecord).where(IdempotencyRecord.principal == fx.actor))
        )
    engine.dispose()
    event_by_document = {e["document_id"]: e for e in events}
    answered = {doc for docs in sealed.values() for doc in docs}
    blobs = fx.data_dir / "documents"
    checked.expect(
        all(doc in documents for doc in answered),
        f"every 200 has its stored document ({len(answered)} answered)",
    )
    checked.expect(
        all((blobs / d.sha256[:2] / d.sha256[2:]).is_file() for d in documents.values()),
        "every stored document has its file",
    )
    checked.expect(
        all(doc in event_by_document for doc in answered), "every 200 has its seal.use audit event"
    )
    checked.expect(
        all(
            event_by_document[doc]["usage_id"] in usages
            for doc in answered
            if doc in event_by_document
        ),
        "every 200 has its usage row",
    )
    checked.expect(
        all(len(docs) == 1 for docs in sealed.values()),
        "no Idempotency-Key answered with two different documents",
    )
    recorded = [r.document_id for r in records if r.document_id]
    checked.expect(
        len(recorded) == len(set(recorded)) and set(recorded) == set(documents),
        f"no key sealed twice: {len(records)} keys, {len(documents)} documents",
    )
    checked.expect(
        len(events) == len(documents) and len(usages) == len(events) + 1,
        f"{len(documents)} documents = {len(events)} audit events = {len(usages) - 1} usage rows",
    )
    verify = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    checked.expect(verify.returncode == 0, f"eseal audit verify: {verify.stdout.strip()}")
    return checked
