"""SM2 keys in the software key store: encrypted at rest, unlocked only behind a signer."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from asn1crypto import keys
from sqlmodel import Session

from pki import sm2
from pki.errors import KeyStoreError
from pki.keys import KeyAlgorithm, SoftwareKeyStore
from pki.models import KeyRecord
from tests.pki.conftest import new_engine


def test_sm2_key_encrypted_at_rest_and_signs(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    engine = new_engine(path)
    store = SoftwareKeyStore(os.urandom(32))
    with Session(engine) as session:
        key_id = store.create_key(session, algorithm=KeyAlgorithm.SM2, label="sm2")
        session.commit()
    with Session(engine) as session:
        signer = store.sm2_signer(session, key_id)
        record, pkcs8 = store._unlock(session, key_id)
        assert record.algorithm == "sm2"
        assert store.algorithm(session, key_id) is KeyAlgorithm.SM2
        with pytest.raises(KeyStoreError, match="SM2"):
            store.private_key(session, key_id)
    assert signer.algorithm == KeyAlgorithm.SM2 and signer.key_id == key_id
    assert "key_id" in repr(signer) and pkcs8.hex() not in repr(signer)
    signature = signer.sign(b"payload", "sm3")
    assert sm2.verify(signer.public_key_info(), b"payload", signature)
    with pytest.raises(KeyStoreError, match="SM3"):
        signer.sign(b"payload", "sha256")
    engine.dispose()
    scalar = keys.PrivateKeyInfo.load(pkcs8)["private_key"].parsed["private_key"].native
    fragments = [pkcs8, pkcs8[40:56], scalar.to_bytes(32, "big")]
    file_bytes = path.read_bytes()
    with sqlite3.connect(path) as raw:
        cells = [v for row in raw.execute("select * from pki_key") for v in row]
    for fragment in fragments:
        assert fragment not in file_bytes
        assert not any(fragment in (v if isinstance(v, bytes) else str(v).encode()) for v in cells)


def test_sm2_signer_refuses_other_keys_and_tampering(tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "keys.sqlite")
    store = SoftwareKeyStore(os.urandom(32))
    with Session(engine) as session:
        ec_id = store.create_key(session, algorithm=KeyAlgorithm.EC_P256, label="ec")
        sm2_id = store.create_key(session, algorithm=KeyAlgorithm.SM2, label="sm2")
        with pytest.raises(KeyStoreError, match="not an SM2 key"):
            store.sm2_signer(session, ec_id)
        record = session.get(KeyRecord, sm2_id)
        assert record is not None
        record.ciphertext = record.ciphertext[:-1] + bytes([record.ciphertext[-1] ^ 1])
        session.flush()
        with pytest.raises(KeyStoreError, match="cannot be unlocked"):
            store.sm2_signer(session, sm2_id)
        with pytest.raises(KeyStoreError, match="cannot be unlocked"):
            SoftwareKeyStore(os.urandom(32)).sm2_signer(session, ec_id)


def test_the_seam_hands_out_sm2_signers(tmp_path: Path) -> None:
    """`KeyStore.signer` / `public_key_info` (the shared seam) serve SM2 keys too."""
    engine = new_engine(tmp_path / "keys.sqlite")
    store = SoftwareKeyStore(os.urandom(32))
    with Session(engine) as session:
        key_id = store.create_key(session, algorithm=KeyAlgorithm.SM2, label="sm2")
        signer = store.signer(session, key_id)
        assert signer.algorithm is KeyAlgorithm.SM2 and signer.key_id == key_id
        assert store.public_key_info(session, key_id) == signer.public_key_info()
    assert sm2.verify(signer.public_key_info(), b"doc", signer.sign(b"doc", "sm3"))
