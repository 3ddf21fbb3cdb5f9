"""`eseal keys rekey-seals`: an installation whose seal keys are in the database moves them
into a SoftHSM2 token: new key born in the token, new certificate, old one revoked as
superseded, audited; the seal then signs with the token key."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlmodel import Session

from pki.pkcs11_store import Pkcs11Config, Pkcs11KeyStore
from seals.documents import make_document
from seals.fonts import find_cjk_font
from tests.conftest import auth
from tests.dbutil import drop_database, fresh_database_url
from tests.instances import Installation, agency_with_seal, expect


def token_env(token: Pkcs11Config, pin_file: Path) -> dict[str, str]:
    pin_file.write_text(token.pin + "\n")
    pin_file.chmod(0o600)
    return {
        "ESEAL_KEY_STORE": "pkcs11",
        "ESEAL_PKCS11_MODULE": str(token.module),
        "ESEAL_PKCS11_TOKEN_LABEL": token.token_label,
        "ESEAL_PKCS11_PIN_FILE": str(pin_file),
    }


def contract() -> bytes:
    font = find_cjk_font()
    return make_document(
        title="采购合同", paragraphs=["合同金额：人民币贰拾万元整。"], pages=1,
        font_path=font.path, font_number=font.index,
    )  # fmt: skip


def sign(api: httpx.Client, key: str, seal_id: str) -> httpx.Response:
    return api.post(
        f"/api/v1/seals/{seal_id}/sign",
        files={"file": ("合同.pdf", contract(), "application/pdf")},
        data={"placement": '{"type": "invisible"}', "level": "B-LT"},
        headers=auth(key),
    )


def test_seals_move_into_the_token(token: Pkcs11Config, tmp_path: Path) -> None:
    inst = Installation(
        database_url=fresh_database_url(tmp_path), root=tmp_path, master_key=None,
        blob_store="local",
    )  # fmt: skip
    try:
        _move(inst, token, tmp_path)
    finally:
        drop_database(inst.database_url)


def _move(inst: Installation, token: Pkcs11Config, tmp_path: Path) -> None:
    inst.run("init", name="A")
    platform = inst.platform_key(name="A")
    with inst.serve("A", inst.pki_port) as base, httpx.Client(base_url=base, timeout=120) as api:
        _, seal_id, key = agency_with_seal(api, platform)
        before = sign(api, key, seal_id)
        assert before.status_code == 200, before.text

    inst.extra = token_env(token, tmp_path / "pin")
    out = inst.run("keys", "rekey-seals", name="A")
    assert "1 seal(s) re-keyed into the token" in out, out
    assert "0 seal(s)" in inst.run("keys", "rekey-seals", name="A")  # nothing left to move
    assert "audit chain intact" in inst.run("audit", "verify", name="A")

    engine = create_engine(inst.database_url)
    with engine.connect() as conn:
        key_id, cert_id = conn.execute(
            text("select key_id, certificate_id from seal where id = :s"), {"s": seal_id}
        ).one()
        assert (
            conn.execute(
                text("select count(*) from pki_key where id = :k"), {"k": key_id}
            ).scalar_one()
            == 0
        )
        assert (
            conn.execute(
                text("select token_label from pki_token_key where id = :k"), {"k": key_id}
            ).scalar_one()
            == token.token_label
        )
        old = conn.execute(
            text("select status, revocation_reason, replaced_by from pki_certificate "
                 "where replaced_by = :c"), {"c": cert_id}
        ).one()  # fmt: skip
        assert tuple(old) == ("revoked", "superseded", cert_id)
        event = conn.execute(
            text("select details from auditevent where action = 'seal.rekey' and target_id = :s"),
            {"s": seal_id},
        ).scalar_one()
        assert token.token_label in str(event) and "superseded" in str(event)
    with Session(engine) as session:
        assert Pkcs11KeyStore(token).token_attributes(session, key_id)["extractable"] is False
    engine.dispose()
    with inst.serve("A", inst.pki_port) as base, httpx.Client(base_url=base, timeout=120) as api:
        after = sign(api, key, seal_id)
        assert after.status_code == 200, after.text
        report = expect(api.post("/api/v1/verify", content=after.content))
        assert report["indication"] == "TOTAL_PASSED", report
