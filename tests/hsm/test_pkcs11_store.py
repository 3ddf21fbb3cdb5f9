"""PKCS#11 key store on a real SoftHSM2 token: keys born in the token, signing there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlmodel import Session, select

from pki.errors import KeyStoreError
from pki.keys import KeyAlgorithm, SoftwareKeyStore
from pki.models import KeyRecord, TokenKeyRecord
from pki.pkcs11_store import Pkcs11Config, Pkcs11KeyStore, read_pin
from tests.pki.conftest import new_engine

HASHES = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


def _verify(spki: bytes, signature: bytes, data: bytes, digest: str) -> None:
    public = serialization.load_der_public_key(spki)
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, data, padding.PKCS1v15(), HASHES[digest])
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, data, ec.ECDSA(HASHES[digest]))


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        (KeyAlgorithm.EC_P256, "sha256"),
        (KeyAlgorithm.EC_P384, "sha384"),
        (KeyAlgorithm.RSA_3072, "sha256"),
    ],
)
def test_key_is_born_in_the_token_and_signs_there(
    token: Pkcs11Config, tmp_path: Path, algorithm: KeyAlgorithm, digest: str
) -> None:
    engine = new_engine(tmp_path / "db.sqlite")
    store = Pkcs11KeyStore(token)
    with Session(engine) as session:
        key_id = store.create_key(session, algorithm=algorithm, label="seal 1")
        session.commit()
    with Session(engine) as session:
        signer = store.signer(session, key_id)
        assert signer.key_id == key_id and signer.algorithm is algorithm
        data = b"to be signed " * 50
        signature = signer.sign(data, digest)
        _verify(signer.public_key_info(), signature, data, digest)
        with pytest.raises(InvalidSignature):
            _verify(signer.public_key_info(), signature, data + b"x", digest)
        assert store.public_key_info(session, key_id) == signer.public_key_info()
        # the token says the key can never leave it
        assert store.token_attributes(session, key_id) == {
            "sensitive": True,
            "extractable": False,
            "always_sensitive": True,
            "never_extractable": True,
        }
        # the database holds a pointer and the public key, never a key blob
        assert session.exec(select(KeyRecord)).all() == []
        record = session.get(TokenKeyRecord, key_id)
        assert record is not None and record.token_label == token.token_label
        assert not hasattr(store, "private_key")  # nothing to hand out


def test_older_database_keys_still_sign_through_the_fallback(
    token: Pkcs11Config, tmp_path: Path
) -> None:
    engine = new_engine(tmp_path / "db.sqlite")
    software = SoftwareKeyStore(b"k" * 32)
    with Session(engine) as session:
        old = software.create_key(session, algorithm=KeyAlgorithm.EC_P256, label="old")
        session.commit()
    store = Pkcs11KeyStore(token, fallback=software)
    with Session(engine) as session:
        assert not store.in_token(session, old)
        assert store.public_key_info(session, old) == software.public_key_info(session, old)
        signature = store.signer(session, old).sign(b"old", "sha256")
        _verify(software.public_key_info(session, old), signature, b"old", "sha256")
        with pytest.raises(KeyStoreError, match="no key"):
            Pkcs11KeyStore(token).signer(session, old)


def test_wrong_pin_or_token_is_a_key_store_error(token: Pkcs11Config, tmp_path: Path) -> None:
    engine = new_engine(tmp_path / "db.sqlite")
    missing = Pkcs11Config(module=token.module, token_label="no-such-token", pin=token.pin)
    with Session(engine) as session, pytest.raises(KeyStoreError, match="NoSuchToken"):
        Pkcs11KeyStore(missing).create_key(session, algorithm=KeyAlgorithm.EC_P256, label="x")
    assert token.pin not in repr(Pkcs11KeyStore(token)) + repr(token)
    # a wrong PIN, in a process of its own (login is per process once it succeeded here)
    script = (
        "import sys; from pathlib import Path; from pki.pkcs11_store import *; "
        "from pki.errors import KeyStoreError\n"
        f"c = Pkcs11Config(module=Path({str(token.module)!r}), "
        f"token_label={token.token_label!r}, pin='000000')\n"
        "try:\n    Pkcs11KeyStore(c)._token.__enter__()\n"
        "except KeyStoreError as e:\n    print(e); sys.exit(3)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 3, run.stderr
    assert "PinIncorrect" in run.stdout and "000000" not in run.stdout


def test_sm2_keys_stay_in_the_database(token: Pkcs11Config, tmp_path: Path) -> None:
    """No standard PKCS#11 mechanism for SM2: refused without a database store behind the
    token, kept (encrypted) there with one, and never reported as a token key."""
    engine = new_engine(tmp_path / "db.sqlite")
    with Session(engine) as session:
        with pytest.raises(KeyStoreError, match="sm2"):
            Pkcs11KeyStore(token).create_key(session, algorithm=KeyAlgorithm.SM2, label="x")
        store = Pkcs11KeyStore(token, fallback=SoftwareKeyStore(b"k" * 32))
        key_id = store.create_key(session, algorithm=KeyAlgorithm.SM2, label="sm2")
        assert not store.in_token(session, key_id)
        assert session.get(KeyRecord, key_id) is not None


def test_pin_from_file_or_environment(tmp_path: Path) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text("123456\n")
    assert read_pin(pin=None, pin_file=pin_file) == "123456"
    assert read_pin(pin="999999", pin_file=pin_file) == "999999"
    with pytest.raises(KeyStoreError):
        read_pin(pin=None, pin_file=None)
