"""`eseal init` with ESEAL_KEY_STORE=pkcs11 builds the whole hierarchy in a SoftHSM2 token; a
seal registered then gets its key there too. Independent tools check everything those keys
signed: openssl (chain, CRL, OCSP, RFC 3161, CMS) and pdfsig; the database holds no key blob
and the token says no key can leave it."""

from __future__ import annotations

import subprocess
from io import BytesIO
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import create_engine, text
from sqlmodel import Session

from pki.pkcs11_store import Pkcs11Config, Pkcs11KeyStore
from tests.dbutil import drop_database, fresh_database_url
from tests.hsm.test_rekey_seals import sign, token_env
from tests.instances import Installation, agency_with_seal, expect
from tests.seals_signing.tools import openssl_cms_verify, raw_contents, signatures


def run(*args: str | Path) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def pem(folder: Path, name: str, der: bytes) -> Path:
    path = folder / f"{name}.pem"
    path.write_bytes(x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM))
    return path


def test_everything_signs_in_the_token(token: Pkcs11Config, tmp_path: Path) -> None:
    # SM2 off: standard PKCS#11 has no SM2, so with it on those keys stay in the database
    inst = Installation(
        database_url=fresh_database_url(tmp_path), root=tmp_path, master_key=None,
        blob_store="local",
        extra={**token_env(token, tmp_path / "pin"), "ESEAL_SM2_ENABLED": "false"},
    )  # fmt: skip
    try:
        _hierarchy_and_seal(inst, token, tmp_path)
    finally:
        drop_database(inst.database_url)


def _hierarchy_and_seal(inst: Installation, token: Pkcs11Config, tmp: Path) -> None:
    inst.run("init", name="A")
    platform = inst.platform_key(name="A")
    with inst.serve("A", inst.pki_port) as base, httpx.Client(base_url=base, timeout=120) as api:
        root = pem(tmp, "root", api.get("/pki/ca/root.crt").content)
        organization = pem(tmp, "organization", api.get("/pki/ca/organization.crt").content)
        assert f"{organization}: OK" in run("openssl", "verify", "-CAfile", root, organization)
        chain = tmp / "chain.pem"
        chain.write_bytes(organization.read_bytes() + root.read_bytes())

        crl = tmp / "organization.crl"
        crl.write_bytes(api.get("/pki/crl/organization.crl").content)
        said = run("openssl", "crl", "-inform", "DER", "-in", crl, "-CAfile", chain, "-noout")
        assert "verify OK" in said, said

        _, seal_id, key = agency_with_seal(api, platform)
        signed = sign(api, key, seal_id)
        assert signed.status_code == 200, signed.text
        assert expect(api.post("/api/v1/verify", content=signed.content))["indication"] == (
            "TOTAL_PASSED"
        )
        document = tmp / "sealed.pdf"
        document.write_bytes(signed.content)
        _pdfsig(document, root, tmp)
        [signature] = signatures(signed.content)
        assert openssl_cms_verify(
            tmp, raw_contents(signed.content, signature), signature.signed_bytes(signed.content),
            chain,
        )  # fmt: skip

        embedded = PdfFileReader(BytesIO(signed.content)).embedded_signatures[0]
        seal_cert = tmp / "seal.pem"
        seal_cert.write_bytes(
            x509.load_der_x509_certificate(embedded.signer_cert.dump()).public_bytes(Encoding.PEM)
        )
        said = run(
            "openssl", "ocsp", "-sha256", "-issuer", organization, "-cert", seal_cert,
            "-url", f"{base}/pki/ocsp", "-CAfile", root,
        )  # fmt: skip
        assert "Response verify OK" in said and f"{seal_cert}: good" in said, said

        _time_stamp(api, root, tmp)

    engine = create_engine(inst.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from pki_key")).scalar_one() == 0
        in_token = set(conn.execute(text("select id from pki_token_key")).scalars())
        ca_keys = set(conn.execute(text("select key_id from pki_ca")).scalars())
        seal_key = conn.execute(
            text("select key_id from seal where id = :s"), {"s": seal_id}
        ).scalar_one()
    assert len(ca_keys) >= 5 and ca_keys | {seal_key} <= in_token
    store = Pkcs11KeyStore(token)
    with Session(engine) as session:
        for key_id in in_token:
            assert store.token_attributes(session, key_id) == {
                "sensitive": True, "extractable": False,
                "always_sensitive": True, "never_extractable": True,
            }  # fmt: skip
    engine.dispose()


def _pdfsig(document: Path, root: Path, tmp: Path) -> None:
    nss = tmp / "nss"
    nss.mkdir()
    for command in (
        ["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"],
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "CT,C,C", "-i", str(root)],
    ):
        subprocess.run(command, check=True, capture_output=True)
    said = run("pdfsig", "-nssdir", f"sql:{nss}", document)
    # B-LT: the DSS revision follows the signature, so pdfsig says "Not total document signed"
    assert "Signature is Valid" in said and "Certificate is Trusted" in said, said


def _time_stamp(api: httpx.Client, root: Path, tmp: Path) -> None:
    data = tmp / "data.bin"
    data.write_bytes(b"time-stamped in the token " * 40)
    query = tmp / "q.tsq"
    run("openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
    reply = tmp / "r.tsr"
    reply.write_bytes(
        api.post(
            "/pki/tsa",
            content=query.read_bytes(),
            headers={"content-type": "application/timestamp-query"},
        ).content
    )
    said = run("openssl", "ts", "-verify", "-data", data, "-in", reply, "-CAfile", root)
    assert "Verification: OK" in said, said


def test_a_wrong_pin_or_store_stops_init_with_one_line(token: Pkcs11Config, tmp_path: Path) -> None:
    wrong = {**token_env(token, tmp_path / "pin"), "ESEAL_PKCS11_PIN": "000000"}
    inst = Installation(
        database_url=f"sqlite:///{tmp_path / 'e.db'}", root=tmp_path, master_key=None,
        blob_store="local", extra=wrong,
    )  # fmt: skip
    code, said = inst.attempt("init", name="A")
    assert code == 2 and "PinIncorrect" in said and "Traceback" not in said, said
    assert "000000" not in said
    inst.extra, inst.blob_store = {}, "database"
    code, said = inst.attempt("init", name="A")
    assert code == 2 and "is for PostgreSQL" in said and "Traceback" not in said, said
