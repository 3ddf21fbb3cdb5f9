"""Backup and restore of an installation: database rows, documents, and the key reference.

A backup is a folder (the operator archives or ships it):

- ``database.jsonl.gz``: every table's rows in foreign-key order, read in one transaction (a
  consistent snapshot on PostgreSQL: REPEATABLE READ); bytes base64, times ISO 8601. Our own
  format rather than pg_dump/sqlite3 so a backup moves between SQLite and PostgreSQL and
  needs no client tools matching the server's version. The `blob` table is left out:
- ``blobs/aa/bb…``: every document from the blob store, whichever store it is (restoring
  into another store kind works), each checked against its SHA-256 name on restore;
- ``keys.json``: where the private keys are: the master key (base64) only when asked for
  (keep it apart from the backup otherwise), and for PKCS#11 keys the token label and object
  ids (the token itself is backed up by the HSM's own means);
- ``manifest.json``: schema revision, counts and the SHA-256 of each file above.

Restore goes into a fresh, empty database at the same schema revision, then checks every
stored document against its hash and the audit chain.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, select

from app.blobs import BlobStore
from app.db import migrate, reading, unit_of_work
from app.models import StoredDocument
from app.schemas.tables import load_all_models
from app.services.audit import verify_chain
from app.settings import Settings
from pki.models import TokenKeyRecord

FORMAT = 1
SKIPPED_TABLES = frozenset({"blob"})  # documents travel as files, whatever the store


class BackupError(Exception):
    """A backup that cannot be made or restored (with what to do about it)."""


@dataclass(frozen=True)
class BackupSummary:
    folder: Path
    revision: str
    rows: int
    blobs: int


@dataclass(frozen=True)
class RestoreSummary:
    rows: int
    blobs: int
    documents_checked: int
    audit_events: int


def _tables() -> list[sa.Table]:
    load_all_models()
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime | date):
        return {"t": value.isoformat()}
    return value


def _decode(value: Any, column: sa.Column[Any]) -> Any:
    if isinstance(value, dict) and "b64" in value:
        return base64.b64decode(value["b64"])
    if isinstance(value, dict) and "t" in value:
        parsed = datetime.fromisoformat(value["t"])
        if isinstance(column.type, sa.Date) and not isinstance(column.type, sa.DateTime):
            return parsed.date()
        return parsed
    return value


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _revision(session: Session) -> str:
    return str(session.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def backup(
    *, engine: Engine, blobs: BlobStore, settings: Settings, folder: Path, master_key: bytes | None
) -> BackupSummary:
    """Write a backup of this installation into the new folder `folder` (mode 0700)."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    rows = 0
    with Session(reading(engine)) as session:
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        revision = _revision(session)
        with gzip.open(folder / "database.jsonl.gz", "wt", encoding="utf-8") as out:
            for table in _tables():
                for row in session.execute(sa.select(table)).mappings():
                    record = {k: _encode(v) for k, v in row.items()}
                    line = {"table": table.name, "row": record}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                    rows += 1
        token_keys = [
            {"id": r.id, "token_label": r.token_label, "object_id": r.object_id}
            for r in session.exec(select(TokenKeyRecord)).all()
        ]
    count = 0
    for key in blobs.iter_keys():
        path = folder / "blobs" / key[:2] / key[2:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blobs.get(key))
        count += 1
    keys: dict[str, Any] = {
        "key_store": settings.key_store,
        "pkcs11_token_label": settings.pkcs11_token_label,
        "token_keys": token_keys,
        "master_key": base64.b64encode(master_key).decode() if master_key else None,
    }
    keys_path = folder / "keys.json"
    descriptor = os.open(keys_path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(keys, handle, indent=1)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "revision": revision,
        "rows": rows,
        "blobs": count,
        "database_sha256": _sha256_file(folder / "database.jsonl.gz"),
        "keys_sha256": _sha256_file(keys_path),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return BackupSummary(folder=folder, revision=revision, rows=rows, blobs=count)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, with the database and key files checked against it."""
    try:
        manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} holds no readable backup manifest: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not {FORMAT}")
    for name, field in (("database.jsonl.gz", "database_sha256"), ("keys.json", "keys_sha256")):
        if _sha256_file(folder / name) != manifest[field]:
            raise BackupError(f"{name} does not match the manifest: the backup is damaged")
    return manifest


def backed_up_master_key(folder: Path) -> bytes | None:
    value = json.loads((folder / "keys.json").read_text()).get("master_key")
    return base64.b64decode(value) if value else None


def _rows(folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with gzip.open(folder / "database.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            yield item["table"], item["row"]


def _fresh_or_refuse(session: Session) -> None:
    for table in _tables():
        if (
            table.name != "alembic_version"
            and session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        ):
            raise BackupError(f"the target database is not empty (table {table.name}): "
                              "restore into a fresh installation")  # fmt: skip


def restore(*, engine: Engine, blobs: BlobStore, database_url: str, folder: Path) -> RestoreSummary:
    """Load the backup in `folder` into the fresh database `engine`, then check it."""
    manifest = read_manifest(folder)
    migrate(database_url)
    tables = {t.name: t for t in _tables()}
    count = 0
    with unit_of_work(engine) as session:
        if _revision(session) != manifest["revision"]:
            raise BackupError(
                f"the backup is at schema {manifest['revision']}, this installation at "
                f"{_revision(session)}: restore with the version that made the backup"
            )
        _fresh_or_refuse(session)
        batch: list[dict[str, Any]] = []
        current: str | None = None
        for name, row in _rows(folder):
            if name != current and batch and current is not None:
                session.execute(tables[current].insert(), batch)
                batch = []
            current = name
            columns = tables[name].c
            batch.append({k: _decode(v, columns[k]) for k, v in row.items()})
            count += 1
            if len(batch) >= 500:
                session.execute(tables[name].insert(), batch)
                batch = []
        if batch and current is not None:
            session.execute(tables[current].insert(), batch)
    restored = _restore_blobs(folder, blobs)
    if restored != manifest["blobs"] or count != manifest["rows"]:
        raise BackupError("the backup holds fewer rows or documents than its manifest says")
    return RestoreSummary(rows=count, blobs=restored, **check(engine=engine, blobs=blobs))


def _restore_blobs(folder: Path, blobs: BlobStore) -> int:
    restored = 0
    root = folder / "blobs"
    for path in sorted(root.glob("*/*")) if root.is_dir() else []:
        name = path.parent.name + path.name
        if blobs.put(path.read_bytes()) != name:
            raise BackupError(f"document {name} in the backup does not match its hash")
        restored += 1
    return restored


def check(*, engine: Engine, blobs: BlobStore) -> dict[str, int]:
    """Every stored document is present with its hash, and the audit chain is intact."""
    with Session(reading(engine)) as session:
        documents = session.exec(select(StoredDocument.id, StoredDocument.sha256)).all()
    for document_id, sha256 in documents:
        try:
            data = blobs.get(sha256)
        except (KeyError, OSError):
            raise BackupError(f"stored document {document_id} has no blob") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BackupError(f"stored document {document_id} does not match its hash")
    with Session(reading(engine)) as session:
        report = verify_chain(session)
    if not report.intact:
        raise BackupError(f"audit chain broken at event {report.first_broken_seq}: {report.reason}")
    return {"documents_checked": len(documents), "audit_events": report.events}
