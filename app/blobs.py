"""Blob storage for documents: content-addressed (key = SHA-256 hex), picked by settings.

`local` (default): files under the data folder. `database`: rows of the service's own
database, for several instances on one PostgreSQL without shared disks. Another backend (an
S3-compatible store) implements the same three methods and is added to `build_blob_store`.

Blobs are written (durably) before the database row that names them is committed: a
rolled-back transaction can leave an unreferenced blob behind, never a row without its blob.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.db import reading
from app.models_blobs import BlobRecord


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...

    def get(self, key: str) -> bytes: ...

    def iter_keys(self) -> Iterator[str]: ...


def _checked(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise KeyError(key)
    return key


class LocalBlobStore:
    """Files named by their SHA-256 under ``root`` (two-level fan-out)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        _checked(key)
        return self.root / key[:2] / key[2:]

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def iter_keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and len(folder.name) == 2:
                for path in sorted(folder.iterdir()):
                    if not path.name.startswith("."):
                        yield folder.name + path.name


class DatabaseBlobStore:
    """Rows of the `blob` table, each written in a short transaction of its own (PostgreSQL:
    on SQLite that transaction would wait for the caller's own write lock, so wiring refuses it).

    Its own transaction keeps the write-before-reference order of the local store: the blob
    is committed before the caller's row that names it. A concurrent put of the same bytes by
    another instance is absorbed by ON CONFLICT DO NOTHING.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        values = {"key": key, "size": len(data), "data": data}
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(BlobRecord).values(**values).on_conflict_do_nothing()
        with Session(self.engine) as session:
            session.execute(statement)
            session.commit()
        return key

    def get(self, key: str) -> bytes:
        with Session(reading(self.engine)) as session:
            data = session.exec(
                select(BlobRecord.data).where(col(BlobRecord.key) == _checked(key))
            ).first()
        if data is None:
            raise FileNotFoundError(key)
        return bytes(data)

    def iter_keys(self) -> Iterator[str]:
        with Session(reading(self.engine)) as session:
            rows = session.exec(select(BlobRecord.key).order_by(col(BlobRecord.key))).all()
        for key in rows:
            yield str(key)
