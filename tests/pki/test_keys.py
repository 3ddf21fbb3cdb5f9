"""Software key store: envelope encryption in a real SQLite file, master key handling."""

from __future__ import annotations

import base64
import os
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlmodel import Session

from pki.errors import KeyStoreError
from pki.keys import (
    KeyAlgorithm,
    SoftwareKeyStore,
    load_or_create_master_key,
    master_key_from_env,
    signature_digest,
)
from pki.models import KeyRecord
from pki.signatures import verify_signature
from tests.pki.conftest import new_engine


@pytest.fixture
def engine_path(tmp_path: Path) -> Path:
    return tmp_path / "keys.sqlite"


def _secret_fragments(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> list[bytes]:
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        scalars = [key.private_numbers().private_value.to_bytes(size, "big")]
    else:
        numbers = key.private_numbers()
        scalars = [
            n.to_bytes((n.bit_length() + 7) // 8, "big") for n in (numbers.d, numbers.p, numbers.q)
        ]
    # the whole PKCS#8, a 16-byte window from its middle, and the private scalars
    return [pkcs8, pkcs8[len(pkcs8) // 2 : len(pkcs8) // 2 + 16], *scalars]


@pytest.mark.parametrize("algorithm", [a for a in KeyAlgorithm if a is not KeyAlgorithm.SM2])
def test_keys_never_stored_in_clear(engine_path: Path, algorithm: KeyAlgorithm) -> None:
    engine = new_engine(engine_path)
    store = SoftwareKeyStore(os.urandom(32))
    with Session(engine) as session:
        key_id = store.create_key(session, algorithm=algorithm, label="test")
        session.commit()
    with Session(engine) as session:
        key = store.private_key(session, key_id)
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert store.public_key_info(session, key_id) == spki
        signer = store.signer(session, key_id)
        assert signer.public_key_info() == spki and signer.algorithm is algorithm
        assert key_id in repr(signer) and "private" not in repr(signer).lower()
        digest = signature_digest(algorithm)
        assert verify_signature(key.public_key(), signer.sign(b"data", digest), b"data", digest)
    engine.dispose()
    fragments = _secret_fragments(key)
    file_bytes = engine_path.read_bytes()
    with sqlite3.connect(engine_path) as raw:
        tables = [r[0] for r in raw.execute("select name from sqlite_master where type='table'")]
        cells = [
            value
            for table in tables
            for row in raw.execute(f'select * from "{table}"')
            for value in row
        ]
    assert len(cells) > 0
    for fragment in fragments:
        assert fragment not in file_bytes
        for value in cells:
            blob = value if isinstance(value, bytes) else str(value).encode()
            assert fragment not in blob


def test_wrong_master_key_fails(engine_path: Path) -> None:
    engine = new_engine(engine_path)
    with Session(engine) as session:
        key_id = SoftwareKeyStore(os.urandom(32)).create_key(
            session, algorithm=KeyAlgorithm.EC_P256, label="x"
        )
        with pytest.raises(KeyStoreError, match="wrong master key"):
            SoftwareKeyStore(os.urandom(32)).private_key(session, key_id)


def test_record_bound_to_its_key_id(engine_path: Path) -> None:
    engine = new_engine(engine_path)
    store = SoftwareKeyStore(os.urandom(32))
    with Session(engine) as session:
        key_id = store.create_key(session, algorithm=KeyAlgorithm.EC_P256, label="x")
        record = session.get(KeyRecord, key_id)
        assert record is not None
        session.add(
            KeyRecord(
                id="copied",
                algorithm=record.algorithm,
                wrapped_key=record.wrapped_key,
                wrap_nonce=record.wrap_nonce,
                nonce=record.nonce,
                ciphertext=record.ciphertext,
            )
        )
        record.ciphertext = record.ciphertext[:-1] + bytes([record.ciphertext[-1] ^ 1])
        session.flush()
        with pytest.raises(KeyStoreError):
            store.private_key(session, "copied")  # associated data is the key id
        with pytest.raises(KeyStoreError):
            store.private_key(session, key_id)  # tampered ciphertext
        with pytest.raises(KeyStoreError, match="no key"):
            store.private_key(session, "missing")


def test_keystore_refuses_short_master_key() -> None:
    with pytest.raises(KeyStoreError):
        SoftwareKeyStore(b"short")
    assert "hidden" in repr(SoftwareKeyStore(os.urandom(32)))


def test_master_key_file(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    key = load_or_create_master_key(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_master_key(path) == key
    path.chmod(0o640)
    with pytest.raises(KeyStoreError, match="group or others"):
        load_or_create_master_key(path)
    path.chmod(0o600)
    path.write_bytes(b"x" * 31)
    with pytest.raises(KeyStoreError, match="32 bytes"):
        load_or_create_master_key(path)


def test_master_key_from_env() -> None:
    raw = os.urandom(32)
    assert master_key_from_env(base64.b64encode(raw).decode()) == raw
    assert master_key_from_env(base64.urlsafe_b64encode(raw).decode() + "\n") == raw
    with pytest.raises(KeyStoreError, match="base64"):
        master_key_from_env("not base64!")
    with pytest.raises(KeyStoreError, match="32 bytes"):
        master_key_from_env(base64.b64encode(raw[:16]).decode())
