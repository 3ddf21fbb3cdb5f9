"""Both blob stores, local folder and database (SQLite and, when configured, PostgreSQL):
same keys, same bytes, same refusals; the database store is shared across engines."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.blobs import BlobStore, DatabaseBlobStore, LocalBlobStore
from app.db import make_engine, migrate
from tests.dbutil import drop_database, fresh_database_url

PG = os.environ.get("ESEAL_TEST_DATABASE_URL", "")


def _database_url(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'blobs.db'}"
        return
    from tests import dbutil

    saved = dbutil.POSTGRES_URL
    dbutil.POSTGRES_URL = PG
    try:
        url = fresh_database_url(tmp)
    finally:
        dbutil.POSTGRES_URL = saved
    yield url
    drop_database(url)


# the PostgreSQL store is exercised in the suite's PostgreSQL run (CI runs both)
@pytest.fixture(
    params=["local", "sqlite", *(["postgresql"] if PG.startswith("postgresql") else [])]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "documents")
        return
    for url in _database_url(request.param, tmp_path):
        migrate(url)
        engine = make_engine(url)
        yield DatabaseBlobStore(engine)
        engine.dispose()


def test_put_get_iter_keys(store: BlobStore) -> None:
    data = b"%PDF-1.7 " + os.urandom(4096)
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.get(key) == data
    assert store.put(data) == key  # idempotent
    other = store.put(b"second")
    assert sorted(store.iter_keys()) == sorted({key, other})
    with pytest.raises(KeyError):
        store.get("../../etc/passwd")
    with pytest.raises(FileNotFoundError):
        store.get("0" * 64)


def test_concurrent_puts_of_the_same_bytes(store: BlobStore) -> None:
    data = os.urandom(100_000)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: store.put(data), range(16)))
    assert keys == {hashlib.sha256(data).hexdigest()}
    assert store.get(keys.pop()) == data


def test_database_store_is_shared_between_instances(tmp_path: Path) -> None:
    """What one instance (engine) stores, another reads: the multi-instance point."""
    kind = "postgresql" if PG.startswith("postgresql") else "sqlite"
    for url in _database_url(kind, tmp_path):
        migrate(url)
        first, second = make_engine(url), make_engine(url)
        key = DatabaseBlobStore(first).put(b"from instance A")
        assert DatabaseBlobStore(second).get(key) == b"from instance A"
        with create_engine(url).connect() as conn:
            assert conn.execute(text("select size from blob")).scalar_one() == 15
        first.dispose()
        second.dispose()
